//! The bundled example sessions in `<workspace>/fixtures/sessions`: every
//! file loads with the crate's loader, says it is authored, matches requests
//! by key fields only, and answers with plausible Gemini responses (a model
//! candidate, usage totals that add up, one response id per stream, the
//! finish reason only on the last event, grounding that points into the
//! answer). The summarizer's conversation file is checked too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cassette::{BodyMatcher, Cassette, KeyFields, Provenance, ResponseBody};
use serde_json::{Value, json};

/// One bundled session per seed example, nothing more.
const EXAMPLES: [&str; 7] = [
    "basic_fork",
    "code_agent",
    "orchestrator",
    "research_agent",
    "research_then_code",
    "summarizer",
    "swarm",
];

const REDIRECT_PREFIX: &str = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Every `*.json` file in `fixtures/sessions`, by file stem, loaded.
fn sessions() -> Vec<(String, Cassette)> {
    let dir = fixtures_dir().join("sessions");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("UTF-8 file name")
                .to_owned();
            let cassette =
                Cassette::load(&path).unwrap_or_else(|e| panic!("{stem} must load: {e}"));
            (stem, cassette)
        })
        .collect()
}

/// The response body as a list of `GenerateContentResponse` documents: the
/// JSON body, or the data of every SSE event.
fn documents(body: &ResponseBody) -> Vec<&Value> {
    match body {
        ResponseBody::Json(value) => vec![value],
        ResponseBody::Sse(events) => events.iter().map(|event| &event.data).collect(),
        ResponseBody::Text(_) => Vec::new(),
    }
}

fn count(usage: &Value, key: &str) -> u64 {
    usage.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Checks one `usageMetadata`: the counters present are numbers and the total
/// is the sum of prompt, candidates, thoughts and tool-use prompt tokens.
fn check_usage(usage: &Value) -> Result<(), String> {
    let prompt = usage
        .get("promptTokenCount")
        .and_then(Value::as_u64)
        .ok_or("promptTokenCount missing")?;
    let total = usage
        .get("totalTokenCount")
        .and_then(Value::as_u64)
        .ok_or("totalTokenCount missing")?;
    let sum = prompt
        + count(usage, "candidatesTokenCount")
        + count(usage, "thoughtsTokenCount")
        + count(usage, "toolUsePromptTokenCount");
    if total != sum {
        return Err(format!(
            "totalTokenCount {total} != prompt + candidates + thoughts + toolUsePrompt = {sum}"
        ));
    }
    let details_sum: u64 = usage
        .get("promptTokensDetails")
        .and_then(Value::as_array)
        .ok_or("promptTokensDetails missing")?
        .iter()
        .map(|detail| count(detail, "tokenCount"))
        .sum();
    if details_sum != prompt {
        return Err(format!(
            "promptTokensDetails add up to {details_sum}, promptTokenCount is {prompt}"
        ));
    }
    Ok(())
}

/// The model named in a request path such as `/v1beta/models/m:generateContent`.
fn model_of(path: &str) -> &str {
    path.strip_prefix("/v1beta/models/")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("unexpected path {path}"))
}

/// The answer text of a response: the non-thought text parts of every
/// document, concatenated.
fn answer_text(docs: &[&Value]) -> String {
    docs.iter()
        .flat_map(|doc| parts(doc))
        .filter(|part| part.get("thought").and_then(Value::as_bool) != Some(true))
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect()
}

fn parts(doc: &Value) -> Vec<&Value> {
    doc.pointer("/candidates/0/content/parts")
        .and_then(Value::as_array)
        .map(|parts| parts.iter().collect())
        .unwrap_or_default()
}

fn is_empty(fields: &KeyFields) -> bool {
    fields == &KeyFields::default()
}

#[test]
fn there_is_one_session_per_example_and_nothing_else() {
    let found: BTreeSet<String> = sessions().into_iter().map(|(name, _)| name).collect();
    let expected: BTreeSet<String> = EXAMPLES.iter().map(|name| (*name).to_owned()).collect();
    assert_eq!(found, expected);
}

