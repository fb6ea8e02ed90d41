//! The `agent-fork` binary end to end: exit codes, one-line errors, no
//! escape codes when piped or with NO_COLOR, and record-then-replay through
//! a loopback stand-in for Gemini. Every Gemini call goes to a loopback
//! fixture server; no test reaches a public host.

use std::path::{Path, PathBuf};
use std::process::Command;

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
    ServerOptions, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::{stderr_of, stdout_of};
use test_support::gemini::Reply;

const FAKE_KEY: &str = "AIzaSyFAKE-test-key-0123456789abcdefghij";

/// The binary in a fresh folder, with no key, no colour setting and no user config.
fn agent_fork(folder: &Path) -> Command {
    let mut command = common::isolated(folder);
    command.env("COLUMNS", "90");
    command
}

/// A file of the recorded corpus in `../shared`, or `None` (with a notice)
/// on a fresh clone that has no `../shared` beside it. Under `CI=true` the
/// corpus must be there.
#[expect(clippy::print_stderr, reason = "a skipped test says why")]
fn corpus(path: &str) -> Option<PathBuf> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/gemini-wire")
        .join(path);
    if file.is_file() {
        return Some(file);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing and CI=true: CI runs with ../shared beside the repository",
        file.display()
    );
    eprintln!(
        "skipped: {} is absent (no ../shared beside the repository)",
        file.display()
    );
    None
}

fn reply(text: &str) -> Value {
    Reply::text(text)
        .usage(12, 4, 0)
        .model_version("gemini-3.8-flash")
        .response_id("authored-cli-test")
        .json()
}

fn fork_interaction(task: &str, response: ResponseSpec) -> Interaction {
    let matcher = BodyMatcher::KeyFields(KeyFields {
        last_user_text: Some(task.to_owned()),
        ..KeyFields::default()
    });
    Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
            .with_query("alt", "sse")
            .with_body(matcher),
        response,
    )
}

fn write_cassette(folder: &Path, interactions: Vec<Interaction>) -> PathBuf {
    let why = "built in code by the CLI tests";
    common::save_cassette(folder.join("session.json"), "cli-test", why, interactions)
}

#[test]
fn a_fork_replays_and_succeeds_without_escape_codes() {
    let folder = tempfile::tempdir().unwrap();
    let sse = ResponseSpec::sse(vec![SseEvent::new(reply("Hello **there**."))]);
    let cassette = write_cassette(folder.path(), vec![fork_interaction("Greet me.", sse)]);
    let output = agent_fork(folder.path())
        .arg("--replay")
        .arg(&cassette)
        .args(["fork", "Greet me."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("🔀 Fork fork_") && stdout.contains("Hello there."),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}'),
        "piped output carries escape codes"
    );
}

