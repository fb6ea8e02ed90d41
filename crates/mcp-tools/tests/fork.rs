//! A fork whose model (an authored cassette on loopback) calls the test
//! server's tools through agent-core's tool loop: declared with their JSON
//! Schema, called, failures handed back as error results, the approval gate
//! in front (a denied call never reaches the server: its call log stays
//! empty), and the server's secret never in a request to the model.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::{
    ApprovalPolicy, Approvals, BuiltinAgent, Event, EventSink, ForkRequest, ForkStatus, Forker,
    Rule, ServerFailureKind,
};
use cassette::{
    BodyMatcher, Cassette, FixtureServer, FunctionResponseMatch, Interaction, KeyFields,
    RequestSpec, ResponseSpec, ServerOptions,
};
use genai_client::{Client, ClientConfig, RetryPolicy, Timeouts};
use mcp_tools::{McpOptions, McpTools, ServerConfig, Transport};
use serde_json::{Value, json};
use test_support::gemini::{call, reply, usage};
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-3.8-flash";
const TASK: &str = "Use the test tools.";
const SECRET: &str = "sk-fork-secret-42";

fn config(log: &std::path::Path) -> ServerConfig {
    let mut env = BTreeMap::new();
    env.insert("SECRET_TOKEN".to_owned(), SECRET.to_owned());
    env.insert(
        "MCP_TEST_CALL_LOG".to_owned(),
        log.to_string_lossy().into_owned(),
    );
    ServerConfig {
        name: "test".to_owned(),
        transport: Transport::Stdio {
            command: env!("CARGO_BIN_EXE_mcp-test-server").to_owned(),
            args: Vec::new(),
            env,
        },
    }
}

async fn fixture(calls: &[(&str, Value)]) -> FixtureServer {
    let parts: Vec<Value> = calls
        .iter()
        .map(|(name, args)| call(name, args.clone()))
        .collect();
    let first = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")).with_body(
            BodyMatcher::KeyFields(KeyFields {
                last_user_text: Some(TASK.to_owned()),
                ..KeyFields::default()
            }),
        ),
        ResponseSpec::json(reply(json!(parts), usage(100, 10, 0))),
    );
    let second = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")).with_body(
            BodyMatcher::KeyFields(KeyFields {
                function_responses: Some(
                    calls
                        .iter()
                        .map(|(name, _)| FunctionResponseMatch {
                            name: (*name).to_owned(),
                            id: None,
                            response: None,
                        })
                        .collect(),
                ),
                ..KeyFields::default()
            }),
        ),
        ResponseSpec::json(reply(json!([{"text": "done"}]), usage(150, 2, 0))),
    );
    let mut cassette = Cassette::authored("mcp-fork", "built in code by mcp-tools' tests");
    cassette.interactions = vec![first, second];
    FixtureServer::start(vec![cassette], ServerOptions::default())
        .await
        .expect("the fixture server starts")
}

fn client(server: &FixtureServer) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            max_attempts: 1,
            jitter_seed: Some(3),
            ..RetryPolicy::default()
        })
        .with_base_url(&server.base_url());
    Client::new(config).expect("the client builds")
}

struct Outcome {
    result: agent_core::ForkResult,
    bodies: Vec<Value>,
    calls: Vec<String>,
    events: Vec<Event>,
}

impl Outcome {
    /// The server failures reported: (tool, server, kind, message).
    fn server_failures(&self) -> Vec<(String, String, ServerFailureKind, String)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::ToolServerFailed {
                    name,
                    server,
                    kind,
                    message,
                    ..
                } => Some((name.clone(), server.clone(), *kind, message.clone())),
                _ => None,
            })
            .collect()
    }
}