#[test]
fn sessions_are_authored_named_after_their_file_and_explained() {
    for (name, cassette) in sessions() {
        let meta = &cassette.meta;
        assert_eq!(meta.provenance, Provenance::Authored, "{name}");
        assert_eq!(meta.name, name, "meta.name of {name}.json");
        assert!(
            meta.how.contains("authored"),
            "{name}: meta.how must say it is authored"
        );
        assert!(
            meta.how.contains("gemini-wire"),
            "{name}: meta.how must name the shapes followed"
        );
        assert!(
            meta.created.len() == 20 && meta.created.ends_with('Z'),
            "{name}: created must be RFC 3339 UTC, got {}",
            meta.created
        );
        assert!(
            !cassette.interactions.is_empty(),
            "{name} has no interactions"
        );
    }
}

#[test]
fn every_request_is_labelled_and_matched_by_key_fields() {
    for (name, cassette) in sessions() {
        for (index, interaction) in cassette.interactions.iter().enumerate() {
            let at = format!("{name} interaction {index}");
            assert!(
                interaction.label.as_deref().is_some_and(|l| !l.is_empty()),
                "{at}: label"
            );
            assert!(!interaction.repeatable, "{at}: must be used exactly once");
            assert!(
                interaction.fault.is_none(),
                "{at}: no faults in example sessions"
            );
            let request = &interaction.request;
            assert_eq!(request.method, "POST", "{at}");
            match &request.body {
                Some(BodyMatcher::KeyFields(fields)) => {
                    assert!(
                        !is_empty(fields),
                        "{at}: key_fields must constrain something"
                    );
                }
                other => panic!("{at}: body matcher must be key_fields, got {other:?}"),
            }
            let streaming = request.path.ends_with(":streamGenerateContent");
            match &interaction.response.body {
                ResponseBody::Sse(_) => {
                    assert!(streaming, "{at}: SSE answers a streamGenerateContent path");
                    assert_eq!(
                        request.query.get("alt").map(String::as_str),
                        Some("sse"),
                        "{at}"
                    );
                }
                ResponseBody::Json(_) => {
                    assert!(
                        request.path.ends_with(":generateContent"),
                        "{at}: JSON answers a generateContent path, got {}",
                        request.path
                    );
                }
                ResponseBody::Text(_) => panic!("{at}: example sessions have no raw text bodies"),
            }
            assert_eq!(interaction.response.status, 200, "{at}");
        }
    }
}

#[test]
fn responses_are_plausible_generate_content_responses() {
    for (name, cassette) in sessions() {
        for (index, interaction) in cassette.interactions.iter().enumerate() {
            let at = format!("{name} interaction {index}");
            let model = model_of(&interaction.request.path);
            let docs = documents(&interaction.response.body);
            assert!(!docs.is_empty(), "{at}: no response documents");
            let first_id = docs[0].get("responseId").and_then(Value::as_str);
            let id = first_id.unwrap_or_else(|| panic!("{at}: responseId missing"));
            assert!((20..=28).contains(&id.len()), "{at}: responseId {id:?}");
            let mut previous_candidates = 0;
            for (number, doc) in docs.iter().enumerate() {
                let at = format!("{at} document {number}");
                let last = number + 1 == docs.len();
                let candidates = doc
                    .get("candidates")
                    .and_then(Value::as_array)
                    .unwrap_or_else(|| panic!("{at}: candidates missing"));
                assert_eq!(candidates.len(), 1, "{at}");
                let candidate = &candidates[0];
                assert_eq!(
                    candidate.pointer("/content/role"),
                    Some(&json!("model")),
                    "{at}"
                );
                assert!(!parts(doc).is_empty(), "{at}: no parts");
                let finish = candidate.get("finishReason");
                if last {
                    assert_eq!(finish, Some(&json!("STOP")), "{at}: last document finishes");
                } else {
                    assert_eq!(finish, None, "{at}: finishReason only on the last event");
                    assert!(
                        candidate.get("groundingMetadata").is_none(),
                        "{at}: grounding only on the last event"
                    );
                }
                assert_eq!(doc.get("modelVersion"), Some(&json!(model)), "{at}");
                assert_eq!(
                    doc.get("responseId").and_then(Value::as_str),
                    Some(id),
                    "{at}"
                );
                let usage = doc
                    .get("usageMetadata")
                    .unwrap_or_else(|| panic!("{at}: usageMetadata missing"));
                check_usage(usage).unwrap_or_else(|e| panic!("{at}: {e}"));
                let candidates_tokens = count(usage, "candidatesTokenCount");
                assert!(
                    candidates_tokens >= previous_candidates,
                    "{at}: candidatesTokenCount is cumulative"
                );
                previous_candidates = candidates_tokens;
                assert!(
                    count(usage, "thoughtsTokenCount") > 0,
                    "{at}: thinking models report thoughtsTokenCount"
                );
            }
            assert!(previous_candidates > 0, "{at}: final candidatesTokenCount");
        }
    }
}

