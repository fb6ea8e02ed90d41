//! `swarm --batch` end to end against a loopback stand-in (authored
//! bodies shaped like the Batch API's recorded ones): submit and return
//! with the run id, `runs show` tells the job, `resume` collects the
//! results into the same JSON as a live swarm, `runs cancel` cancels the
//! job, Ctrl-C while waiting detaches (and `resume` attaches later), and an
//! agent that needs a tool loop is refused before anything is sent.

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

/// The job `batches/cli1` in `state`, with these `stats`.
fn job(state: &str, stats: &[(&str, u64)]) -> Value {
    test_support::batch::operation("batches/cli1", "agent-fork-x", state, stats)
}

/// The ended job: succeeded, with these inlined responses (each
/// `{"response"|"error", "metadata"?}`).
fn succeeded(responses: Value) -> Value {
    let responses = responses.as_array().cloned().unwrap_or_default();
    test_support::batch::succeeded_inline("batches/cli1", "agent-fork-x", responses)
}

/// The job's create, answered pending.
fn create() -> Interaction {
    Interaction::new(
        RequestSpec::post(CREATE),
        ResponseSpec::json(job(
            "BATCH_STATE_PENDING",
            &[("requestCount", 2), ("pendingRequestCount", 2)],
        )),
    )
}

/// The job created (pending), then found ended as `done` by its first poll.
fn created_then(done: Value) -> Vec<Interaction> {
    vec![
        create(),
        Interaction::new(get("/v1beta/batches/cli1"), ResponseSpec::json(done)),
    ]
}

/// The job created (pending), then found running with `stats` by every poll.
fn created_then_running(stats: &[(&str, u64)]) -> Vec<Interaction> {
    let running = job("BATCH_STATE_RUNNING", stats);
    vec![
        create(),
        Interaction::new(get("/v1beta/batches/cli1"), ResponseSpec::json(running)).repeatable(),
    ]
}

/// The arguments of a `map-reduce` over Oslo and Lima (each one's climate,
/// then a comparison), after its flags.
const OSLO_AND_LIMA: [&str; 9] = [
    "-t",
    "creative",
    "--items",
    "Oslo",
    "Lima",
    "--map-template",
    "Describe the climate of {item}.",
    "--reduce",
    "Compare them.",
];

/// A map job over Oslo and Lima created, found succeeded, and its reduce
/// answered live.
fn oslo_and_lima_mapped_then_reduced() -> Vec<Interaction> {
    let mut interactions = created_then(succeeded(json!([
        {"response": reply("Oslo is cold."), "metadata": {"key": "0"}},
        {"response": reply("Lima is mild."), "metadata": {"key": "1"}}
    ])));
    interactions.push(Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")),
        ResponseSpec::json(reply("Oslo is colder than Lima.")),
    ));
    interactions
}

