//! Durable batch runs against the fixture server (authored cassettes shaped
//! like recorded bodies, test_support::batch) with a real signed journal:
//! submit journals before and after create, a crash between create and its
//! answer adopts the job instead of paying twice (server counters), a 429
//! on create is retried, polling backs off in paused time and detaches on
//! cancel, results are matched by key or by position, large input goes as
//! an uploaded file and results come from a result file, and FAILED,
//! CANCELLED and EXPIRED jobs give every missing item an error.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, RequestSpec, ResponseBody, ResponseSpec,
    ServerOptions,
};
use genai_client::{
    ApiKey, BatchState, Client, ClientConfig, Content, GenerateContentRequest, RetryPolicy,
    Timeouts,
};
use planner::batch::{self, BatchOptions, PollPolicy, Waited};
use planner::{Journal, JournalEvent, JournalKey, RunKind, RunMeta, read_journal};
use serde_json::{Value, json};
use test_support::batch as bodies;
use test_support::gemini::Reply;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-2.5-flash-lite";
const CREATE: &str = "/v1beta/models/gemini-2.5-flash-lite:batchGenerateContent";
const JOB: &str = "batches/job1";

fn key() -> JournalKey {
    JournalKey::from_bytes([7; 32])
}

fn client(server: &FixtureServer) -> Client {
    Client::new(
        ClientConfig::default()
            .with_timeouts(Timeouts::none())
            .with_api_key(ApiKey::new("test-key"))
            .with_base_url(&server.base_url())
            .with_retry(RetryPolicy {
                jitter_seed: Some(3),
                ..RetryPolicy::default()
            }),
    )
    .unwrap()
}

async fn serve(interactions: Vec<Interaction>) -> FixtureServer {
    let mut cassette = Cassette::authored("batch_runs", "authored Batch API exchanges");
    cassette.interactions = interactions;
    FixtureServer::start(vec![cassette], ServerOptions::default())
        .await
        .unwrap()
}

fn get(path: &str) -> RequestSpec {
    let mut spec = RequestSpec::post(path);
    spec.method = "GET".into();
    spec
}

fn request(index: usize) -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user(format!("Task {index}."))],
        ..Default::default()
    }
}

fn items(count: usize) -> impl Iterator<Item = (usize, GenerateContentRequest)> {
    (0..count).map(|index| (index, request(index)))
}

fn journal(base: &Path) -> Journal {
    Journal::create(
        base,
        RunMeta::new(RunKind::Swarm, "batch test", json!({})),
        &key(),
    )
    .unwrap()
}

fn events(journal: &Journal) -> Vec<JournalEvent> {
    journal.flush().unwrap();
    read_journal(&journal.dir().join("journal.jsonl"), &key())
        .unwrap()
        .records
        .into_iter()
        .map(|record| record.event)
        .collect()
}

fn options() -> BatchOptions {
    let mut options = BatchOptions::new(MODEL, "agent-fork-test");
    options.poll = PollPolicy {
        first: Duration::from_secs(5),
        factor: 2.0,
        max: Duration::from_secs(30),
    };
    options
}

fn inline_body(count: usize) -> Value {
    json!({"batch": {"displayName": "agent-fork-test", "inputConfig": {"requests": {"requests":
        (0..count).map(|i| json!({"request": request(i), "metadata": {"key": i.to_string()}})).collect::<Vec<_>>()
    }}}})
}

fn pending(count: u64) -> Value {
    bodies::operation(
        JOB,
        "agent-fork-test",
        "BATCH_STATE_PENDING",
        &[("requestCount", count), ("pendingRequestCount", count)],
    )
}

fn answered(texts: &[&str], keyed: bool, order: &[usize]) -> Vec<Value> {
    order
        .iter()
        .map(|&i| {
            let key = i.to_string();
            bodies::inline_ok(
                Reply::text(texts[i]).usage(10, 2, 0).json(),
                keyed.then_some(key.as_str()),
            )
        })
        .collect()
}

type Items = BTreeMap<usize, Result<String, String>>;

