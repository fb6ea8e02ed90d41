//! A real `agent-fork plan` process is killed (SIGKILL) while a slow step
//! runs; `agent-fork resume` then finishes the plan, and the stand-in for
//! Gemini sees no second request for any step that had completed.

use std::process::Stdio;
use std::time::{Duration, Instant};

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
    ServerOptions,
};
use serde_json::{Value, json};

mod common;
use common::{against, only_journal};
use test_support::gemini::Reply;

fn reply(text: &str) -> Value {
    Reply::text(text)
        .usage(50, 5, 0)
        .model_version("gemini-3.8-flash")
        .response_id("authored-resume-test")
        .json()
}

fn call(model: &str, fields: KeyFields, text: &str, latency_ms: u64) -> Interaction {
    let mut interaction = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{model}:generateContent"))
            .with_body(BodyMatcher::KeyFields(fields)),
        ResponseSpec::json(reply(text)),
    );
    interaction.response.latency_ms = Some(latency_ms);
    interaction
}

fn task(text: &str) -> KeyFields {
    KeyFields {
        last_user_text_contains: Some(text.to_owned()),
        ..KeyFields::default()
    }
}

/// Requests whose first user text starts with `prefix`.
fn asked(server: &FixtureServer, prefix: &str) -> usize {
    server
        .requests()
        .iter()
        .filter_map(|request| {
            request.body.as_ref()?["contents"][0]["parts"][0]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .filter(|text| text.starts_with(prefix))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_plan_resumes_without_repeating_finished_steps() {
    let plan = json!({"analysis": "Three steps.", "steps": [
        {"step_id": "s1", "name": "First", "agent_type": "creative", "task": "Do the first thing.", "depends_on": []},
        {"step_id": "s2", "name": "Slow", "agent_type": "creative", "task": "Do the slow thing.", "depends_on": ["s1"]},
        {"step_id": "s3", "name": "Side", "agent_type": "creative", "task": "Do the side thing.", "depends_on": []}
    ]});
    let planning = KeyFields {
        system_contains: Some("You plan work for a team of specialised AI agents".into()),
        ..KeyFields::default()
    };
    let mut cassette =
        Cassette::authored("kill-and-resume", "stand-in for Gemini in the resume test");
    cassette.interactions = vec![
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-3.1-pro-preview:generateContent")
                .with_body(BodyMatcher::KeyFields(planning)),
            ResponseSpec::json(reply(&plan.to_string())),
        ),
        call(
            "gemini-3.8-flash",
            task("Do the first thing."),
            "First done.",
            0,
        ),
        call(
            "gemini-3.8-flash",
            task("Do the side thing."),
            "Side done.",
            0,
        ),
        // The first attempt at the slow step never answers in time: the process is killed.
        call(
            "gemini-3.8-flash",
            task("Do the slow thing."),
            "Too late.",
            600_000,
        ),
        call(
            "gemini-3.8-flash",
            task("Do the slow thing."),
            "Slow done.",
            0,
        ),
        call(
            "gemini-3.8-flash",
            task("Every step of the plan has finished."),
            "All done.",
            0,
        ),
    ];
    let server = FixtureServer::start(vec![cassette], ServerOptions::default())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();

    let mut child = against(folder.path(), &server)
        .args(["plan", "--goal", "Finish three things."])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let journal = only_journal(folder.path());
        let ready = journal.contains(r#""type":"step_completed","id":"s1""#)
            && journal.contains(r#""type":"step_completed","id":"s3""#)
            && journal.contains(r#""type":"step_started","id":"s2""#);
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached the slow step:\n{journal}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!only_journal(folder.path()).contains("run_finished"));

    let resumed = against(folder.path(), &server)
        .args(["--json", "resume"])
        .output()
        .unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(result["status"], "completed");
    assert_eq!(result["final_result"], "All done.");

    assert_eq!(
        asked(&server, "Goal: Finish three things."),
        1,
        "planning is not repeated"
    );
    assert_eq!(asked(&server, "Do the first thing."), 1, "s1 ran once");
    assert_eq!(asked(&server, "Do the side thing."), 1, "s3 ran once");
    assert_eq!(
        asked(&server, "Do the slow thing."),
        2,
        "only the step in flight is asked again"
    );
    assert_eq!(asked(&server, "Every step of the plan has finished."), 1);
    server.assert_clean();
}