#[test]
fn grounding_points_into_the_answer_text() {
    let mut grounded = 0;
    for (name, cassette) in sessions() {
        for (index, interaction) in cassette.interactions.iter().enumerate() {
            let at = format!("{name} interaction {index}");
            let docs = documents(&interaction.response.body);
            let Some(grounding) = docs
                .last()
                .and_then(|doc| doc.pointer("/candidates/0/groundingMetadata"))
            else {
                continue;
            };
            grounded += 1;
            let text = answer_text(&docs);
            let queries = grounding["webSearchQueries"].as_array().expect("queries");
            assert!((2..=3).contains(&queries.len()), "{at}: webSearchQueries");
            let chunks = grounding["groundingChunks"].as_array().expect("chunks");
            assert!((3..=6).contains(&chunks.len()), "{at}: groundingChunks");
            for chunk in chunks {
                let uri = chunk["web"]["uri"].as_str().expect("chunk uri");
                assert!(
                    uri.starts_with(REDIRECT_PREFIX),
                    "{at}: opaque redirect uri"
                );
                let title = chunk["web"]["title"].as_str().expect("chunk title");
                assert!(
                    title.contains('.') && !title.contains('/'),
                    "{at}: title is a domain"
                );
            }
            let rendered = grounding
                .pointer("/searchEntryPoint/renderedContent")
                .and_then(Value::as_str)
                .expect("searchEntryPoint.renderedContent");
            assert!(
                rendered.contains("<style>"),
                "{at}: rendered search entry point"
            );
            let supports = grounding["groundingSupports"].as_array().expect("supports");
            assert!(!supports.is_empty(), "{at}: groundingSupports");
            for support in supports {
                let segment = &support["segment"];
                let start = count(segment, "startIndex") as usize;
                let end = count(segment, "endIndex") as usize;
                let quoted = segment["text"].as_str().expect("segment text");
                assert_eq!(
                    text.as_bytes().get(start..end),
                    Some(quoted.as_bytes()),
                    "{at}: segment {start}..{end} must be the UTF-8 byte span of its text"
                );
                for index in support["groundingChunkIndices"]
                    .as_array()
                    .expect("indices")
                {
                    let index = index.as_u64().expect("index") as usize;
                    assert!(
                        index < chunks.len(),
                        "{at}: chunk index {index} out of range"
                    );
                }
            }
            let usage = &docs.last().expect("a document")["usageMetadata"];
            assert!(
                count(usage, "toolUsePromptTokenCount") > 0,
                "{at}: search tool usage"
            );
        }
    }
    assert_eq!(
        grounded, 2,
        "research_agent and research_then_code are grounded"
    );
}

#[test]
fn function_calls_write_whole_files_and_carry_signatures() {
    let mut calls = Vec::new();
    for (name, cassette) in sessions() {
        for interaction in &cassette.interactions {
            for doc in documents(&interaction.response.body) {
                for part in parts(doc) {
                    let Some(call) = part.get("functionCall") else {
                        continue;
                    };
                    assert_eq!(call["name"], json!("create_file"), "{name}");
                    let path = call["args"]["path"].as_str().expect("path argument");
                    let content = call["args"]["content"].as_str().expect("content argument");
                    assert!(
                        content.lines().count() >= 50,
                        "{name}: {path} is a whole file"
                    );
                    assert!(
                        content.ends_with('\n'),
                        "{name}: {path} ends with a newline"
                    );
                    let signature = part["thoughtSignature"].as_str().expect("thoughtSignature");
                    assert!(signature.len() >= 200, "{name}: signature length");
                    calls.push(format!("{name}:{path}"));
                }
            }
        }
    }
    assert_eq!(
        calls,
        [
            "code_agent:retry_decorator.py",
            "research_then_code:rate_limiter.py"
        ]
    );
}

