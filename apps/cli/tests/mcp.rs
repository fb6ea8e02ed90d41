//! `agent-fork fork --mcp NAME` end to end: a replayed (authored) model
//! calls the tools of MCP servers declared in `agent-fork.toml`.
//!
//! - Streamable HTTP: an authored loopback MCP server runs in this process
//!   (hyper, JSON responses, a bearer token it checks) and counts its
//!   calls. With `--yes` the call reaches it and its result reaches the
//!   model's next request (the cassette matches that function response
//!   exactly); with no terminal and no `--yes` the call is denied and the
//!   server's counter stays at 0.
//! - stdio: the server is mcp-tools' authored test server
//!   (`crates/mcp-tools/tests/bin/mcp_test_server.rs`, included here as a
//!   module), run as this test binary itself with
//!   `AGENT_FORK_TEST_MCP_STDIO` set: cargo only tells a test where its own
//!   package's binaries are, so this is the one path to it that does not
//!   depend on what else was built. Its crash tool gives a clear stderr
//!   line, and a `tool_server_failed` line under `--jsonl`.
//!
//! The harness is this file's `main` (`harness = false`), because the same
//! binary must be able to become the stdio server.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test harness reports on stdout; the stdio server answers there"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cassette::{
    BodyMatcher, FunctionResponseMatch, Interaction, KeyFields, RequestSpec, ResponseSpec, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::{stderr_of, stdout_of};

#[path = "../../../crates/mcp-tools/tests/bin/mcp_test_server.rs"]
mod stdio_server;

#[path = "../../../crates/mcp-tools/tests/support/http_server.rs"]
mod http_server;
use http_server::Counters;

/// Set in the stdio server's environment: this binary then serves MCP.
const SERVE_STDIO: &str = "AGENT_FORK_TEST_MCP_STDIO";
const MODEL: &str = "gemini-2.5-flash";
const TOKEN: &str = "sk-cli-mcp-secret-31";
const SECRET: &str = "sk-cli-stdio-secret-57";

// ---------------------------------------------------------------- servers

/// Starts the streamable-HTTP MCP server on loopback (on a runtime of its
/// own, for the test's life); its URL and counters.
fn http_server() -> (String, Arc<Counters>, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let counters = Arc::new(Counters::default());
    let url = runtime.block_on(http_server::serve(TOKEN, counters.clone()));
    (url, counters, runtime)
}

// ---------------------------------------------------------------- the model

fn reply(parts: Value) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0,
                        "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 4, "totalTokenCount": 16},
        "modelVersion": MODEL,
        "responseId": "authored-mcp-cli-test"
    })
}

/// The model's reply to a request with `turns` contents (and, when given,
/// exactly these function responses in its last content).
fn turn(turns: usize, responses: Option<Vec<(&str, Option<Value>)>>, parts: Value) -> Interaction {
    Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse")
            .with_body(BodyMatcher::KeyFields(KeyFields {
                turns: Some(turns),
                function_responses: responses.map(|responses| {
                    responses
                        .into_iter()
                        .map(|(name, response)| FunctionResponseMatch {
                            name: name.to_owned(),
                            id: None,
                            response,
                        })
                        .collect()
                }),
                ..KeyFields::default()
            })),
        ResponseSpec::sse(vec![SseEvent::new(reply(parts))]),
    )
}

fn call(name: &str, args: Value) -> Value {
    json!([{"functionCall": {"name": name, "args": args}}])
}

fn cassette(folder: &Path, interactions: Vec<Interaction>) -> PathBuf {
    common::save_cassette(
        folder.join("mcp.json"),
        "mcp-cli",
        "authored in code by the CLI's MCP tests: a model that calls MCP tools",
        interactions,
    )
}

