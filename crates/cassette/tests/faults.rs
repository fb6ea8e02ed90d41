//! Every fault kind as a plain HTTP client observes it, and random fault
//! injection that does not depend on request arrival order.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cassette::{
    Fault, FaultKind, FaultSpec, FixtureServer, Interaction, RandomFaults, RequestSpec,
    ResponseSpec, ServerOptions, SseEvent,
};
use common::{GENERATE, STREAM, answer, ask, cassette, client, post, qa};
use serde_json::{Value, json};

async fn server_with(interaction: Interaction) -> FixtureServer {
    FixtureServer::start(
        vec![cassette("faults", vec![interaction])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts")
}

fn faulted(fault: Fault) -> Interaction {
    qa("q", "the real answer").with_fault(FaultSpec::once(fault))
}

fn stream_interaction(events: usize) -> Interaction {
    let events = (0..events)
        .map(|i| SseEvent::delayed(answer(&format!("part {i}")), if i == 0 { 0 } else { 100 }))
        .collect();
    Interaction::new(
        RequestSpec::post(STREAM).with_query("alt", "sse"),
        ResponseSpec::sse(events),
    )
}

fn frame(i: usize) -> String {
    format!(
        "data: {}\r\n\r\n",
        serde_json::to_string(&answer(&format!("part {i}"))).expect("json")
    )
}

/// Asserts the next request gets the real answer and the cassette is clean.
async fn then_real_answer(server: &FixtureServer) {
    let (status, body) = post(&client(), &server.base_url(), GENERATE, &ask("q")).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json"),
        answer("the real answer")
    );
    server.assert_clean();
}

/// The kind of the I/O error at the root of a reqwest error, if any.
fn io_error_kind(error: &reqwest::Error) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = current.source();
    }
    None
}

