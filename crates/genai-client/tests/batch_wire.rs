//! The Batch and Files APIs over loopback against authored cassettes
//! (test_support::batch, shaped like recorded bodies): the create body,
//! Operations in every state, inline results with and without echoed keys,
//! the resumable upload (chunks, offsets, finalize, status headers), the
//! streamed result file, list paging, cancel and delete, and a 429 on
//! create that is not retried.

use cassette::{
    BodyMatcher, Cassette, Fault, FaultSpec, FixtureServer, Interaction, RequestSpec, ResponseSpec,
    ServerOptions,
};
use genai_client::{
    ApiKey, BatchName, BatchSpec, BatchState, Client, ClientConfig, CreateBatchRequest, Error,
    FileName, GenerateContentRequest, InlinedRequest, InlinedRequests, InputConfig, RetryPolicy,
    Timeouts,
};
use serde_json::json;
use test_support::batch;
use test_support::gemini::Reply;

fn client(base_url: &str) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_api_key(ApiKey::new("test-key"))
        .with_base_url(base_url)
        .with_retry(RetryPolicy {
            jitter_seed: Some(7),
            ..RetryPolicy::default()
        });
    Client::new(config).unwrap()
}

async fn serve(interactions: Vec<Interaction>) -> FixtureServer {
    let mut cassette = Cassette::authored("batch_wire", "authored Batch API exchanges");
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

fn inline_create() -> CreateBatchRequest {
    CreateBatchRequest {
        batch: BatchSpec {
            display_name: "agent-fork-run1".into(),
            input_config: InputConfig::Requests(InlinedRequests {
                requests: ["Capital of France?", "Capital of Peru?"]
                    .iter()
                    .enumerate()
                    .map(|(i, task)| {
                        InlinedRequest::keyed(
                            i.to_string(),
                            GenerateContentRequest {
                                contents: vec![genai_client::Content::user(*task)],
                                ..Default::default()
                            },
                        )
                    })
                    .collect(),
            }),
        },
    }
}

#[tokio::test]
async fn an_inline_job_is_created_polled_and_read_with_keys_echoed() {
    let name = "batches/tti3ik8qob66dxcvynlg5swnutyntbi926ac";
    let body = serde_json::to_value(inline_create()).unwrap();
    let server = serve(vec![
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-2.5-flash-lite:batchGenerateContent")
                .with_body(BodyMatcher::Exact(body)),
            ResponseSpec::json(batch::operation(
                name,
                "agent-fork-run1",
                "BATCH_STATE_PENDING",
                &[("requestCount", 2), ("pendingRequestCount", 2)],
            )),
        ),
        Interaction::new(
            get(&format!("/v1beta/{name}")),
            ResponseSpec::json(batch::operation(
                name,
                "agent-fork-run1",
                "JOB_STATE_RUNNING",
                &[
                    ("requestCount", 2),
                    ("successfulRequestCount", 1),
                    ("pendingRequestCount", 1),
                ],
            )),
        ),
        Interaction::new(
            get(&format!("/v1beta/{name}")),
            ResponseSpec::json(batch::succeeded_inline(
                name,
                "agent-fork-run1",
                vec![
                    batch::inline_ok(Reply::text("Paris.").usage(5, 2, 0).json(), Some("0")),
                    batch::inline_error(8, "Resource exhausted.", Some("1")),
                ],
            )),
        ),
    ])
    .await;
    let client = client(&server.base_url());
    let created = client
        .create_batch("gemini-2.5-flash-lite", &inline_create())
        .await
        .unwrap();
    assert_eq!(created.state(), BatchState::Pending);
    assert_eq!(created.stats().pending_request_count, 2);
    let job = created.batch_name().unwrap();
    assert_eq!(job.as_str(), name);

    let running = client.get_batch(&job).await.unwrap();
    assert_eq!(
        running.state(),
        BatchState::Running,
        "JOB_STATE_* reads too"
    );
    assert_eq!(running.stats().successful_request_count, 1);
    assert!(running.output().is_none());

    let done = client.get_batch(&job).await.unwrap();
    assert!(done.done && done.state().is_terminal());
    assert_eq!(done.stats().failed_request_count, 1);
    let items = &done
        .output()
        .unwrap()
        .inlined_responses
        .as_ref()
        .unwrap()
        .inlined_responses;
    assert_eq!(items[0].key(), Some("0"));
    assert_eq!(items[0].response.as_ref().unwrap().text(), "Paris.");
    assert_eq!(items[1].key(), Some("1"));
    assert_eq!(items[1].error.as_ref().unwrap().code, Some(8));
    server.assert_clean();
}

