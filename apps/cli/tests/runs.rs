//! Durable runs from the outside, with the real binary: `runs list` and
//! `runs show` (human and `--json`) describe a run replayed from an authored
//! cassette; `resume` refuses a run that already completed with one clear
//! line; and a fork interrupted with SIGINT while its request is in flight
//! exits 130, says how to resume, and `resume` then completes it.
//!
//! Gemini is always a loopback fixture server; no test reaches a public host.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;
use common::{json_of, plain as agent_fork, run, stderr_of, stdout_of};

const REFINE_TASK: &str = "Write a haiku about Rust";
const REFINE_CRITERIA: &str = "5-7-5 syllables, mentions the borrow checker";
const HAIKU: &str = "The borrow checker\nguards each reference I lend:\nno data races.";

fn cassette(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/cassettes")
        .join(name)
}

/// Replays the refine cassette strictly and returns the run's id.
fn replayed_refine(folder: &Path) -> String {
    replayed_refine_document(folder)["run_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Replays the refine cassette strictly and returns its `--json` document.
fn replayed_refine_document(folder: &Path) -> Value {
    let refine = cassette("refine.json");
    let output = run(
        folder,
        &[
            "--replay",
            refine.to_str().unwrap(),
            "--json",
            "refine",
            "--task",
            REFINE_TASK,
            "--criteria",
            REFINE_CRITERIA,
        ],
        0,
    );
    let result = json_of(&output);
    assert_eq!(result["status"], "completed");
    assert_eq!(result["result"], HAIKU);
    result
}

fn journal(folder: &Path, id: &str) -> String {
    std::fs::read_to_string(common::run_folder(folder, id).join("journal.jsonl")).unwrap()
}

#[test]
fn runs_list_and_show_describe_a_replayed_run() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();

    // Before any run: an empty list, said plainly.
    let empty = run(dir, &["runs", "list"], 0);
    assert!(
        stdout_of(&empty).starts_with("No runs in "),
        "{}",
        stdout_of(&empty)
    );
    let empty = json_of(&run(dir, &["--json", "runs", "list"], 0));
    assert_eq!(empty["runs"], Value::Array(Vec::new()));

    let document = replayed_refine_document(dir);
    let id = document["run_id"].as_str().unwrap().to_owned();

    // runs list: a header, then one line per run with id, state, kind,
    // when and what was asked.
    let list = stdout_of(&run(dir, &["runs", "list"], 0));
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.starts_with("RUN "), "{list}");
    let line = list.lines().nth(1).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &words[..3],
        [id.as_str(), "completed", "workflow:refine"],
        "{line}"
    );
    // Then when (date and time), the run's cost, and the task, cut to the
    // width when it does not fit.
    assert!(words[5].starts_with('$'), "{line}");
    let summary = words[6..].join(" ");
    assert!(
        REFINE_TASK.starts_with(summary.trim_end_matches('…')),
        "{line}"
    );

    let list = json_of(&run(dir, &["--json", "runs", "list"], 0));
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{list}");
    assert_eq!(runs[0]["run_id"], id.as_str());
    assert_eq!(runs[0]["state"], "completed");
    assert_eq!(runs[0]["kind"], "workflow:refine");
    assert_eq!(runs[0]["summary"], REFINE_TASK);
    assert!(
        runs[0]["created"]
            .as_str()
            .is_some_and(|created| !created.is_empty())
    );
    assert_eq!(
        Path::new(list["runs_dir"].as_str().unwrap()),
        common::runs_dir(dir),
        "{list}"
    );
    assert!(
        common::runs_dir(dir).starts_with(common::home().join(".local/share/agent-fork/projects")),
        "runs live in the per-user data folder, keyed by project"
    );

    // runs show: the run's facts, then its journal one event a line.
    let show = stdout_of(&run(dir, &["runs", "show", &id], 0));
    for expected in [
        format!("Run {id}"),
        "Kind: workflow:refine".to_owned(),
        "State: completed".to_owned(),
        format!("Asked: {REFINE_TASK}"),
        "run_started".to_owned(),
        "item_completed index=0".to_owned(),
        "item_completed index=1".to_owned(),
        "run_finished status=completed".to_owned(),
    ] {
        assert!(show.contains(&expected), "no {expected:?} in:\n{show}");
    }
    assert!(!show.contains("Resume with"), "{show}");

    let show = json_of(&run(dir, &["--json", "runs", "show", &id], 0));
    assert_eq!(show["run_id"], id.as_str());
    assert_eq!(show["kind"], "workflow:refine");
    assert_eq!(show["state"], "completed");
    assert_eq!(show["summary"], REFINE_TASK);
    assert_eq!(show["truncated_tail"], false);
    assert_eq!(show["warnings"], Value::Array(Vec::new()));
    // Started, two attempts, what the session spent, the result saved, finished.
    assert_eq!(show["events"], 6, "{show}");
    // Four calls (two attempts, two reviews), all priced, summed from the journal.
    assert_eq!(show["cost"]["priced_calls"], 4, "{show}");
    assert_eq!(show["cost"]["unpriced_calls"], 0, "{show}");
    assert!(show["cost"]["amount"].as_f64().unwrap() > 0.0, "{show}");
    assert_eq!(show["tokens"], show["result"]["usage"]["total"], "{show}");
    assert!(
        show["dir"].as_str().unwrap().ends_with(&id),
        "{}",
        show["dir"]
    );
    // The saved result is the run's --json output, schema_version and all,
    // in the run folder's result.json too.
    assert_eq!(show["result"], document, "{show}");
    assert_eq!(show["result"]["schema_version"], 1, "{show}");
    let saved = common::run_folder(dir, &id).join("result.json");
    let saved: Value = serde_json::from_slice(&std::fs::read(saved).unwrap()).unwrap();
    assert_eq!(saved, document);
    assert_eq!(show["result"]["run_id"], id.as_str());
    assert_eq!(show["result"]["status"], "completed");
    assert_eq!(show["result"]["result"], HAIKU);
    assert_eq!(
        show["result"]["iterations"][0]["verdict"]["satisfactory"],
        false
    );

    // A run that is not there: one line, exit 2.
    let missing = run(dir, &["runs", "show", "run_20000101_000000_zzzz"], 2);
    assert_eq!(
        stderr_of(&missing).lines().count(),
        1,
        "{}",
        stderr_of(&missing)
    );
    assert!(
        stderr_of(&missing).contains("runs list"),
        "{}",
        stderr_of(&missing)
    );
}

