//! The reliability suite's end-to-end part, with the real binary:
//!
//! * bad input from users: each gives one line on stderr and exit code 2,
//!   and nothing already on disk changes;
//! * a plan process killed (SIGKILL) at ten seeded points of its journal:
//!   each `resume` completes the plan and no completed step is asked again;
//! * secrets: a recognisable fake key, used by every kind of command, is in
//!   no file the tool wrote and in none of its output.
//!
//! Gemini is always a loopback fixture server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
    ServerOptions, SseEvent,
};
use serde_json::{Value, json};

mod common;
use common::stderr_of;
use test_support::gemini::Reply;

/// Not shaped like a Google key, so no pattern-based redaction can hide a leak.
const SECRET: &str = "fake-key-LEAKCHECK-7f3a9c1e5b2d";

/// The binary in `folder` with no key, no base URL and no user config.
fn agent_fork(folder: &Path) -> Command {
    let mut command = common::isolated(folder);
    command.env("NO_COLOR", "1");
    command
}

fn reply(text: &str) -> Value {
    Reply::text(text)
        .usage(30, 5, 0)
        .model_version("gemini-3.8-flash")
        .response_id("authored-reliability-reply")
        .json()
}

fn containing(text: &str) -> BodyMatcher {
    BodyMatcher::KeyFields(KeyFields {
        last_user_text_contains: Some(text.to_owned()),
        ..KeyFields::default()
    })
}

fn planning() -> BodyMatcher {
    BodyMatcher::KeyFields(KeyFields {
        system_contains: Some("You plan work for a team of specialised AI agents".to_owned()),
        ..KeyFields::default()
    })
}

fn unary(model: &str, matcher: BodyMatcher, body: Value, latency_ms: u64) -> Interaction {
    let mut interaction = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{model}:generateContent")).with_body(matcher),
        ResponseSpec::json(body),
    )
    .repeatable();
    interaction.response.latency_ms = Some(latency_ms);
    interaction
}

/// Every file under `root` with its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![root.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.insert(path, bytes);
            }
        }
    }
    files
}

// ---------------------------------------------------------------- bad input

/// A folder holding what a user already has: a results file, a plan, a
/// cassette, a tasks file, a conversation. (Its runs live in the per-user
/// data folder, not here.)
fn lived_in_folder() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::write(
        root.join("results.jsonl"),
        "{\"index\":0,\"status\":\"success\"}\n",
    )
    .unwrap();
    std::fs::write(root.join("recorded.json"), "{\"keep\": \"me\"}\n").unwrap();
    std::fs::write(root.join("bad.json"), "{not json").unwrap();
    std::fs::write(root.join("empty-tasks.txt"), "# only a comment\n\n").unwrap();
    std::fs::write(root.join("a-file"), "a regular file\n").unwrap();
    folder
}

/// Runs `args` (with `env`) and checks: exit 2, one line on stderr that
/// contains `says`, and every file that was there is still there, unchanged.
fn refuses(args: &[&str], env: &[(&str, &str)], says: &str) {
    refuses_in(lived_in_folder(), args, env, says);
}

/// [`refuses`] in a prepared folder.
fn refuses_in(folder: tempfile::TempDir, args: &[&str], env: &[(&str, &str)], says: &str) {
    let before = snapshot(folder.path());
    let mut command = agent_fork(folder.path());
    command.args(args);
    for (name, value) in env {
        command.env(
            name,
            value.replace("{dir}", &folder.path().display().to_string()),
        );
    }
    let output = command.output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr:?} lacks {says:?}");
    let after = snapshot(folder.path());
    for (path, bytes) in &before {
        assert_eq!(
            after.get(path),
            Some(bytes),
            "{args:?} changed {}",
            path.display()
        );
    }
}

