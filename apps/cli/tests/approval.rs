//! The approval gate from the command line: a replayed fork whose
//! (authored) model asks for `bash` with `--allow-shell`. On a terminal (a
//! pty) the operator is asked and the answer decides; piped, the call is
//! denied unless `--yes`; a denied command never runs (its file is never
//! made); the decision is journalled without the arguments.

use std::path::{Path, PathBuf};

use cassette::{
    BodyMatcher, Cassette, Interaction, KeyFields, RequestSpec, ResponseSpec, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::{stderr_of, stdout_of};

const MODEL: &str = "gemini-2.5-flash";
const COMMAND: &str = "touch ran-by-the-model.txt";

fn reply(parts: Value) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0,
                        "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 4, "totalTokenCount": 16},
        "modelVersion": MODEL,
        "responseId": "authored-approval-test"
    })
}

fn turn(turns: usize, parts: Value) -> Interaction {
    Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse")
            .with_body(BodyMatcher::KeyFields(KeyFields {
                turns: Some(turns),
                ..KeyFields::default()
            })),
        ResponseSpec::sse(vec![SseEvent::new(reply(parts))]),
    )
}

fn write_cassette(folder: &Path) -> PathBuf {
    let mut cassette = Cassette::authored(
        "approval",
        "authored in code by the CLI approval tests: a model that asks for bash",
    );
    cassette.interactions = vec![
        turn(
            1,
            json!([{"functionCall": {"name": "bash", "args": {"command": COMMAND}}}]),
        ),
        turn(3, json!([{"text": "finished"}])),
    ];
    let path = folder.join("approval.json");
    cassette.save(&path).expect("the cassette is written");
    path
}

fn fork(folder: &Path, extra: &[&str]) -> std::process::Command {
    let cassette = write_cassette(folder);
    let mut command = common::isolated(folder);
    command
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args(["--allow-shell", "--color", "never"])
        .args(extra)
        .args(["fork", "--model", MODEL, "Make the file."]);
    command
}

fn ran(folder: &Path) -> bool {
    folder.join("ran-by-the-model.txt").exists()
}

#[test]
fn piped_the_shell_call_is_denied_and_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = fork(dir.path(), &[]).output().unwrap();
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!ran(dir.path()), "a denied command ran");
    assert!(stderr.contains("was not run"), "{stderr}");
    let journal = common::only_journal(dir.path());
    assert!(journal.contains("\"tool_approval\""), "{journal}");
    assert!(journal.contains("\"no_terminal\""), "{journal}");
    assert!(
        !journal.contains("ran-by-the-model"),
        "arguments in the journal"
    );
}

#[test]
fn piped_with_yes_the_shell_call_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = fork(dir.path(), &["--yes"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(ran(dir.path()));
}

/// On a terminal: the question shows, and the answer typed decides.
#[cfg(target_os = "linux")]
fn on_a_terminal(answer: &str) -> (tempfile::TempDir, String) {
    use std::io::Write as _;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut command = fork(dir.path(), &[]);
    let slave = std::fs::File::from(pty.slave);
    command
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .stdout(Stdio::piped());
    let child = command.spawn().unwrap();
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    // The line waits in the terminal until the question reads it.
    master.write_all(answer.as_bytes()).unwrap();
    let reader = common::read_terminal(master);
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert_eq!(output.status.code(), Some(0), "{shown}");
    (dir, shown)
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_yes_runs_the_call() {
    let (dir, shown) = on_a_terminal("y\n");
    assert!(shown.contains("tool: bash"), "{shown}");
    assert!(shown.contains(COMMAND), "{shown}");
    assert!(shown.contains("[y]es / [n]o / [a]lways"), "{shown}");
    assert!(ran(dir.path()), "{shown}");
    let journal = common::only_journal(dir.path());
    assert!(journal.contains("\"person\""), "{journal}");
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_no_denies_the_call() {
    let (dir, shown) = on_a_terminal("n\n");
    assert!(shown.contains("tool: bash"), "{shown}");
    assert!(!ran(dir.path()), "a refused command ran: {shown}");
}
