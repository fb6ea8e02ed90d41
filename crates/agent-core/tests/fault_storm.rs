//! Fault storms: a 1,000-task swarm, and a batch of streamed forks, against
//! a fixture server injecting seeded faults (20% 429 with RetryInfo, 5% 503,
//! 2% connection resets, 1% cut bodies and streams, 1% malformed JSON), in
//! paused time.
//!
//! Every task must end accounted for: a success, or an error whose message
//! names the fault. Every request must stay within the retry bound, every
//! retry must wait at least what the server's RetryInfo asked, and the
//! server's request log must agree exactly with what the forks report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::{
    BuiltinAgent, Event, EventSink, ForkRequest, ForkResult, ForkStatus, Forker, Swarm,
    SwarmOptions,
};
use cassette::{
    Cassette, FaultKind, FixtureServer, Interaction, RandomFaults, ReceivedRequest, RequestSpec,
    ResponseSpec, ServerOptions, SseEvent,
};
use futures_util::StreamExt;
use genai_client::{Client, ClientConfig, RetryPolicy, Timeouts};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-3.8-flash";
const MAX_ATTEMPTS: u32 = 5;
/// The retry delay a randomly injected 429 advertises.
const RATE_LIMIT_DELAY: Duration = Duration::from_secs(1);

fn text_reply(text: &str) -> serde_json::Value {
    json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 120},
        "modelVersion": MODEL,
        "responseId": "authored-storm-reply"
    })
}

fn storm(seed: u64) -> RandomFaults {
    RandomFaults {
        seed,
        rates: vec![
            (FaultKind::RateLimited, 0.20),
            (FaultKind::Unavailable, 0.05),
            (FaultKind::ResetBeforeResponse, 0.02),
            (FaultKind::CutSse, 0.01),
            (FaultKind::MalformedJson, 0.01),
        ],
    }
}

/// A repeatable unary reply and a repeatable three-event stream, for any body.
async fn storm_server(seed: u64) -> FixtureServer {
    let unary = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:generateContent")),
        ResponseSpec::json(text_reply("A calm answer.")),
    )
    .repeatable();
    let chunk = |text: &str| json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}]});
    let streamed = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{MODEL}:streamGenerateContent"))
            .with_query("alt", "sse"),
        ResponseSpec::sse(vec![
            SseEvent::new(chunk("A calm ")),
            SseEvent::delayed(chunk("streamed "), 5),
            SseEvent::delayed(text_reply("answer."), 5),
        ]),
    )
    .repeatable();
    let options = ServerOptions {
        random_faults: Some(storm(seed)),
        ..ServerOptions::lenient()
    };
    let mut cassette = Cassette::authored("storm", "built in code by the fault-storm tests");
    cassette.interactions = vec![unary, streamed];
    FixtureServer::start(vec![cassette], options)
        .await
        .expect("the fixture server starts")
}

fn storm_client(server: &FixtureServer) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            max_attempts: MAX_ATTEMPTS,
            jitter_seed: Some(29),
            ..RetryPolicy::default()
        })
        .with_base_url(&server.base_url());
    Client::new(config).expect("the client builds")
}

/// Every event, in order.
fn recording_sink() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = EventSink::new({
        let events = events.clone();
        move |event| events.lock().unwrap().push(event)
    });
    (sink, events)
}

/// The task a request was sent for (the first user text).
fn task_of(request: &ReceivedRequest) -> String {
    request.body.as_ref().expect("requests are JSON")["contents"][0]["parts"][0]["text"]
        .as_str()
        .expect("a user text")
        .to_owned()
}

/// The faults each task's requests got, in arrival order (`None` = real reply).
fn faults_by_task(server: &FixtureServer) -> HashMap<String, Vec<Option<FaultKind>>> {
    let mut map: HashMap<String, Vec<Option<FaultKind>>> = HashMap::new();
    for request in server.requests() {
        assert!(request.matched.is_some(), "every request matches");
        map.entry(task_of(&request))
            .or_default()
            .push(request.fault);
    }
    map
}