async fn collect_all(client: &Client, operation: &genai_client::Operation, count: usize) -> Items {
    let mut items = Items::new();
    batch::collect(client, operation, count, &|_| false, |index, reply| {
        items.insert(index, reply.map(|r| r.text()));
    })
    .await
    .unwrap();
    items
}

#[tokio::test(start_paused = true)]
async fn an_inline_job_is_journalled_polled_with_backoff_and_collected_by_key() {
    let base = tempfile::tempdir().unwrap();
    let server = serve(vec![
        Interaction::new(
            RequestSpec::post(CREATE).with_body(BodyMatcher::Exact(inline_body(3))),
            ResponseSpec::json(pending(3)),
        ),
        Interaction::new(get("/v1beta/batches/job1"), ResponseSpec::json(pending(3))),
        Interaction::new(
            get("/v1beta/batches/job1"),
            ResponseSpec::json(bodies::operation(
                JOB,
                "agent-fork-test",
                "BATCH_STATE_RUNNING",
                &[
                    ("requestCount", 3),
                    ("successfulRequestCount", 1),
                    ("pendingRequestCount", 2),
                ],
            )),
        ),
        Interaction::new(
            get("/v1beta/batches/job1"),
            // Out of order, keys echoed: matched by key.
            ResponseSpec::json(bodies::succeeded_inline(
                JOB,
                "agent-fork-test",
                answered(&["zero", "one", "two"], true, &[2, 0, 1]),
            )),
        ),
    ])
    .await;
    let client = client(&server);
    let journal = journal(base.path());
    let input = journal.dir().join(batch::BATCH_INPUT_FILE);
    let name = batch::submit_or_adopt(&client, &journal, &options(), None, &input, || items(3))
        .await
        .unwrap();
    assert_eq!(name.as_str(), JOB);
    let recorded = events(&journal);
    assert!(matches!(
        &recorded[1],
        JournalEvent::BatchSubmitting { requests: 3, display_name, .. } if display_name == "agent-fork-test"
    ));
    assert!(matches!(
        &recorded[2],
        JournalEvent::BatchSubmitted { adopted: false, .. }
    ));

    let started = tokio::time::Instant::now();
    let mut polls = Vec::new();
    let waited = batch::wait(
        &client,
        &journal,
        &name,
        &options().poll,
        &CancellationToken::new(),
        |op| polls.push((op.state(), started.elapsed())),
    )
    .await
    .unwrap();
    // Polls at 0 s, 5 s, 5 + 10 s: the wait doubles.
    assert_eq!(
        polls,
        [
            (BatchState::Pending, Duration::ZERO),
            (BatchState::Running, Duration::from_secs(5)),
            (BatchState::Succeeded, Duration::from_secs(15)),
        ]
    );
    let Waited::Ended(operation) = waited else {
        panic!("the job ended")
    };
    let items = collect_all(&client, &operation, 3).await;
    assert_eq!(
        items.values().cloned().collect::<Vec<_>>(),
        [Ok("zero".into()), Ok("one".into()), Ok("two".into())]
    );
    batch::mark_collected(&journal, &operation).unwrap();
    journal.flush().unwrap();
    let record = read_journal(&journal.dir().join("journal.jsonl"), &key())
        .unwrap()
        .batch()
        .unwrap();
    assert_eq!(record.name.unwrap().as_str(), JOB);
    assert_eq!(record.collected, Some(BatchState::Succeeded));
    assert_eq!(record.last_seen.unwrap().succeeded, 3);
    server.assert_clean();
}

#[tokio::test]
async fn inline_results_without_keys_are_matched_by_position_and_errors_stay_per_item() {
    let mut results = answered(&["zero", "one", "two"], false, &[0, 1, 2]);
    results[1] = bodies::inline_error(8, "Resource exhausted.", None);
    let operation: genai_client::Operation =
        serde_json::from_value(bodies::succeeded_inline(JOB, "d", results)).unwrap();
    let server = serve(vec![]).await;
    let items = collect_all(&client(&server), &operation, 3).await;
    assert_eq!(items[&0], Ok("zero".into()));
    assert!(
        items[&1]
            .as_ref()
            .unwrap_err()
            .contains("Resource exhausted")
    );
    assert_eq!(items[&2], Ok("two".into()));
}