#[test]
fn resuming_a_completed_run_is_refused_with_one_line_and_changes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let map_reduce = cassette("map_reduce.json");
    let output = run(
        dir,
        &[
            "--replay",
            map_reduce.to_str().unwrap(),
            "--json",
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
        0,
    );
    let result = json_of(&output);
    assert_eq!(result["status"], "completed");
    assert_eq!(result["map"].as_array().unwrap().len(), 3);
    let id = result["run_id"].as_str().unwrap().to_owned();
    let before = journal(dir, &id);

    // By id: refused, exit 2, one line naming the run and where to look.
    let refused = run(dir, &["resume", &id], 2);
    let message = stderr_of(&refused);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains(&format!("run {id} already completed"))
            && message.contains(&format!("agent-fork runs show {id}")),
        "{message}"
    );
    assert!(stdout_of(&refused).is_empty(), "{}", stdout_of(&refused));

    // Without an id there is nothing unfinished to pick up.
    let nothing = run(dir, &["resume"], 2);
    let message = stderr_of(&nothing);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("no unfinished run"), "{message}");

    assert_eq!(journal(dir, &id), before, "the journal was touched");
    let list = json_of(&run(dir, &["--json", "runs", "list"], 0));
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
    assert_eq!(list["runs"][0]["state"], "completed");
}

#[cfg(unix)]
mod interrupt {
    use std::process::Stdio;

    use cassette::{
        BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
        ServerOptions, SseEvent,
    };
    use serde_json::json;

    use super::*;