#[test]
fn no_color_wins_even_when_colour_would_be_on() {
    let Some(reply_file) = corpus("firebase-googleai/unary-success-basic-reply-short.json") else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let output = agent_fork(folder.path())
        .env("NO_COLOR", "1")
        .arg("inspect")
        .arg(&reply_file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(!stdout_of(&output).contains('\u{1b}'));
    let forced = agent_fork(folder.path())
        .args(["--color", "always", "inspect"])
        .arg(&reply_file)
        .output()
        .unwrap();
    assert!(
        stdout_of(&forced).contains('\u{1b}'),
        "--color always colours even when piped"
    );
}

#[test]
fn exit_codes_follow_the_contract() {
    let (Some(reply_file), Some(error_file)) = (
        corpus("firebase-googleai/unary-success-basic-reply-short.json"),
        corpus("vercel-ai/google-429-retry-info.json"),
    ) else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    // 0: a decoded response.
    let ok = agent_fork(folder.path())
        .arg("inspect")
        .arg(&reply_file)
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    // 3: a decoded API error.
    let api = agent_fork(folder.path())
        .arg("inspect")
        .arg(&error_file)
        .output()
        .unwrap();
    assert_eq!(api.status.code(), Some(3));
    // 2: unreadable input, a bad flag value, a missing key.
    let missing = agent_fork(folder.path())
        .args(["inspect", "no-such-file.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr_of(&missing).lines().count(),
        1,
        "one line: {}",
        stderr_of(&missing)
    );
    let bad_flag = agent_fork(folder.path())
        .args(["fork", "--max-turns", "zero", "x"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
    let no_key = agent_fork(folder.path())
        .args(["fork", "Do something."])
        .output()
        .unwrap();
    assert_eq!(no_key.status.code(), Some(2));
    let message = stderr_of(&no_key);
    assert!(
        message.contains("GEMINI_API_KEY")
            && message.contains("--replay")
            && message.contains("examples"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
    let empty = agent_fork(folder.path())
        .args(["fork", "  "])
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(2));
    let unknown_type = agent_fork(folder.path())
        .args(["fork", "--type", "wizard", "x"])
        .output()
        .unwrap();
    assert_eq!(unknown_type.status.code(), Some(2));
    assert!(stderr_of(&unknown_type).contains("unknown agent type `wizard`"));
}

#[test]
fn an_api_error_exits_3_and_a_failed_swarm_exits_1() {
    let folder = tempfile::tempdir().unwrap();
    let denied = ResponseSpec::json(json!({"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}})).with_status(403);
    let cassette = write_cassette(
        folder.path(),
        vec![fork_interaction("Denied task.", denied)],
    );
    let output = agent_fork(folder.path())
        .arg("--replay")
        .arg(&cassette)
        .args(["fork", "Denied task."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stdout_of(&output));
    assert!(stdout_of(&output).contains("PERMISSION_DENIED"));

    let ok = Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-3.8-flash:generateContent").with_body(
            BodyMatcher::KeyFields(KeyFields {
                last_user_text: Some("fine".into()),
                ..KeyFields::default()
            }),
        ),
        ResponseSpec::json(reply("Fine.")),
    );
    let bad = Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-3.8-flash:generateContent").with_body(
            BodyMatcher::KeyFields(KeyFields {
                last_user_text: Some("broken".into()),
                ..KeyFields::default()
            }),
        ),
        ResponseSpec::json(
            json!({"error": {"code": 400, "message": "Bad.", "status": "INVALID_ARGUMENT"}}),
        )
        .with_status(400),
    );
    let cassette = write_cassette(folder.path(), vec![ok, bad]);
    let output = agent_fork(folder.path())
        .arg("--replay")
        .arg(&cassette)
        .args([
            "swarm",
            "--type",
            "creative",
            "--no-consolidate",
            "fine",
            "broken",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        stdout_of(&output),
        stderr_of(&output)
    );
}

#[test]
fn a_replay_that_does_not_match_fails_with_the_closest_candidate() {
    let folder = tempfile::tempdir().unwrap();
    let sse = ResponseSpec::sse(vec![SseEvent::new(reply("Hi."))]);
    let cassette = write_cassette(folder.path(), vec![fork_interaction("Expected task.", sse)]);
    let output = agent_fork(folder.path())
        .arg("--replay")
        .arg(&cassette)
        .args(["fork", "Another task."])
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr_of(&output).contains("did not match the cassette"),
        "{}",
        stderr_of(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_replays_to_the_same_output_and_holds_no_key() {
    let folder = tempfile::tempdir().unwrap();
    // A loopback stand-in for Gemini.
    let sse = ResponseSpec::sse(vec![
        SseEvent::new(reply("Recorded ")),
        SseEvent::new(reply("answer.")),
    ]);
    let mut stand_in = Cassette::authored("stand-in", "plays the live API for the recording test");
    stand_in
        .interactions
        .push(fork_interaction("Record me.", sse));
    let server = FixtureServer::start(vec![stand_in], ServerOptions::default())
        .await
        .unwrap();
    let recording = folder.path().join("recorded.json");
    let live = agent_fork(folder.path())
        .env("GEMINI_API_KEY", FAKE_KEY)
        .env("GOOGLE_GEMINI_BASE_URL", server.base_url())
        .arg("--record")
        .arg(&recording)
        .args(["--json", "fork", "Record me."])
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(0), "{}", stderr_of(&live));
    server.assert_clean();
    let saved = std::fs::read_to_string(&recording).unwrap();
    assert!(
        !saved.contains(FAKE_KEY),
        "the key leaked into the cassette"
    );
    assert!(saved.contains("\"provenance\": \"recorded\""));

    let replayed = agent_fork(folder.path())
        .arg("--replay")
        .arg(&recording)
        .args(["--json", "fork", "Record me."])
        .output()
        .unwrap();
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr_of(&replayed));
    let facts = |output: &std::process::Output| {
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            value["result"].clone(),
            value["status"].clone(),
            value["usage"].clone(),
        )
    };
    assert_eq!(facts(&live), facts(&replayed));
    assert_eq!(facts(&replayed).0, json!("Recorded answer."));
}

#[test]
fn config_shows_the_key_as_set_never_its_value() {
    let folder = tempfile::tempdir().unwrap();
    let output = agent_fork(folder.path())
        .env("GEMINI_API_KEY", FAKE_KEY)
        .args(["--json", "config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stdout_of(&output);
    assert!(!text.contains(FAKE_KEY));
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["api_key"]["value"], true);
    std::fs::write(
        folder.path().join("agent-fork.toml"),
        "[defaults]\nconcurrency = 7\n",
    )
    .unwrap();
    let output = agent_fork(folder.path())
        .env("AGENT_FORK_MAX_TURNS", "4")
        .args(["--json", "config"])
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        value["concurrency"],
        json!({"value": 7, "source": "agent-fork.toml"})
    );
    assert_eq!(
        value["max_turns"],
        json!({"value": 4, "source": "env AGENT_FORK_MAX_TURNS"})
    );
    let output = agent_fork(folder.path())
        .env("AGENT_FORK_CONCURRENCY", "many")
        .arg("config")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