async fn fork(calls: &[(&str, Value)], policy: ApprovalPolicy) -> Outcome {
    let folder = tempfile::tempdir().unwrap();
    let log = folder.path().join("calls");
    let options = McpOptions {
        call_timeout: Duration::from_secs(3),
        ..McpOptions::default()
    };
    let tools = Arc::new(McpTools::start(vec![config(&log)], options).await);
    let server = fixture(calls).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = EventSink::new({
        let events = events.clone();
        move |event| events.lock().unwrap().push(event)
    });
    let forker = Forker::new(client(&server))
        .with_events(sink)
        .with_external_tools(tools)
        .with_approvals(Arc::new(Approvals::new(policy)));
    let mut profile = BuiltinAgent::General.profile();
    profile.mcp_servers = vec!["test".to_owned()];
    let result = forker
        .run(ForkRequest::new(TASK, profile), &CancellationToken::new())
        .await;
    server.assert_clean();
    let bodies = server
        .requests()
        .into_iter()
        .filter_map(|request| request.body)
        .collect();
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let events = events.lock().unwrap().clone();
    Outcome {
        result,
        bodies,
        calls,
        events,
    }
}

fn responses(bodies: &[Value]) -> Vec<Value> {
    bodies[1]["contents"][2]["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|part| part["functionResponse"]["response"].clone())
        .collect()
}

fn allow_mcp() -> ApprovalPolicy {
    ApprovalPolicy {
        mcp: Rule::Allow,
        ..ApprovalPolicy::default()
    }
}

#[tokio::test]
async fn the_model_calls_mcp_tools_and_failures_come_back_as_error_results() {
    let calls = [
        ("test__echo", json!({"text": "hi"})),
        ("test__fail", json!({})),
        ("test__hang", json!({})),
        ("test__leak", json!({})),
    ];
    let outcome = fork(&calls, allow_mcp()).await;
    assert_eq!(outcome.result.status, ForkStatus::Success);
    assert_eq!(outcome.result.text, "done");
    // Declared with their JSON Schema, beside no workspace tools.
    let declared = &outcome.bodies[0]["tools"][0]["functionDeclarations"];
    let echo = declared
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "test__echo")
        .expect("declared");
    assert_eq!(echo["parametersJsonSchema"]["required"], json!(["text"]));
    let responses = responses(&outcome.bodies);
    assert_eq!(responses[0]["result"], json!({"echo": "hi"}));
    assert_eq!(responses[1]["success"], false);
    assert_eq!(responses[1]["is_error"], true);
    assert_eq!(responses[2]["success"], false);
    assert!(
        responses[3]["result"]
            .as_str()
            .unwrap()
            .contains("[redacted]")
    );
    for body in &outcome.bodies {
        assert!(
            !body.to_string().contains(SECRET),
            "the secret reached the model"
        );
    }
    assert_eq!(outcome.calls, ["echo", "fail", "hang", "leak"]);
    // Only the hung call is the server's failure (a tool's error is not).
    let failures = outcome.server_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        (
            failures[0].0.as_str(),
            failures[0].1.as_str(),
            failures[0].2
        ),
        ("test__hang", "test", ServerFailureKind::TimedOut)
    );
}

#[tokio::test]
async fn a_server_that_crashes_mid_run_is_an_event_and_the_fork_goes_on() {
    let calls = [("test__crash", json!({}))];
    let outcome = fork(&calls, allow_mcp()).await;
    assert_eq!(outcome.result.status, ForkStatus::Success);
    assert_eq!(outcome.result.text, "done");
    assert_eq!(outcome.calls, ["crash"]);
    let failures = outcome.server_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let (tool, server, kind, message) = &failures[0];
    assert_eq!(
        (tool.as_str(), server.as_str(), *kind),
        ("test__crash", "test", ServerFailureKind::Disconnected)
    );
    assert!(message.contains("'test'"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    assert_eq!(responses(&outcome.bodies)[0]["success"], false);
}

#[tokio::test]
async fn a_denied_mcp_call_never_reaches_the_server() {
    let calls = [("test__echo", json!({"text": "hi"}))];
    // The default policy asks about MCP tools; no terminal here: denied.
    let outcome = fork(&calls, ApprovalPolicy::default()).await;
    assert!(
        outcome.calls.is_empty(),
        "a denied call ran: {:?}",
        outcome.calls
    );
    let responses = responses(&outcome.bodies);
    assert_eq!(responses[0]["success"], false);
    assert!(responses[0]["error"].as_str().unwrap().contains("not run"));

    let mut policy = allow_mcp();
    policy.tools.insert("test".to_owned(), Rule::Deny);
    let outcome = fork(&calls, policy).await;
    assert!(outcome.calls.is_empty(), "a server-denied call ran");
}
