//! Hostile models: a model that asks the tool loop for escaping paths,
//! enormous arguments, thousands of calls in one turn, or a tool call on
//! every turn forever. The sandbox, the per-turn call cap and the turn
//! limit must contain each one: nothing outside the workspace is read,
//! written or deleted, and every fork ends.

use std::path::Path;
use std::sync::Arc;

use agent_core::workspace::{Workspace, WorkspaceOptions};
use agent_core::{
    BuiltinAgent, EventSink, ForkRequest, ForkResult, ForkStatus, Forker, MAX_CALLS_PER_TURN,
    MAX_FUNCTION_RESPONSE_BYTES, MAX_REQUEST_BYTES,
};
use cassette::{FixtureServer, Interaction, RequestSpec, ResponseSpec};
use genai_client::{ApiKey, Client};
use serde_json::{Value, json};
use test_support::gemini::{Reply, call};
use tokio_util::sync::CancellationToken;

mod support;

const MODEL: &str = "gemini-3.8-flash";
const SECRET: &str = "the contents of a file outside the workspace";

fn reply(parts: Value) -> Value {
    Reply::parts(parts)
        .usage(10, 5, 0)
        .model_version(MODEL)
        .response_id("authored-hostile-reply")
        .json()
}

/// A reply to the request with `turns` entries in `contents`.
fn at_turn(turns: usize, body: Value) -> Interaction {
    support::at_turn(MODEL, turns, body)
}

/// A workspace `ws/` beside a folder `outside/` holding a secret, and a
/// link `ws/link` pointing at `outside/`.
struct Site {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    Site {
        _dir: dir,
        root,
        outside,
    }
}

async fn run_fork(
    site: &Site,
    interactions: Vec<Interaction>,
    max_turns: u32,
) -> (ForkResult, FixtureServer) {
    let server = support::lenient_server("hostile", interactions).await;
    let config = support::bare_config(&server);
    let workspace = Workspace::open(&site.root, WorkspaceOptions::default()).unwrap();
    let forker = Forker::new(Client::new(config).unwrap()).with_workspace(Arc::new(workspace));
    let request = ForkRequest {
        max_turns,
        ..ForkRequest::new("Do as you please.", BuiltinAgent::General.profile())
    };
    let result = forker.run(request, &CancellationToken::new()).await;
    (result, server)
}

/// The function responses of the request with `turns` entries.
fn responses_sent(server: &FixtureServer, turns: usize) -> Vec<Value> {
    let body = server
        .requests()
        .into_iter()
        .filter_map(|request| request.body)
        .find(|body| {
            body["contents"]
                .as_array()
                .is_some_and(|c| c.len() == turns)
        })
        .expect("the follow-up request was sent");
    body["contents"][turns - 1]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["functionResponse"].clone())
        .collect()
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        found.push(entry.file_name().to_string_lossy().into_owned());
    }
    found.sort();
    found
}

