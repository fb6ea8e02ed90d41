//! The operator's terminal: which stream carries what, a refused key
//! stopping a swarm at once, the conveniences (-q, completions, man,
//! --version), and the live display as a terminal shows it (a pty read
//! through the vt100 emulator, at 80 and 200 columns).
//!
//! The stream rule: stdout holds the result (exactly the JSON under
//! `--json`); headings, progress, retries, notices and errors go to stderr
//! (a live terminal draws headings and the board on stdout as it goes).

use std::path::Path;
use std::process::{Command, Output};

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
    ServerOptions, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::{expect, json_of, stderr_of, stdout_of};

const MODEL: &str = "gemini-2.5-flash";
const ANSWER: &str = "Ownership moves; borrowing lends.";

fn matcher(task: &str) -> BodyMatcher {
    BodyMatcher::KeyFields(KeyFields {
        last_user_text: Some(task.to_owned()),
        ..KeyFields::default()
    })
}

fn reply(text: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 7, "totalTokenCount": 27},
        "modelVersion": MODEL,
        "responseId": "authored-terminal-test"
    })
}

/// A streamed fork answering `text` (pieces as SSE events).
fn streamed(task: &str, pieces: &[&str]) -> Interaction {
    let last = pieces.len() - 1;
    let events = pieces
        .iter()
        .enumerate()
        .map(|(index, piece)| {
            let mut event = reply(piece);
            if index != last {
                event.as_object_mut().unwrap().remove("usageMetadata");
                event["candidates"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("finishReason");
            }
            SseEvent::new(event)
        })
        .collect();
    Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse")
            .with_body(matcher(task)),
        ResponseSpec::sse(events),
    )
}

/// Gemini's answer to a wrong key (the shape of the recorded
/// `unary-failure-api-key` body; authored here), for a streamed or unary call.
fn wrong_key(task: &str, stream: bool) -> Interaction {
    let body = json!({"error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]
    }});
    let request = if stream {
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse")
    } else {
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent"))
    };
    Interaction::new(
        request.with_body(matcher(task)),
        ResponseSpec::json(body).with_status(400),
    )
}

/// A 503 for a streamed call (retried by the client).
fn unavailable(task: &str) -> Interaction {
    Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse")
            .with_body(matcher(task)),
        ResponseSpec::json(json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}))
            .with_status(503),
    )
}

async fn serve(interactions: Vec<Interaction>) -> FixtureServer {
    let about = "stand-in for Gemini in the terminal tests";
    common::stand_in("terminal", about, interactions, ServerOptions::lenient()).await
}

fn live(folder: &Path, server: &FixtureServer) -> Command {
    let mut command = common::against_as(folder, server, MODEL);
    command
        // A fixed day: no lifecycle warning that depends on when the test runs.
        .env("AGENT_FORK_TODAY", "2026-06-01")
        .arg("--no-tools");
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn tasks(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("Task number {n}.")).collect()
}

/// A wrong key stops the swarm at the first refusal: one request (the
/// fixture server's count), exit 3, one error line in words; on the old
/// code every task was sent and failed in turn, exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_stops_a_swarm_after_the_first_request() {
    for json in [false, true] {
        let server = serve(tasks(5).iter().map(|t| wrong_key(t, false)).collect()).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        if json {
            command.arg("--json");
        }
        command.args(["swarm", "--concurrency", "1"]).args(tasks(5));
        let output = run(command).await;
        expect(&output, 3);
        assert_eq!(server.requests().len(), 1, "requests after a refused key");
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains("error: Gemini refused the API key, so the swarm stopped at the first refusal (4 of 5 tasks not started)"),
            "{stderr}"
        );
        if json {
            let value = json_of(&output);
            assert_eq!(value["tasks"]["failed"], 1, "{value}");
            assert_eq!(value["tasks"]["not_started"], 4, "{value}");
        } else {
            let stdout = stdout_of(&output);
            assert!(
                stdout.contains("Succeeded: 0/5") && stdout.contains("Not started: 4"),
                "{stdout}"
            );
        }
    }
}

/// Piped without --json: stdout holds the result; the heading, the retry
/// line (naming the fork's task and attempt 2/5) and the run's retry count
/// go to stderr.
#[tokio::test(flavor = "multi_thread")]
async fn retries_and_headings_go_to_stderr_and_name_the_task() {
    let task = "Explain ownership.";
    let server = serve(vec![unavailable(task), streamed(task, &[ANSWER])]).await;
    let folder = tempfile::tempdir().unwrap();
    let mut command = live(folder.path(), &server);
    command.args(["fork", task]);
    let output = run(command).await;
    expect(&output, 0);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert!(stdout.contains(ANSWER), "{stdout}");
    for elsewhere in ["retrying", "🔀 Fork", "503"] {
        assert!(
            !stdout.contains(elsewhere),
            "{elsewhere} on stdout:\n{stdout}"
        );
    }
    assert!(stderr.contains("🔀 Fork fork_"), "{stderr}");
    let retry = stderr
        .lines()
        .find(|line| line.contains("retrying in"))
        .unwrap_or_else(|| panic!("no retry line:\n{stderr}"));
    assert!(
        retry.contains("Explain ownership.: retrying in") && retry.contains("(attempt 2/5): 503"),
        "{retry}"
    );
    assert!(
        stderr.contains("\n1 model call was retried in this run\n"),
        "{stderr}"
    );
}