#[tokio::test]
async fn output_falls_back_to_metadata_output() {
    let mut op = batch::succeeded_inline(
        "batches/b1",
        "d",
        vec![batch::inline_ok(Reply::text("x").json(), None)],
    );
    op.as_object_mut().unwrap().remove("response");
    let op: genai_client::Operation = serde_json::from_value(op).unwrap();
    let items = &op
        .output()
        .unwrap()
        .inlined_responses
        .as_ref()
        .unwrap()
        .inlined_responses;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].key(), None, "no metadata echoed");
}

#[tokio::test]
async fn failed_cancelled_and_expired_jobs_read_as_terminal_states() {
    for (wire, state) in [
        ("BATCH_STATE_FAILED", BatchState::Failed),
        ("BATCH_STATE_CANCELLED", BatchState::Cancelled),
        ("BATCH_STATE_EXPIRED", BatchState::Expired),
    ] {
        let mut op = batch::operation("batches/j", "d", wire, &[("requestCount", 3)]);
        if wire == "BATCH_STATE_FAILED" {
            op["error"] = json!({"code": 3, "message": "The input file is not valid JSONL."});
        }
        let server = serve(vec![Interaction::new(
            get("/v1beta/batches/j"),
            ResponseSpec::json(op),
        )])
        .await;
        let job = client(&server.base_url())
            .get_batch(&BatchName::parse("j").unwrap())
            .await
            .unwrap();
        assert_eq!(job.state(), state);
        assert!(job.state().is_terminal() && job.done);
        assert!(job.output().is_none());
        if state == BatchState::Failed {
            assert!(job.error.unwrap().to_string().contains("not valid JSONL"));
        }
        server.assert_clean();
    }
}

#[tokio::test]
async fn a_429_on_create_is_returned_at_once_and_not_retried() {
    let server = serve(vec![
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-2.5-flash-lite:batchGenerateContent"),
            ResponseSpec::new(
                429,
                cassette::ResponseBody::Json(json!({"error": {
                "code": 429, "status": "RESOURCE_EXHAUSTED",
                "message": "Too many batch jobs in progress."}})),
            ),
        )
        .repeatable(),
    ])
    .await;
    let error = client(&server.base_url())
        .create_batch("gemini-2.5-flash-lite", &inline_create())
        .await
        .unwrap_err();
    match &error {
        Error::Api(api) => assert_eq!(api.code, 429),
        other => panic!("expected the 429, got {other:?}"),
    }
    assert_eq!(server.stats().total_requests, 1, "create is never retried");
}

#[tokio::test]
async fn list_follows_page_tokens_and_cancel_and_delete_use_their_methods() {
    let running = batch::operation(
        "batches/r1",
        "agent-fork-x",
        "BATCH_STATE_RUNNING",
        &[
            ("requestCount", 4),
            ("successfulRequestCount", 1),
            ("pendingRequestCount", 3),
        ],
    );
    let mut cancel = RequestSpec::post("/v1beta/batches/r1:cancel");
    cancel.method = "POST".into();
    let mut delete = RequestSpec::post("/v1beta/batches/r1");
    delete.method = "DELETE".into();
    let server = serve(vec![
        Interaction::new(
            get("/v1beta/batches").with_query("pageSize", "50"),
            ResponseSpec::json(json!({"operations": [running], "nextPageToken": "t+1="})),
        ),
        Interaction::new(
            get("/v1beta/batches").with_query("pageToken", "t+1="),
            ResponseSpec::json(json!({"operations": []})),
        ),
        Interaction::new(cancel, ResponseSpec::json(json!({}))),
        Interaction::new(delete, ResponseSpec::json(json!({}))),
    ])
    .await;
    let client = client(&server.base_url());
    let first = client.list_batches_page(Some(50), None).await.unwrap();
    assert_eq!(first.operations[0].display_name(), Some("agent-fork-x"));
    assert_eq!(first.operations[0].stats().pending_request_count, 3);
    let token = first.next_page_token.unwrap();
    let second = client.list_batches_page(None, Some(&token)).await.unwrap();
    assert!(second.operations.is_empty() && second.next_page_token.is_none());
    let job = BatchName::parse("batches/r1").unwrap();
    client.cancel_batch(&job).await.unwrap();
    client.delete_batch(&job).await.unwrap();
    server.assert_clean();
}

/// The session URL the stand-in's upload start answers with (nothing
/// listens there: the client must follow the stand-in's own address).
const SESSION: &str = "http://127.0.0.1:1/upload/v1beta/files?upload_id=sess-1";

/// 25 bytes, `a` to `y`.
fn alphabet() -> Vec<u8> {
    (0..25u8).map(|i| b'a' + i).collect()
}

/// Uploads `data` (25 bytes) as `agent-fork-run1` in chunks of 10 to the
/// server at `base_url`.
async fn upload_25_in_tens(
    base_url: &str,
    data: &[u8],
) -> Result<genai_client::File, genai_client::Error> {
    client(base_url)
        .upload_file("agent-fork-run1", "application/jsonl", 25, data, 10)
        .await
}