#[tokio::test]
async fn a_hostile_key_cannot_overwrite_another_item() {
    // Keys out of range, repeated or not numbers are ignored; the item they
    // do not fill gets an error instead of someone else's answer.
    let results = vec![
        bodies::inline_ok(Reply::text("a").json(), Some("0")),
        bodies::inline_ok(Reply::text("forged").json(), Some("0")),
        bodies::inline_ok(Reply::text("far").json(), Some("99")),
        bodies::inline_ok(Reply::text("word").json(), Some("one")),
    ];
    let operation: genai_client::Operation =
        serde_json::from_value(bodies::succeeded_inline(JOB, "d", results)).unwrap();
    let server = serve(vec![]).await;
    let mut unmatched = 0;
    let mut items = Items::new();
    let collected = batch::collect(&client(&server), &operation, 2, &|_| false, |i, reply| {
        items.insert(i, reply.map(|r| r.text()));
    })
    .await
    .unwrap();
    unmatched += collected.unmatched;
    assert_eq!(unmatched, 3);
    assert_eq!(items[&0], Ok("a".into()));
    assert!(items[&1].as_ref().unwrap_err().contains("no result"));
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_create_adopts_the_job_and_never_creates_twice() {
    let base = tempfile::tempdir().unwrap();
    let other = bodies::operation(
        "batches/other",
        "someone-else",
        "BATCH_STATE_RUNNING",
        &[("requestCount", 9)],
    );
    let ours = bodies::operation(
        JOB,
        "agent-fork-test",
        "BATCH_STATE_RUNNING",
        &[
            ("requestCount", 2),
            ("successfulRequestCount", 1),
            ("pendingRequestCount", 1),
        ],
    );
    let server = serve(vec![
        Interaction::new(RequestSpec::post(CREATE), ResponseSpec::json(pending(2))),
        Interaction::new(
            get("/v1beta/batches").with_query("pageSize", "100"),
            ResponseSpec::json(json!({"operations": [other], "nextPageToken": "p2"})),
        ),
        Interaction::new(
            get("/v1beta/batches").with_query("pageToken", "p2"),
            ResponseSpec::json(json!({"operations": [ours]})),
        ),
    ])
    .await;
    let client = client(&server);
    let journal = journal(base.path());
    let input = journal.dir().join(batch::BATCH_INPUT_FILE);
    // The first process: input written, "submitting" journalled, the create
    // request sent and answered, then it dies before journalling the name.
    batch::write_input(&input, items(2)).unwrap();
    journal
        .append(JournalEvent::BatchSubmitting {
            display_name: "agent-fork-test".into(),
            model: MODEL.into(),
            requests: 2,
        })
        .unwrap();
    client
        .create_batch(MODEL, &serde_json::from_value(inline_body(2)).unwrap())
        .await
        .unwrap();
    journal.flush().unwrap();
    // The resumed process.
    let record = read_journal(&journal.dir().join("journal.jsonl"), &key())
        .unwrap()
        .batch()
        .unwrap();
    assert!(record.name.is_none());
    let name = batch::submit_or_adopt(
        &client,
        &journal,
        &options(),
        Some(&record),
        &input,
        || -> Vec<(usize, GenerateContentRequest)> { panic!("the input is not rebuilt") },
    )
    .await
    .unwrap();
    assert_eq!(name.as_str(), JOB);
    assert_eq!(server.stats().requests_per_path[CREATE], 1, "created once");
    assert!(matches!(
        events(&journal).last(),
        Some(JournalEvent::BatchSubmitted { adopted: true, .. })
    ));
    server.assert_clean();
}

#[tokio::test(start_paused = true)]
async fn a_crash_before_create_submits_once_when_no_job_exists() {
    let base = tempfile::tempdir().unwrap();
    let server = serve(vec![
        Interaction::new(
            get("/v1beta/batches"),
            ResponseSpec::json(json!({"operations": []})),
        ),
        Interaction::new(
            RequestSpec::post(CREATE).with_body(BodyMatcher::Exact(inline_body(2))),
            ResponseSpec::json(pending(2)),
        ),
    ])
    .await;
    let client = client(&server);
    let journal = journal(base.path());
    let input = journal.dir().join(batch::BATCH_INPUT_FILE);
    batch::write_input(&input, items(2)).unwrap();
    journal
        .append(JournalEvent::BatchSubmitting {
            display_name: "agent-fork-test".into(),
            model: MODEL.into(),
            requests: 2,
        })
        .unwrap();
    journal.flush().unwrap();
    let record = read_journal(&journal.dir().join("journal.jsonl"), &key())
        .unwrap()
        .batch()
        .unwrap();
    let name = batch::submit_or_adopt(&client, &journal, &options(), Some(&record), &input, || {
        Vec::new()
    })
    .await
    .unwrap();
    assert_eq!(name.as_str(), JOB);
    assert_eq!(server.stats().requests_per_path[CREATE], 1);
    server.assert_clean();
}

#[tokio::test(start_paused = true)]
async fn a_429_on_create_is_waited_out_and_retried() {
    let base = tempfile::tempdir().unwrap();
    let too_many = ResponseSpec::new(
        429,
        ResponseBody::Json(
            json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
            "message": "Too many batch jobs in progress."}}),
        ),
    );
    let server = serve(vec![
        Interaction::new(RequestSpec::post(CREATE), too_many),
        Interaction::new(RequestSpec::post(CREATE), ResponseSpec::json(pending(1))),
    ])
    .await;
    let client = client(&server);
    let journal = journal(base.path());
    let input = journal.dir().join(batch::BATCH_INPUT_FILE);
    let started = tokio::time::Instant::now();
    let name = batch::submit_or_adopt(&client, &journal, &options(), None, &input, || items(1))
        .await
        .unwrap();
    assert_eq!(name.as_str(), JOB);
    assert_eq!(started.elapsed(), Duration::from_secs(10), "one backoff");
    assert_eq!(server.stats().requests_per_path[CREATE], 2);
    server.assert_clean();
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_wait_detaches_and_the_job_keeps_its_name() {
    let base = tempfile::tempdir().unwrap();
    let server = serve(vec![
        Interaction::new(get("/v1beta/batches/job1"), ResponseSpec::json(pending(1))).repeatable(),
    ])
    .await;
    let client = client(&server);
    let journal = journal(base.path());
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(12)).await;
        stopper.cancel();
    });
    let waited = batch::wait(
        &client,
        &journal,
        &genai_client::BatchName::parse(JOB).unwrap(),
        &options().poll,
        &cancel,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(waited, Waited::Detached);
    // Polled at 0 s and 5 s; the next poll (15 s) never happened.
    assert_eq!(server.stats().total_requests, 2);
    // One state, journalled once.
    let polled = events(&journal)
        .into_iter()
        .filter(|event| matches!(event, JournalEvent::BatchPolled { .. }))
        .count();
    assert_eq!(polled, 1);
}