/// The commands that run workflows, each replaying its cassette with the
/// first request answered 503 once: the summary says the run's retries
/// (only the swarm's did before), on stderr; under --json stdout stays the
/// one document.
#[test]
fn every_run_sums_its_retries_in_its_summary() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cases: [(&str, &[&str]); 4] = [
        (
            "fixtures/sessions/orchestrator.json",
            &[
                "plan",
                "--goal",
                "Design a simple user authentication system for a web API",
                "--context",
                "Using Python with FastAPI framework",
                "--max-steps",
                "4",
            ],
        ),
        (
            "fixtures/sessions/research_then_code.json",
            &[
                "research-then-code",
                "--research",
                "What is the recommended way to implement rate limiting in FastAPI applications?",
                "--task",
                "Implement a rate limiting middleware for a FastAPI application, following the approach the research recommends.",
            ],
        ),
        (
            "tests/cassettes/map_reduce.json",
            &[
                "map-reduce",
                "--items",
                "SQL injection",
                "cross-site request forgery",
                "broken object level authorization",
                "--map-template",
                "Explain {item} in a web API in two sentences, then name the one defence that matters most.",
                "--reduce",
                "Combine the explanations into a short security checklist for a FastAPI service, most important first.",
            ],
        ),
        (
            "tests/cassettes/refine.json",
            &[
                "refine",
                "--task",
                "Write a haiku about Rust",
                "--criteria",
                "5-7-5 syllables, mentions the borrow checker",
            ],
        ),
    ];
    let folder = tempfile::tempdir().unwrap();
    for (path, args) in cases {
        let mut cassette = Cassette::load(repo.join(path)).unwrap();
        cassette.interactions[0].fault = Some(cassette::FaultSpec {
            fault: cassette::Fault::Unavailable,
            times: 1,
        });
        let faulty = folder.path().join("faulty.json");
        cassette.save(&faulty).unwrap();
        for json in [false, true] {
            let mut command = common::isolated(folder.path());
            command
                .env("AGENT_FORK_TODAY", "2026-06-01")
                .arg("--replay")
                .arg(&faulty);
            if json {
                command.arg("--json");
            }
            let output = command.args(args).output().unwrap();
            expect(&output, 0);
            let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
            assert!(
                stderr.contains("(attempt 2/5): 503"),
                "{path}: no retry line:\n{stderr}"
            );
            let summary = "1 model call was retried in this run";
            assert!(!stdout.contains(summary), "{path}: {stdout}");
            if json {
                json_of(&output);
            } else {
                assert!(
                    stderr.lines().any(|line| line == summary),
                    "{path}: no summary line:\n{stderr}"
                );
            }
        }
    }
}

/// A fork refused by Gemini: exit 3, stdout without the error, stderr with
/// it in words (no `api error:` kind name); under --json stdout is the JSON
/// document alone.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_fork_tells_its_error_on_stderr_and_json_stays_json() {
    let task = "Explain ownership.";
    for json in [false, true] {
        let server = serve(vec![wrong_key(task, true)]).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        if json {
            command.arg("--json");
        }
        command.args(["fork", task]);
        let output = run(command).await;
        expect(&output, 3);
        let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
        assert!(
            stderr.contains(
                "error: the fork failed: Gemini API error 400 INVALID_ARGUMENT: API key not valid"
            ),
            "{stderr}"
        );
        assert!(stderr.contains("agent-fork resume run_"), "{stderr}");
        assert!(!stdout.contains("API key not valid") || json, "{stdout}");
        assert!(!format!("{stdout}{stderr}").contains("api error:"));
        if json {
            assert_eq!(json_of(&output)["status"], "failed");
        }
    }
}

/// summarize and models call Gemini without a run: a retried call is told
/// on stderr (whose, attempt 2/5) and counted after the result (both were
/// silent before).
#[test]
fn summarize_and_models_tell_their_retries() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let conversation = repo.join("fixtures/conversations/todo_api.json");
    let cases: [(&str, &str, Vec<&str>); 2] = [
        (
            "fixtures/sessions/summarizer.json",
            "summarizer",
            vec![
                "summarize",
                "--input",
                conversation.to_str().unwrap(),
                "--style",
                "detailed",
                "--next-request",
                "Add JWT authentication to the API.",
            ],
        ),
        ("tests/cassettes/models_list.json", "models", vec!["models"]),
    ];
    let folder = tempfile::tempdir().unwrap();
    for (path, who, args) in cases {
        let mut cassette = Cassette::load(repo.join(path)).unwrap();
        cassette.interactions[0].fault = Some(cassette::FaultSpec {
            fault: cassette::Fault::Unavailable,
            times: 1,
        });
        let faulty = folder.path().join("faulty.json");
        cassette.save(&faulty).unwrap();
        let output = common::isolated(folder.path())
            .env("AGENT_FORK_TODAY", "2026-06-01")
            .arg("--replay")
            .arg(&faulty)
            .args(&args)
            .output()
            .unwrap();
        expect(&output, 0);
        let stderr = stderr_of(&output);
        let retry = stderr
            .lines()
            .find(|line| line.contains("retrying in"))
            .unwrap_or_else(|| panic!("{path}: no retry line:\n{stderr}"));
        assert!(
            retry.contains(&format!("↻ {who}: retrying in"))
                && retry.contains("(attempt 2/5): 503"),
            "{retry}"
        );
        assert!(
            stderr
                .lines()
                .any(|line| line == "1 model call was retried in this run"),
            "{path}:\n{stderr}"
        );
        assert!(!stdout_of(&output).contains("retr"), "{path}");
    }
}

/// `-q`: stdout holds the answer and nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn quiet_prints_only_the_answer() {
    let task = "Explain ownership.";
    let server = serve(vec![streamed(
        task,
        &["Ownership moves; ", "borrowing lends."],
    )])
    .await;
    let folder = tempfile::tempdir().unwrap();
    let mut command = live(folder.path(), &server);
    command.args(["-q", "fork", task]);
    let output = run(command).await;
    expect(&output, 0);
    assert_eq!(stdout_of(&output), format!("{ANSWER}\n"));
    assert_eq!(stderr_of(&output), "", "nothing but warnings and errors");
}

/// The bundled replay's notice goes to stderr: `examples NAME --json` is
/// one JSON document on stdout; `examples all --json` has no single
/// document and is refused with the error document alone.
#[test]
fn examples_json_is_only_json() {
    let folder = tempfile::tempdir().unwrap();
    let one = common::isolated(folder.path())
        .args(["examples", "basic_fork", "--json"])
        .output()
        .unwrap();
    expect(&one, 0);
    assert!(json_of(&one)["run_id"].is_string());
    assert!(stderr_of(&one).contains("replaying the bundled session"));

    let all = common::isolated(folder.path())
        .args(["examples", "all", "--json"])
        .output()
        .unwrap();
    expect(&all, 2);
    assert_eq!(json_of(&all)["error"]["kind"], "usage");
}