#[test]
fn json_mode_replies_parse_as_the_shapes_their_callers_expect() {
    let reply = |name: &str, label_start: &str| -> Value {
        let cassette = sessions()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .expect("session exists");
        let interaction = cassette
            .interactions
            .iter()
            .find(|i| {
                i.label
                    .as_deref()
                    .is_some_and(|l| l.starts_with(label_start))
            })
            .expect("interaction exists");
        let text = answer_text(&documents(&interaction.response.body));
        serde_json::from_str(&text).expect("a JSON document")
    };
    let plan = reply("orchestrator", "planning call");
    assert!(plan["analysis"].as_str().is_some_and(|a| !a.is_empty()));
    let steps = plan["steps"].as_array().expect("steps");
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["step_id"].as_str()).collect();
    assert_eq!(ids, ["step_1", "step_2", "step_3", "step_4"]);
    for step in steps {
        for key in ["name", "description", "agent_type", "task"] {
            assert!(step[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
        }
        assert!(step["depends_on"].is_array());
    }
    let extraction = reply("summarizer", "extraction call");
    let decisions = extraction["key_decisions"]
        .as_array()
        .expect("key_decisions");
    assert!((3..=4).contains(&decisions.len()));
    for artifact in extraction["artifacts"].as_array().expect("artifacts") {
        for key in ["name", "type", "status"] {
            assert!(artifact[key].is_string(), "artifact {key}");
        }
    }
    assert!(extraction["current_task"].is_string());
    assert!(extraction["open_questions"].is_array());
}

#[test]
fn the_todo_conversation_has_five_alternating_turns() {
    let path = fixtures_dir().join("conversations/todo_api.json");
    let text = std::fs::read_to_string(&path).expect("todo_api.json is readable");
    let value: Value = serde_json::from_str(&text).expect("todo_api.json is JSON");
    let turns = value["turns"].as_array().expect("a turns array");
    assert_eq!(turns.len(), 5);
    for (index, turn) in turns.iter().enumerate() {
        let role = if index % 2 == 0 { "user" } else { "assistant" };
        assert_eq!(turn["role"], json!(role), "turn {index}");
        let content = turn["content"].as_str().expect("content");
        assert!(!content.trim().is_empty(), "turn {index}");
        let object = turn.as_object().expect("a turn object");
        assert_eq!(object.len(), 2, "turn {index} has only role and content");
    }
}

#[test]
fn the_usage_check_rejects_totals_that_do_not_add_up() {
    let good = json!({
        "promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 7,
        "toolUsePromptTokenCount": 3, "totalTokenCount": 25,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}]
    });
    assert_eq!(check_usage(&good), Ok(()));
    let mut bad_total = good.clone();
    bad_total["totalTokenCount"] = json!(22);
    assert!(check_usage(&bad_total).is_err());
    let mut bad_details = good;
    bad_details["promptTokensDetails"][0]["tokenCount"] = json!(9);
    assert!(check_usage(&bad_details).is_err());
}

/// Replays requests shaped like the ones each example sends (per the
/// sessions contract) against one cassette's matchers, the way the fixture
/// server picks: the first unused interaction in file order whose path and
/// body match.
struct Router {
    cassette: Cassette,
    used: Vec<bool>,
}

impl Router {
    fn new(name: &str) -> Router {
        let cassette = sessions()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .expect("session exists");
        let used = vec![false; cassette.interactions.len()];
        Router { cassette, used }
    }

