//! The fixture server's wire format (JSON, SSE framing and pacing), its
//! counters and request log, and its lifecycle.

mod common;

use std::time::Duration;

use cassette::{
    FixtureServer, Interaction, RequestSpec, ResponseSpec, ServerError, ServerOptions, SseEvent,
};
use common::{GENERATE, STREAM, answer, ask, cassette, client, post, qa};
use serde_json::json;

fn frame(i: usize) -> String {
    format!(
        "data: {}\r\n\r\n",
        serde_json::to_string(&answer(&format!("part {i}"))).expect("json")
    )
}

fn streaming(delay_ms: u64) -> Interaction {
    let events = (0..3)
        .map(|i| SseEvent::delayed(answer(&format!("part {i}")), delay_ms))
        .collect();
    Interaction::new(
        RequestSpec::post(STREAM).with_query("alt", "sse"),
        ResponseSpec::sse(events),
    )
}

#[tokio::test]
async fn json_responses_use_the_real_content_type_and_compact_json() {
    let server = FixtureServer::start(
        vec![cassette("json", vec![qa("q", "a")])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let response = client()
        .post(format!("{}{GENERATE}", server.base_url()))
        .json(&ask("q"))
        .send()
        .await
        .expect("ok");
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=UTF-8"
    );
    let body = response.text().await.expect("body");
    assert_eq!(body, serde_json::to_string(&answer("a")).expect("json"));
}

#[tokio::test]
async fn text_bodies_and_header_overrides() {
    let mut response = ResponseSpec::text(404, "<html>Not Found</html>");
    response
        .headers
        .insert("content-type".into(), "text/html".into());
    response.headers.insert("x-extra".into(), "1".into());
    let interaction = Interaction::new(
        RequestSpec::post("/v1beta/models/nope:generateContent"),
        response,
    );
    let server = FixtureServer::start(
        vec![cassette("text", vec![interaction])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let response = client()
        .post(format!(
            "{}/v1beta/models/nope:generateContent",
            server.base_url()
        ))
        .body("not json")
        .send()
        .await
        .expect("ok");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.headers()["x-extra"], "1");
    assert_eq!(
        response.text().await.expect("body"),
        "<html>Not Found</html>"
    );
    assert_eq!(
        server.requests()[0].body,
        None,
        "non-JSON bodies are logged raw only"
    );
    assert_eq!(&server.requests()[0].raw_body[..], b"not json");
}

#[tokio::test]
async fn invalid_headers_are_refused_at_start() {
    let mut response = ResponseSpec::json(json!({}));
    response.headers.insert("bad header".into(), "x".into());
    let interaction = Interaction::new(RequestSpec::post("/x"), response);
    let error = FixtureServer::start(
        vec![cassette("bad", vec![interaction])],
        ServerOptions::default(),
    )
    .await
    .expect_err("header name has a space");
    assert!(
        matches!(error, ServerError::InvalidResponse { index: 0, .. }),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn sse_is_framed_like_the_real_api_and_flushed_event_by_event() {
    let server = FixtureServer::start(
        vec![cassette("sse", vec![streaming(1000)])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let started = tokio::time::Instant::now();
    let mut response = client()
        .post(format!("{}{STREAM}?alt=sse", server.base_url()))
        .json(&ask("q"))
        .send()
        .await
        .expect("head arrives");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    // The first event arrives on its own: the next one is a virtual second away.
    let first = response.chunk().await.expect("reads").expect("a chunk");
    assert_eq!(String::from_utf8_lossy(&first), frame(0));
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("reads") {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(
        String::from_utf8(rest).expect("utf-8"),
        frame(1) + &frame(2)
    );
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "each event waited its delay_ms"
    );
    server.assert_clean();
}

#[tokio::test(start_paused = true)]
async fn counters_track_concurrency_paths_and_hits() {
    let mut slow = ResponseSpec::json(json!({"totalTokens": 1}));
    slow.latency_ms = Some(1000);
    let count =
        Interaction::new(RequestSpec::post("/v1beta/models/m:countTokens"), slow).repeatable();
    let server = FixtureServer::start(
        vec![cassette("count", vec![count, qa("q", "a")])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let client = client();
    const N: usize = 5;
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (client, base) = (client.clone(), server.base_url());
            tokio::spawn(async move {
                post(&client, &base, "/v1beta/models/m:countTokens", &json!({})).await
            })
        })
        .collect();
    // Busy-yield (never idle, so the paused clock cannot advance) until all
    // N requests are held by their latency at once.
    let mut spins = 0;
    while server.stats().in_flight < N {
        spins += 1;
        assert!(
            spins < 100_000,
            "requests never all got in flight: {:?}",
            server.stats()
        );
        tokio::task::yield_now().await;
    }
    for task in tasks {
        assert_eq!(task.await.expect("task completes").0, 200);
    }
    post(&client, &server.base_url(), GENERATE, &ask("q")).await;
    let mut spins = 0;
    while server.stats().in_flight > 0 {
        spins += 1;
        assert!(spins < 100_000, "in-flight count never dropped back to 0");
        tokio::task::yield_now().await;
    }
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, N);
    assert_eq!(stats.total_requests, N as u64 + 1);
    assert_eq!(stats.unmatched_requests, 0);
    assert_eq!(
        stats.requests_per_path["/v1beta/models/m:countTokens"],
        N as u64
    );
    assert_eq!(stats.requests_per_path[GENERATE], 1);
    let hits: Vec<u64> = stats.interaction_hits.iter().map(|h| h.hits).collect();
    assert_eq!(hits, vec![N as u64, 1]);
    assert!(stats.faults_injected.is_empty());
    server.assert_clean();
}

#[tokio::test]
async fn request_log_keeps_query_and_body() {
    let server = FixtureServer::start(
        vec![cassette("log", vec![streaming(0)])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let url = format!("{}{STREAM}?alt=sse&key=secret%20key", server.base_url());
    client()
        .post(url)
        .json(&ask("q"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", STREAM)
    );
    assert_eq!(
        request.query.get("key").map(String::as_str),
        Some("secret key")
    );
    assert_eq!(request.body, Some(ask("q")));
    assert_eq!(request.matched.map(|id| id.index), Some(0));
}

#[tokio::test(start_paused = true)]
async fn global_latency_and_shutdown() {
    let options = ServerOptions {
        latency: Some(Duration::from_millis(1)),
        ..ServerOptions::default()
    };
    let server = FixtureServer::start(vec![cassette("bye", vec![qa("q", "a")])], options)
        .await
        .expect("starts");
    let base = server.base_url();
    assert_eq!(post(&client(), &base, GENERATE, &ask("q")).await.0, 200);
    server.shutdown().await;
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let error = fresh
        .post(format!("{base}{GENERATE}"))
        .send()
        .await
        .expect_err("server is gone");
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn serve_until_verifies_on_stop() {
    let server = FixtureServer::start(
        vec![cassette("cli", vec![qa("q", "a")])],
        ServerOptions::default(),
    )
    .await
    .expect("starts");
    let base = server.base_url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_until(async move {
        let _ = stopped.await;
    }));
    assert_eq!(post(&client(), &base, GENERATE, &ask("q")).await.0, 200);
    stop.send(()).expect("server still serving");
    serving
        .await
        .expect("task completes")
        .expect("cassette fully used");
}