/// A 100,000-step dependency chain used to overflow the stack (exit 134);
/// now it is refused like any other bad plan file.
#[test]
fn a_100_000_step_plan_chain_is_refused_without_a_crash() {
    let folder = lived_in_folder();
    let steps: Vec<Value> = (0..100_000)
        .map(|i| {
            let depends_on: Vec<String> = if i == 0 {
                Vec::new()
            } else {
                vec![format!("s{}", i - 1)]
            };
            json!({"step_id": format!("s{i}"), "agent_type": "general", "task": format!("step {i}"), "depends_on": depends_on})
        })
        .collect();
    let plan = json!({"analysis": "a long chain", "steps": steps});
    std::fs::write(folder.path().join("chain.json"), plan.to_string()).unwrap();
    refuses_in(
        folder,
        &["plan", "--plan", "chain.json"],
        &[
            ("GEMINI_API_KEY", SECRET),
            ("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9"),
        ],
        "at most 1000",
    );
}

#[test]
fn bad_input_gives_one_line_exit_2_and_damages_nothing() {
    let key = [
        ("GEMINI_API_KEY", SECRET),
        ("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9"),
    ];
    // Missing files.
    refuses(
        &["swarm", "--tasks-file", "missing.txt"],
        &[],
        "missing.txt",
    );
    refuses(&["plan", "--plan", "missing.json"], &[], "missing.json");
    refuses(
        &["summarize", "--input", "missing.json"],
        &key,
        "missing.json",
    );
    refuses(&["inspect", "missing.json"], &[], "missing.json");
    refuses(
        &["--replay", "missing.json", "fork", "x"],
        &[],
        "missing.json",
    );
    // Invalid JSON.
    refuses(&["plan", "--plan", "bad.json"], &[], "bad.json");
    refuses(&["summarize", "--input", "bad.json"], &key, "bad.json");
    refuses(&["--replay", "bad.json", "fork", "x"], &[], "bad.json");
    // An unknown agent type, with files that must not be touched named.
    refuses(
        &["fork", "--type", "wizard", "x"],
        &key,
        "unknown agent type `wizard`",
    );
    refuses(
        &[
            "swarm",
            "--type",
            "wizard",
            "--results-jsonl",
            "results.jsonl",
            "a",
            "b",
        ],
        &key,
        "unknown agent type `wizard`",
    );
    refuses(
        &["--record", "recorded.json", "fork", "--type", "wizard", "x"],
        &key,
        "unknown agent type `wizard`",
    );
    // Empty tasks.
    refuses(&["fork", "   "], &key, "empty");
    refuses(&["swarm", "ok", ""], &key, "empty");
    refuses(
        &["swarm", "--tasks-file", "empty-tasks.txt"],
        &key,
        "no tasks",
    );
    refuses(&["plan", "--goal", " "], &key, "empty");
    // Bad values that reach the settings rather than clap.
    refuses(
        &["config"],
        &[("AGENT_FORK_CONCURRENCY", "many")],
        "AGENT_FORK_CONCURRENCY",
    );
    // An unwritable run folder: a path under a regular file.
    let mut unwritable = key.to_vec();
    unwritable.push(("AGENT_FORK_RUNS_DIR", "{dir}/a-file/runs"));
    refuses(&["fork", "x"], &unwritable, "run folder");
    refuses(&["swarm", "a", "b"], &unwritable, "run folder");
    refuses(&["plan", "--goal", "g"], &unwritable, "run folder");
}

#[test]

fn bad_flag_values_give_one_line_too() {
    refuses(&["swarm", "--concurrency", "0", "a"], &[], "--concurrency");
    refuses(&["fork", "--max-turns", "zero", "x"], &[], "--max-turns");
    refuses(
        &["plan", "--max-steps", "100", "--goal", "g"],
        &[],
        "--max-steps",
    );
    refuses(&["--color", "sometimes", "config"], &[], "--color");
    refuses(&["fork", "--no-such-flag", "x"], &[], "--no-such-flag");
}

#[test]

fn bad_input_leaves_no_unfinished_run_behind() {
    let folder = lived_in_folder();
    let runs = common::runs_dir(folder.path());
    let count = || std::fs::read_dir(&runs).map_or(0, Iterator::count);
    let before = count();
    for args in [
        vec!["fork", "--type", "wizard", "x"],
        vec!["swarm", "--type", "wizard", "a", "b"],
        vec!["--replay", "bad.json", "fork", "x"],
    ] {
        let output = agent_fork(folder.path())
            .env("GEMINI_API_KEY", SECRET)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(count(), before, "{args:?} left a run folder");
    }
}

