//! Model text never drives the operator's terminal: a replayed fork whose
//! (authored) model streams OSC 52, cursor moves, SGR 8 and C1 controls in
//! its answer, split across SSE events, and calls a tool whose name carries
//! them, prints none of them (live on a terminal, and piped) while
//! agent-fork's own colours still show; `--json` escapes the C1 controls.

use std::path::{Path, PathBuf};
use std::process::Output;

use cassette::{
    BodyMatcher, Cassette, Interaction, KeyFields, RequestSpec, ResponseSpec, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::{stderr_of, stdout_of};

/// A tool name carrying an OSC 52 clipboard write and a C1 CSI.
const HOSTILE_TOOL: &str = "read_file\u{1b}]52;c;dG9vbA==\u{7}\u{9b}2J";

/// The streamed answer, cut into SSE events in the middle of sequences.
const PIECES: [&str; 4] = [
    "Here\u{1b}]52;c;cm0gLX",
    "JmIH4=\u{7} is\u{1b}[10;",
    "10H the\u{1b}[8m answer\u{1b}",
    "[0m\n\tindented\u{9b}2J\u{9d}0;title\u{9c} done.",
];

/// What must never reach a terminal from the model.
/// (The payloads and parameters too: a sequence is dropped whole.)
const FORBIDDEN: [&str; 11] = [
    "\u{1b}]",
    "\u{1b}[10;10H",
    "\u{1b}[8m",
    "\u{9b}",
    "\u{9d}",
    "\u{9c}",
    "\u{7}",
    "cm0gLXJmIH4=",
    "dG9vbA==",
    "10;10H",
    "0;title",
];

fn reply(parts: Value, usage: bool) -> Value {
    let mut reply = json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "authored-terminal-test"
    });
    if usage {
        reply["candidates"][0]["finishReason"] = json!("STOP");
        reply["usageMetadata"] =
            json!({"promptTokenCount": 12, "candidatesTokenCount": 4, "totalTokenCount": 16});
    }
    reply
}

fn turn(turns: usize, events: Vec<SseEvent>) -> Interaction {
    Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-2.5-flash:streamGenerateContent")
            .with_query("alt", "sse")
            .with_body(BodyMatcher::KeyFields(KeyFields {
                turns: Some(turns),
                ..KeyFields::default()
            })),
        ResponseSpec::sse(events),
    )
}

fn write_cassette(folder: &Path) -> PathBuf {
    let mut cassette = Cassette::authored(
        "terminal",
        "authored in code by the CLI terminal tests: a model that sends escape sequences",
    );
    let last = PIECES.len() - 1;
    cassette.interactions = vec![
        turn(
            1,
            vec![SseEvent::new(reply(
                json!([{"functionCall": {"name": HOSTILE_TOOL, "args": {"path": "x"}}}]),
                true,
            ))],
        ),
        turn(
            3,
            PIECES
                .iter()
                .enumerate()
                .map(|(index, piece)| SseEvent::new(reply(json!([{"text": piece}]), index == last)))
                .collect(),
        ),
    ];
    let path = folder.join("terminal.json");
    cassette.save(&path).expect("the cassette is written");
    path
}

fn assert_clean(shown: &str, what: &str) {
    for forbidden in FORBIDDEN {
        assert!(
            !shown.contains(forbidden),
            "{what} showed {forbidden:?}:\n{shown:?}"
        );
    }
    assert!(shown.contains("answer"), "{what}: {shown:?}");
}

fn fork(folder: &Path, cassette: &Path, extra: &[&str]) -> std::process::Command {
    let mut command = common::isolated(folder);
    command
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args(extra)
        .args(["fork", "--model", "gemini-2.5-flash", "Read x."]);
    command
}

#[test]
fn model_escape_sequences_never_reach_a_piped_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = write_cassette(dir.path());
    let output: Output = fork(dir.path(), &cassette, &["--color", "always"])
        .output()
        .unwrap();
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_clean(&stdout, "stdout");
    assert_clean(&format!("{stderr}answer"), "stderr");
    // Our own colours are still there (the bold keys of the result).
    assert!(stdout.contains("\u{1b}[1m"), "{stdout:?}");
    // The answer's own layout survives: a newline and an indent.
    assert!(stdout.contains("indented"), "{stdout:?}");
}

#[test]
fn json_output_escapes_c1_controls() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = write_cassette(dir.path());
    let output = fork(dir.path(), &cassette, &["--json"]).output().unwrap();
    let stdout = stdout_of(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        !stdout.chars().any(|ch| ch.is_control() && ch != '\n'),
        "raw controls in --json: {stdout:?}"
    );
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["result"], PIECES.concat(), "JSON keeps the data");
}

/// Live on a terminal (a pty), where the answer is streamed as it arrives.
#[cfg(target_os = "linux")]
#[test]
fn model_escape_sequences_never_reach_a_live_terminal() {
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let cassette = write_cassette(dir.path());
    let pty = common::pty(100, 40);
    let mut command = fork(dir.path(), &cassette, &["--color", "always"]);
    command
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    drop(command);
    let reader = common::read_terminal(std::fs::File::from(pty.master));
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{shown}\n{}",
        stderr_of(&output)
    );
    assert_clean(&shown, "the terminal");
    assert_clean(&format!("{}answer", stderr_of(&output)), "stderr");
    assert!(shown.contains("\u{1b}[1m"), "our colours: {shown:?}");
}

/// `inspect` lists Gemini 3's server-side `toolCall`/`toolResponse` parts
/// like the other parts, their model-derived text cleaned.
#[test]
fn inspect_lists_tool_calls_and_responses_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"toolCall": {"toolType": "GOOGLE_SEARCH_WEB", "args": {"queries": ["rust\u{1b}]52;c;aGk=\u{7} news"]}, "id": "c1"}},
            {"toolResponse": {"toolType": "GOOGLE_SEARCH_WEB", "response": {"summary": "ok\u{9b}2J\u{1b}[8mhidden"}, "id": "c1"}},
            {"text": "Done."}
        ]}, "finishReason": "STOP", "index": 0}],
        "modelVersion": "gemini-3.8-flash"
    });
    std::fs::write(dir.path().join("body.json"), body.to_string()).unwrap();
    let run = |args: &[&str]| {
        let output = common::isolated(dir.path())
            .env("COLUMNS", "100")
            .args(args)
            .arg("body.json")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        stdout_of(&output)
    };
    let coloured = run(&["--color", "always", "inspect"]);
    // (Arguments show as JSON, so an ESC shows as the text `\u001b`.)
    for forbidden in ["\u{1b}]", "\u{1b}[8m", "\u{9b}", "\u{7}"] {
        assert!(
            !coloured.contains(forbidden),
            "{forbidden:?} in {coloured:?}"
        );
    }
    assert!(coloured.contains("\u{1b}[1mTool call:"), "{coloured:?}");
    let plain = run(&["--color", "never", "inspect"]);
    insta::assert_snapshot!("inspect_tool_parts", plain);
    let value: Value = serde_json::from_str(&run(&["--json", "inspect"])).unwrap();
    assert_eq!(value["tool_calls"][0]["tool"], "GOOGLE_SEARCH_WEB");
    assert_eq!(
        value["tool_calls"][0]["data"]["queries"][0],
        "rust\u{1b}]52;c;aGk=\u{7} news"
    );
    assert_eq!(value["tool_responses"][0]["id"], "c1");
}
