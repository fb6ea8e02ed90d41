//! `swarm --batch` end to end against a loopback stand-in (authored
//! bodies shaped like the Batch API's recorded ones): submit and return
//! with the run id, `runs show` tells the job, `resume` collects the
//! results into the same JSON as a live swarm, `runs cancel` cancels the
//! job, and an agent that needs a tool loop is refused before anything is
//! sent.

mod common;

use std::path::Path;
use std::process::Command;

use cassette::{FixtureServer, Interaction, RequestSpec, ResponseSpec, ServerOptions};
use common::{stderr_of, stdout_of};
use serde_json::{Value, json};

const MODEL: &str = "gemini-2.5-flash-lite";
const CREATE: &str = "/v1beta/models/gemini-2.5-flash-lite:batchGenerateContent";

async fn serve(interactions: Vec<Interaction>) -> FixtureServer {
    let about = "authored Batch API stand-in";
    common::stand_in("batch_cli", about, interactions, ServerOptions::default()).await
}

fn operation(state: &str, extra: Value) -> Value {
    let mut op = json!({
        "name": "batches/cli1",
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": "models/gemini-2.5-flash-lite",
            "displayName": "agent-fork-x",
            "batchStats": {"requestCount": "2", "pendingRequestCount": "2"},
            "state": state,
            "name": "batches/cli1"
        }
    });
    if let Value::Object(extra) = extra {
        for (key, value) in extra {
            op[key] = value;
        }
    }
    op
}

/// The ended job: succeeded, with these inlined responses.
fn succeeded(responses: Value) -> Value {
    operation(
        "BATCH_STATE_SUCCEEDED",
        json!({"done": true, "response": {"inlinedResponses": {"inlinedResponses": responses}}}),
    )
}

/// The job created (pending), then found ended as `done` by its first poll.
fn created_then(done: Value) -> Vec<Interaction> {
    vec![
        Interaction::new(
            RequestSpec::post(CREATE),
            ResponseSpec::json(operation("BATCH_STATE_PENDING", json!({}))),
        ),
        Interaction::new(get("/v1beta/batches/cli1"), ResponseSpec::json(done)),
    ]
}

fn reply(text: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 15},
        "modelVersion": MODEL})
}

fn command(folder: &Path, server: &FixtureServer) -> Command {
    common::against_as(folder, server, MODEL)
}