fn upload_interactions(session: &str, chunks: &[(u64, &str, &str)], size: u64) -> Vec<Interaction> {
    let mut list = vec![Interaction::new(
        RequestSpec::post("/upload/v1beta/files")
            .with_header("x-goog-upload-protocol", "resumable")
            .with_header("x-goog-upload-command", "start")
            .with_header("x-goog-upload-header-content-length", size.to_string())
            .with_header("x-goog-upload-header-content-type", "application/jsonl")
            .with_body(BodyMatcher::Exact(
                json!({"file": {"displayName": "agent-fork-run1"}}),
            )),
        ResponseSpec::json(json!({})).with_header("x-goog-upload-url", session),
    )];
    for (offset, command, status) in chunks {
        let mut response = if *status == "final" {
            ResponseSpec::json(batch::uploaded_file(
                "files/abc123",
                "agent-fork-run1",
                size,
            ))
        } else {
            ResponseSpec::json(json!({}))
        };
        response = response.with_header("x-goog-upload-status", *status);
        list.push(Interaction::new(
            RequestSpec::post("/upload/v1beta/files")
                .with_query("upload_id", "sess-1")
                .with_header("x-goog-upload-command", *command)
                .with_header("x-goog-upload-offset", offset.to_string()),
            response,
        ));
    }
    list
}

#[tokio::test]
async fn a_file_is_uploaded_in_chunks_and_finalized() {
    let data = alphabet();
    // A session URL on another host: only its path and query are used.
    let session = "https://uploads.example.invalid/upload/v1beta/files?upload_id=sess-1";
    let server = serve(upload_interactions(
        session,
        &[
            (0, "upload", "active"),
            (10, "upload", "active"),
            (20, "upload, finalize", "final"),
        ],
        25,
    ))
    .await;
    let file = upload_25_in_tens(&server.base_url(), &data).await.unwrap();
    assert_eq!(file.name.unwrap().as_str(), "files/abc123");
    assert_eq!(file.size_bytes, Some(25));
    let requests = server.requests();
    let bodies: Vec<&[u8]> = requests[1..].iter().map(|r| &r.raw_body[..]).collect();
    assert_eq!(bodies, [&data[..10], &data[10..20], &data[20..]]);
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("x-goog-api-key"))
    );
    server.assert_clean();
}

#[tokio::test]
async fn an_upload_that_does_not_finalize_is_an_error() {
    let data = [b'x'; 8];
    let server = serve(upload_interactions(
        SESSION,
        &[(0, "upload, finalize", "active")],
        8,
    ))
    .await;
    let error = client(&server.base_url())
        .upload_file("agent-fork-run1", "application/jsonl", 8, &data[..], 1024)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("upload stopped"), "{error}");
}

#[tokio::test]
async fn a_result_file_is_read_line_by_line() {
    let mut text = String::new();
    text.push_str(&batch::result_line("1", Reply::text("Lima.").json()));
    text.push('\n');
    text.push_str(&batch::error_line("0", 13, "Internal error."));
    text.push_str("\n\n");
    text.push_str(&batch::result_line("2", Reply::text("Oslo.").json()));
    let server = serve(vec![Interaction::new(
        get("/v1beta/files/batch-abc:download").with_query("alt", "media"),
        ResponseSpec::text(200, text).with_header("content-type", "application/octet-stream"),
    )])
    .await;
    let mut lines = client(&server.base_url())
        .download_results(&FileName::parse("files/batch-abc").unwrap())
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(line) = lines.next_line().await {
        let line = line.unwrap();
        seen.push((
            line.key.clone().unwrap(),
            line.response.map(|r| r.text()),
            line.error.and_then(|e| e.code),
        ));
    }
    assert_eq!(
        seen,
        [
            ("1".to_owned(), Some("Lima.".to_owned()), None),
            ("0".to_owned(), None, Some(13)),
            ("2".to_owned(), Some("Oslo.".to_owned()), None),
        ]
    );
    server.assert_clean();
}

/// The session's answer to `X-Goog-Upload-Command: query`.
fn upload_query(received: u64) -> Interaction {
    Interaction::new(
        RequestSpec::post("/upload/v1beta/files")
            .with_query("upload_id", "sess-1")
            .with_header("x-goog-upload-command", "query"),
        ResponseSpec::text(200, "")
            .with_header("x-goog-upload-status", "active")
            .with_header("x-goog-upload-size-received", received.to_string()),
    )
}

