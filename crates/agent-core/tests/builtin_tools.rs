//! Built-in tools (Google Search, code execution) beside the workspace's
//! file tools, per model generation, against authored cassettes in the real
//! wire shapes:
//!
//! - Gemini 3.x: one request with every tool and
//!   `toolConfig.includeServerSideToolInvocations`; the model turn's
//!   `toolCall`, `toolResponse` and `functionCall` parts come back in the next
//!   request exactly as received (signatures and ids included).
//! - Gemini 2.5: `web_search` / `run_code` functions whose handlers make a
//!   separate one-turn call with only the built-in tool.

mod support;

use std::sync::Arc;

use agent_core::workspace::{Workspace, WorkspaceOptions};
use agent_core::{BuiltinAgent, BuiltinRoute, ForkRequest, ForkStatus, Forker};
use cassette::{BodyMatcher, FunctionResponseMatch, KeyFields};
use serde_json::{Value, json};
use support::*;
use tokio_util::sync::CancellationToken;

const TASK: &str = "Find the current stable Rust version and write it to VERSION.md.";

fn request(model: &str, search: bool, code_execution: bool) -> ForkRequest {
    let mut profile = BuiltinAgent::General.profile();
    profile.model = model.to_owned();
    profile.thinking = None;
    profile.search = search;
    profile.code_execution = code_execution;
    ForkRequest::new(TASK, profile)
}

fn forker(server: &cassette::FixtureServer) -> (Forker, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let workspace =
        Workspace::open(folder.path(), WorkspaceOptions::default()).expect("the workspace opens");
    (
        Forker::new(client(server)).with_workspace(Arc::new(workspace)),
        folder,
    )
}

/// Every field name a request body of these forks may use: camelCase names
/// of the v1beta API (checked against the official SDKs' `_to_mldev`
/// converters). An unknown or misspelt field is a 400 on the real service.
const V1BETA_FIELDS: &[&str] = &[
    "contents",
    "role",
    "parts",
    "text",
    "thought",
    "thoughtSignature",
    "functionCall",
    "functionResponse",
    "toolCall",
    "toolResponse",
    "toolType",
    "executableCode",
    "codeExecutionResult",
    "language",
    "code",
    "outcome",
    "output",
    "id",
    "name",
    "args",
    "response",
    "systemInstruction",
    "tools",
    "functionDeclarations",
    "description",
    "parameters",
    "googleSearch",
    "codeExecution",
    "toolConfig",
    "includeServerSideToolInvocations",
    "generationConfig",
    "thinkingConfig",
    "thinkingBudget",
    "includeThoughts",
    "thinkingLevel",
];

/// Fails on any object key outside [`V1BETA_FIELDS`], skipping free-form
/// values (call arguments, tool results, parameter schemas).
fn assert_v1beta_fields(value: &Value, path: &str) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                assert!(
                    V1BETA_FIELDS.contains(&key.as_str()),
                    "unknown request field `{key}` at {path}"
                );
                if !matches!(key.as_str(), "args" | "response" | "parameters") {
                    assert_v1beta_fields(inner, &format!("{path}.{key}"));
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                assert_v1beta_fields(item, &format!("{path}[{index}]"));
            }
        }
        _ => {}
    }
}

fn assert_all_v1beta(server: &cassette::FixtureServer) {
    for (index, body) in bodies(server).iter().enumerate() {
        assert_v1beta_fields(body, &format!("request {index}"));
    }
}

fn matcher(fields: KeyFields) -> BodyMatcher {
    BodyMatcher::KeyFields(fields)
}

fn response_match(name: &str, id: Option<&str>) -> FunctionResponseMatch {
    FunctionResponseMatch {
        name: name.to_owned(),
        id: id.map(str::to_owned),
        response: None,
    }
}

