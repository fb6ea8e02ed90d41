//! Shared pieces of agent-core's tests: authored replies in the real wire
//! shape, cassettes built in code, and a client pointed at a fixture server.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of these helpers"
)]

use cassette::{
    BodyMatcher, Cassette, FixtureServer, FunctionResponseMatch, Interaction, KeyFields,
    RequestSpec, ResponseSpec, ServerOptions, SseEvent,
};
use genai_client::{Client, ClientConfig, RetryPolicy, Timeouts};
use serde_json::Value;

/// The unary path of `model`.
pub fn generate_path(model: &str) -> String {
    format!("/v1beta/models/{model}:generateContent")
}

/// The streaming path of `model`.
pub fn stream_path(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent")
}

// Authored replies are built by the shared test-support crate.
#[allow(unused_imports, reason = "each test binary uses a different subset")]
pub use test_support::gemini::{call, reply, signed_call, text_reply, usage};

/// Matches the first turn of a fork by its task.
pub fn task(text: &str) -> BodyMatcher {
    BodyMatcher::KeyFields(KeyFields {
        last_user_text: Some(text.to_owned()),
        ..KeyFields::default()
    })
}

/// Matches a request whose last user text contains `text`.
pub fn containing(text: &str) -> BodyMatcher {
    BodyMatcher::KeyFields(KeyFields {
        last_user_text_contains: Some(text.to_owned()),
        ..KeyFields::default()
    })
}

/// Matches a follow-up turn carrying these function responses (by name).
pub fn responses(names: &[&str]) -> BodyMatcher {
    BodyMatcher::KeyFields(KeyFields {
        function_responses: Some(
            names
                .iter()
                .map(|name| FunctionResponseMatch {
                    name: (*name).to_owned(),
                    id: None,
                    response: None,
                })
                .collect(),
        ),
        ..KeyFields::default()
    })
}

/// One unary interaction.
pub fn unary(model: &str, matcher: BodyMatcher, body: Value) -> Interaction {
    Interaction::new(
        RequestSpec::post(generate_path(model)).with_body(matcher),
        ResponseSpec::json(body),
    )
}

/// One streaming interaction, one event per value.
pub fn streamed(model: &str, matcher: BodyMatcher, events: Vec<Value>) -> Interaction {
    Interaction::new(
        RequestSpec::post(stream_path(model))
            .with_query("alt", "sse")
            .with_body(matcher),
        ResponseSpec::sse(events.into_iter().map(SseEvent::new).collect()),
    )
}

/// A cassette authored by a test.
pub fn cassette(name: &str, interactions: Vec<Interaction>) -> Cassette {
    let mut cassette = Cassette::authored(name, "built in code by agent-core's tests");
    cassette.interactions = interactions;
    cassette
}

/// A strict fixture server for `interactions`.
pub async fn server(name: &str, interactions: Vec<Interaction>) -> FixtureServer {
    FixtureServer::start(vec![cassette(name, interactions)], ServerOptions::default())
        .await
        .expect("the fixture server starts")
}

/// A reply to `model`'s unary request with `turns` entries in `contents`.
pub fn at_turn(model: &str, turns: usize, body: Value) -> Interaction {
    unary(
        model,
        BodyMatcher::KeyFields(KeyFields {
            turns: Some(turns),
            ..KeyFields::default()
        }),
        body,
    )
}

/// A lenient fixture server (unused interactions allowed) for an authored
/// cassette `name`: the hostile-model, hostile-tool and race tests, whose
/// model may stop early.
pub async fn lenient_server(name: &str, interactions: Vec<Interaction>) -> FixtureServer {
    FixtureServer::start(vec![cassette(name, interactions)], ServerOptions::lenient())
        .await
        .expect("the fixture server starts")
}

/// A client configuration for `server` with no timers (paused time) and no
/// retries: one answer per request.
pub fn bare_config(server: &FixtureServer) -> ClientConfig {
    ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy::none())
        .with_base_url(&server.base_url())
}

/// A client for `server`: no timers (paused time), seeded jitter, 3 attempts.
pub fn client(server: &FixtureServer) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            max_attempts: 3,
            jitter_seed: Some(11),
            ..RetryPolicy::default()
        })
        .with_base_url(&server.base_url());
    Client::new(config).expect("the client builds")
}

/// The request bodies the server received, in order.
pub fn bodies(server: &FixtureServer) -> Vec<Value> {
    server
        .requests()
        .into_iter()
        .filter_map(|request| request.body)
        .collect()
}