#[tokio::test]
async fn escaping_paths_are_refused_and_nothing_outside_is_touched() {
    let site = site();
    let outside_abs = site.outside.join("absolute.txt");
    let calls = vec![
        call("read_file", json!({"path": "../outside/secret.txt"})),
        call(
            "read_file",
            json!({"path": site.outside.join("secret.txt")}),
        ),
        call("read_file", json!({"path": "/etc/passwd"})),
        call("read_file", json!({"path": "link/secret.txt"})),
        call("read_file", json!({"path": "a/../../outside/secret.txt"})),
        call("read_file", json!({"path": "~/.ssh/id_rsa"})),
        call(
            "create_file",
            json!({"path": "../outside/planted.txt", "content": "x"}),
        ),
        call("create_file", json!({"path": outside_abs, "content": "x"})),
        call(
            "create_file",
            json!({"path": "link/planted.txt", "content": "x"}),
        ),
        call(
            "update_file",
            json!({"path": "link/secret.txt", "content": "overwritten"}),
        ),
        call("delete_file", json!({"path": "link/secret.txt"})),
        call("delete_file", json!({"path": "../outside"})),
        call("list_directory", json!({"path": ".."})),
        call("list_directory", json!({"path": "link"})),
        call("grep_files", json!({"pattern": "contents", "path": "link"})),
        call("bash", json!({"command": "cat ../outside/secret.txt"})),
        call(
            "create_file",
            json!({"path": "inside.txt", "content": "fine"}),
        ),
    ];
    let count = calls.len();
    let (result, server) = run_fork(
        &site,
        vec![
            at_turn(1, reply(Value::Array(calls))),
            at_turn(3, reply(json!([{"text": "Done."}]))),
        ],
        10,
    )
    .await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);

    let responses = responses_sent(&server, 3);
    assert_eq!(responses.len(), count);
    for response in &responses[..count - 1] {
        assert_eq!(
            response["response"]["success"], false,
            "{} was not refused: {}",
            response["name"], response["response"]
        );
        assert!(
            response["response"]["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty())
        );
    }
    assert_eq!(responses[count - 1]["response"]["success"], true);
    // Outside: untouched. Inside: only the allowed file (and the link).
    assert_eq!(files_under(&site.outside), ["secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(site.outside.join("secret.txt")).unwrap(),
        SECRET
    );
    assert_eq!(files_under(&site.root), ["inside.txt", "link"]);
    // The secret never went back to the model.
    for request in server.requests() {
        assert!(!String::from_utf8_lossy(&request.raw_body).contains(SECRET));
    }
}

#[tokio::test]
async fn an_enormous_argument_is_refused_without_writing() {
    let site = site();
    // Under the client's 32 MiB reply limit, far over the 5 MiB write limit.
    let huge = "A".repeat(30 * 1024 * 1024);
    let calls = json!([call(
        "create_file",
        json!({"path": "huge.txt", "content": huge})
    )]);
    drop(huge);
    let (result, server) = run_fork(
        &site,
        vec![
            at_turn(1, reply(calls)),
            at_turn(3, reply(json!([{"text": "Gave up."}]))),
        ],
        10,
    )
    .await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    let responses = responses_sent(&server, 3);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["response"]["success"], false);
    assert!(!site.root.join("huge.txt").exists());
    assert_eq!(files_under(&site.root), ["link"]);
}

#[tokio::test]
async fn thousands_of_calls_in_one_turn_run_only_up_to_the_cap() {
    let site = site();
    let calls: Vec<Value> = (0..5_000)
        .map(|i| {
            call(
                "create_file",
                json!({"path": format!("f{i}.txt"), "content": "x"}),
            )
        })
        .collect();
    let (result, server) = run_fork(
        &site,
        vec![
            at_turn(1, reply(Value::Array(calls))),
            at_turn(3, reply(json!([{"text": "Done."}]))),
        ],
        10,
    )
    .await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    let responses = responses_sent(&server, 3);
    assert_eq!(
        responses.len(),
        5_000,
        "every call gets an answer, in order"
    );
    for (i, response) in responses.iter().enumerate() {
        assert_eq!(response["name"], "create_file");
        let ok = response["response"]["success"] == true;
        assert_eq!(
            ok,
            i < MAX_CALLS_PER_TURN,
            "call {i}: {}",
            response["response"]
        );
    }
    assert!(
        responses[MAX_CALLS_PER_TURN]["response"]["error"]
            .as_str()
            .unwrap()
            .contains("too many function calls")
    );
    // The cap's files, and the link.
    assert_eq!(files_under(&site.root).len(), MAX_CALLS_PER_TURN + 1);
}

#[tokio::test]
async fn a_model_that_always_calls_a_tool_stops_at_the_turn_limit() {
    let site = site();
    let forever = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")),
        ResponseSpec::json(reply(json!([call("list_directory", json!({"path": "."}))]))),
    )
    .repeatable();
    let (result, server) = run_fork(&site, vec![forever], 6).await;
    assert_eq!(result.status, ForkStatus::Partial);
    assert_eq!(result.turns.len(), 6);
    assert_eq!(server.stats().total_requests, 6);
    assert_eq!(
        result.tools_executed.len(),
        5,
        "no tool runs after the last turn"
    );
}