/// The Gemini 3 model turn: a server-side web search (call and response,
/// each signed) and a signed function call, all with ids.
fn mixed_turn() -> Value {
    json!({"role": "model", "parts": [
        {"toolCall": {"toolType": "GOOGLE_SEARCH_WEB", "args": {"queries": ["current stable Rust version"]}, "id": "k3v9q2"},
         "thoughtSignature": "YXV0aG9yZWQtc2lnLXRvb2wtY2FsbA=="},
        {"toolResponse": {"toolType": "GOOGLE_SEARCH_WEB", "response": {"search_suggestions": "<div class=\"chips\">current stable Rust version</div>"}, "id": "k3v9q2"},
         "thoughtSignature": "YXV0aG9yZWQtc2lnLXRvb2wtcmVzcG9uc2U="},
        {"functionCall": {"name": "create_file", "args": {"path": "VERSION.md", "content": "Rust 1.91.1\n"}, "id": "w7p4m1"},
         "thoughtSignature": "YXV0aG9yZWQtc2lnLWZ1bmN0aW9uLWNhbGw="}
    ]})
}

fn gemini3_reply(content: Value, grounding: Option<Value>) -> Value {
    let mut candidate = json!({"content": content, "finishReason": "STOP", "index": 0});
    if let Some(grounding) = grounding {
        candidate["groundingMetadata"] = grounding;
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage(400, 30, 60),
        "modelVersion": "gemini-3.5-flash",
        "responseId": "authored-gemini3-reply"
    })
}