/// A replayed example is a demonstration: its run is not added to the
/// project's runs (the old code listed it in `runs list`).
#[test]
fn an_example_replay_stays_out_of_the_projects_runs() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("agent-fork.toml"), "").unwrap();
    let example = common::isolated(folder.path())
        .args(["examples", "basic_fork", "--json"])
        .output()
        .unwrap();
    expect(&example, 0);
    let runs = common::isolated(folder.path())
        .args(["runs", "list", "--json"])
        .output()
        .unwrap();
    expect(&runs, 0);
    assert_eq!(json_of(&runs)["runs"], json!([]), "{}", stdout_of(&runs));
}

#[test]
fn completions_man_page_and_version() {
    let folder = tempfile::tempdir().unwrap();
    let bin = |args: &[&str]| {
        let output = common::isolated(folder.path()).args(args).output().unwrap();
        expect(&output, 0);
        stdout_of(&output)
    };
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = bin(&["completions", shell]);
        assert!(
            script.contains("agent-fork") && script.contains("swarm"),
            "{shell}"
        );
    }
    let man = bin(&["man"]);
    assert!(man.contains(".TH agent-fork 1") && man.contains("\\-\\-jsonl"));
    let version = bin(&["--version"]);
    assert!(
        version.starts_with("agent-fork ")
            && version.contains("(commit ")
            && version.contains(", built 20"),
        "{version}"
    );
    // A usage error stays one line and keeps clap's tip.
    let typo = common::isolated(folder.path())
        .args(["--jsn", "config"])
        .output()
        .unwrap();
    expect(&typo, 2);
    let stderr = stderr_of(&typo);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("a similar argument exists: '--json'"),
        "{stderr}"
    );
    // --color never reaches help too.
    let help = common::isolated(folder.path())
        .args(["--color", "never", "--help"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!stdout_of(&help).contains('\u{1b}'));
    assert!(stdout_of(&help).contains("Global options:"));
}

/// The stdout of `agent-fork --color never ARGS` in `folder` (100 columns),
/// which must succeed.
fn plain_stdout(folder: &Path, args: &[&str]) -> String {
    let output = common::isolated(folder)
        .env("COLUMNS", "100")
        .args(["--color", "never"])
        .args(args)
        .output()
        .unwrap();
    expect(&output, 0);
    stdout_of(&output)
}

/// A command's help offers only the global flags that act on it:
/// `config --help` has no --replay, --jsonl, -q, -v, --yes or --mcp (it
/// listed every global flag before), `models --help` no agent flags. The
/// hidden flags still parse, and `--help` still means help in every
/// command the table changes (moving a flag in a built clap command broke
/// its lookup: `runs list --help` was read as `--budget-usd`).
#[test]
fn help_offers_only_the_global_flags_a_command_uses() {
    let folder = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| plain_stdout(folder.path(), args);
    let config = help(&["config", "--help"]);
    for absent in [
        "--replay",
        "--record",
        "--jsonl",
        "--quiet",
        "--verbose",
        "--yes",
        "--mcp",
    ] {
        assert!(!config.contains(absent), "{absent} offered:\n{config}");
    }
    for present in [
        "--json",
        "--color",
        "--model",
        "--workspace",
        "--budget-usd",
    ] {
        assert!(config.contains(present), "{present} missing:\n{config}");
    }
    insta::assert_snapshot!("config_help", config);
    let models = help(&["models", "--help"]);
    for absent in ["--workspace", "--model", "--thinking", "--mcp", "--jsonl"] {
        assert!(!models.contains(absent), "{absent} offered:\n{models}");
    }
    insta::assert_snapshot!("models_help", models);
    for command in [
        &["inspect", "--help"][..],
        &["completions", "--help"],
        &["man", "--help"],
        &["runs", "list", "--help"],
        &["runs", "show", "--help"],
        &["mcp", "list", "--help"],
        &["examples", "--help"],
    ] {
        let text = help(command);
        assert!(
            text.starts_with(char::is_alphabetic) && text.contains("Usage: agent-fork"),
            "{command:?}:\n{text}"
        );
    }
    assert!(!help(&["inspect", "--help"]).contains("--workspace"));
    assert!(!help(&["man", "--help"]).contains("--json"));
    assert!(!help(&["examples", "--help"]).contains("--workspace"));
    assert!(help(&["fork", "--help"]).contains("--replay"));
    // Hidden is not refused: a script that passes one keeps working.
    let hidden = common::isolated(folder.path())
        .args(["-q", "config", "--jsonl"])
        .output()
        .unwrap();
    expect(&hidden, 0);
}

/// The shell completions offer exactly what each command's help shows:
/// for every command (found by walking the help's command lists), the bash
/// script's options are the help's flags and its words the help's
/// subcommands. Before, completions offered every global flag everywhere,
/// the ones a command's help hides too (`config --replay`, `completions
/// --jsonl`).
#[test]
fn completions_offer_what_help_shows() {
    let folder = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| plain_stdout(folder.path(), args);
    let script = run(&["completions", "bash"]);
    // (A flag's line starts at column 2 or 6; descriptions are indented more.)
    let flags_of = |help: &str| -> std::collections::BTreeSet<String> {
        help.lines()
            .filter(|line| line.starts_with("  -") || line.starts_with("      --"))
            .flat_map(|line| line.split([' ', ',', '=', '<', '.']))
            .filter(|word| word.starts_with("--") && word.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    let commands_of = |help: &str| -> Vec<String> {
        help.lines()
            .skip_while(|line| *line != "Commands:")
            .skip(1)
            .take_while(|line| !line.is_empty())
            .filter(|line| line.len() > 2 && !line[2..].starts_with(' '))
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    };
    let mut paths: Vec<Vec<String>> = vec![vec![]];
    let mut checked = 0;
    while let Some(path) = paths.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = run(&args);
        // bash names the top's case `agent__fork)`, a subcommand's
        // `agent__subcmd__fork__subcmd__runs__subcmd__list)`.
        let case = if path.is_empty() {
            "agent__fork".to_owned()
        } else {
            std::iter::once("agent-fork")
                .chain(path.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join("-")
                .replace('-', "__subcmd__")
        };
        let opts = script
            .split(&format!("\n        {case})\n"))
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .and_then(|line| line.trim().strip_prefix("opts=\""))
            .and_then(|line| line.strip_suffix('"'))
            .unwrap_or_else(|| panic!("no bash case {case}"));
        let offered: std::collections::BTreeSet<String> = opts
            .split(' ')
            .filter(|word| word.starts_with("--"))
            .map(str::to_owned)
            .collect();
        assert_eq!(offered, flags_of(&help), "{path:?}");
        let commands = commands_of(&help);
        if !commands.is_empty() {
            let words: Vec<&str> = opts.split(' ').filter(|w| !w.starts_with('-')).collect();
            assert_eq!(words, commands, "{path:?}");
        }
        for command in commands.into_iter().filter(|command| command != "help") {
            let mut sub = path.clone();
            sub.push(command);
            paths.push(sub);
        }
        checked += 1;
    }
    assert!(checked > 15, "{checked} commands");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell]);
        assert!(
            script.contains("--budget-usd") || script.contains("budget-usd"),
            "{shell}"
        );
    }
}