/// `agent-fork [extra] --replay CASSETTE fork --mcp NAME` in `folder`.
fn fork(folder: &Path, cassette: &Path, server: &str, extra: &[&str]) -> std::process::Output {
    common::isolated(folder)
        .env("COLUMNS", "100")
        .args(["--color", "never", "--replay"])
        .arg(cassette)
        .args(extra)
        .args(["fork", "--mcp", server, "--model", MODEL, "Use the tool."])
        .output()
        .unwrap()
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The project file of `dir` names the HTTP server at `url` as `remote`,
/// with the secret bearer header.
fn configure_remote(dir: &Path, url: &str) {
    std::fs::write(
        dir.join("agent-fork.toml"),
        format!(
            "[mcp.servers.remote]\nurl = {}\nheaders = {{ Authorization = {} }}\n",
            toml_string(url),
            toml_string(&format!("Bearer {TOKEN}"))
        ),
    )
    .unwrap();
}

// ---------------------------------------------------------------- the tests

fn http_with_yes_the_call_reaches_the_server_and_its_result_the_model() {
    let (url, counters, _runtime) = http_server();
    let dir = tempfile::tempdir().unwrap();
    configure_remote(dir.path(), &url);
    let cassette = cassette(
        dir.path(),
        vec![
            turn(1, None, call("remote__echo", json!({"text": "hi"}))),
            // Matched only when the tool's result came back as it should.
            turn(
                3,
                Some(vec![(
                    "remote__echo",
                    Some(json!({"success": true, "result": "echo: hi"})),
                )]),
                json!([{"text": "finished"}]),
            ),
        ],
    );
    let output = fork(dir.path(), &cassette, "remote", &["--yes"]);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("finished"), "{stdout}");
    assert_eq!(counters.calls.load(Ordering::SeqCst), 1);
    assert_eq!(counters.refused.load(Ordering::SeqCst), 0);
    let journal = common::only_journal(dir.path());
    for text in [&stdout, &stderr, &journal] {
        assert!(!text.contains(TOKEN), "the header's secret showed: {text}");
    }
}

fn http_without_a_terminal_the_call_is_denied_and_never_reaches_the_server() {
    let (url, counters, _runtime) = http_server();
    let dir = tempfile::tempdir().unwrap();
    configure_remote(dir.path(), &url);
    let cassette = cassette(
        dir.path(),
        vec![
            turn(1, None, call("remote__echo", json!({"text": "hi"}))),
            turn(
                3,
                Some(vec![("remote__echo", None)]),
                json!([{"text": "finished"}]),
            ),
        ],
    );
    let output = fork(dir.path(), &cassette, "remote", &[]);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        counters.calls.load(Ordering::SeqCst),
        0,
        "a denied call reached the server"
    );
    assert!(stderr.contains("remote__echo was not run"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    let journal = common::only_journal(dir.path());
    assert!(journal.contains("\"no_terminal\""), "{journal}");
}

/// A project whose stdio server `local` is this binary serving MCP; the
/// file its calls are logged to.
fn stdio_project(dir: &Path) -> PathBuf {
    let log = dir.join("calls.log");
    let exe = std::env::current_exe().unwrap();
    std::fs::write(
        dir.join("agent-fork.toml"),
        format!(
            "[mcp.servers.local]\ncommand = {}\nenv = {{ {SERVE_STDIO} = \"1\", MCP_TEST_CALL_LOG = {}, SECRET_TOKEN = {} }}\n",
            toml_string(&exe.to_string_lossy()),
            toml_string(&log.to_string_lossy()),
            toml_string(SECRET),
        ),
    )
    .unwrap();
    log
}

/// The model calls echo, then (after its result) crash, then finishes.
fn echo_then_crash(dir: &Path) -> PathBuf {
    cassette(
        dir,
        vec![
            turn(1, None, call("local__echo", json!({"text": "hi"}))),
            turn(
                3,
                Some(vec![(
                    "local__echo",
                    Some(json!({"success": true, "result": {"echo": "hi"}})),
                )]),
                call("local__crash", json!({})),
            ),
            turn(
                5,
                Some(vec![("local__crash", None)]),
                json!([{"text": "finished"}]),
            ),
        ],
    )
}

fn calls(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn stdio_a_crash_mid_run_is_said_on_stderr_and_the_agent_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = stdio_project(dir.path());
    let cassette = echo_then_crash(dir.path());
    let output = fork(dir.path(), &cassette, "local", &["--yes"]);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("finished"), "{stdout}");
    assert_eq!(calls(&log), ["echo", "crash"]);
    let warning = stderr
        .lines()
        .find(|line| line.contains("warning: MCP server 'local'"))
        .unwrap_or_else(|| panic!("no line about the crash: {stderr}"));
    assert!(
        warning.contains("crashed or disconnected during local__crash"),
        "{warning}"
    );
    assert!(
        warning.contains("the agent was told and goes on"),
        "{warning}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
}

fn stdio_a_crash_under_jsonl_is_a_tool_server_failed_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = stdio_project(dir.path());
    let cassette = echo_then_crash(dir.path());
    let output = fork(dir.path(), &cassette, "local", &["--yes", "--jsonl"]);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(calls(&log), ["echo", "crash"]);
    let failed: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("every line is JSON"))
        .filter(|line| line["event"] == "tool_server_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    assert_eq!(failed[0]["name"], "local__crash");
    assert_eq!(failed[0]["server"], "local");
    assert_eq!(failed[0]["kind"], "disconnected");
    assert!(failed[0]["fork_id"].as_str().is_some());
    assert!(failed[0]["message"].as_str().unwrap().contains("'local'"));
    assert!(!stdout.contains(SECRET), "{stdout}");
    // Under --jsonl the line is the report: stderr does not repeat it.
    assert!(!stderr.contains("warning: MCP server"), "{stderr}");
}