fn get(path: &str) -> RequestSpec {
    let mut spec = RequestSpec::post(path);
    spec.method = "GET".into();
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_swarm_is_submitted_shown_and_collected_on_resume() {
    let folder = tempfile::tempdir().unwrap();
    let done = succeeded(json!([
        // Keys echoed out of order.
        {"response": reply("Blue."), "metadata": {"key": "1"}},
        {"response": reply("Red."), "metadata": {"key": "0"}}
    ]));
    let server = serve(created_then(done)).await;
    let submitted = command(folder.path(), &server)
        .args([
            "--json",
            "swarm",
            "--batch",
            "--no-consolidate",
            "-t",
            "creative",
            "A warm colour?",
            "A cool colour?",
        ])
        .output()
        .unwrap();
    assert!(submitted.status.success(), "{}", stderr_of(&submitted));
    let answer: Value = serde_json::from_str(&stdout_of(&submitted)).unwrap();
    assert_eq!(answer["batch"], "batches/cli1");
    assert_eq!(answer["requests"], 2);
    let id = answer["run_id"].as_str().unwrap().to_owned();
    assert!(stderr_of(&submitted).contains(&format!("agent-fork resume {id}")));
    let body = server.requests()[0].body.clone().unwrap();
    let requests = &body["batch"]["inputConfig"]["requests"]["requests"];
    assert_eq!(requests[1]["metadata"]["key"], "1");
    assert_eq!(
        requests[1]["request"]["contents"][0]["parts"][0]["text"],
        "A cool colour?"
    );

    let shown = command(folder.path(), &server)
        .args(["--json", "runs", "show", &id])
        .output()
        .unwrap();
    let shown: Value = serde_json::from_str(&stdout_of(&shown)).unwrap();
    assert_eq!(shown["batch"]["name"], "batches/cli1");
    assert_eq!(shown["state"], "unfinished");

    let resumed = command(folder.path(), &server)
        .args(["--json", "resume", &id])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr_of(&resumed));
    let json: Value = serde_json::from_str(&stdout_of(&resumed)).unwrap();
    assert_eq!(json["tasks"]["total"], 2);
    assert_eq!(json["tasks"]["succeeded"], 2);
    assert_eq!(json["results"][0]["result"], "Red.");
    assert_eq!(json["results"][0]["task"], "A warm colour?");
    assert_eq!(json["results"][1]["result"], "Blue.");
    assert!(stderr_of(&resumed).contains("batch succeeded"));
    server.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_cancel_cancels_the_job() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(vec![
        Interaction::new(
            RequestSpec::post(CREATE),
            ResponseSpec::json(operation("BATCH_STATE_PENDING", json!({}))),
        ),
        Interaction {
            // Asked twice: once for people, once under --json.
            repeatable: true,
            ..Interaction::new(
                RequestSpec::post("/v1beta/batches/cli1:cancel"),
                ResponseSpec::json(json!({})),
            )
        },
    ])
    .await;
    let submitted = command(folder.path(), &server)
        .args([
            "--json", "swarm", "--batch", "-t", "creative", "One?", "Two?",
        ])
        .output()
        .unwrap();
    let id = serde_json::from_str::<Value>(&stdout_of(&submitted)).unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancelled = command(folder.path(), &server)
        .args(["runs", "cancel", &id])
        .output()
        .unwrap();
    assert!(cancelled.status.success(), "{}", stderr_of(&cancelled));
    assert!(stdout_of(&cancelled).contains("batches/cli1"));
    server.assert_clean();
    // Under --json stdout is the document alone (it was the sentence).
    let again = command(folder.path(), &server)
        .args(["--json", "runs", "cancel", &id])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr_of(&again));
    let document: Value = serde_json::from_str(&stdout_of(&again))
        .unwrap_or_else(|error| panic!("{error}: {}", stdout_of(&again)));
    assert_eq!(document["run_id"], id.as_str());
    assert_eq!(document["batch"], "batches/cli1");
    assert_eq!(document["state"], "cancel_requested");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_a_tool_loop_is_refused_before_anything_is_sent() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(vec![]).await;
    let refused = command(folder.path(), &server)
        .args(["swarm", "--batch", "-t", "code", "Fix the tests."])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(stderr_of(&refused).contains("multi-turn tool loop"));
    assert_eq!(server.stats().total_requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_the_job_is_collected_and_consolidated_live_in_one_go() {
    let folder = tempfile::tempdir().unwrap();
    let done = succeeded(json!([
        // No keys echoed: matched by position.
        {"response": reply("Red.")},
        {"error": {"code": 13, "message": "Internal error."}}
    ]));
    let mut interactions = created_then(done);
    interactions.push(Interaction::new(
        RequestSpec::post("/v1beta/models/gemini-3.8-flash:generateContent"),
        ResponseSpec::json(reply("Warm colours won.")),
    ));
    let server = serve(interactions).await;
    let output = command(folder.path(), &server)
        .args([
            "--json",
            "swarm",
            "--batch",
            "--wait",
            "-t",
            "creative",
            "A warm colour?",
            "A cool colour?",
        ])
        .output()
        .unwrap();
    // One item failed in the batch: the run fails, the other result stays.
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let json: Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    assert_eq!(
        (
            json["tasks"]["succeeded"].as_u64(),
            json["tasks"]["failed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(json["results"][0]["result"], "Red.");
    assert_eq!(json["results"][1]["status"], "failed");
    assert_eq!(json["consolidated_summary"], "Warm colours won.");
    server.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_reduce_maps_as_a_batch_job_and_reduces_live() {
    let folder = tempfile::tempdir().unwrap();
    let done = succeeded(json!([
        {"response": reply("Oslo is cold."), "metadata": {"key": "0"}},
        {"response": reply("Lima is mild."), "metadata": {"key": "1"}}
    ]));
    let mut interactions = created_then(done);
    interactions.push(Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")),
        ResponseSpec::json(reply("Oslo is colder than Lima.")),
    ));
    let server = serve(interactions).await;
    let submitted = command(folder.path(), &server)
        .args([
            "--json",
            "map-reduce",
            "--batch",
            "-t",
            "creative",
            "--items",
            "Oslo",
            "Lima",
            "--map-template",
            "Describe the climate of {item}.",
            "--reduce",
            "Compare them.",
        ])
        .output()
        .unwrap();
    assert!(submitted.status.success(), "{}", stderr_of(&submitted));
    let id = serde_json::from_str::<Value>(&stdout_of(&submitted)).unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = server.requests()[0].body.clone().unwrap();
    assert_eq!(
        body["batch"]["inputConfig"]["requests"]["requests"][1]["request"]["contents"][0]["parts"]
            [0]["text"],
        "Describe the climate of Lima."
    );
    let resumed = command(folder.path(), &server)
        .args(["--json", "resume", &id])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr_of(&resumed));
    let json: Value = serde_json::from_str(&stdout_of(&resumed)).unwrap();
    assert_eq!(json["result"], "Oslo is colder than Lima.");
    assert_eq!(json["map"][1]["fork"]["result"], "Lima is mild.");
    server.assert_clean();
}

/// A `map-reduce --batch --wait` over Oslo and Lima, its output piped.
#[cfg(unix)]
fn spawn_map_reduce(folder: &Path, server: &FixtureServer) -> std::process::Child {
    command(folder, server)
        .args([
            "map-reduce",
            "--batch",
            "--wait",
            "-t",
            "creative",
            "--items",
            "Oslo",
            "Lima",
            "--map-template",
            "Describe the climate of {item}.",
            "--reduce",
            "Compare them.",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends SIGINT to `child` once `server` has been asked for `path`, and
/// waits for it to exit.
#[cfg(unix)]
async fn interrupt_once_asked(
    child: std::process::Child,
    server: &FixtureServer,
    path: &str,
) -> std::process::Output {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::time::{Duration, Instant};

    let deadline = Instant::now() + Duration::from_secs(120);
    while !server.requests().iter().any(|request| request.path == path) {
        assert!(Instant::now() < deadline, "{path} was never asked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

/// Ctrl-C while the batch job is waited for detaches: the job keeps
/// running, the run stays resumable, nothing is reduced.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_for_the_batch_job_detaches() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(vec![
        Interaction::new(
            RequestSpec::post(CREATE),
            ResponseSpec::json(operation("BATCH_STATE_PENDING", json!({}))),
        ),
        Interaction::new(
            get("/v1beta/batches/cli1"),
            ResponseSpec::json(operation("BATCH_STATE_RUNNING", json!({}))),
        )
        .repeatable(),
    ])
    .await;
    let child = spawn_map_reduce(folder.path(), &server);
    let stopped = interrupt_once_asked(child, &server, "/v1beta/batches/cli1").await;
    let stderr = stderr_of(&stopped);
    assert!(
        stderr.contains("detaching: the batch job keeps running"),
        "{stderr}"
    );
    assert!(
        stderr.contains("detached: batch job batches/cli1 keeps running"),
        "{stderr}"
    );
    assert!(!stderr.contains("stopping"), "{stderr}");
    assert_eq!(stopped.status.code(), Some(130), "{stderr}");
}

/// Ctrl-C while the live reduce runs stops the reduce (the run's own
/// notice), not the batch wait that ended before it: the map phase's
/// "detaching" handler ends with the wait (it once stayed live, and both
/// notices were shown).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_the_reduce_after_a_batch_map_stops_the_reduce() {
    let folder = tempfile::tempdir().unwrap();
    let done = succeeded(json!([
        {"response": reply("Oslo is cold."), "metadata": {"key": "0"}},
        {"response": reply("Lima is mild."), "metadata": {"key": "1"}}
    ]));
    let generate = format!("/v1beta/models/{MODEL}:generateContent");
    // The reduce is answered only after ten minutes: in flight at the SIGINT.
    let mut reduce = Interaction::new(
        RequestSpec::post(generate.clone()),
        ResponseSpec::json(reply("Oslo is colder than Lima.")),
    );
    reduce.response.latency_ms = Some(600_000);
    let server = serve([created_then(done), vec![reduce]].concat()).await;
    let child = spawn_map_reduce(folder.path(), &server);
    let stopped = interrupt_once_asked(child, &server, &generate).await;
    let stderr = stderr_of(&stopped);
    assert!(!stderr.contains("detaching"), "{stderr}");
    assert!(
        stderr.contains("stopping: no new agents start, running ones are cancelled"),
        "{stderr}"
    );
    assert_eq!(stopped.status.code(), Some(130), "{stderr}");
}