    /// The label of the interaction that answers `body` on `path`.
    fn route(&mut self, path: &str, body: &Value) -> String {
        let index = self
            .cassette
            .interactions
            .iter()
            .enumerate()
            .position(|(i, interaction)| {
                !self.used[i]
                    && interaction.request.path == path
                    && interaction
                        .request
                        .body
                        .as_ref()
                        .is_some_and(|m| m.matches(Some(body)))
            })
            .unwrap_or_else(|| {
                panic!(
                    "nothing in {} answers {path} {body}",
                    self.cassette.meta.name
                )
            });
        self.used[index] = true;
        self.cassette.interactions[index]
            .label
            .clone()
            .expect("label")
    }

    /// The answer text of the interaction labelled `label_start...`.
    fn answer(&self, label_start: &str) -> String {
        let interaction = self
            .cassette
            .interactions
            .iter()
            .find(|i| {
                i.label
                    .as_deref()
                    .is_some_and(|l| l.starts_with(label_start))
            })
            .expect("labelled interaction");
        answer_text(&documents(&interaction.response.body))
    }

    fn all_used(&self) -> bool {
        self.used.iter().all(|used| *used)
    }
}

fn unary(model: &str) -> String {
    format!("/v1beta/models/{model}:generateContent")
}

fn streaming(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent")
}

fn request(system: &str, contents: Vec<Value>) -> Value {
    json!({
        "contents": contents,
        "systemInstruction": {"parts": [{"text": system}]},
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 1024}}
    })
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

/// A model turn that called create_file and the user turn answering it.
fn tool_round(first: Value) -> Vec<Value> {
    vec![
        first,
        json!({"role": "model", "parts": [{"functionCall": {"name": "create_file", "args": {}}}]}),
        json!({"role": "user", "parts": [{"functionResponse": {
            "name": "create_file", "response": {"success": true}
        }}]}),
    ]
}