/// What an error message must mention for each fault kind.
fn names_fault(message: &str, kind: FaultKind) -> bool {
    let marker = match kind {
        FaultKind::RateLimited => "429 RESOURCE_EXHAUSTED",
        FaultKind::Unavailable => "503 UNAVAILABLE",
        FaultKind::ResetBeforeResponse | FaultKind::CutSse => "could not reach Gemini",
        FaultKind::MalformedJson => "could not decode Gemini's reply",
        other => panic!("{other:?} is not injected"),
    };
    message.contains(marker)
}

/// Checks one fork against the server's log for its task: the requests the
/// fork made, the faults it got, its status and error, its retry events and
/// (in virtual time) that it waited out every 429's RetryInfo.
fn check_fork(result: &ForkResult, faults: &[Option<FaultKind>], retries: &[(Duration, String)]) {
    let attempts = faults.len();
    assert!(
        (1..=MAX_ATTEMPTS as usize).contains(&attempts),
        "{}: {attempts} requests",
        result.task
    );
    let (last, earlier) = faults.split_last().expect("at least one request");
    assert!(
        earlier.iter().all(Option::is_some),
        "{}: a request was repeated after a real reply: {faults:?}",
        result.task
    );
    assert_eq!(
        retries.len(),
        attempts - 1,
        "{}: one retry event per retry",
        result.task
    );
    for ((delay, reason), fault) in retries.iter().zip(earlier) {
        if *fault == Some(FaultKind::RateLimited) {
            assert_eq!(reason, "429 RESOURCE_EXHAUSTED");
            assert!(
                *delay >= RATE_LIMIT_DELAY,
                "{}: waited {delay:?} after a 429",
                result.task
            );
        }
    }
    let rate_limits = earlier
        .iter()
        .filter(|fault| **fault == Some(FaultKind::RateLimited))
        .count() as u64;
    assert!(
        result.elapsed_ms >= rate_limits * RATE_LIMIT_DELAY.as_millis() as u64,
        "{}: {} ms for {rate_limits} rate limits",
        result.task,
        result.elapsed_ms
    );
    match (result.status, last) {
        (ForkStatus::Success, None) => assert!(!result.text.is_empty()),
        (ForkStatus::Error, Some(kind)) => {
            let error = result.error.as_ref().expect("a failed fork says why");
            assert!(
                names_fault(&error.message, *kind),
                "{}: {:?} does not name {kind:?}",
                result.task,
                error.message
            );
        }
        (status, last) => panic!("{}: ended {status:?} after {last:?}", result.task),
    }
}

/// Retry events by fork id: (delay, reason).
fn retries_by_fork(events: &[Event]) -> HashMap<String, Vec<(Duration, String)>> {
    let mut map: HashMap<String, Vec<(Duration, String)>> = HashMap::new();
    for event in events {
        if let Event::Retry {
            fork_id,
            delay,
            reason,
            ..
        } = event
        {
            map.entry(fork_id.to_string())
                .or_default()
                .push((*delay, reason.clone()));
        }
    }
    map
}