    const TASK: &str = "Name three uses of the borrow checker.";

    fn streamed_reply(latency_ms: u64) -> Interaction {
        let reply = json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Aliasing, lifetimes and data races."}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1204, "candidatesTokenCount": 9, "totalTokenCount": 1431, "thoughtsTokenCount": 218},
            "modelVersion": "gemini-3.8-flash",
            "responseId": "authored-interrupt-test"
        });
        let mut interaction = Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
                .with_query("alt", "sse")
                .with_body(BodyMatcher::KeyFields(KeyFields {
                    last_user_text: Some(TASK.to_owned()),
                    ..KeyFields::default()
                })),
            ResponseSpec::sse(vec![SseEvent::new(reply)]),
        );
        interaction.response.latency_ms = Some(latency_ms);
        interaction
    }

    /// The interrupted run's report in headless Chromium (skipped without
    /// it, failing under CI=true): the run and its fork interrupted, with
    /// its task; an empty console; no request elsewhere.
    fn report_in_a_browser(dir: &Path, id: &str) {
        let path = dir.join("interrupted.html");
        run(
            dir,
            &["runs", "report", id, "-o", path.to_str().unwrap()],
            0,
        );
        let html = std::fs::read_to_string(&path).unwrap();
        let Some(chromium) = test_support::browser::Chromium::require("interrupted report") else {
            #[allow(clippy::print_stderr, reason = "a skipped check says why")]
            {
                eprintln!("interrupted report: browser check skipped, Chromium is not installed");
            }
            return;
        };
        let shot =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser/interrupted_fork.png");
        let loaded = chromium.load_html(&html, 500, &shot);
        assert!(loaded.console.is_empty(), "{:#?}", loaded.console);
        assert!(
            loaded.foreign_requests.is_empty(),
            "{:?}",
            loaded.foreign_requests
        );
        let dom = &loaded.dom;
        assert!(dom.contains("id=\"run-state\">interrupted</span>"), "{dom}");
        assert!(
            dom.contains("id=\"u-0\" data-status=\"interrupted\""),
            "{dom}"
        );
        assert!(dom.contains(&format!("<pre>{TASK}</pre>")), "{dom}");
    }

    fn live(folder: &Path, server: &FixtureServer) -> Command {
        let mut command = common::against(folder, server);
        command.env("COLUMNS", "100");
        command
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_interrupted_fork_exits_130_and_resume_completes_it() {
        let mut stand_in = Cassette::authored(
            "interrupt-and-resume",
            "stand-in for Gemini in the interrupt test",
        );
        // The first request is answered only after ten minutes: it is in
        // flight when the SIGINT comes. The resumed run's request gets the
        // second interaction at once.
        stand_in.interactions = vec![streamed_reply(600_000), streamed_reply(0)];
        let server = FixtureServer::start(vec![stand_in], ServerOptions::default())
            .await
            .unwrap();
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();

        let child = live(dir, &server)
            .args(["fork", TASK])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until(dir, "the fork's request never reached the server", || {
            server.stats().total_requests > 0
        })
        .await;
        let stopped = common::interrupt(child).await;
        let stderr = stderr_of(&stopped);
        assert_eq!(
            stopped.status.code(),
            Some(130),
            "stdout:\n{}\nstderr:\n{stderr}",
            stdout_of(&stopped)
        );
        let hint = stderr
            .lines()
            .find(|line| line.contains("continue with `agent-fork resume run_"))
            .unwrap_or_else(|| panic!("no resume hint in:\n{stderr}"));
        let id = hint
            .split("agent-fork resume ")
            .nth(1)
            .unwrap()
            .trim_end_matches('`')
            .to_owned();
        assert!(
            stdout_of(&stopped).contains("Status: cancelled"),
            "{}",
            stdout_of(&stopped)
        );

        let state = json_of(&run(dir, &["--json", "runs", "show", &id], 0));
        assert_eq!(state["state"], "interrupted", "{state}");
        report_in_a_browser(dir, &id);
        let show = stdout_of(&run(dir, &["runs", "show", &id], 0));
        assert!(
            show.contains(&format!("Resume with: agent-fork resume {id}")),
            "{show}"
        );

        // `resume` without an id picks the interrupted run and completes it.
        let result = resume(dir, &server, &[]);
        assert_eq!(result["run_id"], id.as_str());
        assert_eq!(result["status"], "succeeded");
        assert_eq!(result["result"], "Aliasing, lifetimes and data races.");

        let state = json_of(&run(dir, &["--json", "runs", "show", &id], 0));
        assert_eq!(state["state"], "completed", "{state}");
        assert_eq!(state["result"]["status"], "succeeded");
        let journal = journal(dir, &id);
        assert_eq!(
            journal.matches(r#""type":"run_interrupted""#).count(),
            1,
            "{journal}"
        );
        assert_eq!(
            journal.matches(r#""type":"run_resumed""#).count(),
            1,
            "one resume, one event: {journal}"
        );
        // The task was asked twice: once interrupted, once resumed.
        assert_eq!(server.stats().total_requests, 2);
        server.assert_clean();
    }
    /// A unary reply of `model` to requests matching `fields`.
    fn answer(model: &str, fields: KeyFields, text: &str, latency_ms: u64) -> Interaction {
        let reply = json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1340, "candidatesTokenCount": 12, "totalTokenCount": 1802, "thoughtsTokenCount": 450},
            "modelVersion": model,
            "responseId": "authored-interrupt-test"
        });
        let mut interaction = Interaction::new(
            RequestSpec::post(format!("/v1beta/models/{model}:generateContent"))
                .with_body(BodyMatcher::KeyFields(fields)),
            ResponseSpec::json(reply),
        );
        interaction.response.latency_ms = Some(latency_ms);
        interaction
    }

    /// A reply of the analysis agent (map and reduce).
    fn unary(fields: KeyFields, text: &str, latency_ms: u64) -> Interaction {
        answer("gemini-3.1-pro-preview", fields, text, latency_ms)
    }

    /// A reply of the general agent or the reviewer.
    fn flash(fields: KeyFields, text: &str, latency_ms: u64) -> Interaction {
        answer("gemini-3.8-flash", fields, text, latency_ms)
    }

    fn map_task(item: &str) -> KeyFields {
        KeyFields {
            last_user_text: Some(format!("Review {item} in one line.")),
            ..KeyFields::default()
        }
    }

    /// Polls `ready` until it holds; fails after two minutes with `what` and
    /// the journal so far.
    async fn wait_until(dir: &Path, what: &str, ready: impl FnMut() -> bool) {
        let why = || format!("{what}; the journal so far:\n{}", common::only_journal(dir));
        common::wait_until(ready, why).await;
    }

    /// How many items the run under `dir` has journalled as completed.
    fn completed_items(dir: &Path) -> usize {
        common::only_journal(dir)
            .matches(r#""type":"item_completed""#)
            .count()
    }

    /// `agent-fork FLAGS --json resume` in `dir`, which must succeed; its
    /// JSON. FLAGS are the settings the run was started with (a resume
    /// takes the settings it is given).
    fn resume(dir: &Path, server: &FixtureServer, flags: &[&str]) -> Value {
        let resumed = live(dir, server)
            .args(flags)
            .args(["--json", "resume"])
            .output()
            .unwrap();
        assert_eq!(
            resumed.status.code(),
            Some(0),
            "stdout:\n{}\nstderr:\n{}",
            stdout_of(&resumed),
            stderr_of(&resumed)
        );
        json_of(&resumed)
    }

    /// Requests whose last user text is exactly `text`.
    fn asked(server: &FixtureServer, text: &str) -> usize {
        server
            .requests()
            .iter()
            .filter_map(|request| {
                let contents = request.body.as_ref()?["contents"].as_array()?.clone();
                contents.last()?["parts"][0]["text"]
                    .as_str()
                    .map(str::to_owned)
            })
            .filter(|asked| asked == text)
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_interrupted_map_reduce_resumes_without_mapping_finished_items_again() {
        let mut stand_in = Cassette::authored(
            "interrupt-map-reduce",
            "stand-in for Gemini in the map-reduce interrupt test",
        );
        let reduce = KeyFields {
            last_user_text_contains: Some("Pick the sturdiest crate.".to_owned()),
            ..KeyFields::default()
        };
        stand_in.interactions = vec![
            unary(map_task("serde"), "serde: sturdy.", 0),
            unary(map_task("tokio"), "tokio: sturdy.", 0),
            // In flight when the SIGINT comes; asked again by the resume.
            unary(map_task("rayon"), "too late", 600_000),
            unary(map_task("rayon"), "rayon: sturdy.", 0),
            unary(reduce, "All three are sturdy.", 0),
        ];
        let server = FixtureServer::start(vec![stand_in], ServerOptions::default())
            .await
            .unwrap();
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();
        let child = live(dir, &server)
            .args([
                "map-reduce",
                "--items",
                "serde",
                "tokio",
                "rayon",
                "--map-template",
                "Review {item} in one line.",
                "--reduce",
                "Pick the sturdiest crate.",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the two quick items are journalled and the slow one is asked.
        wait_until(dir, "the run never reached the slow item", || {
            completed_items(dir) == 2 && asked(&server, "Review rayon in one line.") == 1
        })
        .await;
        let stopped = common::interrupt(child).await;
        let stderr = stderr_of(&stopped);
        assert_eq!(stopped.status.code(), Some(130), "{stderr}");
        assert!(
            stderr.contains(
                "interrupted: finished work is saved; continue with `agent-fork resume run_"
            ),
            "{stderr}"
        );

        let result = resume(dir, &server, &[]);
        assert_eq!(result["status"], "completed", "{result}");
        assert_eq!(result["result"], "All three are sturdy.");
        let mapped: Vec<&str> = result["map"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["fork"]["result"].as_str().unwrap())
            .collect();
        assert_eq!(
            mapped,
            ["serde: sturdy.", "tokio: sturdy.", "rayon: sturdy."]
        );

        assert_eq!(
            asked(&server, "Review serde in one line."),
            1,
            "serde mapped once"
        );
        assert_eq!(
            asked(&server, "Review tokio in one line."),
            1,
            "tokio mapped once"
        );
        assert_eq!(
            asked(&server, "Review rayon in one line."),
            2,
            "only the item in flight is asked again"
        );
        server.assert_clean();
    }

    fn containing(text: &str) -> KeyFields {
        KeyFields {
            last_user_text_contains: Some(text.to_owned()),
            ..KeyFields::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_interrupted_refine_resumes_from_its_last_reviewed_attempt() {
        let mut stand_in = Cassette::authored(
            "interrupt-refine",
            "stand-in for Gemini in the refine interrupt test",
        );
        let not_yet = json!({"satisfactory": false, "issues": ["five lines, not three"], "summary": "Too long."}).to_string();
        let good =
            json!({"satisfactory": true, "issues": [], "summary": "Three lines."}).to_string();
        stand_in.interactions = vec![
            flash(
                containing("Write a haiku about Rust."),
                "A poem of five lines.",
                0,
            ),
            flash(containing("A poem of five lines."), &not_yet, 0),
            // In flight when the SIGINT comes; asked again by the resume.
            flash(
                containing("Improve your earlier output"),
                "too late",
                600_000,
            ),
            flash(
                containing("Improve your earlier output"),
                "Three short lines.",
                0,
            ),
            flash(containing("Three short lines."), &good, 0),
        ];
        let server = FixtureServer::start(vec![stand_in], ServerOptions::default())
            .await
            .unwrap();
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();
        let child = live(dir, &server)
            .args([
                "--no-tools",
                "refine",
                "--task",
                "Write a haiku about Rust.",
                "--criteria",
                "Exactly three lines.",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until attempt 1 is journalled with its verdict and attempt 2 is asked.
        let improving = |server: &FixtureServer| {
            server
                .requests()
                .iter()
                .filter(|request| {
                    request.body.as_ref().is_some_and(|body| {
                        body.to_string().contains("Improve your earlier output")
                    })
                })
                .count()
        };
        wait_until(dir, "the run never reached attempt 2", || {
            completed_items(dir) == 1 && improving(&server) == 1
        })
        .await;
        let stopped = common::interrupt(child).await;
        assert_eq!(stopped.status.code(), Some(130), "{}", stderr_of(&stopped));

        let result = resume(dir, &server, &["--no-tools"]);
        assert_eq!(result["status"], "completed", "{result}");
        assert_eq!(result["result"], "Three short lines.");
        let attempts: Vec<&str> = result["iterations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|iteration| iteration["output"]["result"].as_str().unwrap())
            .collect();
        assert_eq!(attempts, ["A poem of five lines.", "Three short lines."]);
        assert_eq!(
            result["iterations"][0]["verdict"]["issues"][0],
            "five lines, not three"
        );
        assert_eq!(
            asked(&server, "Write a haiku about Rust."),
            1,
            "attempt 1 is not paid for again"
        );
        assert_eq!(
            improving(&server),
            2,
            "only the attempt in flight is asked again"
        );
        server.assert_clean();
    }
}

#[test]
fn runs_report_writes_one_self_contained_html_file() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let id = replayed_refine(dir);

    let path = dir.join("report.html");
    let output = run(
        dir,
        &["runs", "report", &id, "-o", path.to_str().unwrap()],
        0,
    );
    assert!(output.stdout.is_empty(), "{}", stdout_of(&output));
    assert!(
        stderr_of(&output).contains("Wrote the report"),
        "{}",
        stderr_of(&output)
    );
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(&format!("<span class=\"run-id\">{id}</span>")));
    assert!(html.contains("data-status=\"completed\""));
    // The concurrency limit the run resolved is recorded and drawn.
    assert!(html.contains("concurrency limit 5"), "{html}");
    // Nothing runs and nothing is fetched.
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));

    // Without -o the page goes to stdout; under --json, -o is required and
    // stdout says where the file went.
    let stdout = stdout_of(&run(dir, &["runs", "report", &id], 0));
    assert_eq!(stdout, html);
    let written = json_of(&run(
        dir,
        &[
            "--json",
            "runs",
            "report",
            &id,
            "-o",
            path.to_str().unwrap(),
        ],
        0,
    ));
    assert_eq!(written["run_id"], id.as_str());
    let refused = run(dir, &["--json", "runs", "report", &id], 2);
    // Under --json stdout carries the error document, never HTML.
    let document = json_of(&refused);
    assert_eq!(document["error"]["kind"], "usage", "{document}");
    assert!(
        stderr_of(&refused).contains("needs -o FILE"),
        "{}",
        stderr_of(&refused)
    );

    // A run that is not there: one line, exit 2.
    let missing = run(dir, &["runs", "report", "run_20000101_000000_0000"], 2);
    assert!(
        stderr_of(&missing).contains("no run run_20000101_000000_0000"),
        "{}",
        stderr_of(&missing)
    );
}

/// `GET path` from `addr` over a fresh connection: the status code and body.
#[cfg(unix)]
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, reply)
}

#[cfg(unix)]
#[test]
fn runs_serve_prints_a_loopback_address_with_a_token_and_stops_on_ctrl_c() {
    use std::io::BufRead as _;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let id = replayed_refine(dir);
    let mut child = agent_fork(dir)
        .args(["runs", "serve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url.trim();
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("not a loopback address: {url}"));
    let (port, query) = rest.split_once("/?token=").unwrap();
    let addr = format!("127.0.0.1:{port}");
    assert_eq!(query.len(), 32, "{url}");

    let (status, page) = http_get(&addr, &format!("/?token={query}"));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&id), "{page}");
    assert!(
        page.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'none'")
    );
    let (status, _) = http_get(&addr, &format!("/runs/{id}?token={query}"));
    assert_eq!(status, 200);
    let (status, _) = http_get(&addr, "/");
    assert_eq!(status, 403, "no token, no page");

    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