/// The upload commands the server saw, with their offsets.
fn upload_commands(server: &FixtureServer) -> Vec<(String, String, usize)> {
    server
        .requests()
        .iter()
        .map(|r| {
            let header = |name: &str| r.headers.get(name).cloned().unwrap_or_default();
            (
                header("x-goog-upload-command"),
                header("x-goog-upload-offset"),
                r.raw_body.len(),
            )
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_failed_chunk_is_resumed_from_what_the_session_holds() {
    let data = alphabet();
    let mut interactions = upload_interactions(
        SESSION,
        &[
            (0, "upload", "active"),
            (10, "upload", "active"),
            (20, "upload, finalize", "final"),
        ],
        25,
    );
    // The second chunk fails once (503): the session still holds 10 bytes,
    // so the same chunk goes again.
    interactions[2] = interactions[2]
        .clone()
        .with_fault(FaultSpec::once(Fault::Unavailable));
    interactions.push(upload_query(10));
    let server = serve(interactions).await;
    let file = upload_25_in_tens(&server.base_url(), &data).await.unwrap();
    assert_eq!(file.name.unwrap().as_str(), "files/abc123");
    let seen: Vec<(String, String, usize)> = upload_commands(&server);
    let seen: Vec<(&str, &str, usize)> = seen
        .iter()
        .map(|(c, o, n)| (c.as_str(), o.as_str(), *n))
        .collect();
    assert_eq!(
        seen[1..],
        [
            ("upload", "0", 10),
            ("upload", "10", 10),
            ("query", "", 0),
            ("upload", "10", 10),
            ("upload, finalize", "20", 5),
        ]
    );
    let requests = server.requests();
    assert_eq!(&requests[4].raw_body[..], &data[10..20]);
    server.assert_clean();
}

#[tokio::test(start_paused = true)]
async fn a_chunk_cut_mid_way_is_resumed_from_the_byte_the_session_reports() {
    let data = alphabet();
    let mut interactions = upload_interactions(
        SESSION,
        &[
            (0, "upload", "active"),
            (10, "upload", "active"),
            (22, "upload, finalize", "final"),
        ],
        25,
    );
    // The last chunk's connection is reset; the session got 2 of its bytes.
    interactions.push(
        Interaction::new(
            RequestSpec::post("/upload/v1beta/files")
                .with_query("upload_id", "sess-1")
                .with_header("x-goog-upload-command", "upload, finalize")
                .with_header("x-goog-upload-offset", "20"),
            ResponseSpec::json(json!({})),
        )
        .repeatable()
        .with_fault(FaultSpec::once(Fault::ResetBeforeResponse)),
    );
    interactions.push(upload_query(22));
    let server = serve(interactions).await;
    let file = upload_25_in_tens(&server.base_url(), &data).await.unwrap();
    assert_eq!(file.name.unwrap().as_str(), "files/abc123");
    let requests = server.requests();
    let last = requests.last().unwrap();
    assert_eq!(last.headers["x-goog-upload-offset"], "22");
    assert_eq!(&last.raw_body[..], &data[22..]);
    assert_eq!(server.stats().total_requests, 6);
}

#[tokio::test(start_paused = true)]
async fn a_session_that_lost_bytes_before_the_chunk_is_an_error() {
    let data = [b'x'; 25];
    let mut interactions = upload_interactions(
        SESSION,
        &[(0, "upload", "active"), (10, "upload", "active")],
        25,
    );
    interactions[2] = interactions[2]
        .clone()
        .with_fault(FaultSpec::once(Fault::Internal));
    // It claims fewer bytes than were confirmed: the stream cannot go back.
    interactions.push(upload_query(4));
    let server = serve(interactions).await;
    let error = upload_25_in_tens(&server.base_url(), &data)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("holds 4 bytes"), "{error}");
}

#[tokio::test]
async fn an_upload_recorded_through_the_proxy_replays() {
    let data = alphabet();
    let upstream = serve(upload_interactions(
        "https://uploads.example.invalid/upload/v1beta/files?upload_id=sess-1",
        &[
            (0, "upload", "active"),
            (10, "upload", "active"),
            (20, "upload, finalize", "final"),
        ],
        25,
    ))
    .await;
    let proxy = cassette::RecordingProxy::start(&upstream.base_url())
        .await
        .unwrap();
    let recorded_file = upload_25_in_tens(&proxy.base_url(), &data).await.unwrap();
    upstream.assert_clean();
    let recorded = proxy.finish("upload", "recorded in a test against a fixture upstream");
    // The session URL and each chunk's status are kept.
    assert_eq!(
        recorded.interactions[0].response.headers["x-goog-upload-url"],
        "https://uploads.example.invalid/upload/v1beta/files?upload_id=sess-1"
    );
    assert_eq!(
        recorded.interactions[3].response.headers["x-goog-upload-status"],
        "final"
    );
    let replay = FixtureServer::start(vec![recorded], ServerOptions::default())
        .await
        .unwrap();
    let replayed = upload_25_in_tens(&replay.base_url(), &data).await.unwrap();
    assert_eq!(replayed, recorded_file);
    replay.assert_clean();
}