/// The run id a submitting command printed under `--json`.
fn run_id_of(output: &std::process::Output) -> String {
    common::json_of(output)["run_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no run_id: {}", stdout_of(output)))
        .to_owned()
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
    let mut interactions = created_then(done);
    // The poll is asked by `runs show` (the live state) and by `resume`.
    let poll = interactions.pop().unwrap().repeatable();
    interactions.push(poll);
    let server = serve(interactions).await;
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
    let answer: Value = common::json_of(&submitted);
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
    let shown: Value = common::json_of(&shown);
    assert_eq!(shown["batch"]["name"], "batches/cli1");
    assert_eq!(shown["state"], "unfinished");
    // Not collected yet: the job's state is Gemini's, asked just now.
    assert_eq!(shown["batch"]["state"], "succeeded");
    assert_eq!(shown["batch"]["refreshed"], true);

    let resumed = command(folder.path(), &server)
        .args(["--json", "resume", &id])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr_of(&resumed));
    let json: Value = common::json_of(&resumed);
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
        create(),
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
    let id = run_id_of(&submitted);
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
    let json: Value = common::json_of(&output);
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
    // The run's journalled cost: the answered item at the batch price (its
    // own `spent` line, written when collected) and the live consolidation.
    let (live, batch) = reply_costs();
    let journal = common::only_journal(folder.path());
    assert_eq!(journal.matches("\"spent\"").count(), 2, "{journal}");
    let id = json["run_id"].as_str().unwrap();
    let shown = command(folder.path(), &server)
        .args(["--json", "runs", "show", id])
        .output()
        .unwrap();
    let shown: Value = common::json_of(&shown);
    assert_eq!(
        shown["cost"]["priced_picodollars"],
        batch + live,
        "{}",
        shown["cost"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_reduce_maps_as_a_batch_job_and_reduces_live() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(oslo_and_lima_mapped_then_reduced()).await;
    let submitted = command(folder.path(), &server)
        .args(["--json", "map-reduce", "--batch"])
        .args(OSLO_AND_LIMA)
        .output()
        .unwrap();
    assert!(submitted.status.success(), "{}", stderr_of(&submitted));
    let id = run_id_of(&submitted);
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
    let json: Value = common::json_of(&resumed);
    assert_eq!(json["result"], "Oslo is colder than Lima.");
    assert_eq!(json["map"][1]["fork"]["result"], "Lima is mild.");
    server.assert_clean();
}

/// A `map-reduce --batch --wait` over Oslo and Lima, its output piped.
#[cfg(unix)]
fn spawn_map_reduce(folder: &Path, server: &FixtureServer) -> std::process::Child {
    command(folder, server)
        .args(["map-reduce", "--batch", "--wait"])
        .args(OSLO_AND_LIMA)
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
    let asked = || server.requests().iter().any(|request| request.path == path);
    common::wait_until(asked, || format!("{path} was never asked")).await;
    common::interrupt(child).await
}

/// Ctrl-C while the batch job is waited for detaches: the job keeps
/// running, the run stays resumable, nothing is reduced.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_for_the_batch_job_detaches() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(created_then_running(&[
        ("requestCount", 2),
        ("pendingRequestCount", 2),
    ]))
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