fn head(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

const CODE_TASK: &str = "Write a Python decorator that:
1. Retries a function up to 3 times on exception
2. Uses exponential backoff (1s, 2s, 4s)
3. Logs each retry attempt
4. Preserves the original function's metadata

Include type hints and a docstring.";

#[test]
fn requests_the_examples_send_reach_the_intended_interactions() {
    let flash = "gemini-3.8-flash";
    let pro = "gemini-3.1-pro-preview";

    let mut basic = Router::new("basic_fork");
    let task = "Explain the difference between async and threading in Python in 3 sentences.";
    let label = basic.route(
        &streaming(flash),
        &request("You are a helpful agent.", vec![user(task)]),
    );
    assert!(label.contains("three-sentence"), "{label}");
    assert!(basic.all_used());

    let mut code = Router::new("code_agent");
    let system = "You are a senior software engineer.";
    let label = code.route(&streaming(pro), &request(system, vec![user(CODE_TASK)]));
    assert!(label.starts_with("turn 1"), "{label}");
    let label = code.route(
        &streaming(pro),
        &request(system, tool_round(user(CODE_TASK))),
    );
    assert!(label.starts_with("turn 2"), "{label}");
    assert!(code.all_used());

    let mut research = Router::new("research_agent");
    let task =
        "What are the key new features in the Google GenAI Python SDK? Focus on recent additions.";
    research.route(
        &streaming(flash),
        &request("You are a researcher.", vec![user(task)]),
    );
    assert!(research.all_used());

    let mut swarm = Router::new("swarm");
    let tasks = [
        "List 3 best practices for communication between microservices.",
        "List 3 key advantages of a microservices architecture.",
        "List 3 major challenges of a microservices architecture.",
    ];
    let mut consolidation =
        String::from("Several agents worked on related tasks in parallel. Their results follow.\n");
    for task in tasks {
        let label = swarm.route(
            &unary(pro),
            &request("You are an analyst.", vec![user(task)]),
        );
        let topic = task.trim_start_matches("List 3 ").trim_end_matches('.');
        assert!(label.ends_with(topic), "{label} answers {task}");
        let answer = swarm.answer(&label);
        consolidation.push_str(&format!(
            "\n### Result — task: {task}\n\n{}\n",
            head(&answer, 500)
        ));
    }
    let label = swarm.route(
        &unary(flash),
        &request("You consolidate.", vec![user(&consolidation)]),
    );
    assert!(label.starts_with("consolidation"), "{label}");
    assert!(swarm.all_used());

    let mut plan = Router::new("orchestrator");
    let planner = "You plan work for a team of specialised AI agents. Break the goal into steps.";
    let goal = "Goal: Design a simple user authentication system for a web API\n\nContext: Using Python with FastAPI framework\n\nPlan at most 4 steps.";
    let label = plan.route(&unary(pro), &request(planner, vec![user(goal)]));
    assert!(label.starts_with("planning call"), "{label}");
    let steps: Value = serde_json::from_str(&plan.answer("planning call")).expect("plan JSON");
    let steps = steps["steps"].as_array().expect("steps").clone();
    let step_task = |id: &str| -> String {
        let step = steps
            .iter()
            .find(|s| s["step_id"] == json!(id))
            .expect("step");
        step["task"].as_str().expect("task").to_owned()
    };
    let with_deps = |task: String, deps: &[String]| -> String {
        let mut text = task;
        if !deps.is_empty() {
            text.push_str("\n\n## Results of the steps this one builds on\n\n");
            for dep in deps {
                text.push_str(&head(dep, 500));
                text.push('\n');
            }
        }
        text
    };
    let coder = "You are a senior software engineer.";
    // step_1, then step_4 and step_2 together (either order), then step_3.
    let order = [
        ("step_1", None),
        ("step_4", Some("step_1")),
        ("step_2", Some("step_1")),
        ("step_3", Some("step_2")),
    ];
    let mut results: Vec<(String, String)> = Vec::new();
    for (id, dep) in order {
        let deps: Vec<String> = dep
            .map(|d| {
                results
                    .iter()
                    .find(|(i, _)| i == d)
                    .expect("dep done")
                    .1
                    .clone()
            })
            .into_iter()
            .collect();
        let label = plan.route(
            &unary(pro),
            &request(coder, vec![user(&with_deps(step_task(id), &deps))]),
        );
        assert!(label.starts_with(id), "{label} answers {id}");
        results.push((id.to_owned(), plan.answer(&label)));
    }
    let mut final_prompt = String::from(
        "Every step of the plan has finished. Turn their results into the final deliverable.\n",
    );
    for (id, text) in &results {
        final_prompt.push_str(&format!("\n## {id}\n\n{text}\n"));
    }
    let label = plan.route(
        &unary(flash),
        &request(
            "You turn results into a deliverable.",
            vec![user(&final_prompt)],
        ),
    );
    assert!(label.starts_with("consolidation"), "{label}");
    assert!(plan.all_used());

    let mut summarizer = Router::new("summarizer");
    let conversation = std::fs::read_to_string(fixtures_dir().join("conversations/todo_api.json"))
        .expect("conversation");
    let summary = format!(
        "Summarise the conversation below for a hand-off to another agent. Write sections.\n\n--- conversation ---\n{conversation}"
    );
    let extraction = format!(
        "From the conversation below, extract: the key decisions.\n\n--- conversation ---\n{conversation}"
    );
    let label = summarizer.route(
        &unary(flash),
        &request("You condense conversations.", vec![user(&summary)]),
    );
    assert!(label.starts_with("summary"), "{label}");
    let label = summarizer.route(
        &unary(flash),
        &request("You condense conversations.", vec![user(&extraction)]),
    );
    assert!(label.starts_with("extraction"), "{label}");
    assert!(summarizer.all_used());

    let mut chain = Router::new("research_then_code");
    let question =
        "What is the recommended way to implement rate limiting in FastAPI applications?";
    let label = chain.route(
        &unary(flash),
        &request("You are a researcher.", vec![user(question)]),
    );
    assert!(label.starts_with("research fork"), "{label}");
    let findings = chain.answer("research fork");
    let system = format!(
        "You are a senior software engineer.\n\n## Context handed over from earlier work\n\n{findings}"
    );
    let task = "Implement a rate limiting middleware for a FastAPI application, following the approach the research recommends.";
    let label = chain.route(&unary(pro), &request(&system, vec![user(task)]));
    assert!(label.starts_with("code fork turn 1"), "{label}");
    let label = chain.route(&unary(pro), &request(&system, tool_round(user(task))));
    assert!(label.starts_with("code fork turn 2"), "{label}");
    assert!(chain.all_used());
}