/// What a terminal of `columns` x `rows` shows after `command` ran with
/// its stdout on a pty: the screen (cursor moves and erases applied) and
/// the raw bytes.
#[cfg(target_os = "linux")]
fn on_a_terminal(mut command: Command, columns: u16, rows: u16) -> (Output, String, String) {
    use std::process::Stdio;

    let pty = common::pty(columns, rows);
    command
        .env("COLUMNS", columns.to_string())
        .env_remove("LINES")
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    drop(command);
    let reader = common::read_terminal(std::fs::File::from(pty.master));
    let output = child.wait_with_output().unwrap();
    let bytes = reader.join().unwrap();
    let mut parser = vt100::Parser::new(rows, columns, 1_000);
    // The pty turns \n into \r\n on the way out, as a terminal sees it.
    parser.process(&bytes);
    let screen = parser.screen().contents();
    (output, screen, String::from_utf8_lossy(&bytes).into_owned())
}

/// Run-dependent bits (ids, times, the clock) replaced for snapshots.
fn scrub(text: &str) -> String {
    scrub_with(
        text,
        &[(r"\d+(\.\d+)? (ms|s)\b", "T"), (r"\d\d:\d\d\.\d", "CLOCK")],
    )
}

/// Only the run's ids replaced, for a screen drawn on a fixed clock
/// (`AGENT_FORK_FIXED_CLOCK`), whose times are the same in every run.
fn scrub_ids(text: &str) -> String {
    scrub_with(text, &[])
}

fn scrub_with(text: &str, more: &[(&str, &str)]) -> String {
    let ids = [
        (r"fork_\d{6}_\d{3}_[a-z0-9]{4}", "fork_ID"),
        (r"run_\d{8}_\d{6}_[a-z0-9]{4}", "run_ID"),
    ];
    let rules = ids.iter().chain(more);
    let mut text = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    for (pattern, with) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, *with)
            .into_owned();
    }
    text.trim_end().to_owned()
}

/// After the streamed answer is replaced by the result, the fork's header
/// is whole (the old code went up one row too many and erased its bottom
/// border), at 80 and 200 columns.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_fork_leaves_its_header_whole() {
    let task = "Explain ownership.";
    for columns in [80_u16, 200] {
        let server = serve(vec![streamed(
            task,
            &["Ownership moves; ", "borrowing lends."],
        )])
        .await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command.args(["fork", task]);
        let (output, screen, _) =
            tokio::task::spawn_blocking(move || on_a_terminal(command, columns, 40))
                .await
                .unwrap();
        expect(&output, 0);
        let header_bottom = screen
            .lines()
            .position(|line| line.starts_with('╰'))
            .expect("the header's bottom border is on screen");
        assert!(
            screen
                .lines()
                .nth(header_bottom + 1)
                .is_some_and(|line| line.starts_with("Status: success")),
            "{screen}"
        );
        insta::assert_snapshot!(format!("streamed_fork_{columns}"), scrub(&screen));
    }
}

/// An answer taller than the terminal is streamed once and not drawn again
/// in the result (the old code showed it twice, and took the height from
/// LINES, default 40, not the terminal).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_tall_answer_is_shown_once() {
    let task = "List thirty things.";
    let lines: Vec<String> = (1..=30).map(|n| format!("thing number {n}\n")).collect();
    let pieces: Vec<&str> = lines.iter().map(String::as_str).collect();
    let server = serve(vec![streamed(task, &pieces)]).await;
    let folder = tempfile::tempdir().unwrap();
    let mut command = live(folder.path(), &server);
    command.args(["fork", task]);
    let (output, _, bytes) = tokio::task::spawn_blocking(move || on_a_terminal(command, 80, 20))
        .await
        .unwrap();
    expect(&output, 0);
    assert_eq!(bytes.matches("thing number 17").count(), 1, "{bytes}");
    assert!(bytes.contains("Status: success"));
}

/// `-v`: one line per request on stderr; `-vv`: a debug log of each
/// exchange with its headers, the key redacted. stdout is unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn verbose_logs_requests_on_stderr_with_the_key_redacted() {
    let task = "Explain ownership.";
    for flag in ["-v", "-vv"] {
        let server = serve(vec![streamed(task, &[ANSWER])]).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command.args([flag, "fork", task]);
        let output = run(command).await;
        expect(&output, 0);
        let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
        assert!(
            stdout.contains(ANSWER) && !stdout.contains("→ POST"),
            "{stdout}"
        );
        let request = stderr
            .lines()
            .find(|line| line.starts_with("→ POST "))
            .unwrap_or_else(|| panic!("no request line:\n{stderr}"));
        assert!(
            request.contains(":streamGenerateContent?alt=sse 200 ("),
            "{request}"
        );
        assert!(!stderr.contains(common::STAND_IN_KEY), "{stderr}");
        let debug = stderr.contains("DEBUG http: request method=POST");
        assert_eq!(debug, flag == "-vv", "{stderr}");
        if debug {
            assert!(
                stderr.contains("header.x-goog-api-key=\"[REDACTED]\""),
                "{stderr}"
            );
        }
    }
}

