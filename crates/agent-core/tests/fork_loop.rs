//! The fork's tool loop against authored cassettes on loopback: files made
//! and read back, parallel calls answered in order with their ids, thought
//! signatures echoed, the turn limit, errors, cancellation, streaming.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::workspace::{Workspace, WorkspaceOptions};
use agent_core::{
    BuiltinAgent, Event, EventSink, ForkRequest, ForkStatus, Forker, MAX_CALLS_PER_TURN,
};
use cassette::{Interaction, RequestSpec, ResponseSpec};
use serde_json::json;
use support::*;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-3.8-flash";

fn general(task: &str) -> ForkRequest {
    ForkRequest::new(task, BuiltinAgent::General.profile())
}

fn forker_with_workspace(server: &cassette::FixtureServer) -> (Forker, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let workspace =
        Workspace::open(folder.path(), WorkspaceOptions::default()).expect("the workspace opens");
    (
        Forker::new(client(server)).with_workspace(Arc::new(workspace)),
        folder,
    )
}

#[tokio::test(start_paused = true)]
async fn files_are_created_and_read_back_with_the_signature_echoed() {
    let server = server(
        "create-and-read",
        vec![
            unary(
                MODEL,
                task("Write hi to notes/hello.txt and read it back."),
                reply(
                    json!([signed_call(
                        "create_file",
                        json!({"path": "notes/hello.txt", "content": "hi"}),
                        "c2lnLW9uZQ=="
                    )]),
                    usage(200, 10, 40),
                ),
            ),
            unary(
                MODEL,
                responses(&["create_file"]),
                reply(
                    json!([call("read_file", json!({"path": "notes/hello.txt"}))]),
                    usage(260, 8, 12),
                ),
            ),
            unary(
                MODEL,
                responses(&["read_file"]),
                reply(json!([{"text": "The file says hi."}]), usage(300, 6, 0)),
            ),
        ],
    )
    .await;
    let (forker, folder) = forker_with_workspace(&server);
    let result = forker
        .run(
            general("Write hi to notes/hello.txt and read it back."),
            &CancellationToken::new(),
        )
        .await;
    server.assert_clean();

    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(result.text, "The file says hi.");
    assert_eq!(result.tools_executed, ["create_file", "read_file"]);
    assert_eq!(result.files_created, ["notes/hello.txt"]);
    assert_eq!(
        std::fs::read_to_string(folder.path().join("notes/hello.txt")).unwrap(),
        "hi"
    );
    assert_eq!(result.turns.len(), 3);
    assert_eq!(result.usage.prompt, 760);
    assert_eq!(result.usage.thoughts, 52);
    assert_eq!(result.usage.total, 760 + 24 + 52);

    let bodies = bodies(&server);
    // The second request replays the model turn exactly, signature included.
    let model_turn = &bodies[1]["contents"][1];
    assert_eq!(model_turn["role"], "model");
    assert_eq!(model_turn["parts"][0]["thoughtSignature"], "c2lnLW9uZQ==");
    assert_eq!(
        model_turn["parts"][0]["functionCall"]["name"],
        "create_file"
    );
    // The third request carries the file's content back to the model.
    let read_back = &bodies[2]["contents"][4]["parts"][0]["functionResponse"];
    assert_eq!(read_back["name"], "read_file");
    assert!(read_back["response"].to_string().contains("hi"));
    assert_eq!(read_back["response"]["success"], true);
}