/// A model that asks for 64 big reads in one turn: each result is cut to
/// its own cap, the follow-up request stays within the request cap, and
/// every cut result tells the model how much was cut.
#[tokio::test]
async fn sixty_four_big_reads_are_cut_to_fit_the_request_budget() {
    let site = site();
    // 1 MiB each (the read limit), made of characters JSON must escape, so
    // each result is about 2 MiB as JSON.
    let content = "\"\\\n".repeat(1024 * 1024 / 3);
    for i in 0..64 {
        std::fs::write(site.root.join(format!("big{i}.txt")), &content).unwrap();
    }
    let reads: Vec<Value> = (0..64)
        .map(|i| call("read_file", json!({"path": format!("big{i}.txt")})))
        .collect();
    let interactions = vec![
        at_turn(1, reply(Value::Array(reads))),
        at_turn(3, reply(json!([{"text": "done"}]))),
    ];
    let (result, server) = run_fork(&site, interactions, 3).await;
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);

    let follow_up = server
        .requests()
        .into_iter()
        .find(|request| {
            request
                .body
                .as_ref()
                .is_some_and(|body| body["contents"].as_array().is_some_and(|c| c.len() == 3))
        })
        .expect("the follow-up request was sent");
    let size = follow_up.raw_body.len();
    // The request cap covers the conversation; the system instruction and
    // tool declarations come on top.
    assert!(
        size <= MAX_REQUEST_BYTES + 64 * 1024,
        "the request was {size} bytes"
    );
    let responses = responses_sent(&server, 3);
    assert_eq!(responses.len(), 64);
    for response in &responses {
        let bytes = serde_json::to_vec(&response["response"]).unwrap().len();
        assert!(bytes <= MAX_FUNCTION_RESPONSE_BYTES, "{bytes} bytes");
        let note = response["response"]["cut"].as_str().expect("a cut note");
        assert!(note.contains("bytes were cut"), "{note}");
    }
}

/// A model that reads a file holding the API key (and passes the key back
/// as an argument): the key reaches neither the request sent to the model
/// nor any event.
#[tokio::test]
async fn a_tool_result_that_echoes_the_key_is_redacted_everywhere() {
    let key = "fake-key-ECHOCHECK-41c9e7a2";
    let site = site();
    std::fs::write(site.root.join(".env"), format!("GEMINI_API_KEY={key}\n")).unwrap();
    let calls = json!([
        call("read_file", json!({"path": ".env"})),
        call("search_files", json!({"pattern": key}))
    ]);
    let server = support::lenient_server(
        "echo",
        vec![
            at_turn(1, reply(calls)),
            at_turn(3, reply(json!([{"text": "done"}]))),
        ],
    )
    .await;
    let config = support::bare_config(&server).with_api_key(ApiKey::new(key));
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let workspace = Workspace::open(&site.root, WorkspaceOptions::default()).unwrap();
    let forker = Forker::new(Client::new(config).unwrap())
        .with_workspace(Arc::new(workspace))
        .with_events(EventSink::new(move |event| {
            seen.lock().unwrap().push(format!("{event:?}"));
        }));
    let request = ForkRequest::new("Show me the settings.", BuiltinAgent::General.profile());
    let result = forker.run(request, &CancellationToken::new()).await;
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);

    let responses = responses_sent(&server, 3);
    assert_eq!(responses.len(), 2);
    let sent = serde_json::to_string(&responses).unwrap();
    assert!(!sent.contains(key), "the key went to the model: {sent}");
    assert!(sent.contains("[REDACTED]"), "{sent}");
    let events = events.lock().unwrap();
    assert!(events.iter().any(|event| event.contains("ToolCall")));
    for event in events.iter() {
        assert!(!event.contains(key), "the key is in an event: {event}");
    }
    assert!(!format!("{result:?}").contains(key));
}