/// Ctrl-C while `--wait` polls a RUNNING job detaches: exit 130, a hint
/// naming `resume`, no `:cancel` sent, and the journal lets `resume` attach
/// to the same job later (against a server whose job has now succeeded).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_a_swarm_waits_detaches_sends_no_cancel_and_resume_attaches() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let folder = tempfile::tempdir().unwrap();
    let server = serve(created_then_running(&[
        ("requestCount", 2),
        ("pendingRequestCount", 2),
    ]))
    .await;
    let mut child = command(folder.path(), &server)
        .args([
            "swarm",
            "--batch",
            "--wait",
            "--no-consolidate",
            "-t",
            "creative",
            "A warm colour?",
            "A cool colour?",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // The waiting line: the first poll's progress.
    let mut seen = Vec::new();
    loop {
        let line = lines_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no progress line; stderr so far: {seen:#?}"));
        let waiting = line.contains("batch running");
        seen.push(line);
        if waiting {
            break;
        }
    }
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGINT,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    reader.join().unwrap();
    seen.extend(lines_rx.try_iter());
    let stderr = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{stderr}");
    let hint = seen
        .iter()
        .find(|line| line.starts_with("detached: batch job batches/cli1 keeps running"))
        .unwrap_or_else(|| panic!("no detach hint: {stderr}"));
    let id = hint
        .split("`agent-fork resume ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("the hint names no run: {hint}"))
        .to_owned();
    // The fixture server's counters: nothing but the create and the polls.
    let stats = server.stats();
    assert_eq!(
        stats.requests_per_path.get("/v1beta/batches/cli1:cancel"),
        None,
        "a cancel reached the server: {stats:?}"
    );
    assert_eq!(stats.unmatched_requests, 0, "{stats:?}");
    assert_eq!(stats.requests_per_path.get(CREATE), Some(&1));
    assert_eq!(stats.requests_per_path.len(), 2, "{stats:?}");

    // Later: the job has succeeded; resume attaches (no second create).
    let done = test_support::batch::succeeded_inline(
        "batches/cli1",
        "agent-fork-x",
        vec![
            test_support::batch::inline_ok(reply("Red."), Some("0")),
            test_support::batch::inline_ok(reply("Blue."), Some("1")),
        ],
    );
    let later = serve(vec![Interaction::new(
        get("/v1beta/batches/cli1"),
        ResponseSpec::json(done),
    )])
    .await;
    let resumed = command(folder.path(), &later)
        .args(["--json", "resume", &id])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr_of(&resumed));
    let json: Value = common::json_of(&resumed);
    assert_eq!(json["tasks"]["succeeded"], 2);
    assert_eq!(json["results"][0]["result"], "Red.");
    assert_eq!(json["results"][1]["result"], "Blue.");
    later.assert_clean();
}

/// `runs show` of a batch run not collected yet asks Gemini for the job's
/// state; when that fails it shows the journalled state and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_show_asks_for_the_live_state_and_falls_back_to_the_journal() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(created_then_running(&[
        ("requestCount", 2),
        ("successfulRequestCount", 1),
        ("pendingRequestCount", 1),
    ]))
    .await;
    let submitted = command(folder.path(), &server)
        .args([
            "--json", "swarm", "--batch", "-t", "creative", "One?", "Two?",
        ])
        .output()
        .unwrap();
    let id = run_id_of(&submitted);

    let shown = command(folder.path(), &server)
        .args(["--json", "runs", "show", &id])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr_of(&shown));
    let json: Value = common::json_of(&shown);
    let batch = &json["batch"];
    assert_eq!(
        (&batch["state"], &batch["succeeded"], &batch["refreshed"]),
        (&json!("running"), &json!(1), &json!(true)),
        "{batch}"
    );
    assert_eq!(batch["refresh_error"], Value::Null);
    let text = command(folder.path(), &server)
        .args(["runs", "show", &id])
        .output()
        .unwrap();
    assert!(
        stdout_of(&text)
            .contains("running (1 of 2 done, 0 failed, 1 pending, just now from Gemini)"),
        "{}",
        stdout_of(&text)
    );
    assert_eq!(
        server.stats().requests_per_path.get("/v1beta/batches/cli1"),
        Some(&2)
    );

    // Gemini refuses (the job is gone): the journalled state, and why.
    let gone = serve(vec![Interaction::new(
        get("/v1beta/batches/cli1"),
        ResponseSpec::json(json!({"error": {"code": 404, "message": "Batch not found.", "status": "NOT_FOUND"}}))
            .with_status(404),
    )
    .repeatable()])
    .await;
    let shown = command(folder.path(), &gone)
        .args(["--json", "runs", "show", &id])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr_of(&shown));
    let json: Value = common::json_of(&shown);
    let batch = &json["batch"];
    assert_eq!(batch["refreshed"], false);
    assert_eq!(batch["state"], Value::Null, "no poll was journalled");
    assert!(
        batch["refresh_error"]
            .as_str()
            .unwrap()
            .contains("NOT_FOUND"),
        "{batch}"
    );
    let text = command(folder.path(), &gone)
        .args(["runs", "show", &id])
        .output()
        .unwrap();
    let text = stdout_of(&text);
    assert!(
        text.contains("batches/cli1: submitted, 2 requests"),
        "{text}"
    );
    assert!(text.contains("could not be refreshed"), "{text}");

    // Offline (nothing listens): one attempt, the journalled state.
    let offline = command(folder.path(), &server)
        .env("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:1")
        .args(["--json", "runs", "show", &id])
        .output()
        .unwrap();
    assert!(offline.status.success(), "{}", stderr_of(&offline));
    let json: Value = common::json_of(&offline);
    assert_eq!(json["batch"]["refreshed"], false);
    assert!(
        json["batch"]["refresh_error"]
            .as_str()
            .unwrap()
            .contains("could not reach Gemini"),
        "{}",
        json["batch"]
    );
}

/// The cost of one authored reply (12 prompt, 3 output tokens) answered
/// by `MODEL`: live, and through the Batch API.
fn reply_costs() -> (u64, u64) {
    let usage = genai_client::Usage {
        prompt: 12,
        candidates: 3,
        total: 15,
        ..genai_client::Usage::default()
    };
    let today = chrono::Utc::now().date_naive();
    let live = genai_client::cost_of_call(&usage, Some(MODEL), MODEL, today).unwrap();
    let batch = genai_client::cost_of_batch_call(&usage, Some(MODEL), MODEL, today).unwrap();
    (live.usd.picodollars(), batch.usd.picodollars())
}