fn fault_count(server: &FixtureServer, kind: FaultKind) -> u64 {
    server
        .stats()
        .faults_injected
        .get(&kind)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn rate_limited_sends_the_real_error_envelope_with_retry_info() {
    let server = server_with(qa("q", "the real answer").with_fault(FaultSpec::times(
        Fault::RateLimited {
            retry_delay: Duration::from_secs(13),
        },
        2,
    )))
    .await;
    for _ in 0..2 {
        let response = client()
            .post(format!("{}{GENERATE}", server.base_url()))
            .json(&ask("q"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(
            response.headers()["content-type"],
            "application/json; charset=UTF-8"
        );
        let body: Value = response.json().await.expect("json envelope");
        assert_eq!(body["error"]["code"], 429);
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(
            body["error"]["details"][0],
            json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"})
        );
    }
    then_real_answer(&server).await;
    assert_eq!(fault_count(&server, FaultKind::RateLimited), 2);
}

#[tokio::test]
async fn fractional_retry_delay_is_rendered_like_protobuf() {
    let server = server_with(faulted(Fault::RateLimited {
        retry_delay: Duration::from_millis(500),
    }))
    .await;
    let (status, body) = post(&client(), &server.base_url(), GENERATE, &ask("q")).await;
    assert_eq!(status, 429);
    assert!(body.contains(r#""retryDelay":"0.5s""#), "{body}");
    then_real_answer(&server).await;
}

#[tokio::test]
async fn internal_and_unavailable_envelopes() {
    for (fault, code, status, message) in [
        (
            Fault::Internal,
            500,
            "INTERNAL",
            "An internal error has occurred",
        ),
        (
            Fault::Unavailable,
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
    ] {
        let server = server_with(faulted(fault)).await;
        let (got, body) = post(&client(), &server.base_url(), GENERATE, &ask("q")).await;
        assert_eq!(got, code);
        let body: Value = serde_json::from_str(&body).expect("json envelope");
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["status"], status);
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .starts_with(message)
        );
        then_real_answer(&server).await;
    }
}

#[tokio::test]
async fn reset_before_response_is_a_connection_error() {
    let server = server_with(faulted(Fault::ResetBeforeResponse)).await;
    let result = client()
        .post(format!("{}{GENERATE}", server.base_url()))
        .json(&ask("q"))
        .send()
        .await;
    let error = result.expect_err("the connection was reset");
    assert_eq!(
        io_error_kind(&error),
        Some(std::io::ErrorKind::ConnectionReset),
        "{error:?}"
    );
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert!(error.is_request(), "{error:?}");
    then_real_answer(&server).await;
    assert_eq!(fault_count(&server, FaultKind::ResetBeforeResponse), 1);
}

#[tokio::test]
async fn reset_during_body_fails_the_body_read() {
    let server = server_with(faulted(Fault::ResetDuringBody)).await;
    let response = client()
        .post(format!("{}{GENERATE}", server.base_url()))
        .json(&ask("q"))
        .send()
        .await
        .expect("status and headers arrive");
    assert_eq!(response.status().as_u16(), 200);
    let error = response.bytes().await.expect_err("body is cut off");
    assert_eq!(
        io_error_kind(&error),
        Some(std::io::ErrorKind::ConnectionReset),
        "{error:?}"
    );
    assert!(
        error.is_body() || error.is_decode() || error.is_request(),
        "{error:?}"
    );
    then_real_answer(&server).await;
}

#[tokio::test(start_paused = true)]
async fn stall_is_observed_as_a_client_timeout() {
    let server = server_with(faulted(Fault::Stall {
        duration: Duration::from_secs(120),
    }))
    .await;
    let result = client()
        .post(format!("{}{GENERATE}", server.base_url()))
        .timeout(Duration::from_secs(10))
        .json(&ask("q"))
        .send()
        .await;
    let error = result.expect_err("nothing arrives before the timeout");
    assert!(error.is_timeout(), "{error:?}");
    then_real_answer(&server).await;
}

#[tokio::test(start_paused = true)]
async fn cut_sse_sends_whole_events_then_half_of_the_next() {
    let interaction =
        stream_interaction(4).with_fault(FaultSpec::once(Fault::CutSse { after_events: 2 }));
    let server = server_with(interaction).await;
    let url = format!("{}{STREAM}?alt=sse", server.base_url());
    let mut response = client()
        .post(&url)
        .json(&ask("q"))
        .send()
        .await
        .expect("head arrives");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut received = Vec::new();
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => panic!(
                "stream ended cleanly: {}",
                String::from_utf8_lossy(&received)
            ),
            Err(error) => break error,
        }
    };
    assert!(
        error.is_body() || error.is_decode() || error.is_request(),
        "{error:?}"
    );
    let text = String::from_utf8(received).expect("utf-8");
    let whole = frame(0) + &frame(1);
    assert!(text.starts_with(&whole), "{text}");
    let partial = &text[whole.len()..];
    let third = frame(2);
    assert_eq!(partial, &third[..third.len() / 2]);

    // The retry gets the whole stream.
    let body = client()
        .post(&url)
        .json(&ask("q"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    assert_eq!(body, (0..4).map(frame).collect::<String>());
    server.assert_clean();
}

#[tokio::test]
async fn malformed_json_does_not_parse() {
    let server = server_with(faulted(Fault::MalformedJson)).await;
    let (status, body) = post(&client(), &server.base_url(), GENERATE, &ask("q")).await;
    assert_eq!(status, 200);
    assert!(!body.is_empty());
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    then_real_answer(&server).await;

    let server =
        server_with(stream_interaction(2).with_fault(FaultSpec::once(Fault::MalformedJson))).await;
    let url = format!("{}{STREAM}?alt=sse", server.base_url());
    let body = client()
        .post(&url)
        .json(&ask("q"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let data = body
        .strip_prefix("data: ")
        .and_then(|b| b.strip_suffix("\r\n\r\n"))
        .expect("one framed event");
    assert!(serde_json::from_str::<Value>(data).is_err(), "{data}");
}

#[tokio::test(start_paused = true)]
async fn latency_delays_the_real_response_and_uses_the_interaction() {
    let server = server_with(faulted(Fault::Latency {
        delay: Duration::from_secs(5),
    }))
    .await;
    let started = tokio::time::Instant::now();
    let (status, _) = post(&client(), &server.base_url(), GENERATE, &ask("q")).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "virtual clock shows the delay"
    );
    server.assert_clean();
    assert_eq!(fault_count(&server, FaultKind::Latency), 1);
}

/// Outcome per request body: the sorted list of fault kinds (or "ok") seen.
type Outcomes = BTreeMap<String, Vec<String>>;

async fn random_run(order: &[usize], concurrent: bool) -> Outcomes {
    let tokens = |i: usize| {
        Interaction::new(
            RequestSpec::post(GENERATE)
                .with_body(cassette::BodyMatcher::Exact(ask(&format!("q{i}")))),
            ResponseSpec::json(answer("a")),
        )
        .repeatable()
    };
    let options = ServerOptions {
        random_faults: Some(RandomFaults {
            seed: 7,
            rates: vec![
                (FaultKind::RateLimited, 0.3),
                (FaultKind::Internal, 0.15),
                (FaultKind::Unavailable, 0.15),
            ],
        }),
        ..ServerOptions::default()
    };
    let server = FixtureServer::start(
        vec![cassette("random", (0..10).map(tokens).collect())],
        options,
    )
    .await
    .expect("server starts");
    let client = client();
    let send = |i: usize| {
        let (client, base) = (client.clone(), server.base_url());
        async move { post(&client, &base, GENERATE, &ask(&format!("q{i}"))).await }
    };
    if concurrent {
        let tasks: Vec<_> = order.iter().map(|&i| tokio::spawn(send(i))).collect();
        for task in tasks {
            task.await.expect("task completes");
        }
    } else {
        for &i in order {
            send(i).await;
        }
    }
    let mut outcomes = Outcomes::new();
    for request in server.requests() {
        let body = request.body.expect("json body")["contents"][0]["parts"][0]["text"].to_string();
        let outcome = request
            .fault
            .map_or_else(|| "ok".to_owned(), |kind| format!("{kind:?}"));
        outcomes.entry(body).or_default().push(outcome);
    }
    outcomes.values_mut().for_each(|v| v.sort());
    outcomes
}

#[tokio::test]
async fn random_faults_do_not_depend_on_arrival_order() {
    // Each of 10 requests three times: in order, then shuffled and concurrent.
    let ordered: Vec<usize> = (0..30).map(|n| n % 10).collect();
    let mut shuffled = ordered.clone();
    fastrand::Rng::with_seed(99).shuffle(&mut shuffled);
    assert_ne!(ordered, shuffled);
    let first = random_run(&ordered, false).await;
    let second = random_run(&shuffled, true).await;
    assert_eq!(first, second);
    let all: Vec<&String> = first.values().flatten().collect();
    assert!(all.iter().any(|o| *o == "ok"), "{first:?}");
    assert!(all.iter().any(|o| *o != "ok"), "{first:?}");
}

#[tokio::test]
async fn randomly_faulted_requests_do_not_use_up_the_interaction() {
    let options = ServerOptions {
        random_faults: Some(RandomFaults {
            seed: 3,
            rates: vec![(FaultKind::Unavailable, 0.5)],
        }),
        ..ServerOptions::default()
    };
    let server = FixtureServer::start(
        vec![cassette("retry", vec![qa("q", "the real answer")])],
        options,
    )
    .await
    .expect("server starts");
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts < 50, "a 50% fault rate let nothing through");
        let (status, body) = post(&client(), &server.base_url(), GENERATE, &ask("q")).await;
        if status == 200 {
            assert!(body.contains("the real answer"));
            break;
        }
        assert_eq!(status, 503);
    }
    server.assert_clean();
    let stats = server.stats();
    assert_eq!(stats.interaction_hits[0].hits, attempts);
    assert_eq!(fault_count(&server, FaultKind::Unavailable), attempts - 1);
}