// ------------------------------------------------------------- kill points

/// splitmix64: a tiny seeded generator for the kill points.
fn splitmix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const STEPS: [(&str, &[&str]); 5] = [
    ("s1", &[]),
    ("s2", &[]),
    ("s3", &["s1"]),
    ("s4", &["s1", "s2"]),
    ("s5", &["s3", "s4"]),
];

/// A stand-in that plans five steps and answers each after `latency_ms`.
async fn plan_server(latency_ms: u64) -> FixtureServer {
    let steps: Vec<Value> = STEPS
        .iter()
        .map(|(id, deps)| {
            json!({"step_id": id, "name": format!("Step {id}"), "agent_type": "creative",
                   "task": format!("Do task {id}."), "depends_on": deps})
        })
        .collect();
    let plan = json!({"analysis": "Five steps.", "steps": steps}).to_string();
    let mut cassette = Cassette::authored("kill-points", "stand-in for the kill-point test");
    cassette.interactions.push(unary(
        "gemini-3.1-pro-preview",
        planning(),
        reply(&plan),
        latency_ms,
    ));
    cassette.interactions.push(unary(
        "gemini-3.8-flash",
        containing("Every step of the plan has finished."),
        reply("All done."),
        latency_ms,
    ));
    for (id, _) in STEPS {
        cassette.interactions.push(unary(
            "gemini-3.8-flash",
            containing(&format!("Do task {id}.")),
            reply(&format!("Result {id}.")),
            latency_ms,
        ));
    }
    FixtureServer::start(vec![cassette], ServerOptions::lenient())
        .await
        .unwrap()
}