/// Environment values are held to their flag's range, and a user config
/// file named on purpose must exist: one line, exit 2.
#[test]
fn environment_values_are_checked_like_flags() {
    let folder = tempfile::tempdir().unwrap();
    let refused = |name: &str, value: &str, says: &str| {
        let output = common::isolated(folder.path())
            .env(name, value)
            .args(["swarm", "a", "b"])
            .output()
            .unwrap();
        expect(&output, 2);
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    };
    refused(
        "AGENT_FORK_CONCURRENCY",
        "0",
        "AGENT_FORK_CONCURRENCY=0 is out of range",
    );
    refused(
        "AGENT_FORK_MAX_TURNS",
        "500",
        "AGENT_FORK_MAX_TURNS=500 is out of range",
    );
    refused(
        "AGENT_FORK_CONFIG",
        "/no/such/config.toml",
        "AGENT_FORK_CONFIG=/no/such/config.toml is not a file",
    );
}

/// `inspect -` reads the body from stdin; a body with only prompt
/// feedback shows the block reason and its message.
#[test]
fn inspect_reads_stdin_and_shows_why_a_prompt_was_blocked() {
    use std::io::Write as _;
    use std::process::Stdio;
    let folder = tempfile::tempdir().unwrap();
    let body = json!({
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "Blocked\u{1b}[8m by policy."},
        "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
        "modelVersion": MODEL
    });
    let mut child = common::isolated(folder.path())
        .env("COLUMNS", "100")
        .args(["--color", "never", "inspect", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    expect(&output, 0);
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("Prompt blocked: PROHIBITED_CONTENT: Blocked\u{fffd} by policy."),
        "{stdout}"
    );
    assert!(
        stdout.contains("🔎 stdin") && !stdout.contains('\u{1b}'),
        "{stdout}"
    );
}

/// `runs list` is a table: a header, one line per run, newest first, cut
/// to `--limit` (the rest counted on stderr).
#[test]
fn runs_list_is_a_table_newest_first_with_a_limit() {
    let folder = tempfile::tempdir().unwrap();
    let refine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cassettes/refine.json");
    for _ in 0..3 {
        let output = common::isolated(folder.path())
            .args(["-q", "--replay", refine.to_str().unwrap(), "refine"])
            .args(["--task", "Write a haiku about Rust"])
            .args(["--criteria", "5-7-5 syllables, mentions the borrow checker"])
            .output()
            .unwrap();
        expect(&output, 0);
    }
    let output = common::isolated(folder.path())
        .env("COLUMNS", "104")
        .args(["runs", "list", "--limit", "2"])
        .output()
        .unwrap();
    expect(&output, 0);
    let stdout = stdout_of(&output);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("RUN ") && lines[0].ends_with("SUMMARY"),
        "{stdout}"
    );
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    // Newest first: the table's order is the runs' creation times' (to the
    // millisecond; ids made in the same second do not sort by time).
    let all = common::isolated(folder.path())
        .args(["runs", "list", "--json"])
        .output()
        .unwrap();
    let all = json_of(&all);
    let listed: Vec<(&str, &str)> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            (
                run["run_id"].as_str().unwrap(),
                run["created"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 3, "{all}");
    assert!(
        listed.windows(2).all(|pair| pair[0].1 >= pair[1].1),
        "newest first: {listed:?}"
    );
    assert_eq!(ids, [listed[0].0, listed[1].0], "{stdout}");
    assert!(
        lines.iter().all(|line| render_width(line) <= 104) && lines[1].ends_with('…'),
        "{stdout}"
    );
    assert!(
        stderr_of(&output).contains("1 older runs not shown"),
        "{}",
        stderr_of(&output)
    );
}

fn render_width(line: &str) -> usize {
    line.chars().count()
}

/// `--jsonl`: every line is JSON with `event`, `ts` and the run's `run_id`,
/// the last one the `result`; nothing else on stdout.
#[tokio::test(flavor = "multi_thread")]
async fn jsonl_lines_name_their_event_time_and_run() {
    let task = "Explain ownership.";
    let server = serve(vec![streamed(
        task,
        &["Ownership moves; ", "borrowing lends."],
    )])
    .await;
    let folder = tempfile::tempdir().unwrap();
    let mut command = live(folder.path(), &server);
    command.args(["--jsonl", "fork", task]);
    let output = run(command).await;
    expect(&output, 0);
    let lines: Vec<Value> = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let run_id = lines.last().unwrap()["run_id"].as_str().unwrap().to_owned();
    assert!(run_id.starts_with("run_"));
    for line in &lines {
        assert!(line["event"].is_string(), "{line}");
        assert!(
            line["ts"].as_str().is_some_and(|ts| ts.ends_with('Z')),
            "{line}"
        );
        assert_eq!(line["run_id"], run_id.as_str(), "{line}");
    }
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events.first(), Some(&"fork_started"));
    assert!(events.contains(&"text_delta") && events.contains(&"fork_finished"));
    assert_eq!(events.last(), Some(&"result"));
}

/// A unary reply for a swarm task, answered after `latency_ms`.
fn slow_unary(task: &str, latency_ms: u64) -> Interaction {
    let mut interaction = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent"))
            .with_body(matcher(task)),
        ResponseSpec::json(reply("Done.")),
    );
    interaction.response.latency_ms = Some(latency_ms);
    interaction
}

/// Presses Ctrl-C for process `pid` (sends it SIGINT).
#[cfg(target_os = "linux")]
fn ctrl_c(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
}

