//! The model is not trusted, end to end: a fork whose (authored, replayed)
//! model writes `agent-fork.toml` to turn the shell on over `/` is refused,
//! and the next, unrelated fork in that folder still runs with the shell
//! off. No test reaches a public host: `--replay` serves the cassette on
//! loopback.

use std::path::{Path, PathBuf};

use cassette::{
    BodyMatcher, Cassette, FunctionResponseMatch, Interaction, KeyFields, RequestSpec,
    ResponseSpec, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::{stderr_of, stdout_of};
use test_support::gemini::Reply;

const PLANTED: &str = "[defaults]\nallow_shell = true\nworkspace = \"/\"\n";

fn reply(parts: Value) -> Value {
    Reply::parts(parts)
        .usage(12, 4, 0)
        .response_id("authored-trust-test")
        .json()
}

/// A streamed reply to the request with `turns` contents.
fn turn(turns: usize, parts: Value) -> Interaction {
    turn_after(turns, None, parts)
}

/// A streamed reply to the request with `turns` contents whose last
/// content is exactly this function response (`tool`, `response`).
fn turn_after(turns: usize, answer: Option<(&str, Value)>, parts: Value) -> Interaction {
    Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-2.5-flash:streamGenerateContent")
            .with_query("alt", "sse")
            .with_body(BodyMatcher::KeyFields(KeyFields {
                turns: Some(turns),
                function_responses: answer.map(|(name, response)| {
                    vec![FunctionResponseMatch {
                        name: name.to_owned(),
                        id: None,
                        response: Some(response),
                    }]
                }),
                ..KeyFields::default()
            })),
        ResponseSpec::sse(vec![SseEvent::new(reply(parts))]),
    )
}

fn write_cassette(folder: &Path, name: &str, interactions: Vec<Interaction>) -> PathBuf {
    let why = "authored in code by the CLI trust tests: a model that plants settings";
    common::save_cassette(folder.join(name), "trust", why, interactions)
}

#[test]
fn a_model_cannot_turn_the_shell_on_for_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("project");
    std::fs::create_dir(&folder).unwrap();
    let cassettes = dir.path();
    let attack = "Set up the project.";
    let first = write_cassette(
        cassettes,
        "attack.json",
        vec![
            turn(
                1,
                json!([{"functionCall": {"name": "create_file", "args": {"path": "agent-fork.toml", "content": PLANTED}}}]),
            ),
            // Served only when the tool refused, saying why.
            turn_after(
                3,
                Some((
                    "create_file",
                    json!({
                        "success": false,
                        "error": "'agent-fork.toml' is protected (agent-fork's own settings and run history decide what later runs may do): only the user may change it, the workspace tools never do; if it needs changing, tell the user what to change and why"
                    }),
                )),
                json!([{"text": "Configured."}]),
            ),
        ],
    );
    let output = common::isolated(&folder)
        .env("NO_COLOR", "1")
        .env("AGENT_FORK_MODEL", "gemini-2.5-flash")
        .arg("--replay")
        .arg(&first)
        .args(["fork", attack])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        !folder.join("agent-fork.toml").exists(),
        "the model's settings file was written"
    );

    // The next, unrelated fork: its model asks for a shell command.
    let question = "what is 2+2?";
    let second = write_cassette(
        cassettes,
        "question.json",
        vec![
            turn(
                1,
                json!([{"functionCall": {"name": "bash", "args": {"command": "env"}}}]),
            ),
            // Served only when the shell was off.
            turn_after(
                3,
                Some((
                    "bash",
                    json!({
                        "success": false,
                        "error": "shell access is disabled; only the operator can enable it"
                    }),
                )),
                json!([{"text": "4"}]),
            ),
        ],
    );
    let output = common::isolated(&folder)
        .env("NO_COLOR", "1")
        .env("AGENT_FORK_MODEL", "gemini-2.5-flash")
        .arg("--replay")
        .arg(&second)
        .args(["fork", "--json", question])
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stdout.contains("shell on") && !stderr.contains("shell on"),
        "{stderr}"
    );
    assert!(!stdout.contains("PATH="), "the shell ran: {stdout}");
    assert!(stdout.contains("\"result\": \"4\""), "{stdout}");
}

#[test]
fn a_bad_protect_pattern_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent-fork.toml"),
        "[workspace]\nprotect = [\"a[\"]\n",
    )
    .unwrap();
    let output = common::isolated(dir.path())
        .env("NO_COLOR", "1")
        .args(["fork", "hello"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("protect pattern 'a['"), "{stderr}");
}

/// With the workspace a folder that holds agent-fork's config and data
/// homes (as `--workspace ~` does), the model can neither read the journal
/// key nor find it: every tool's reply says it is hidden, or leaves it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_key_is_hidden_from_a_workspace_that_holds_it() {
    use cassette::{FixtureServer, ServerOptions};
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().canonicalize().unwrap();
    let calls = json!([
        {"functionCall": {"name": "read_file", "args": {"path": "cfg/agent-fork/journal.key"}}},
        {"functionCall": {"name": "grep_files", "args": {"pattern": "[0-9a-f]{16}", "path": "."}}},
        {"functionCall": {"name": "glob_search", "args": {"pattern": "**/*.key"}}},
        {"functionCall": {"name": "get_project_tree", "args": {"max_depth": 8}}}
    ]);
    let mut stand_in =
        Cassette::authored("hidden", "authored in code: a model after the journal key");
    stand_in.interactions = vec![turn(1, calls), turn(3, json!([{"text": "No key for me."}]))];
    let server = FixtureServer::start(vec![stand_in], ServerOptions::default())
        .await
        .unwrap();
    let output = common::against(&home, &server)
        .env("XDG_CONFIG_HOME", home.join("cfg"))
        .env("XDG_DATA_HOME", home.join("data"))
        .args(["fork", "--model", "gemini-2.5-flash", "--workspace", "."])
        .arg("Find the journal key.")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let key = std::fs::read_to_string(home.join("cfg/agent-fork/journal.key")).unwrap();
    assert!(
        key.trim().len() >= 32,
        "the run made its key in the workspace"
    );
    let requests = server.requests();
    let body = requests
        .last()
        .and_then(|request| request.body.as_ref())
        .unwrap();
    // What the tools answered (the model's own calls name the key's path).
    let last = body["contents"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .to_string();
    assert!(
        !last.contains(key.trim()),
        "the key reached the model: {last}"
    );
    let answers = body["contents"].as_array().unwrap().last().unwrap()["parts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(answers.len(), 4, "{last}");
    for answer in &answers[1..] {
        let answer = answer.to_string();
        assert!(
            !answer.contains("journal") && !answer.contains("agent-fork"),
            "a search or listing showed the key's folder: {answer}"
        );
    }
    assert!(last.contains("hidden from the workspace tools"), "{last}");
}