/// With a budget, a batch job whose estimate crosses it is refused before
/// anything is sent: one line, exit 2, no run left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_job_over_the_budget_is_refused_before_submitting() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(vec![]).await;
    for budget in [["--budget-usd", "0.0001"], ["--budget-tokens", "500"]] {
        let refused = command(folder.path(), &server)
            .args(["map-reduce", "--batch"])
            .args(OSLO_AND_LIMA)
            .args(budget)
            .output()
            .unwrap();
        let stderr = stderr_of(&refused);
        assert_eq!(refused.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("would cross the budget"), "{stderr}");
        assert!(
            stderr.contains("its 2 requests are estimated at"),
            "{stderr}"
        );
        assert!(stderr.contains("nothing was submitted"), "{stderr}");
    }
    let swarm = command(folder.path(), &server)
        .args([
            "swarm",
            "--batch",
            "--budget-usd",
            "0.0001",
            "-t",
            "creative",
            "One?",
            "Two?",
        ])
        .output()
        .unwrap();
    assert_eq!(swarm.status.code(), Some(2), "{}", stderr_of(&swarm));
    assert_eq!(server.stats().total_requests, 0);
    let runs = std::fs::read_dir(common::runs_dir(folder.path()))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(runs, 0, "a refused run leaves no folder");
}

/// Within the budget, the map job's real cost (at the batch price) is
/// charged when collected: journalled as its own `spent` line, counted in
/// the reduce's budget and in the run's cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collected_map_job_is_charged_and_journalled_at_the_batch_price() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(oslo_and_lima_mapped_then_reduced()).await;
    let output = command(folder.path(), &server)
        .args([
            "--json",
            "map-reduce",
            "--batch",
            "--wait",
            "--budget-usd",
            "1",
        ])
        .args(OSLO_AND_LIMA)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let json: Value = common::json_of(&output);
    let (live, batch) = reply_costs();
    assert!(batch < live);
    let whole = 2 * batch + live;
    assert_eq!(
        json["cost"]["priced_picodollars"], whole,
        "{}",
        json["cost"]
    );
    assert_eq!(json["cost"]["priced_calls"], 3);
    let id = json["run_id"].as_str().unwrap().to_owned();
    // Two `spent` lines: the map job's (collected), then the reduce's.
    let journal = common::only_journal(folder.path());
    assert_eq!(journal.matches("\"spent\"").count(), 2, "{journal}");
    let shown = command(folder.path(), &server)
        .args(["--json", "runs", "show", &id])
        .output()
        .unwrap();
    let shown: Value = common::json_of(&shown);
    assert_eq!(
        shown["cost"]["priced_picodollars"], whole,
        "{}",
        shown["cost"]
    );
    assert_eq!(shown["tokens"], 45);
    server.assert_clean();
}

/// `map-reduce --batch --wait --record` holds the whole run (the map job's
/// create and poll, then the live reduce) in one cassette, and a new run
/// replays it end to end with no network: the same results, every
/// interaction used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_batch_map_reduce_replays_end_to_end() {
    let folder = tempfile::tempdir().unwrap();
    let server = serve(oslo_and_lima_mapped_then_reduced()).await;
    let args: Vec<&str> = ["--json", "map-reduce", "--batch", "--wait"]
        .into_iter()
        .chain(OSLO_AND_LIMA)
        .collect();
    let recording = folder.path().join("recorded.json");
    let recorded = command(folder.path(), &server)
        .arg("--record")
        .arg(&recording)
        .args(&args)
        .output()
        .unwrap();
    assert!(recorded.status.success(), "{}", stderr_of(&recorded));
    assert!(
        stderr_of(&recorded).contains("recorded 3 interactions"),
        "{}",
        stderr_of(&recorded)
    );
    server.assert_clean();
    let live: Value = common::json_of(&recorded);

    // Elsewhere, with no key and nothing listening: the recording alone.
    let elsewhere = tempfile::tempdir().unwrap();
    let replayed = common::isolated(elsewhere.path())
        .env("NO_COLOR", "1")
        .env("AGENT_FORK_MODEL", MODEL)
        .arg("--replay")
        .arg(&recording)
        .args(&args)
        .output()
        .unwrap();
    assert!(replayed.status.success(), "{}", stderr_of(&replayed));
    let json: Value = common::json_of(&replayed);
    assert_eq!(json["result"], "Oslo is colder than Lima.");
    assert_eq!(json["map"][0]["fork"]["result"], "Oslo is cold.");
    assert_eq!(json["map"][1]["fork"]["result"], "Lima is mild.");
    assert_eq!(json["result"], live["result"]);
    assert_eq!(json["cost"], live["cost"]);
    assert_ne!(json["run_id"], live["run_id"]);
}