#[tokio::test(start_paused = true)]
async fn large_input_is_uploaded_and_results_come_from_a_result_file() {
    let base = tempfile::tempdir().unwrap();
    let journal = journal(base.path());
    let input = journal.dir().join(batch::BATCH_INPUT_FILE);
    let (count, size) = batch::write_input(&input, items(40)).unwrap();
    std::fs::remove_file(&input).unwrap();
    assert_eq!(count, 40);
    let chunk = 1024;
    let mut interactions = vec![Interaction::new(
        RequestSpec::post("/upload/v1beta/files")
            .with_header("x-goog-upload-command", "start")
            .with_header("x-goog-upload-header-content-length", size.to_string()),
        ResponseSpec::json(json!({})).with_header(
            "x-goog-upload-url",
            "https://upload.invalid/upload/v1beta/files?upload_id=u1",
        ),
    )];
    let mut offset = 0;
    while offset < size {
        let last = offset + chunk >= size;
        interactions.push(Interaction::new(
            RequestSpec::post("/upload/v1beta/files")
                .with_query("upload_id", "u1")
                .with_header("x-goog-upload-offset", offset.to_string())
                .with_header(
                    "x-goog-upload-command",
                    if last { "upload, finalize" } else { "upload" },
                ),
            if last {
                ResponseSpec::json(bodies::uploaded_file("files/in1", "agent-fork-test", size))
            } else {
                ResponseSpec::json(json!({}))
            }
            .with_header(
                "x-goog-upload-status",
                if last { "final" } else { "active" },
            ),
        ));
        offset += chunk;
    }
    let mut lines: Vec<String> = (0..40)
        .rev()
        .filter(|i| i % 10 != 3)
        .map(|i| bodies::result_line(&i.to_string(), Reply::text(&format!("answer {i}")).json()))
        .collect();
    lines.push(bodies::error_line("3", 13, "Internal error."));
    interactions.push(Interaction::new(
        RequestSpec::post(CREATE).with_body(BodyMatcher::Exact(json!({"batch": {
            "displayName": "agent-fork-test", "inputConfig": {"fileName": "files/in1"}}}))),
        ResponseSpec::json(pending(40)),
    ));
    interactions.push(Interaction::new(
        get("/v1beta/batches/job1"),
        ResponseSpec::json(bodies::succeeded_file(
            JOB,
            "agent-fork-test",
            "files/batch-job1",
            40,
        )),
    ));
    interactions.push(Interaction::new(
        get("/v1beta/files/batch-job1:download").with_query("alt", "media"),
        ResponseSpec::text(200, lines.join("\n")),
    ));
    let server = serve(interactions).await;
    let client = client(&server);
    let mut options = options();
    options.inline_limit = 1000;
    options.chunk_size = chunk as usize;
    batch::submit_or_adopt(&client, &journal, &options, None, &input, || items(40))
        .await
        .unwrap();
    let name = genai_client::BatchName::parse(JOB).unwrap();
    let Waited::Ended(operation) = batch::wait(
        &client,
        &journal,
        &name,
        &options.poll,
        &CancellationToken::new(),
        |_| {},
    )
    .await
    .unwrap() else {
        panic!("ended")
    };
    let items = collect_all(&client, &operation, 40).await;
    assert_eq!(items.len(), 40);
    assert_eq!(items[&0], Ok("answer 0".into()));
    assert_eq!(items[&39], Ok("answer 39".into()));
    assert!(items[&3].as_ref().unwrap_err().contains("Internal error"));
    // Items 13, 23, 33 have no line: an error each.
    assert!(items[&13].as_ref().unwrap_err().contains("no result"));
    let uploaded: Vec<u8> = server
        .requests()
        .iter()
        .filter(|r| r.query.contains_key("upload_id"))
        .flat_map(|r| r.raw_body.to_vec())
        .collect();
    assert_eq!(uploaded.len() as u64, size);
    server.assert_clean();
}