#[tokio::test(start_paused = true)]
async fn parallel_calls_are_answered_in_call_order_with_their_ids() {
    let calls = json!([
        {"functionCall": {"name": "create_file", "args": {"path": "a.txt", "content": "A"}, "id": "call-a"}, "thoughtSignature": "c2ln"},
        {"functionCall": {"name": "create_file", "args": {"path": "b.txt", "content": "B"}, "id": "call-b"}},
        {"functionCall": {"name": "read_file", "args": {"path": "missing.txt"}, "id": "call-c"}}
    ]);
    let server = server(
        "parallel",
        vec![
            unary(
                MODEL,
                task("Make two files."),
                reply(calls, usage(100, 30, 0)),
            ),
            unary(
                MODEL,
                responses(&["create_file", "create_file", "read_file"]),
                text_reply("Done."),
            ),
        ],
    )
    .await;
    let (forker, folder) = forker_with_workspace(&server);
    let result = forker
        .run(general("Make two files."), &CancellationToken::new())
        .await;
    server.assert_clean();

    assert_eq!(result.status, ForkStatus::Success);
    assert!(folder.path().join("a.txt").is_file() && folder.path().join("b.txt").is_file());
    let answer = &bodies(&server)[1]["contents"][2];
    assert_eq!(answer["role"], "user");
    let ids: Vec<_> = answer["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["functionResponse"]["id"].clone())
        .collect();
    assert_eq!(ids, [json!("call-a"), json!("call-b"), json!("call-c")]);
    // A failing tool is reported to the model, and the fork goes on.
    assert_eq!(
        answer["parts"][2]["functionResponse"]["response"]["success"],
        false
    );
}

#[tokio::test(start_paused = true)]
async fn the_turn_limit_gives_partial() {
    let looping = reply(json!([call("list_directory", json!({}))]), usage(50, 5, 0));
    let server = server(
        "endless",
        vec![
            unary(MODEL, task("Keep looking."), looping.clone()),
            unary(MODEL, responses(&["list_directory"]), looping),
        ],
    )
    .await;
    let (forker, _folder) = forker_with_workspace(&server);
    let request = ForkRequest {
        max_turns: 2,
        ..general("Keep looking.")
    };
    let result = forker.run(request, &CancellationToken::new()).await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Partial);
    assert_eq!(result.turns.len(), 2);
    assert_eq!(result.tools_executed, ["list_directory"]);
}

#[tokio::test(start_paused = true)]
async fn thousands_of_calls_in_one_turn_are_capped() {
    let calls: Vec<_> = (0..1000)
        .map(|index| call("get_file_info", json!({"path": format!("f{index}")})))
        .collect();
    let names = vec!["get_file_info"; 1000];
    let server = server(
        "flood",
        vec![
            unary(MODEL, task("Flood."), reply(json!(calls), usage(10, 10, 0))),
            unary(MODEL, responses(&names), text_reply("ok")),
        ],
    )
    .await;
    let (forker, _folder) = forker_with_workspace(&server);
    let result = forker
        .run(general("Flood."), &CancellationToken::new())
        .await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Success);
    let answers = bodies(&server)[1]["contents"][2]["parts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(answers.len(), 1000);
    let refused = answers.iter().filter(|part| {
        part["functionResponse"]["response"]["error"]
            .as_str()
            .is_some_and(|error| error.contains("too many function calls"))
    });
    assert_eq!(refused.count(), 1000 - MAX_CALLS_PER_TURN);
}

#[tokio::test(start_paused = true)]
async fn an_api_error_keeps_the_fork_id_model_and_kind() {
    let server = server(
        "bad-request",
        vec![Interaction::new(
            RequestSpec::post(generate_path(MODEL)).with_body(task("Fail.")),
            ResponseSpec::json(json!({"error": {"code": 400, "message": "Invalid thing.", "status": "INVALID_ARGUMENT"}})).with_status(400),
        )],
    )
    .await;
    let forker = Forker::new(client(&server));
    let result = forker
        .run(general("Fail."), &CancellationToken::new())
        .await;
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Error);
    assert!(result.fork_id.as_str().starts_with("fork_"));
    assert_eq!(result.model, MODEL);
    let error = result.error.expect("the error is kept");
    assert_eq!(error.kind.client(), Some(genai_client::ErrorKind::Api));
    assert_eq!(error.http_status, Some(400));
    assert!(error.message.contains("INVALID_ARGUMENT"));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_fork_returns_what_it_had() {
    let slow = unary(MODEL, task("Slow."), text_reply("late")).clone();
    let mut slow = slow;
    slow.response.latency_ms = Some(60_000);
    let server = cassette::FixtureServer::start(
        vec![cassette("slow", vec![slow])],
        cassette::ServerOptions::lenient(),
    )
    .await
    .unwrap();
    let forker = Forker::new(client(&server));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        trigger.cancel();
    });
    let result = forker.run(general("Slow."), &cancel).await;
    assert_eq!(result.status, ForkStatus::Cancelled);
    assert!(result.text.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_streaming_fork_emits_text_as_it_arrives() {
    let chunk = |text: &str| reply(json!([{"text": text}]), usage(10, 2, 0));
    let server = server(
        "streamed",
        vec![streamed(
            MODEL,
            task("Stream."),
            vec![chunk("One, "), chunk("two, "), chunk("three.")],
        )],
    )
    .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let seen = seen.clone();
        EventSink::new(move |event| {
            if let Event::TextDelta { text, .. } = event {
                seen.lock().unwrap().push(text);
            }
        })
    };
    let forker = Forker::new(client(&server)).with_events(sink);
    let request = ForkRequest {
        stream: true,
        ..general("Stream.")
    };
    let result = forker.run(request, &CancellationToken::new()).await;
    server.assert_clean();
    assert_eq!(result.text, "One, two, three.");
    assert_eq!(*seen.lock().unwrap(), ["One, ", "two, ", "three."]);
    // Streamed usage is cumulative: the last chunk's counts, not their sum.
    assert_eq!(result.usage.total, 12);
}