// ---------------------------------------------------------------- harness

/// What of libtest's command line this harness honours: name filters
/// (`--exact`), `--skip NAME` and `--list`; other flags are accepted and
/// ignored, with the value of those that take one.
#[derive(Default)]
struct Arguments {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
}

impl Arguments {
    fn read() -> Self {
        const WITH_VALUE: [&str; 8] = [
            "--test-threads",
            "--skip",
            "--format",
            "--color",
            "--logfile",
            "--report-time",
            "--shuffle-seed",
            "-Z",
        ];
        let mut parsed = Self::default();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => parsed.exact = true,
                "--list" => parsed.list = true,
                "--skip" => parsed.skip.extend(args.next()),
                flag if WITH_VALUE.contains(&flag) => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                _ => parsed.filters.push(arg),
            }
        }
        parsed
    }

    fn runs(&self, name: &str) -> bool {
        let matches = |filter: &String| {
            if self.exact {
                name == filter
            } else {
                name.contains(filter.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skip.iter().any(|skip| name.contains(skip.as_str()))
    }
}

fn main() {
    if std::env::var_os(SERVE_STDIO).is_some() {
        stdio_server::main();
        return;
    }
    let tests: [(&str, fn()); 4] = [
        (
            "http_with_yes_the_call_reaches_the_server_and_its_result_the_model",
            http_with_yes_the_call_reaches_the_server_and_its_result_the_model,
        ),
        (
            "http_without_a_terminal_the_call_is_denied_and_never_reaches_the_server",
            http_without_a_terminal_the_call_is_denied_and_never_reaches_the_server,
        ),
        (
            "stdio_a_crash_mid_run_is_said_on_stderr_and_the_agent_goes_on",
            stdio_a_crash_mid_run_is_said_on_stderr_and_the_agent_goes_on,
        ),
        (
            "stdio_a_crash_under_jsonl_is_a_tool_server_failed_line",
            stdio_a_crash_under_jsonl_is_a_tool_server_failed_line,
        ),
    ];
    let args = Arguments::read();
    if args.list {
        for (name, _) in &tests {
            println!("{name}: test");
        }
        return;
    }
    let chosen: Vec<_> = tests.iter().filter(|(name, _)| args.runs(name)).collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, test) in &chosen {
        let outcome = std::panic::catch_unwind(*test);
        println!(
            "test {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}