#[tokio::test]
async fn failed_cancelled_and_expired_jobs_give_missing_items_an_error() {
    let server = serve(vec![]).await;
    let client = client(&server);
    for (state, word) in [
        ("BATCH_STATE_FAILED", "failed"),
        ("BATCH_STATE_EXPIRED", "expired"),
    ] {
        let operation: genai_client::Operation =
            serde_json::from_value(bodies::operation(JOB, "d", state, &[("requestCount", 2)]))
                .unwrap();
        let items = collect_all(&client, &operation, 2).await;
        assert_eq!(items.len(), 2);
        for item in items.values() {
            assert!(item.as_ref().unwrap_err().contains(word), "{item:?}");
        }
    }
    // Cancelled after one answer: that one is kept.
    let mut cancelled = bodies::succeeded_inline(
        JOB,
        "d",
        vec![bodies::inline_ok(Reply::text("done").json(), Some("0"))],
    );
    cancelled["metadata"]["state"] = json!("BATCH_STATE_CANCELLED");
    let operation: genai_client::Operation = serde_json::from_value(cancelled).unwrap();
    let items = collect_all(&client, &operation, 2).await;
    assert_eq!(items[&0], Ok("done".into()));
    assert!(items[&1].as_ref().unwrap_err().contains("cancelled"));
}