/// Runs `command` with stdout and stderr on one pty (as in a terminal),
/// calling `during` with the bytes so far until it returns true (then it
/// is not called again) and `then` once; returns the exit code, the final
/// screen and the raw bytes.
#[cfg(target_os = "linux")]
fn on_a_live_terminal(
    mut command: Command,
    columns: u16,
    mut until: impl FnMut(&[u8]) -> bool,
    then: impl FnOnce(u32),
) -> (Option<i32>, String, Vec<u8>) {
    let pty = common::pty(columns, 40);
    let stderr = pty.slave.try_clone().unwrap();
    command
        .env("COLUMNS", columns.to_string())
        .stdout(std::process::Stdio::from(pty.slave))
        .stderr(std::process::Stdio::from(stderr));
    let mut child = command.spawn().unwrap();
    drop(command);
    let master = std::fs::File::from(pty.master);
    let (bytes, reader) = common::watch_terminal(&master);
    drop(master);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !until(&bytes.lock().unwrap()) {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "never got there; the terminal showed:\n{}",
                String::from_utf8_lossy(&bytes.lock().unwrap())
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    then(child.id());
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let bytes = bytes.lock().unwrap().clone();
    let mut parser = vt100::Parser::new(40, columns, 1_000);
    parser.process(&bytes);
    (status.code(), parser.screen().contents(), bytes)
}

/// The screen a terminal of `columns` x 40 shows for `bytes`.
fn screen_of(bytes: &[u8], columns: u16) -> String {
    let mut parser = vt100::Parser::new(40, columns, 1_000);
    parser.process(bytes);
    parser.screen().contents()
}

/// Ctrl-C during a swarm on a terminal, at 80 and 200 columns: while the
/// three tasks wait, the board shows them running (snapshot, on a fixed
/// clock); after Ctrl-C the `stopping:` notice stays on screen above the
/// result and no piece of the board is left behind (the old redraw wiped
/// the notice and left the board's first row).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_keeps_the_notice_and_leaves_no_board_behind() {
    for columns in [80_u16, 200] {
        let server = serve(tasks(3).iter().map(|t| slow_unary(t, 20_000)).collect()).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .args(["swarm", "--no-consolidate"])
            .args(tasks(3));
        let (code, running, screen) = tokio::task::spawn_blocking(move || {
            let mut running = String::new();
            let (code, screen, _) = on_a_live_terminal(
                command,
                columns,
                |bytes| {
                    // The whole frame is on screen: its last row is drawn last.
                    let screen = screen_of(bytes, columns);
                    let whole = screen.contains("3 running") && screen.contains("Task number 3.");
                    if whole {
                        running = screen;
                    }
                    whole
                },
                ctrl_c,
            );
            (code, running, screen)
        })
        .await
        .unwrap();
        assert_eq!(code, Some(130), "{screen}");
        assert!(running.contains("00:12.3"), "{running}");
        insta::assert_snapshot!(format!("swarm_running_{columns}"), scrub_ids(&running));
        assert!(
            screen.contains("stopping: no new agents start, running ones are cancelled"),
            "{screen}"
        );
        assert!(
            !screen.contains("agents, 5 at once") && !screen.contains("0 done"),
            "a piece of the board stayed:\n{screen}"
        );
        assert!(screen.contains("Cancelled: 3"), "{screen}");
        insta::assert_snapshot!(format!("swarm_interrupted_{columns}"), scrub_ids(&screen));
    }
}

/// A swarm that finishes on a terminal, at 80 and 200 columns: the board
/// gives way to the result (snapshot, on a fixed clock).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_finished_swarm_replaces_its_board_with_the_result() {
    for columns in [80_u16, 200] {
        let server = serve(tasks(3).iter().map(|t| slow_unary(t, 0)).collect()).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .args(["swarm", "--concurrency", "1", "--no-consolidate"])
            .args(tasks(3));
        let (code, screen, _) = tokio::task::spawn_blocking(move || {
            on_a_live_terminal(command, columns, |_| true, |_| {})
        })
        .await
        .unwrap();
        assert_eq!(code, Some(0), "{screen}");
        assert!(screen.contains("Succeeded: 3/3"), "{screen}");
        assert!(
            !screen.contains("0 done"),
            "a piece of the board stayed:\n{screen}"
        );
        insta::assert_snapshot!(format!("swarm_finished_{columns}"), scrub_ids(&screen));
    }
}

/// Before a fork's first token, the terminal shows a waiting line under
/// the fork's header (snapshot at 80 and 200 columns, on a fixed clock);
/// Ctrl-C while waiting removes it and leaves the header whole.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_fork_shows_a_waiting_line_before_its_first_token() {
    let task = "Explain ownership.";
    for columns in [80_u16, 200] {
        let mut slow = streamed(task, &[ANSWER]);
        if let cassette::ResponseBody::Sse(events) = &mut slow.response.body {
            // Gemini silent for longer than the test takes: Ctrl-C ends it.
            events[0].delay_ms = 60_000;
        }
        let server = serve(vec![slow]).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .args(["fork", task]);
        let (code, waiting, screen) = tokio::task::spawn_blocking(move || {
            let mut waiting = String::new();
            let (code, screen, _) = on_a_live_terminal(
                command,
                columns,
                |bytes| {
                    let screen = screen_of(bytes, columns);
                    let shown = screen.contains("waiting for the answer… 00:00.0");
                    if shown {
                        waiting = screen;
                    }
                    shown
                },
                ctrl_c,
            );
            (code, waiting, screen)
        })
        .await
        .unwrap();
        insta::assert_snapshot!(format!("fork_waiting_{columns}"), scrub_ids(&waiting));
        assert_eq!(code, Some(130), "{screen}");
        assert!(!screen.contains("waiting for the answer"), "{screen}");
        assert!(screen.lines().any(|line| line.starts_with('╰')), "{screen}");
    }
}

/// An interrupted 40-task swarm, five at once: Ctrl-C once the five first
/// requests reached the stand-in (its counter, no clock). The five running
/// are cancelled and the 35 others never started, counted apart against
/// the real total, in the summary and in --json (the issue saw
/// `Completed: 20/25`, `Failed: 5` and `total: 16`).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_swarm_counts_cancelled_and_not_started_apart() {
    for json in [false, true] {
        let server = serve(tasks(40).iter().map(|t| slow_unary(t, 60_000)).collect()).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        if json {
            command.arg("--json");
        }
        command
            .args(["swarm", "--no-consolidate", "--concurrency", "5"])
            .args(tasks(40))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().unwrap();
        common::wait_until(
            || server.requests().len() >= 5,
            || "the requests never came".into(),
        )
        .await;
        let output = common::interrupt(child).await;
        expect(&output, 130);
        assert_eq!(server.requests().len(), 5, "no task started after Ctrl-C");
        if json {
            let value = json_of(&output);
            let counts = &value["tasks"];
            assert_eq!(
                (
                    &counts["total"],
                    &counts["succeeded"],
                    &counts["failed"],
                    &counts["cancelled"],
                    &counts["not_started"]
                ),
                (&json!(40), &json!(0), &json!(0), &json!(5), &json!(35)),
                "{value}"
            );
            assert_eq!(value["status"], "cancelled", "{value}");
        } else {
            let stdout = stdout_of(&output);
            for line in ["Succeeded: 0/40", "Cancelled: 5", "Not started: 35"] {
                assert!(stdout.lines().any(|l| l == line), "{line}:\n{stdout}");
            }
            assert!(!stdout.contains("Failed"), "{stdout}");
        }
    }
}

