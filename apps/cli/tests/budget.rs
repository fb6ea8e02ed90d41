//! Budgets end to end: a swarm stops at its token budget (exit 1, status
//! `budget_exhausted`, journalled), a resume with a larger total finishes it
//! without sending any completed task again (the stand-in's counters say
//! so), and the run's cost and tokens add up over both sessions. Bad budget
//! settings are refused in one line, exit 2.

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
    ServerOptions,
};
use serde_json::{Value, json};

mod common;
use common::{against, isolated, only_journal, stderr_of};

const TASKS: usize = 10;

/// Every reply uses 200 prompt and 100 output tokens.
fn reply(text: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 200, "candidatesTokenCount": 100, "totalTokenCount": 300},
        "modelVersion": "gemini-3.8-flash",
        "responseId": "authored-budget-test"
    })
}

fn task(index: usize) -> String {
    format!("Write budget line task-{index:02}.")
}

/// One interaction per task, each answerable once: a task sent twice finds
/// no interaction and fails the run.
fn server_cassette() -> Cassette {
    let mut cassette = Cassette::authored("budget", "stand-in for Gemini in the budget test");
    cassette.interactions = (0..TASKS)
        .map(|index| {
            Interaction::new(
                RequestSpec::post("/v1beta/models/gemini-3.8-flash:generateContent").with_body(
                    BodyMatcher::KeyFields(KeyFields {
                        last_user_text_contains: Some(task(index)),
                        ..KeyFields::default()
                    }),
                ),
                ResponseSpec::json(reply(&format!("line {index}"))),
            )
        })
        .collect();
    cassette
}

