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
    cassette_calling(
        folder,
        json!({"name": "bash", "args": {"command": COMMAND}}),
    )
}

/// A cassette whose model makes `call`, then finishes.
fn cassette_calling(folder: &Path, call: Value) -> PathBuf {
    let mut cassette = Cassette::authored(
        "approval",
        "authored in code by the CLI approval tests: a model that asks for one tool call",
    );
    cassette.interactions = vec![
        turn(1, json!([{ "functionCall": call }])),
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

/// A call the policy simply allows (a read) is journalled too, compactly
/// (tool, policy entry, digest; no arguments), and listed by `runs show`,
/// text and --json. Before, only asked and denied calls were.
#[test]
fn a_call_the_policy_allows_is_journalled_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "secret-notes-body").unwrap();
    let cassette = cassette_calling(
        dir.path(),
        json!({"name": "read_file", "args": {"path": "notes.txt"}}),
    );
    let output = common::isolated(dir.path())
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args([
            "--color",
            "never",
            "fork",
            "--model",
            MODEL,
            "Read the notes.",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let journal = common::only_journal(dir.path());
    let line = journal
        .lines()
        .find(|line| line.contains("\"tool_approval\""))
        .unwrap_or_else(|| panic!("no approval journalled: {journal}"));
    assert!(line.contains(r#""rule":"read""#), "{line}");
    assert!(line.contains(r#""by":"rule""#), "{line}");
    assert!(
        !line.contains("notes.txt"),
        "arguments in the journal: {line}"
    );
    let (text, document) = shown(dir.path(), &only_run(dir.path()));
    assert!(text.contains("Approvals (1):"), "{text}");
    assert!(text.contains("read_file  allowed by rule (read)"), "{text}");
    let approval = &document["approvals"][0];
    assert_eq!(approval["tool"], "read_file");
    assert_eq!(approval["approved"], true);
    assert_eq!(approval["by"], "rule");
    assert_eq!(approval["rule"], "read");
}

/// What `runs show RUN` says of `run` in `folder`: the text, and the
/// document of `runs show --json`.
fn shown(folder: &Path, run: &str) -> (String, Value) {
    let show = common::isolated(folder)
        .args(["--color", "never", "runs", "show", run])
        .output()
        .unwrap();
    let json = common::isolated(folder)
        .args(["--json", "runs", "show", run])
        .output()
        .unwrap();
    let document = serde_json::from_slice(&json.stdout).expect("runs show --json");
    (stdout_of(&show), document)
}

/// The denial of a piped run is in its report: `runs show` (text and
/// --json) and the HTML of `runs report`, with fork, agent, who and when.
#[test]
fn the_decision_is_listed_by_runs_show_and_runs_report() {
    let dir = tempfile::tempdir().unwrap();
    let output = fork(dir.path(), &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let run = only_run(dir.path());
    let (text, document) = shown(dir.path(), &run);
    assert!(text.contains("Approvals (1):"), "{text}");
    let line = text
        .lines()
        .find(|line| line.contains("bash  denied by no_terminal"))
        .unwrap_or_else(|| panic!("no approval line: {text}"));
    assert!(
        line.contains("(general)") && line.contains("fork_"),
        "{line}"
    );
    let approval = &document["approvals"][0];
    assert_eq!(approval["tool"], "bash");
    assert_eq!(approval["approved"], false);
    assert_eq!(approval["by"], "no_terminal");
    assert_eq!(approval["agent_type"], "general");
    assert!(approval["fork_id"].as_str().unwrap().starts_with("fork_"));
    assert!(approval["at"].as_str().unwrap().ends_with('Z'));
    let page = dir.path().join("report.html");
    let report = common::isolated(dir.path())
        .args(["runs", "report", &run, "-o"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0), "{}", stderr_of(&report));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<section id=\"approvals\">"),
        "no approvals section"
    );
    assert!(html.contains("<td>bash</td><td>denied</td><td>no one to ask (denied)</td>"));
}

/// The id of the only run made in `folder`.
fn only_run(folder: &Path) -> String {
    let runs: Vec<_> = std::fs::read_dir(common::runs_dir(folder))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
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
    let dir = tempfile::tempdir().unwrap();
    // The line waits in the terminal until the question reads it.
    let (output, shown) = common::answered_on_a_terminal(fork(dir.path(), &[]), answer.as_bytes());
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

// ------------------------------------------------------------ resume

const APPROVED: &str = "touch approved-before.txt";
const DENIED: &str = "touch denied-before.txt";

/// The model asks for `APPROVED`, then (after its result) `DENIED`, then
/// either fails (`fails`: a 400, so the run stops failed after both
/// decisions) or finishes.
fn two_calls(folder: &Path, name: &str, fails: bool) -> PathBuf {
    let last = if fails {
        Interaction::new(
            RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
                .with_query("alt", "sse")
                .with_body(BodyMatcher::KeyFields(KeyFields {
                    turns: Some(5),
                    ..KeyFields::default()
                })),
            ResponseSpec::json(
                json!({"error": {"code": 400, "message": "Authored failure.",
                                                "status": "INVALID_ARGUMENT"}}),
            )
            .with_status(400),
        )
    } else {
        turn(5, json!([{"text": "finished"}]))
    };
    common::save_cassette(
        folder.join(name),
        "approval-resume",
        "authored in code by the CLI approval tests: two shell calls, then a failure or an answer",
        vec![
            turn(
                1,
                json!([{"functionCall": {"name": "bash", "args": {"command": APPROVED}}}]),
            ),
            turn(
                3,
                json!([{"functionCall": {"name": "bash", "args": {"command": DENIED}}}]),
            ),
            last,
        ],
    )
}

/// A run whose operator, on a terminal, approved `APPROVED` and refused
/// `DENIED`, and which then failed; its id. `approved-before.txt` is
/// removed again, so a resume that runs the call makes it anew.
#[cfg(target_os = "linux")]
fn a_failed_run_with_one_approval_and_one_denial(folder: &Path) -> String {
    let cassette = two_calls(folder, "first.json", true);
    let mut command = common::isolated(folder);
    command
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args(["--allow-shell", "--color", "never"])
        .args(["fork", "--model", MODEL, "Make the files."]);
    // Two lines wait in the terminal; each question reads one.
    let (output, shown) = common::answered_on_a_terminal(command, b"y\nn\n");
    assert_ne!(
        output.status.code(),
        Some(0),
        "the run was to fail: {shown}"
    );
    assert_eq!(shown.matches("[y]es / [n]o").count(), 2, "{shown}");
    assert!(folder.join("approved-before.txt").exists(), "{shown}");
    assert!(!folder.join("denied-before.txt").exists(), "{shown}");
    let journal = common::only_journal(folder);
    assert_eq!(journal.matches("\"tool_approval\"").count(), 2, "{journal}");
    std::fs::remove_file(folder.join("approved-before.txt")).unwrap();
    only_run(folder)
}

/// `agent-fork [extra] resume RUN` piped (no terminal), the model now
/// finishing after the same two calls.
#[cfg(target_os = "linux")]
fn resume(folder: &Path, run: &str, extra: &[&str]) -> std::process::Output {
    let cassette = two_calls(folder, "second.json", false);
    common::isolated(folder)
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args(["--allow-shell", "--color", "never"])
        .args(extra)
        .args(["resume", "--model", MODEL, run])
        .output()
        .unwrap()
}

/// Without a terminal and without --yes, only the journalled approval
/// can let the call run: `ask` would deny it (no_terminal).
#[cfg(target_os = "linux")]
#[test]
fn a_resume_runs_the_call_approved_before_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    let run = a_failed_run_with_one_approval_and_one_denial(dir.path());
    let output = resume(dir.path(), &run, &[]);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("finished"), "{stdout}");
    assert!(
        dir.path().join("approved-before.txt").exists(),
        "the approved call did not run on resume: {stderr}"
    );
    assert!(!dir.path().join("denied-before.txt").exists(), "{stderr}");
    assert!(!stderr.contains("[y]es / [n]o"), "asked again: {stderr}");
    assert!(!stderr.contains("no terminal"), "{stderr}");
    assert!(
        stderr.contains("was not run: it was denied earlier in this run"),
        "{stderr}"
    );
    // No new decisions: the journal's two were used.
    let journal = common::only_journal(dir.path());
    assert_eq!(journal.matches("\"tool_approval\"").count(), 2, "{journal}");
}

/// With --yes, every new `ask` would be approved: only the journalled
/// denial keeps the refused call from running.
#[cfg(target_os = "linux")]
#[test]
fn a_resume_with_yes_keeps_the_call_denied_before_denied() {
    let dir = tempfile::tempdir().unwrap();
    let run = a_failed_run_with_one_approval_and_one_denial(dir.path());
    let output = resume(dir.path(), &run, &["--yes"]);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(dir.path().join("approved-before.txt").exists(), "{stderr}");
    assert!(
        !dir.path().join("denied-before.txt").exists(),
        "a call denied before ran on resume"
    );
    assert!(stderr.contains("denied earlier in this run"), "{stderr}");
}

#[test]
fn a_question_timeout_of_zero_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent-fork.toml"),
        "[approval]\nquestion_timeout_secs = 0\n",
    )
    .unwrap();
    let output = fork(dir.path(), &[]).output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("question_timeout_secs = 0 (from agent-fork.toml)"),
        "{stderr}"
    );
    assert!(!ran(dir.path()));
}

// ------------------------------------------------------------ swarm

/// A swarm of two forks on a terminal, both asking for a shell call at
/// once: two questions, one after the other, each naming its own fork
/// (the forks of the swarm's results), and both calls run on `y`.
#[cfg(target_os = "linux")]
#[test]
fn a_swarms_forks_ask_on_the_one_terminal_each_question_naming_its_fork() {
    let dir = tempfile::tempdir().unwrap();
    let fork_turn = |task: &str, command: &str| {
        Interaction::new(
            RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")).with_body(
                BodyMatcher::KeyFields(KeyFields {
                    last_user_text: Some(task.to_owned()),
                    ..KeyFields::default()
                }),
            ),
            ResponseSpec::json(reply(
                json!([{"functionCall": {"name": "bash", "args": {"command": command}}}]),
            )),
        )
    };
    let done = || {
        Interaction::new(
            RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")).with_body(
                BodyMatcher::KeyFields(KeyFields {
                    turns: Some(3),
                    ..KeyFields::default()
                }),
            ),
            ResponseSpec::json(reply(json!([{"text": "finished"}]))),
        )
    };
    let cassette = common::save_cassette(
        dir.path().join("swarm.json"),
        "approval-swarm",
        "authored in code by the CLI approval tests: two forks that each ask for bash",
        vec![
            fork_turn("First task.", "touch first.txt"),
            fork_turn("Second task.", "touch second.txt"),
            done(),
            done(),
        ],
    );
    let mut command = common::isolated(dir.path());
    command
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args(["--allow-shell", "--color", "never", "--json"])
        .args([
            "--model",
            MODEL,
            "swarm",
            "--no-consolidate",
            "--concurrency",
            "2",
        ])
        .args(["First task.", "Second task."]);
    let (output, shown) = common::answered_on_a_terminal(command, b"y\ny\n");
    assert_eq!(output.status.code(), Some(0), "{shown}");
    let document: Value = serde_json::from_slice(&output.stdout).expect("the swarm's document");
    let forks: Vec<&str> = document["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["fork_id"].as_str().expect("a fork id"))
        .collect();
    assert_eq!(forks.len(), 2, "{document}");
    // Two questions, in turn: each names one of the forks, not the same one.
    let questions: Vec<&str> = shown
        .split("Approve shell tool call by fork ")
        .skip(1)
        .collect();
    assert_eq!(questions.len(), 2, "{shown}");
    let asked: Vec<&str> = questions
        .iter()
        .map(|question| question.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_ne!(asked[0], asked[1], "{shown}");
    for fork in &asked {
        assert!(
            forks.contains(fork),
            "{fork} is not a fork of the swarm: {shown}"
        );
    }
    // Each question is whole before the next begins: its own command and
    // the choices, and no other question inside it.
    for question in &questions {
        let own = question.split("[y]es / [n]o").next().unwrap();
        assert_eq!(
            usize::from(own.contains("first.txt")) + usize::from(own.contains("second.txt")),
            1,
            "{shown}"
        );
    }
    assert!(dir.path().join("first.txt").exists(), "{shown}");
    assert!(dir.path().join("second.txt").exists(), "{shown}");
}

/// What a terminal (one pty for stdin, stdout and stderr) shows while an
/// approval question of `args` (replaying `interactions`) has waited ten
/// ticks of the live display, and after it was answered `y`.
#[cfg(target_os = "linux")]
fn question_on_a_live_display(
    interactions: Vec<Interaction>,
    args: &[&str],
) -> (tempfile::TempDir, String, String) {
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let cassette = common::save_cassette(
        dir.path().join("live.json"),
        "approval-live",
        "authored in code by the CLI approval tests: a fork that asks for bash",
        interactions,
    );
    let (columns, rows) = (100, 40);
    let size = nix::pty::Winsize {
        ws_row: rows,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut command = common::isolated(dir.path());
    command
        .env("COLUMNS", columns.to_string())
        .env_remove("LINES")
        .arg("--replay")
        .arg(cassette)
        .args(["--allow-shell", "--color", "never", "--model", MODEL])
        .args(args)
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = command.spawn().unwrap();
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    let (shown, reader) = common::watch_terminal(&master);
    let screen = |bytes: &[u8]| {
        let mut parser = vt100::Parser::new(rows, columns, 0);
        parser.process(bytes);
        parser.screen().contents()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&shown.lock().unwrap()).contains("[y]es / [n]o") {
        assert!(Instant::now() < deadline, "no question came");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Ten ticks of the live display's clock while the question waits.
    std::thread::sleep(Duration::from_secs(1));
    let during = screen(&shown.lock().unwrap());
    master.write_all(b"y\n").unwrap();
    let status = child.wait().unwrap();
    drop(master);
    drop(reader);
    let after = screen(&shown.lock().unwrap());
    assert!(status.success(), "{after}");
    assert!(
        during.contains("tool: bash"),
        "the question left the screen:\n{during}"
    );
    assert!(during.contains(COMMAND), "{during}");
    assert!(
        during.contains("[y]es / [n]o / [a]lways for bash"),
        "the question left the screen:\n{during}"
    );
    (dir, during, after)
}

/// A swarm's board would keep ticking: it is taken off while the question
/// waits. (Before, its next redraw wrote over the question: the prompt
/// line was gone.)
#[cfg(target_os = "linux")]
#[test]
fn a_question_stays_on_screen_while_the_live_board_ticks() {
    let unary = |turns: usize, parts: Value| {
        Interaction::new(
            RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")).with_body(
                BodyMatcher::KeyFields(KeyFields {
                    turns: Some(turns),
                    ..KeyFields::default()
                }),
            ),
            ResponseSpec::json(reply(parts)),
        )
    };
    let interactions = vec![
        unary(
            1,
            json!([{"functionCall": {"name": "bash", "args": {"command": COMMAND}}}]),
        ),
        unary(3, json!([{"text": "finished"}])),
    ];
    let args = ["swarm", "--no-consolidate", "Make the file."];
    let (dir, during, _) = question_on_a_live_display(interactions, &args);
    assert!(
        !during.contains("1 running"),
        "the board was drawn:\n{during}"
    );
    assert!(ran(dir.path()));
}

/// A single fork's waiting line would tick on the prompt's row: it is
/// taken off while the question waits.
#[cfg(target_os = "linux")]
#[test]
fn a_question_stays_on_screen_while_a_single_fork_waits() {
    let interactions = vec![
        turn(
            1,
            json!([{"functionCall": {"name": "bash", "args": {"command": COMMAND}}}]),
        ),
        turn(3, json!([{"text": "finished"}])),
    ];
    let (dir, during, _) = question_on_a_live_display(interactions, &["fork", "Make the file."]);
    assert!(!during.contains("waiting for the answer"), "{during}");
    assert!(ran(dir.path()));
}

/// A question left unanswered is denied after `question_timeout_secs`, and
/// the line typed for the next question answers that one (before, the
/// timed-out question's reader stayed and took it).
#[cfg(target_os = "linux")]
#[test]
fn a_timed_out_question_denies_and_the_next_question_gets_the_next_answer() {
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent-fork.toml"),
        "[approval]\nquestion_timeout_secs = 1\n",
    )
    .unwrap();
    let cassette = two_calls(dir.path(), "timeout.json", false);
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut command = common::isolated(dir.path());
    command
        .env("COLUMNS", "100")
        .arg("--replay")
        .arg(cassette)
        .args(["--allow-shell", "--color", "never"])
        .args(["fork", "--model", MODEL, "Make the files."])
        .stdin(slave.try_clone().unwrap())
        .stderr(slave)
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    let (shown, reader) = common::watch_terminal(&master);
    // The first question is left to time out; the second is answered.
    let deadline = Instant::now() + Duration::from_secs(60);
    while String::from_utf8_lossy(&shown.lock().unwrap())
        .matches("[y]es / [n]o")
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no second question came");
        std::thread::sleep(Duration::from_millis(20));
    }
    master.write_all(b"y\n").unwrap();
    // Before, the timed-out question's reader (a blocking task) also kept
    // the process from ever ending: it is bounded here.
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!(
                "the run did not end: {}",
                String::from_utf8_lossy(&shown.lock().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    drop(master);
    drop(reader);
    let shown = String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("the question was not answered in time"),
        "{shown}"
    );
    assert!(!dir.path().join("approved-before.txt").exists(), "{shown}");
    assert!(
        dir.path().join("denied-before.txt").exists(),
        "the second question did not get its answer: {shown}"
    );
    let journal = common::only_journal(dir.path());
    assert!(journal.contains("\"timeout\""), "{journal}");
}