fn journal_lines(folder: &Path) -> Vec<Value> {
    let runs = common::runs_dir(folder);
    let Some(run) = std::fs::read_dir(runs)
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(Result::ok)
    else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(run.path().join("journal.jsonl")).unwrap_or_default();
    // Only whole lines: the last one may be mid-write.
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// How many requests asked for each step.
fn asked_per_step(server: &FixtureServer) -> BTreeMap<String, usize> {
    let mut asked = BTreeMap::new();
    for request in server.requests() {
        let text = request.body.unwrap()["contents"][0]["parts"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if text.contains("Every step of the plan has finished.") {
            continue;
        }
        for (id, _) in STEPS {
            if text.contains(&format!("Do task {id}.")) {
                *asked.entry(id.to_owned()).or_default() += 1;
            }
        }
    }
    asked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_killed_at_ten_seeded_points_resumes_without_repeating_completed_steps() {
    // Events of an uninterrupted run: run_started, plan_ready, five
    // step_started and five step_completed, run_finished.
    const EVENTS_BEFORE_THE_END: u64 = 12;
    let mut kill_points = Vec::new();
    for seed in 1..=10u64 {
        let mut state = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let kill_after = 1 + splitmix(&mut state) % EVENTS_BEFORE_THE_END;
        let server = plan_server(100).await;
        let folder = tempfile::tempdir().unwrap();
        let mut child = agent_fork(folder.path())
            .env("GEMINI_API_KEY", SECRET)
            .env("GOOGLE_GEMINI_BASE_URL", server.base_url())
            .args(["plan", "--goal", "Finish five steps.", "--concurrency", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if journal_lines(folder.path()).len() as u64 >= kill_after {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "seed {seed}: the run never got to event {kill_after}"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "seed {seed}: the run ended early"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let journal = journal_lines(folder.path());
        let completed: Vec<String> = journal
            .iter()
            .filter(|line| line["event"]["type"] == "step_completed")
            .map(|line| line["event"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            !journal
                .iter()
                .any(|line| line["event"]["type"] == "run_finished"),
            "seed {seed}: the run finished before the kill"
        );
        kill_points.push((kill_after, journal.len(), completed.len()));

        let resumed = agent_fork(folder.path())
            .env("GEMINI_API_KEY", SECRET)
            .env("GOOGLE_GEMINI_BASE_URL", server.base_url())
            .args(["--json", "resume"])
            .output()
            .unwrap();
        assert_eq!(
            resumed.status.code(),
            Some(0),
            "seed {seed}, killed after {kill_after} events: {}",
            stderr_of(&resumed)
        );
        let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
        assert_eq!(result["status"], "completed", "seed {seed}");
        assert_eq!(result["final_result"], "All done.", "seed {seed}");
        let asked = asked_per_step(&server);
        for id in &completed {
            assert_eq!(
                asked[id], 1,
                "seed {seed}: completed step {id} was asked again"
            );
        }
        for (id, _) in STEPS {
            assert!(
                asked.get(id).copied().unwrap_or(0) >= 1,
                "seed {seed}: {id} never ran"
            );
        }
    }
    // The seeds spread the kills over the run, before and after steps completed.
    assert!(
        kill_points.iter().any(|(_, _, done)| *done == 0),
        "{kill_points:?}"
    );
    assert!(
        kill_points.iter().any(|(_, _, done)| *done >= 3),
        "{kill_points:?}"
    );
}

// ------------------------------------------------------------------ secrets

fn stream_interaction(task: &str, text: &str) -> Interaction {
    let matcher = BodyMatcher::KeyFields(KeyFields {
        last_user_text: Some(task.to_owned()),
        ..KeyFields::default()
    });
    Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
            .with_query("alt", "sse")
            .with_body(matcher),
        ResponseSpec::sse(vec![SseEvent::new(reply(text))]),
    )
    .repeatable()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_in_no_file_the_tool_wrote_and_in_none_of_its_output() {
    let mut cassette = Cassette::authored("secrets", "stand-in for the secrets test");
    cassette.interactions = vec![
        stream_interaction("Say hello.", "Hello."),
        // A server that echoes the key back in an error.
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
                .with_body(containing("Echo my key.")),
            ResponseSpec::json(json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                "message": format!("API key not valid: {SECRET}. Please pass a valid API key.")}}))
            .with_status(400),
        )
        .repeatable(),
        unary("gemini-3.1-pro-preview", planning(), reply(&json!({"analysis": "One step.", "steps": [
            {"step_id": "only", "name": "Only", "agent_type": "creative", "task": "Do task only.", "depends_on": []}
        ]}).to_string()), 0),
        unary("gemini-3.8-flash", BodyMatcher::KeyFields(KeyFields::default()), reply("Done."), 0),
    ];
    let server = FixtureServer::start(vec![cassette], ServerOptions::lenient())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::write(root.join("tasks.txt"), "First task.\nSecond task.\n").unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["fork", "Say hello."],
        vec!["--json", "fork", "Say hello."],
        vec!["--jsonl", "fork", "Say hello."],
        vec!["--record", "recorded.json", "fork", "Say hello."],
        vec!["--json", "--record", "echo.json", "fork", "Echo my key."],
        vec!["fork", "Echo my key."],
        vec![
            "--jsonl",
            "swarm",
            "--type",
            "creative",
            "--tasks-file",
            "tasks.txt",
            "--results-jsonl",
            "results.jsonl",
        ],
        vec!["--json", "swarm", "--type", "creative", "a", "b"],
        vec!["--json", "plan", "--goal", "One step please."],
        vec!["--json", "config"],
        vec!["config"],
        vec!["--json", "runs", "list"],
    ];
    for args in &runs {
        let output = agent_fork(root)
            .env("GEMINI_API_KEY", SECRET)
            .env("GOOGLE_GEMINI_BASE_URL", server.base_url())
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.code().is_some(), "{args:?} crashed");
        for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            assert!(
                !String::from_utf8_lossy(bytes).contains(SECRET),
                "{args:?} printed the key on {stream}"
            );
        }
    }
    // The echoed key was really sent back, so the test can fail.
    assert!(
        server.requests().iter().any(|request| request
            .body
            .as_ref()
            .is_some_and(|body| body.to_string().contains("Echo my key."))),
        "the echoing interaction was never used"
    );
    let mut files = snapshot(root);
    // The runs live in the per-user data folder, not in the workspace.
    files.extend(snapshot(&common::runs_dir(root)));
    assert!(files.keys().any(|path| path.ends_with("recorded.json")));
    assert!(files.keys().any(|path| path.ends_with("results.jsonl")));
    assert!(files.keys().any(|path| path.ends_with("journal.jsonl")));
    for (path, bytes) in files {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "the key is in {}",
            path.display()
        );
    }
}

