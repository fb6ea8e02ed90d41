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
