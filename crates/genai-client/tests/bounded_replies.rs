//! Oversized replies fail with `Error::TooLarge` and memory stays bounded:
//! a 200 MB unary body and 100 MB streams (one endless event, and many
//! small events) against limits of a few MiB. This test binary counts every
//! allocation (`cap`'s counting allocator), so the peak is measured, not
//! guessed. One test function, so no other test allocates at the same time.

use std::alloc::System;

use cap::Cap;
use cassette::{
    Cassette, Fault, FaultSpec, FixtureServer, Interaction, RequestSpec, ResponseSpec,
    ServerOptions, SseEvent,
};
use genai_client::{
    Client, ClientConfig, Content, Error, GenerateContentRequest, ReplyLimits, ReplyPart,
    RetryPolicy, Timeouts,
};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

const MIB: u64 = 1024 * 1024;
const GENERATE: &str = "/v1beta/models/m:generateContent";
const STREAM: &str = "/v1beta/models/m:streamGenerateContent";

fn reply() -> serde_json::Value {
    test_support::gemini::chunk("ok")
}

fn client(server: &FixtureServer, limits: ReplyLimits) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .with_limits(limits)
        .with_base_url(&server.base_url());
    Client::new(config).unwrap()
}

fn request() -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user("Say a lot.")],
        ..Default::default()
    }
}

fn too_large(result: Result<impl std::fmt::Debug, Error>, expected: ReplyPart) {
    match result {
        Err(Error::TooLarge { part, .. }) if part == expected => {}
        other => panic!("expected TooLarge({expected:?}), got {other:?}"),
    }
}

/// The most bytes allocated at once since `before` was taken, above it.
fn peak_above(before: usize) -> u64 {
    (ALLOCATOR.max_allocated().saturating_sub(before)) as u64
}

#[tokio::test]
async fn oversized_replies_fail_and_memory_stays_bounded() {
    let mut cassette = Cassette::authored("floods", "authored: oversized replies");
    let flood = |bytes, times| FaultSpec::times(Fault::Flood { bytes }, times);
    cassette.interactions.push(
        Interaction::new(RequestSpec::post(GENERATE), ResponseSpec::json(reply()))
            .with_fault(flood(200_000_000, 1)),
    );
    cassette.interactions.push(
        Interaction::new(
            RequestSpec::post(STREAM).with_query("alt", "sse"),
            ResponseSpec::sse(vec![SseEvent::new(reply())]),
        )
        .with_fault(flood(100_000_000, 2))
        .repeatable(),
    );
    let options = ServerOptions {
        strict: false,
        ..ServerOptions::default()
    };
    let server = FixtureServer::start(vec![cassette], options).await.unwrap();
    let limits = ReplyLimits {
        max_body_bytes: 4 * MIB,
        max_stream_bytes: 8 * MIB,
        max_event_bytes: 2 * MIB,
    };
    // What a slack of the limits plus buffers may reach; the unbounded
    // reads took hundreds of MiB for these replies.
    let bound = 24 * MIB;
    let before = ALLOCATOR.allocated();

    // 200 MB unary body, 4 MiB limit.
    let result = client(&server, limits)
        .generate_content("m", &request())
        .await;
    too_large(result, ReplyPart::Body);
    assert!(
        peak_above(before) < bound,
        "unary: {} bytes",
        peak_above(before)
    );

    // 100 MB stream of one endless event, 2 MiB event limit.
    let result = client(&server, limits)
        .stream_generate_content("m", &request())
        .await;
    too_large(result, ReplyPart::Event);
    assert!(
        peak_above(before) < bound,
        "event: {} bytes",
        peak_above(before)
    );

    // The same stream against the whole-stream limit (events may be large).
    let wide_events = ReplyLimits {
        max_event_bytes: 64 * MIB,
        ..limits
    };
    let result = client(&server, wide_events)
        .stream_generate_content("m", &request())
        .await;
    too_large(result, ReplyPart::Stream);
    assert!(
        peak_above(before) < bound,
        "stream: {} bytes",
        peak_above(before)
    );
}