fn rust_grounding(query: &str) -> Value {
    json!({
        "webSearchQueries": [query],
        "groundingChunks": [
            {"web": {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/authored-1", "title": "rust-lang.org"}},
            {"web": {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/authored-2", "title": "blog.rust-lang.org"}}
        ]
    })
}

#[tokio::test(start_paused = true)]
async fn gemini3_mixes_search_with_file_tools_and_replays_every_part() {
    let beside = json!({"includeServerSideToolInvocations": true});
    let server = server(
        "gemini3-search-with-files",
        vec![
            unary(
                "gemini-3.5-flash",
                matcher(KeyFields {
                    last_user_text: Some(TASK.to_owned()),
                    turns: Some(1),
                    tool_config: Some(beside.clone()),
                    ..KeyFields::default()
                }),
                gemini3_reply(
                    mixed_turn(),
                    Some(rust_grounding("current stable Rust version")),
                ),
            ),
            unary(
                "gemini-3.5-flash",
                matcher(KeyFields {
                    turns: Some(3),
                    last_model_turn: Some(mixed_turn()),
                    function_responses: Some(vec![response_match("create_file", Some("w7p4m1"))]),
                    tool_config: Some(beside.clone()),
                    ..KeyFields::default()
                }),
                gemini3_reply(
                    json!({"role": "model", "parts": [{"text": "VERSION.md now says Rust 1.91.1."}]}),
                    None,
                ),
            ),
        ],
    )
    .await;
    let (forker, folder) = forker(&server);
    let result = forker
        .run(
            request("gemini-3.5-flash", true, false),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_all_v1beta(&server);

    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(
        std::fs::read_to_string(folder.path().join("VERSION.md")).unwrap(),
        "Rust 1.91.1\n"
    );
    assert_eq!(result.builtin_route, Some(BuiltinRoute::BesideFunctions));
    assert_eq!(result.tools_executed, ["create_file"]);
    assert_eq!(result.searches.len(), 1);
    assert_eq!(result.searches[0].turn, 1);
    assert_eq!(result.searches[0].route, BuiltinRoute::BesideFunctions);
    assert_eq!(result.searches[0].queries, ["current stable Rust version"]);
    assert_eq!(result.searches[0].sources.len(), 2);
    assert_eq!(result.search_queries, ["current stable Rust version"]);

    let bodies = bodies(&server);
    let tools = &bodies[0]["tools"];
    assert_eq!(tools.as_array().map(Vec::len), Some(2), "{tools}");
    assert!(tools[0]["functionDeclarations"].is_array());
    assert_eq!(tools[1], json!({"googleSearch": {}}));
    assert_eq!(bodies[0]["toolConfig"], beside);
    // The next turn: the model turn exactly as received, then our answer to
    // the function call with its id.
    assert_eq!(bodies[1]["contents"][1], mixed_turn());
    let answer = &bodies[1]["contents"][2];
    assert_eq!(answer["role"], "user");
    assert_eq!(answer["parts"].as_array().map(Vec::len), Some(1));
    assert_eq!(answer["parts"][0]["functionResponse"]["id"], "w7p4m1");
}

#[tokio::test(start_paused = true)]
async fn gemini3_code_execution_with_file_tools_replays_code_parts_with_their_ids() {
    let beside = json!({"includeServerSideToolInvocations": true});
    let turn = json!({"role": "model", "parts": [
        {"executableCode": {"language": "PYTHON", "code": "print(sum(range(1, 101)))", "id": "c1"}, "thoughtSignature": "YXV0aG9yZWQtY29kZQ=="},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "5050\n", "id": "c1"}},
        {"functionCall": {"name": "create_file", "args": {"path": "VERSION.md", "content": "5050\n"}, "id": "f9"}}
    ]});
    let server = server(
        "gemini3-code-with-files",
        vec![
            unary(
                "gemini-3.1-pro-preview",
                matcher(KeyFields {
                    turns: Some(1),
                    tool_config: Some(beside.clone()),
                    ..KeyFields::default()
                }),
                gemini3_reply(turn.clone(), None),
            ),
            unary(
                "gemini-3.1-pro-preview",
                matcher(KeyFields {
                    last_model_turn: Some(turn.clone()),
                    function_responses: Some(vec![response_match("create_file", Some("f9"))]),
                    ..KeyFields::default()
                }),
                gemini3_reply(json!({"role": "model", "parts": [{"text": "Done."}]}), None),
            ),
        ],
    )
    .await;
    let (forker, _folder) = forker(&server);
    let result = forker
        .run(
            request("gemini-3.1-pro-preview", false, true),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_all_v1beta(&server);
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert!(result.searches.is_empty());
    let bodies = bodies(&server);
    assert_eq!(bodies[0]["tools"][1], json!({"codeExecution": {}}));
    assert_eq!(bodies[1]["contents"][1], turn);
}

fn gemini25_reply(parts: Value, grounding: Option<Value>) -> Value {
    let mut body = reply(parts, usage(300, 20, 40));
    if let Some(grounding) = grounding {
        body["candidates"][0]["groundingMetadata"] = grounding;
    }
    body
}

const QUESTION: &str = "What is the current stable Rust version?";

#[tokio::test(start_paused = true)]
async fn gemini25_searches_through_a_separate_grounded_call() {
    let search_call =
        json!({"functionCall": {"name": "web_search", "args": {"question": QUESTION}}});
    let server = server(
        "gemini25-search-with-files",
        vec![
            unary(
                "gemini-2.5-flash",
                matcher(KeyFields {
                    last_user_text: Some(TASK.to_owned()),
                    tool_config: Some(Value::Null),
                    ..KeyFields::default()
                }),
                gemini25_reply(json!([search_call.clone()]), None),
            ),
            // The separate grounded call: only Google Search, one turn.
            unary(
                "gemini-2.5-flash",
                BodyMatcher::Subset(json!({
                    "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
                    "tools": [{"googleSearch": {}}]
                })),
                gemini25_reply(
                    json!([{"text": "The current stable release is Rust 1.91.1."}]),
                    Some(rust_grounding("rust stable version")),
                ),
            ),
            unary(
                "gemini-2.5-flash",
                matcher(KeyFields {
                    last_model_turn: Some(json!({"role": "model", "parts": [search_call]})),
                    function_responses: Some(vec![FunctionResponseMatch {
                        name: "web_search".to_owned(),
                        id: None,
                        response: Some(json!({
                            "success": true,
                            "answer": "The current stable release is Rust 1.91.1.",
                            "queries": ["rust stable version"],
                            "sources": [
                                {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/authored-1", "title": "rust-lang.org"},
                                {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/authored-2", "title": "blog.rust-lang.org"}
                            ]
                        })),
                    }]),
                    ..KeyFields::default()
                }),
                gemini25_reply(
                    json!([call("create_file", json!({"path": "VERSION.md", "content": "Rust 1.91.1\n"}))]),
                    None,
                ),
            ),
            unary(
                "gemini-2.5-flash",
                responses(&["create_file"]),
                gemini25_reply(json!([{"text": "Written."}]), None),
            ),
        ],
    )
    .await;
    let (forker, folder) = forker(&server);
    let result = forker
        .run(
            request("gemini-2.5-flash", true, false),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_all_v1beta(&server);

    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(
        std::fs::read_to_string(folder.path().join("VERSION.md")).unwrap(),
        "Rust 1.91.1\n"
    );
    assert_eq!(result.builtin_route, Some(BuiltinRoute::SeparateCall));
    assert_eq!(result.tools_executed, ["web_search", "create_file"]);
    assert_eq!(result.searches.len(), 1);
    assert_eq!(result.searches[0].route, BuiltinRoute::SeparateCall);
    assert_eq!(result.searches[0].queries, ["rust stable version"]);
    assert_eq!(result.sources.len(), 2);
    // Four calls' tokens: three turns and the grounded call.
    assert_eq!(result.usage.prompt, 4 * 300);
    assert_eq!(result.turns.len(), 3);

    let bodies = bodies(&server);
    let first = &bodies[0];
    assert!(first.get("toolConfig").is_none());
    let tools = first["tools"].as_array().expect("tools");
    assert_eq!(
        tools.len(),
        1,
        "no googleSearch beside the functions: {tools:?}"
    );
    let names: Vec<&str> = tools[0]["functionDeclarations"]
        .as_array()
        .expect("declarations")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(
        names.contains(&"create_file") && names.contains(&"web_search"),
        "{names:?}"
    );
    // The grounded call carries nothing of the fork: one turn, one tool.
    assert_eq!(bodies[1]["contents"].as_array().map(Vec::len), Some(1));
    assert_eq!(bodies[1]["tools"], json!([{"googleSearch": {}}]));
}

/// A 2.5 fork that searches once through the separate grounded call and
/// then answers: three calls, each with `usage(300, 20, thoughts)`.
fn one_search(thoughts: u64) -> Vec<cassette::Interaction> {
    let search_call =
        json!({"functionCall": {"name": "web_search", "args": {"question": QUESTION}}});
    vec![
        unary(
            "gemini-2.5-flash",
            task(TASK),
            reply(json!([search_call]), usage(300, 20, thoughts)),
        ),
        unary(
            "gemini-2.5-flash",
            BodyMatcher::Subset(json!({"tools": [{"googleSearch": {}}]})),
            reply(
                json!([{"text": "The current stable release is Rust 1.91.1."}]),
                usage(300, 20, thoughts),
            ),
        ),
        unary(
            "gemini-2.5-flash",
            responses(&["web_search"]),
            reply(json!([{"text": "Rust 1.91.1."}]), usage(300, 20, thoughts)),
        ),
    ]
}

/// The separate call behind `web_search` is a model call like any other:
/// reserved and settled against the run's budget, and in the fork's cost.
/// (Before, only its tokens were counted: the budget saw two calls and the
/// fork's cost two priced calls.)
#[tokio::test(start_paused = true)]
async fn a_stand_in_call_is_charged_to_the_budget_and_the_fork_cost() {
    let server = server("gemini25-search-charged", one_search(40)).await;
    let (forker, _folder) = forker(&server);
    let budget = Arc::new(agent_core::Budget::unlimited());
    let forker = forker.with_budget(budget.clone());
    let result = forker
        .run(
            request("gemini-2.5-flash", true, false),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(server.requests().len(), 3);
    let per_call = genai_client::cost_of_call(
        &genai_client::Usage {
            prompt: 300,
            candidates: 20,
            thoughts: 40,
            total: 360,
            ..genai_client::Usage::default()
        },
        Some("gemini-2.5-flash"),
        "gemini-2.5-flash",
        chrono::Utc::now().date_naive(),
    )
    .expect("2.5 Flash is priced")
    .usd;
    assert!(per_call > genai_client::Usd::ZERO);
    assert_eq!(
        (result.cost.priced_calls, result.cost.unpriced_calls),
        (3, 0)
    );
    assert_eq!(result.cost.usd, per_call + per_call + per_call);
    assert_eq!(result.usage.total, 3 * 360);
    assert_eq!(budget.spent(), (result.cost.usd, 3 * 360));
    assert_eq!(budget.spent_cost(), result.cost);
    // The turns keep the fork's own calls; the separate call is the fork's.
    assert_eq!(result.turns.len(), 2);
}

/// A budget that cannot cover the separate call stops the fork before it
/// is sent, as a refused turn does (`budget_exhausted`). The first turn
/// thought far more than its reservation (an in-flight overrun): what it
/// spent leaves no room for the search.
#[tokio::test(start_paused = true)]
async fn a_stand_in_call_the_budget_cannot_cover_is_not_sent() {
    let mut interactions = one_search(100_000);
    interactions.truncate(1);
    let server = server("gemini25-search-refused", interactions).await;
    let (forker, _folder) = forker(&server);
    let budget = Arc::new(agent_core::Budget::new(agent_core::BudgetLimits {
        usd: None,
        tokens: Some(50_000),
    }));
    let forker = forker.with_budget(budget.clone());
    let result = forker
        .run(
            request("gemini-2.5-flash", true, false),
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(server.requests().len(), 1, "the grounded call was not sent");
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Cancelled);
    let error = result.error.expect("the refusal is the fork's error");
    assert_eq!(error.kind, agent_core::BUDGET_EXHAUSTED);
    assert!(
        error.message.contains("budget exhausted"),
        "{}",
        error.message
    );
    assert!(budget.is_exhausted());
    assert_eq!(budget.spent().1, 100_320);
    assert_eq!(result.cost.priced_calls, 1);
}

/// A fork cancelled while its separate call is in flight gives the call's
/// reservation back: nothing stays reserved for a call that never settles.
#[tokio::test(start_paused = true)]
async fn a_cancelled_stand_in_call_gives_its_reservation_back() {
    let mut interactions = one_search(40);
    interactions.truncate(2);
    let slow =
        interactions
            .pop()
            .expect("the grounded call")
            .with_fault(cassette::FaultSpec::once(cassette::Fault::Latency {
                delay: std::time::Duration::from_secs(30),
            }));
    interactions.push(slow);
    let server = lenient_server("gemini25-search-cancelled", interactions).await;
    let (forker, _folder) = forker(&server);
    let budget = Arc::new(agent_core::Budget::unlimited());
    let forker = forker.with_budget(budget.clone());
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        stop.cancel();
    });
    let result = forker
        .run(request("gemini-2.5-flash", true, false), &cancel)
        .await;
    assert_eq!(result.status, ForkStatus::Cancelled);
    assert_eq!(
        server.requests().len(),
        2,
        "the grounded call was in flight"
    );
    assert_eq!(budget.reserved(), (genai_client::Usd::ZERO, 0));
    assert_eq!(budget.spent().1, 360, "only the first turn settled");
}

#[tokio::test(start_paused = true)]
async fn gemini25_runs_code_through_a_separate_call() {
    let code_call = json!({"functionCall": {"name": "run_code", "args": {"task": "Sum the integers 1 to 100."}}});
    let server = server(
        "gemini25-code-with-files",
        vec![
            unary(
                "gemini-2.5-pro",
                task(TASK),
                gemini25_reply(json!([code_call]), None),
            ),
            unary(
                "gemini-2.5-pro",
                BodyMatcher::Subset(json!({
                    "contents": [{"role": "user", "parts": [{"text": "Sum the integers 1 to 100."}]}],
                    "tools": [{"codeExecution": {}}]
                })),
                gemini25_reply(
                    json!([
                        {"executableCode": {"language": "PYTHON", "code": "print(sum(range(1, 101)))"}},
                        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "5050\n"}},
                        {"text": "The sum is 5050."}
                    ]),
                    None,
                ),
            ),
            unary(
                "gemini-2.5-pro",
                matcher(KeyFields {
                    function_responses: Some(vec![FunctionResponseMatch {
                        name: "run_code".to_owned(),
                        id: None,
                        response: Some(json!({
                            "success": true,
                            "answer": "The sum is 5050.",
                            "runs": [{"code": "print(sum(range(1, 101)))", "outcome": "OUTCOME_OK", "output": "5050\n"}]
                        })),
                    }]),
                    ..KeyFields::default()
                }),
                gemini25_reply(json!([{"text": "5050."}]), None),
            ),
        ],
    )
    .await;
    let (forker, _folder) = forker(&server);
    let result = forker
        .run(
            request("gemini-2.5-pro", false, true),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_all_v1beta(&server);
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(result.builtin_route, Some(BuiltinRoute::SeparateCall));
    assert!(result.searches.is_empty());
    // Three calls priced: two turns and the code-execution call.
    assert_eq!(result.cost.priced_calls, 3);
}

#[tokio::test(start_paused = true)]
async fn a_stand_in_call_without_a_question_is_refused_without_a_request() {
    let server = server(
        "gemini25-empty-question",
        vec![
            unary(
                "gemini-2.5-flash",
                task(TASK),
                gemini25_reply(
                    json!([call("web_search", json!({"question": "   "}))]),
                    None,
                ),
            ),
            unary(
                "gemini-2.5-flash",
                matcher(KeyFields {
                    function_responses: Some(vec![FunctionResponseMatch {
                        name: "web_search".to_owned(),
                        id: None,
                        response: Some(json!({
                            "success": false,
                            "error": "`question` must be a non-empty string"
                        })),
                    }]),
                    ..KeyFields::default()
                }),
                gemini25_reply(json!([{"text": "I could not search."}]), None),
            ),
        ],
    )
    .await;
    let (forker, _folder) = forker(&server);
    let result = forker
        .run(
            request("gemini-2.5-flash", true, false),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_all_v1beta(&server);
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(server.requests().len(), 2, "no grounded call was made");
    assert!(result.searches.is_empty());
}

#[tokio::test(start_paused = true)]
async fn search_alone_is_sent_as_google_search_on_either_generation() {
    for model in ["gemini-2.5-flash", "gemini-3.5-flash"] {
        let server = server(
            "search-alone",
            vec![unary(
                model,
                BodyMatcher::Subset(json!({"tools": [{"googleSearch": {}}]})),
                gemini25_reply(
                    json!([{"text": "Rust 1.91.1."}]),
                    Some(rust_grounding("rust stable")),
                ),
            )],
        )
        .await;
        let mut request = request(model, true, false);
        request.profile.file_tools = false;
        let result = Forker::new(client(&server))
            .run(request, &CancellationToken::new())
            .await;
        server.assert_clean();
        assert_all_v1beta(&server);
        assert_eq!(result.builtin_route, Some(BuiltinRoute::Alone), "{model}");
        assert_eq!(result.searches[0].route, BuiltinRoute::Alone);
        assert!(bodies(&server)[0].get("toolConfig").is_none(), "{model}");
    }
}

/// The model is an adversary: naming `web_search` when the fork did not
/// declare it (here only code execution was asked for) must not start a
/// grounded call, which would spend tokens and reach the web uninvited.
#[tokio::test(start_paused = true)]
async fn an_undeclared_stand_in_is_not_run() {
    let server = server(
        "gemini25-uninvited-search",
        vec![
            unary(
                "gemini-2.5-flash",
                task(TASK),
                gemini25_reply(
                    json!([call("web_search", json!({"question": QUESTION}))]),
                    None,
                ),
            ),
            unary(
                "gemini-2.5-flash",
                matcher(KeyFields {
                    turns: Some(3),
                    function_responses: Some(vec![response_match("web_search", None)]),
                    ..KeyFields::default()
                }),
                gemini25_reply(json!([{"text": "No search tool here."}]), None),
            ),
        ],
    )
    .await;
    let (forker, _folder) = forker(&server);
    let result = forker
        .run(
            request("gemini-2.5-flash", false, true),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();
    assert_all_v1beta(&server);
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(server.requests().len(), 2, "no grounded call was made");
    assert!(result.searches.is_empty());
    let answer = &bodies(&server)[1]["contents"][2]["parts"][0]["functionResponse"]["response"];
    assert_eq!(answer["success"], false, "{answer}");
}