/// `GOOGLE_GEMINI_BASE_URL=http://user:password@host`: the password is in
/// no error, no `config` output, no recorded cassette, no file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_url_userinfo_is_in_no_file_and_in_none_of_the_output() {
    const PASSWORD: &str = "hunter2-USERINFOCHECK-c4e8";
    let mut cassette = Cassette::authored("userinfo", "stand-in for the userinfo test");
    cassette.interactions = vec![
        stream_interaction("Say hello.", "Hello."),
        // A server that echoes the credentials back in an error.
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
                .with_body(containing("Echo my password.")),
            ResponseSpec::json(json!({"error": {"code": 401, "status": "UNAUTHENTICATED",
                "message": format!("bad credentials agent:{PASSWORD}")}}))
            .with_status(401),
        )
        .repeatable(),
    ];
    let server = FixtureServer::start(vec![cassette], ServerOptions::lenient())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let userinfo = |base: &str| base.replace("http://", &format!("http://agent:{PASSWORD}@"));
    let live = userinfo(&server.base_url());
    // Nothing listens on port 9: the connection error names the base URL.
    let closed = userinfo("http://127.0.0.1:9");
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (&live, vec!["fork", "Say hello."]),
        (
            &live,
            vec!["--record", "recorded.json", "fork", "Say hello."],
        ),
        (&live, vec!["fork", "Echo my password."]),
        (
            &live,
            vec!["--record", "echo.json", "fork", "Echo my password."],
        ),
        (&closed, vec!["fork", "Say hello."]),
        (&live, vec!["config"]),
        (&live, vec!["--json", "config"]),
    ];
    for (base_url, args) in &runs {
        let output = agent_fork(root)
            .env("GEMINI_API_KEY", SECRET)
            .env("GOOGLE_GEMINI_BASE_URL", base_url)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.code().is_some(), "{args:?} crashed");
        for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains(PASSWORD),
                "{args:?} printed the password on {stream}: {text}"
            );
        }
    }
    let files = snapshot(root);
    assert!(files.keys().any(|path| path.ends_with("recorded.json")));
    for (path, bytes) in files {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "the password is in {}",
            path.display()
        );
    }
}

/// A replayed model reads a file holding the user's key, and the next
/// request then matches nothing: neither the request nor the mismatch
/// notice shows the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_tool_result_echoing_the_key_shows_it_nowhere() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::write(
        root.join("settings.txt"),
        format!("GEMINI_API_KEY={SECRET}\n"),
    )
    .unwrap();
    let turn = |turns: usize| {
        RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
            .with_query("alt", "sse")
            .with_body(BodyMatcher::KeyFields(KeyFields {
                turns: Some(turns),
                ..KeyFields::default()
            }))
    };
    let read = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "read_file", "args": {"path": "settings.txt"}}}
        ]}, "finishReason": "STOP", "index": 0}],
        "modelVersion": "gemini-3.8-flash"
    });
    let mut cassette = Cassette::authored("echo", "authored: a model reading the key");
    cassette.interactions = vec![
        Interaction::new(turn(1), ResponseSpec::sse(vec![SseEvent::new(read)])),
        // Expects a different conversation, so the follow-up is a mismatch
        // whose report diffs the whole request body.
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-3.8-flash:streamGenerateContent")
                .with_query("alt", "sse")
                .with_body(BodyMatcher::Exact(json!({"contents": [
                    {"role": "user", "parts": [{"text": "Show me the settings."}]}
                ]}))),
            ResponseSpec::sse(vec![SseEvent::new(reply("x"))]),
        ),
    ];
    cassette.save(root.join("echo.json")).unwrap();
    let output = agent_fork(root)
        .env("GEMINI_API_KEY", SECRET)
        .args(["--replay", "echo.json", "fork", "Show me the settings."])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(stderr.contains("did not match"), "{stderr}");
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(SECRET), "the key is on {stream}: {text}");
    }
    for (path, bytes) in snapshot(root) {
        if path.ends_with("settings.txt") {
            continue;
        }
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "the key is in {}",
            path.display()
        );
    }
}
