//! A streamed call ends at its deadlines however the server paces its
//! reply: a chunk every 5 s stops at the overall deadline, a byte every 60 s
//! stops at the idle deadline (bytes that complete no chunk are not
//! progress). Paused tokio time against the loopback fixture server.

use std::time::Duration;

use cassette::{
    Cassette, Fault, FaultSpec, FixtureServer, Interaction, RequestSpec, ResponseSpec,
    ServerOptions, SseEvent,
};
use genai_client::{
    Client, ClientConfig, Content, Error, GenerateContentRequest, RetryPolicy, TimeoutPhase,
    Timeouts,
};
use tokio::time::Instant;

const PATH: &str = "/v1beta/models/m:streamGenerateContent";

use test_support::gemini::chunk;

async fn serve(response: ResponseSpec, fault: Option<Fault>) -> FixtureServer {
    let mut cassette = Cassette::authored("deadlines", "authored: paced stream replies");
    let mut interaction =
        Interaction::new(RequestSpec::post(PATH).with_query("alt", "sse"), response);
    if let Some(fault) = fault {
        interaction = interaction.with_fault(FaultSpec::once(fault));
    }
    cassette.interactions.push(interaction);
    let options = ServerOptions {
        strict: false,
        ..ServerOptions::default()
    };
    FixtureServer::start(vec![cassette], options).await.unwrap()
}

/// Only the stream deadlines are set: other timers in paused time could
/// fire while loopback I/O is in flight (see ARCHITECTURE.md).
fn client(server: &FixtureServer) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts {
            stream_idle: Some(Duration::from_secs(90)),
            stream_total: Some(Duration::from_secs(600)),
            ..Timeouts::none()
        })
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .with_base_url(&server.base_url());
    Client::new(config).unwrap()
}

fn request() -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user("Tell me a long story.")],
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_chunk_every_5_s_stops_at_the_overall_deadline() {
    // 200 chunks 5 s apart would take 1,000 s: past the 600 s deadline.
    let events = (0..200)
        .map(|i| SseEvent::delayed(chunk(&format!("part {i} ")), 5_000))
        .collect();
    let server = serve(ResponseSpec::sse(events), None).await;
    let started = Instant::now();
    let mut stream = client(&server)
        .stream_generate_content("m", &request())
        .await
        .unwrap();
    let mut chunks = 0;
    let error = loop {
        match stream.next().await {
            Some(Ok(_)) => chunks += 1,
            Some(Err(error)) => break error,
            None => panic!("the stream ended after {chunks} chunks without a timeout"),
        }
    };
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: TimeoutPhase::StreamTotal,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("shorter answer"), "{error}");
    let elapsed = started.elapsed();
    assert!(
        (Duration::from_secs(600)..Duration::from_secs(606)).contains(&elapsed),
        "{elapsed:?}"
    );
    assert!((110..=120).contains(&chunks), "{chunks} chunks");
    assert!(stream.next().await.is_none(), "an error ends the stream");
}

#[tokio::test(start_paused = true)]
async fn a_byte_every_60_s_stops_at_the_idle_deadline() {
    let events = vec![SseEvent::new(chunk("one")), SseEvent::new(chunk("two"))];
    let every = Duration::from_secs(60);
    let server = serve(
        ResponseSpec::sse(events),
        Some(Fault::ByteTrickle { every }),
    )
    .await;
    let started = Instant::now();
    let result = client(&server)
        .stream_generate_content("m", &request())
        .await;
    let error = result.expect_err("no chunk ever completes");
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: TimeoutPhase::StreamIdle,
                ..
            }
        ),
        "{error}"
    );
    let elapsed = started.elapsed();
    assert!(
        (Duration::from_secs(90)..Duration::from_secs(120)).contains(&elapsed),
        "{elapsed:?}"
    );
}