/// The runs' summaries and their own cassettes (authored), replayed.
fn replay_of(folder: &Path, cassette: &Cassette) -> Command {
    let path = folder.join("changed.json");
    cassette.save(&path).unwrap();
    let mut command = common::isolated(folder);
    command
        .env("AGENT_FORK_TODAY", "2026-06-01")
        .arg("--replay")
        .arg(path);
    command
}

/// refine whose reviewer answers prose instead of the verdict JSON: the
/// attempt is shown failed with the reason (the issue saw a green
/// `✓ attempt 1: not reviewed`, then `failed` with no reason), exit 1 and
/// the hint to resume.
#[test]
fn refine_says_why_a_review_failed() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cassette = Cassette::load(repo.join("tests/cassettes/refine.json")).unwrap();
    cassette.interactions.truncate(2);
    let cassette::ResponseBody::Json(review) = &mut cassette.interactions[1].response.body else {
        panic!("the review is a JSON reply");
    };
    review["candidates"][0]["content"]["parts"][0]["text"] = json!("Looks great to me!");
    let folder = tempfile::tempdir().unwrap();
    let output = replay_of(folder.path(), &cassette)
        .args([
            "refine",
            "--task",
            "Write a haiku about Rust",
            "--criteria",
            "5-7-5 syllables, mentions the borrow checker",
        ])
        .output()
        .unwrap();
    expect(&output, 1);
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("✗ attempt 1: done, but the review failed: the reviewer's verdict is not the expected JSON"),
        "{stdout}"
    );
    assert!(!stdout.contains("not reviewed"), "{stdout}");
    assert!(
        stderr_of(&output).contains("agent-fork resume run_"),
        "{}",
        stderr_of(&output)
    );
}

/// summarize times its call: the stand-in holds the reply 300 ms, and the
/// summary's usage line shows at least that (the issue saw `0 ms`).
#[test]
fn summarize_reports_the_time_its_call_took() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cassette = Cassette::load(repo.join("fixtures/sessions/summarizer.json")).unwrap();
    for interaction in &mut cassette.interactions {
        interaction.response.latency_ms = Some(300);
    }
    let folder = tempfile::tempdir().unwrap();
    let conversation = repo.join("fixtures/conversations/todo_api.json");
    let output = replay_of(folder.path(), &cassette)
        .env("COLUMNS", "200")
        .args(["summarize", "--input"])
        .arg(conversation)
        .args([
            "--style",
            "detailed",
            "--next-request",
            "Add JWT authentication to the API.",
        ])
        .output()
        .unwrap();
    expect(&output, 0);
    let stdout = stdout_of(&output);
    let usage = stdout
        .lines()
        .find(|line| line.starts_with("tokens: "))
        .unwrap_or_else(|| panic!("no usage line:\n{stdout}"));
    let time = regex::Regex::new(r"· (\d+(?:\.\d+)?) (ms|s)$")
        .unwrap()
        .captures(usage)
        .unwrap_or_else(|| panic!("no time: {usage}"));
    let value: f64 = time[1].parse().unwrap();
    let ms = if &time[2] == "s" {
        value * 1_000.0
    } else {
        value
    };
    assert!(ms >= 300.0, "{usage}");
}

/// Gemini's 400 to a unary call for `task` (not retried).
fn bad_request(task: &str) -> Interaction {
    Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent"))
            .with_body(matcher(task)),
        ResponseSpec::json(json!({"error": {"code": 400, "message": "Invalid value at 'contents'.", "status": "INVALID_ARGUMENT"}}))
            .with_status(400),
    )
}

/// A swarm with a failed task ends failed (exit 1) and says how to run
/// again only what failed (the issue saw no hint).
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_swarm_says_how_to_resume() {
    let all = tasks(2);
    let server = serve(vec![slow_unary(&all[0], 0), bad_request(&all[1])]).await;
    let folder = tempfile::tempdir().unwrap();
    let mut command = live(folder.path(), &server);
    command.args(["swarm", "--no-consolidate"]).args(&all);
    let output = run(command).await;
    expect(&output, 1);
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("`agent-fork resume run_") && stderr.contains("runs only what failed"),
        "{stderr}"
    );
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("Succeeded: 1/2") && stdout.contains("Failed: 1"),
        "{stdout}"
    );
}

/// A resumed swarm reports the whole run's tokens: three tasks one at a
/// time, Ctrl-C while the second waits (the first done), then `resume`
/// runs the second and third; the footer and --json count all three
/// tasks' tokens (the issue saw `tokens: 0 … 0 total` after a resume).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_swarm_reports_the_whole_runs_tokens() {
    let all = tasks(3);
    for json in [false, true] {
        let server = serve(vec![
            slow_unary(&all[0], 0),
            slow_unary(&all[1], 60_000),
            slow_unary(&all[1], 0),
            slow_unary(&all[2], 0),
        ])
        .await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .args(["swarm", "--no-consolidate", "--concurrency", "1"])
            .args(&all)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().unwrap();
        common::wait_until(
            || server.requests().len() >= 2,
            || "the requests never came".into(),
        )
        .await;
        let first = common::interrupt(child).await;
        expect(&first, 130);
        let mut resume = live(folder.path(), &server);
        if json {
            resume.arg("--json");
        }
        resume.arg("resume");
        let output = run(resume).await;
        expect(&output, 0);
        assert_eq!(server.requests().len(), 4, "the first task ran once");
        if json {
            let value = json_of(&output);
            assert_eq!(value["usage"]["total"], 81, "{value}");
        } else {
            let stdout = stdout_of(&output);
            assert!(stdout.contains("81 total"), "{stdout}");
        }
    }
}

/// A fork Gemini refuses, on a terminal (stdout and stderr on one pty, 80
/// and 200 columns, a fixed clock): the waiting line is gone, the header
/// whole, and the error is one line in words under the result.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_fork_on_a_terminal() {
    let task = "Explain ownership.";
    for columns in [80_u16, 200] {
        let server = serve(vec![wrong_key(task, true)]).await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .args(["fork", task]);
        let (code, screen, _) = tokio::task::spawn_blocking(move || {
            on_a_live_terminal(command, columns, |_| true, |_| {})
        })
        .await
        .unwrap();
        assert_eq!(code, Some(3), "{screen}");
        assert!(!screen.contains("waiting for the answer"), "{screen}");
        insta::assert_snapshot!(format!("fork_failed_{columns}"), scrub(&screen));
    }
}