/// The thinking setting reaches the wire as the model's own field: a level
/// for Gemini 3, a budget for 2.5, never both, under `generationConfig`.
#[tokio::test(start_paused = true)]
async fn thinking_is_sent_as_the_model_takes_it() {
    use agent_core::AgentOverrides;
    use genai_client::ThinkingLevel;
    use genai_client::catalog::ThinkingSetting;

    let server = server(
        "thinking-per-model",
        vec![
            unary(
                MODEL,
                task("Level please."),
                reply(json!([{"text": "ok"}]), usage(10, 1, 0)),
            ),
            unary(
                "gemini-2.5-flash",
                task("Budget please."),
                reply(json!([{"text": "ok"}]), usage(10, 1, 0)),
            ),
        ],
    )
    .await;
    let forker = Forker::new(client(&server));
    let cancel = CancellationToken::new();
    let current = forker.run(general("Level please."), &cancel).await;
    let older = BuiltinAgent::General.profile().with(&AgentOverrides {
        model: Some("gemini-2.5-flash".to_owned()),
        thinking: Some(ThinkingSetting::Level(ThinkingLevel::High)),
        ..AgentOverrides::default()
    });
    let older = forker
        .run(ForkRequest::new("Budget please.", older), &cancel)
        .await;
    server.assert_clean();
    assert_eq!(current.status, ForkStatus::Success, "{:?}", current.error);
    assert_eq!(older.status, ForkStatus::Success, "{:?}", older.error);

    let bodies = bodies(&server);
    assert_eq!(
        bodies[0]["generationConfig"],
        json!({"thinkingConfig": {"thinkingLevel": "LOW"}})
    );
    assert_eq!(
        bodies[1]["generationConfig"],
        json!({"thinkingConfig": {"thinkingBudget": 24576}})
    );
}

#[tokio::test(start_paused = true)]
async fn a_prompt_that_cannot_fit_the_input_limit_is_refused_before_it_is_sent() {
    // No interaction at all: anything sent would be unmatched.
    let server = server("too-large", Vec::new()).await;
    let forker = Forker::new(client(&server));
    // gemini-3.8-flash takes 1,048,576 input tokens; 40 million characters
    // are at least 1.25 million tokens even at 32 characters a token.
    let huge = "word ".repeat(8_000_000);
    let result = forker.run(general(&huge), &CancellationToken::new()).await;
    assert_eq!(result.status, ForkStatus::Error);
    let error = result.error.expect("an error");
    assert_eq!(error.kind, agent_core::INPUT_TOO_LARGE);
    assert!(error.message.contains("estimate"), "{}", error.message);
    assert!(error.message.contains("1048576"), "{}", error.message);
    assert_eq!(server.stats().total_requests, 0, "nothing was sent");

    // A prompt that might fit is sent: 4 million characters could be under
    // a million tokens, so it is not refused (here the stand-in has nothing
    // to answer, which is the point: the request went out).
    let big = "word ".repeat(800_000);
    let result = forker.run(general(&big), &CancellationToken::new()).await;
    assert_ne!(
        result.error.map(|error| error.kind),
        Some(agent_core::INPUT_TOO_LARGE)
    );
    assert_eq!(server.stats().total_requests, 1);
}