#[tokio::test(start_paused = true)]
async fn a_thousand_forks_in_a_fault_storm_all_end_accounted_for() {
    let server = storm_server(20_061).await;
    let (sink, events) = recording_sink();
    let forker = Forker::new(storm_client(&server)).with_events(sink);
    let options = SwarmOptions {
        concurrency: 100,
        ..SwarmOptions::new(BuiltinAgent::Creative.profile())
    };
    let tasks = (0..1_000).map(|index| (index, format!("Storm task number {index}.")));
    let outcome = Swarm::new(&forker, options)
        .run(tasks, Some(1_000), &CancellationToken::new(), |_, _| {})
        .await;

    assert_eq!(outcome.total, 1_000);
    assert_eq!(outcome.results.len(), 1_000);
    assert_eq!(outcome.completed + outcome.failed, 1_000);
    let stats = server.stats();
    for kind in [
        FaultKind::RateLimited,
        FaultKind::Unavailable,
        FaultKind::ResetBeforeResponse,
        FaultKind::CutSse,
        FaultKind::MalformedJson,
    ] {
        assert!(
            stats.faults_injected.get(&kind).copied().unwrap_or(0) > 0,
            "{kind:?} was never injected: {:?}",
            stats.faults_injected
        );
    }

    let faults = faults_by_task(&server);
    let retries = retries_by_fork(&events.lock().unwrap());
    let mut results: Vec<&ForkResult> = outcome.results.iter().map(|(_, r)| r).collect();
    let consolidation = outcome
        .consolidated
        .as_ref()
        .expect("the consolidation ran");
    results.push(consolidation);
    for result in &results {
        let no_retries = Vec::new();
        let fork_retries = retries.get(result.fork_id.as_str()).unwrap_or(&no_retries);
        check_fork(result, &faults[&result.task], fork_retries);
    }
    // The log holds exactly these forks' requests: nothing else was sent.
    let requests: usize = faults.values().map(Vec::len).sum();
    assert_eq!(faults.len(), results.len());
    assert_eq!(requests as u64, stats.total_requests);
    assert!(requests <= results.len() * MAX_ATTEMPTS as usize);
    let injected: u64 = stats.faults_injected.values().sum();
    let delivered = results.iter().filter(|r| r.is_success()).count() as u64;
    assert_eq!(injected + delivered, stats.total_requests);
    // A storm of retryable faults loses almost nothing with five attempts.
    assert!(outcome.failed <= 10, "{} forks failed", outcome.failed);
}

#[tokio::test(start_paused = true)]
async fn streamed_forks_in_a_fault_storm_retry_before_the_first_chunk_and_report_cut_streams() {
    let server = storm_server(7).await;
    let (sink, events) = recording_sink();
    let forker = Forker::new(storm_client(&server)).with_events(sink);
    let cancel = CancellationToken::new();
    let results: Vec<ForkResult> = futures_util::stream::iter(0..400)
        .map(|index| {
            let mut request = ForkRequest::new(
                format!("Streamed storm task {index}."),
                BuiltinAgent::Creative.profile(),
            );
            request.stream = true;
            let (forker, cancel) = (&forker, &cancel);
            async move { forker.run(request, cancel).await }
        })
        .buffer_unordered(50)
        .collect()
        .await;

    let stats = server.stats();
    let cuts = stats
        .faults_injected
        .get(&FaultKind::CutSse)
        .copied()
        .unwrap_or(0);
    assert!(cuts > 0, "no stream was cut: {:?}", stats.faults_injected);
    let faults = faults_by_task(&server);
    let events = events.lock().unwrap();
    let retries = retries_by_fork(&events);
    let mut cut_forks = 0;
    for result in &results {
        let no_retries = Vec::new();
        let fork_retries = retries.get(result.fork_id.as_str()).unwrap_or(&no_retries);
        let task_faults = &faults[&result.task];
        check_fork(result, task_faults, fork_retries);
        if task_faults.last() == Some(&Some(FaultKind::CutSse)) {
            // Cut after its first event: that text reached the event stream,
            // and the error says the stream broke off, without a retry.
            cut_forks += 1;
            let error = result.error.as_ref().expect("a cut stream is an error");
            assert!(
                error.message.contains("the stream broke off"),
                "{}",
                error.message
            );
            let first_text = events.iter().any(|event| {
                matches!(event, Event::TextDelta { fork_id, text }
                    if *fork_id == result.fork_id && text == "A calm ")
            });
            assert!(
                first_text,
                "{}: the first chunk was not streamed",
                result.task
            );
        }
    }
    assert_eq!(cut_forks as u64, cuts, "every cut stream ended its fork");
    let requests: usize = faults.values().map(Vec::len).sum();
    assert_eq!(requests as u64, stats.total_requests);
    assert!(requests <= results.len() * MAX_ATTEMPTS as usize);
}