/// A unary reply for a plan step whose task starts with `task`.
fn slow_step(task: &str, latency_ms: u64) -> Interaction {
    let mut interaction = slow_unary(task, latency_ms);
    interaction.request.body = Some(BodyMatcher::KeyFields(KeyFields {
        last_user_text_contains: Some(task.to_owned()),
        ..KeyFields::default()
    }));
    interaction
}

/// A plan on a terminal (80 and 200 columns, a fixed clock): the step
/// board counts the plan's steps from the start and shows the second step
/// running while it waits (snapshot); then Ctrl-C: the notice stays, the
/// board goes, the result says what was done.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_on_a_terminal_running_and_interrupted() {
    let plan = json!({"analysis": "Two steps.", "steps": [
        {"step_id": "s1", "name": "First", "agent_type": "creative", "task": "Do the first thing.", "depends_on": []},
        {"step_id": "s2", "name": "Slow", "agent_type": "creative", "task": "Do the slow thing.", "depends_on": ["s1"]}
    ]});
    let planning = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")).with_body(
            BodyMatcher::KeyFields(KeyFields {
                system_contains: Some("You plan work for a team of specialised AI agents".into()),
                ..KeyFields::default()
            }),
        ),
        ResponseSpec::json(reply(&plan.to_string())),
    );
    for columns in [80_u16, 200] {
        let server = serve(vec![
            planning.clone(),
            slow_step("Do the first thing.", 0),
            slow_step("Do the slow thing.", 60_000),
        ])
        .await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .args(["plan", "--goal", "Do two things."]);
        let (code, running, screen, bytes) = tokio::task::spawn_blocking(move || {
            let mut running = String::new();
            let (code, screen, bytes) = on_a_live_terminal(
                command,
                columns,
                |bytes| {
                    let screen = screen_of(bytes, columns);
                    let whole =
                        screen.contains("1 running") && screen.contains("s2 Slow\n  ✓ s1 First");
                    if whole {
                        running = screen;
                    }
                    whole
                },
                ctrl_c,
            );
            (code, running, screen, bytes)
        })
        .await
        .unwrap();
        // The board knows the plan's two steps from the start (it counted
        // the steps it had seen: 0/1, then 1/1 with a step to come).
        let shown = String::from_utf8_lossy(&bytes);
        assert!(
            shown.contains("0/2") && !shown.contains("0/1") && !shown.contains("1/1"),
            "{shown}"
        );
        insta::assert_snapshot!(format!("plan_running_{columns}"), scrub_ids(&running));
        assert_eq!(code, Some(130), "{screen}");
        insta::assert_snapshot!(format!("plan_interrupted_{columns}"), scrub_ids(&screen));
    }
}

/// map-reduce and research-then-code on a terminal: the board counts the
/// forks the run will make from the start (three items and the reduce:
/// 0/4; research and code: 0/2). It counted the forks it had seen, so a
/// phase showed 0/1, 1/1, 3/3 with work still to come.
#[cfg(target_os = "linux")]
#[test]
fn workflow_boards_count_their_forks_from_the_start() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let map_reduce = repo.join("tests/cassettes/map_reduce.json");
    let research = repo.join("fixtures/sessions/research_then_code.json");
    let cases: [(&Path, &[&str], &str, &[&str]); 2] = [
        (
            &map_reduce,
            &[
                "map-reduce",
                "--concurrency",
                "1",
                "--items",
                "SQL injection",
                "cross-site request forgery",
                "broken object level authorization",
                "--map-template",
                "Explain {item} in a web API in two sentences, then name the one defence that matters most.",
                "--reduce",
                "Combine the explanations into a short security checklist for a FastAPI service, most important first.",
            ],
            "0/4",
            &["0/1", "1/1", "0/2", "2/2", "0/3", "3/3"],
        ),
        (
            &research,
            &[
                "research-then-code",
                "--research",
                "What is the recommended way to implement rate limiting in FastAPI applications?",
                "--task",
                "Implement a rate limiting middleware for a FastAPI application, following the approach the research recommends.",
            ],
            "0/2",
            &["0/1", "1/1"],
        ),
    ];
    for (cassette, args, expected, never) in cases {
        let folder = tempfile::tempdir().unwrap();
        let mut command = common::isolated(folder.path());
        command
            .env("AGENT_FORK_TODAY", "2026-06-01")
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .env("NO_COLOR", "1")
            .arg("--replay")
            .arg(cassette)
            .args(args);
        let (code, screen, bytes) = on_a_live_terminal(command, 100, |_| true, |_| {});
        assert_eq!(code, Some(0), "{screen}");
        let shown = String::from_utf8_lossy(&bytes);
        assert!(shown.contains(&format!("{expected}  00:12.3")), "{shown}");
        for count in never {
            assert!(
                !shown.contains(&format!("{count}  00:12.3")),
                "{count}: {shown}"
            );
        }
    }
}

/// A swarm with a failed task on a terminal (80 and 200 columns, a fixed
/// clock): the board gives way to the result, the failed task marked with
/// its reason, then the hint on how to run it again.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_swarm_on_a_terminal() {
    let all = tasks(3);
    for columns in [80_u16, 200] {
        let server = serve(vec![
            slow_unary(&all[0], 0),
            bad_request(&all[1]),
            slow_unary(&all[2], 0),
        ])
        .await;
        let folder = tempfile::tempdir().unwrap();
        let mut command = live(folder.path(), &server);
        command
            .env("AGENT_FORK_FIXED_CLOCK", "12.3")
            .args(["swarm", "--concurrency", "1", "--no-consolidate"])
            .args(&all);
        let (code, screen, _) = tokio::task::spawn_blocking(move || {
            on_a_live_terminal(command, columns, |_| true, |_| {})
        })
        .await
        .unwrap();
        assert_eq!(code, Some(1), "{screen}");
        assert!(
            !screen.contains("0 done"),
            "a piece of the board stayed:\n{screen}"
        );
        insta::assert_snapshot!(format!("swarm_failing_{columns}"), scrub_ids(&screen));
    }
}