/// How many requests asked for task `index`.
fn asked(server: &FixtureServer, index: usize) -> usize {
    let wanted = task(index);
    server
        .requests()
        .iter()
        .filter(|request| {
            request
                .body
                .as_ref()
                .is_some_and(|body| body.to_string().contains(&wanted))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_stops_at_its_budget_and_resumes_with_a_larger_one_without_resending_work() {
    let server = FixtureServer::start(vec![server_cassette()], ServerOptions::default())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let tasks: Vec<String> = (0..TASKS).map(task).collect();

    // The first call reserves its input estimate plus 1,024 output tokens;
    // later ones the observed 200 + 100. 2,000 tokens admit a few calls,
    // never all ten.
    let first = against(folder.path(), &server)
        .args([
            "--json",
            "--budget-tokens",
            "2000",
            "swarm",
            "--type",
            "creative",
            "--concurrency",
            "1",
            "--no-consolidate",
        ])
        .args(&tasks)
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1), "{}", stderr_of(&first));
    let stderr = stderr_of(&first);
    assert!(stderr.contains("budget exhausted"), "{stderr}");
    assert!(stderr.contains("agent-fork resume run_"), "{stderr}");
    let sent_first = server.stats().total_requests as usize;
    assert!(
        (1..TASKS).contains(&sent_first),
        "the budget let {sent_first} of {TASKS} tasks run"
    );
    // Never more than the budget: every call that started was admitted
    // with room for its reservation.
    assert!(sent_first * 300 <= 2000, "{sent_first} calls of 300 tokens");
    let journal = only_journal(folder.path());
    assert!(
        journal.contains(r#""type":"run_finished","status":"budget_exhausted""#),
        "{journal}"
    );
    assert!(journal.contains(r#""type":"spent""#), "{journal}");

    let listed = against(folder.path(), &server)
        .args(["runs", "list"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains("budget_exhausted"), "{listing}");

    // Resumed with a larger total, the rest runs and nothing is sent twice.
    let resumed = against(folder.path(), &server)
        .args(["--json", "--budget-tokens", "100000", "resume"])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr_of(&resumed));
    for index in 0..TASKS {
        assert_eq!(asked(&server, index), 1, "task {index} was sent once");
    }
    assert_eq!(server.stats().total_requests as usize, TASKS);
    server.assert_clean();

    // The run's spending is summed over both sessions.
    let run_id = only_journal(folder.path())
        .lines()
        .next()
        .and_then(|line| line.split("\"id\":\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let shown = against(folder.path(), &server)
        .args(["--json", "runs", "show", &run_id])
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["state"], "completed");
    assert_eq!(shown["tokens"], json!(TASKS * 300));
    assert_eq!(shown["cost"]["priced_calls"], json!(TASKS));
    // gemini-3.8-flash: $0.75 in, $3.75 out per 1M tokens.
    let per_call = 200.0 * 0.75e-6 + 100.0 * 3.75e-6;
    let usd = shown["cost"]["amount"].as_f64().unwrap();
    assert!(
        (usd - per_call * TASKS as f64).abs() < 1e-9,
        "{usd} for {TASKS} calls"
    );
}

#[test]
fn bad_budgets_are_refused_in_one_line() {
    let folder = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--budget-usd", "-1"),
        ("--budget-usd", "0"),
        ("--budget-usd", "NaN"),
        ("--budget-usd", "inf"),
        ("--budget-tokens", "0"),
        ("--budget-tokens", "-5"),
    ] {
        let out = isolated(folder.path())
            .args(["config", &format!("{flag}={value}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
    }
    for (setting, value) in [
        ("budget_usd", "-2.5"),
        ("budget_usd", "0"),
        ("budget_usd", "nan"),
        ("budget_tokens", "0"),
    ] {
        std::fs::write(
            folder.path().join("agent-fork.toml"),
            format!("[defaults]\n{setting} = {value}\n"),
        )
        .unwrap();
        let out = isolated(folder.path()).arg("config").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{setting} = {value}");
        let stderr = stderr_of(&out);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(setting), "{stderr}");
    }
    std::fs::remove_file(folder.path().join("agent-fork.toml")).unwrap();
    let out = isolated(folder.path())
        .env("AGENT_FORK_BUDGET_USD", "-3")
        .arg("config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("AGENT_FORK_BUDGET_USD"));
    // A good one is shown with where it came from.
    std::fs::write(
        folder.path().join("agent-fork.toml"),
        "[defaults]\nbudget_usd = 2\nbudget_tokens = 50000\n",
    )
    .unwrap();
    let out = isolated(folder.path()).arg("config").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("budget_usd"), "{shown}");
    assert!(shown.contains("$2"), "{shown}");
    assert!(shown.contains("50000"), "{shown}");
}

/// The quota settings: the cautious start is off by default, a number
/// turns it on and 0 off; `input_tokens_per_minute` is read from the project file and the
/// environment like `requests_per_minute`, and a zero is refused.
#[test]
fn quota_settings_are_read_and_shown() {
    let folder = tempfile::tempdir().unwrap();
    let config = |command: &mut std::process::Command| {
        let out = command.args(["--json", "config"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let shown = config(&mut isolated(folder.path()));
    assert_eq!(
        shown["cautious_start"],
        serde_json::json!({"value": null, "source": "default"})
    );
    // Learned limits are remembered unless turned off (the tests' harness
    // turns it off; a user's default is on).
    let remembered = config(isolated(folder.path()).env_remove("AGENT_FORK_REMEMBER_LIMITS"));
    assert_eq!(
        remembered["remember_limits"],
        serde_json::json!({"value": true, "source": "default"})
    );
    assert!(
        remembered["quota_limits_file"]
            .as_str()
            .unwrap()
            .ends_with("agent-fork/quota-limits.json")
    );
    assert_eq!(
        shown["input_tokens_per_minute"]["value"],
        serde_json::Value::Null
    );
    std::fs::write(
        folder.path().join("agent-fork.toml"),
        "[defaults]\ninput_tokens_per_minute = 250000\ncautious_start = 8\n",
    )
    .unwrap();
    let shown = config(&mut isolated(folder.path()));
    assert_eq!(
        shown["cautious_start"],
        serde_json::json!({"value": 8, "source": "agent-fork.toml"})
    );
    let shown = config(isolated(folder.path()).env("AGENT_FORK_CAUTIOUS_START", "0"));
    assert_eq!(
        shown["input_tokens_per_minute"],
        serde_json::json!({"value": 250000, "source": "agent-fork.toml"})
    );
    assert_eq!(shown["cautious_start"]["value"], serde_json::Value::Null);
    let shown = config(isolated(folder.path()).env("AGENT_FORK_INPUT_TOKENS_PER_MINUTE", "40000"));
    assert_eq!(shown["input_tokens_per_minute"]["value"], 40000);
    let out = isolated(folder.path())
        .env("AGENT_FORK_INPUT_TOKENS_PER_MINUTE", "0")
        .arg("config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("AGENT_FORK_INPUT_TOKENS_PER_MINUTE"));
}

/// A limit a live run learned from a 429 is remembered for the next live
/// run against the same endpoint and key: the file (in the per-user data
/// folder, keyed by a fingerprint, never the key) is written even when the
/// run is interrupted while it waits for the learned minute, and the next
/// run says it starts at that limit. `remember_limits = false` neither reads
/// nor writes it. (Before, every run began unknowing and paid the burst of
/// 429s again.)
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_learned_from_a_429_is_remembered_for_the_next_live_run() {
    use cassette::SseEvent;
    use std::io::BufRead as _;

    const MODEL: &str = "gemini-3.8-flash";
    let stream = || {
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse")
    };
    // Authored, modelled on the paid-tier RPM 429 in ../shared/docs
    // (gemini-facts-2026-11.md §4).
    let quota_429 = json!({"error": {
        "code": 429,
        "message": "You exceeded your current quota. Please retry in 1s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_requests_per_model",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                "quotaDimensions": {"location": "global", "model": MODEL},
                "quotaValue": "150"
            }]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}
        ]
    }});
    let mut stand_in = Cassette::authored("quota-memory", "authored: a 429 that teaches a limit");
    stand_in.interactions = vec![
        Interaction::new(stream(), ResponseSpec::json(quota_429).with_status(429)),
        Interaction::new(
            stream(),
            ResponseSpec::sse(vec![SseEvent::new(reply("done"))]),
        ),
        Interaction::new(
            stream(),
            ResponseSpec::sse(vec![SseEvent::new(reply("done"))]),
        ),
    ];
    let server = FixtureServer::start(vec![stand_in], ServerOptions::default())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = home
        .path()
        .join(".local/share/agent-fork/quota-limits.json");
    let run = |remember: &str| {
        let mut command = against(folder.path(), &server);
        command
            .env("HOME", home.path())
            .env("AGENT_FORK_REMEMBER_LIMITS", remember)
            .args(["fork", "--model", MODEL, "Say done."]);
        command
    };

    // The first run meets the 429, learns 150 a minute, and waits for the
    // minute the server says is spent; it is interrupted there.
    let mut child = run("true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let said = said.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut said = said.lock().unwrap();
                said.push_str(&line);
                said.push('\n');
            }
        })
    };
    // The retry line comes after the limiter has read the 429's limit.
    common::wait_until(
        || said.lock().unwrap().contains("retrying in"),
        || format!("no retry: {}", said.lock().unwrap()),
    )
    .await;
    let status = common::interrupt(child).await.status;
    reader.join().unwrap();
    let stderr = said.lock().unwrap().clone();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_eq!(server.stats().total_requests, 1, "{stderr}");
    let saved = std::fs::read_to_string(&file).expect("the learned limit is remembered");
    let saved: Value = serde_json::from_str(&saved).unwrap();
    let limits = saved["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 1, "{saved}");
    assert_eq!(limits[0]["model"], MODEL);
    assert_eq!(limits[0]["quota"], "requests_per_minute");
    assert_eq!(limits[0]["per_minute"], 150);
    assert_eq!(limits[0]["endpoint"].as_str().unwrap().len(), 16);
    assert!(!saved.to_string().contains(common::STAND_IN_KEY));

    // The next run starts at the remembered limit and says so.
    let out = run("true").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let said = stderr_of(&out);
    assert!(
        said.contains(&format!(
            "quota: starting at limits earlier runs learned from 429s: {MODEL} 150 requests/min"
        )),
        "{said}"
    );

    // Turned off: not read, and the file is left as it was.
    let before = std::fs::read(&file).unwrap();
    let out = run("false").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("quota:"), "{}", stderr_of(&out));
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// A dollar budget cannot be kept for a model the catalog has no price for,
/// so it is refused up front as bad input (exit 2, one line naming the model
/// and the way out), before a run folder is made or a request sent: from a
/// flag, from the project file's `[defaults]`, and for a custom agent
/// type's model. (It used to be refused only at the first call's
/// reservation: exit 1, with a run folder left behind.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dollar_budget_for_a_model_without_a_price_is_refused_before_the_run() {
    let server = FixtureServer::start(vec![], ServerOptions::default())
        .await
        .unwrap();
    let model = "someone-elses-model-1";
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "",
            vec!["--budget-usd", "2", "--model", model, "fork", "Say hi."],
        ),
        (
            "[defaults]\nbudget_usd = 2\n",
            vec![
                "--model", model, "swarm", "--type", "creative", "one", "two",
            ],
        ),
        (
            "[agents.mine]\nmodel = \"someone-elses-model-1\"\n",
            vec!["--budget-usd", "2", "fork", "--type", "mine", "Say hi."],
        ),
    ];
    for (project_file, args) in cases {
        let folder = tempfile::tempdir().unwrap();
        if !project_file.is_empty() {
            std::fs::write(folder.path().join("agent-fork.toml"), project_file).unwrap();
        }
        let out = against(folder.path(), &server)
            .args(&args)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(model), "{stderr}");
        assert!(stderr.contains("no price"), "{stderr}");
        assert!(stderr.contains("--budget-tokens"), "{stderr}");
        assert!(stderr.contains("priced model"), "{stderr}");
        let runs = std::fs::read_dir(common::runs_dir(folder.path()))
            .map(|entries| entries.count())
            .unwrap_or(0);
        assert_eq!(runs, 0, "{args:?} made a run folder");
    }
    assert_eq!(server.stats().total_requests, 0);
}
