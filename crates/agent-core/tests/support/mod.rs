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
use serde_json::{Value, json};

/// The unary path of `model`.
pub fn generate_path(model: &str) -> String {
    format!("/v1beta/models/{model}:generateContent")
}

/// The streaming path of `model`.
pub fn stream_path(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent")
}

/// Usage in the Developer API's shape (total = prompt + candidates + thoughts).
pub fn usage(prompt: u64, candidates: u64, thoughts: u64) -> Value {
    json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "thoughtsTokenCount": thoughts,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]
    })
}

/// A reply whose candidate holds `parts`.
pub fn reply(parts: Value, usage: Value) -> Value {
    json!({
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "modelVersion": "gemini-2.5-flash",
        "responseId": "authored-test-reply"
    })
}

/// A text reply.
pub fn text_reply(text: &str) -> Value {
    reply(json!([{"text": text}]), usage(100, 20, 30))
}

/// A function-call part.
pub fn call(name: &str, args: Value) -> Value {
    json!({"functionCall": {"name": name, "args": args}})
}

/// A function-call part carrying a thought signature.
pub fn signed_call(name: &str, args: Value, signature: &str) -> Value {
    json!({"functionCall": {"name": name, "args": args}, "thoughtSignature": signature})
}

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

/// A client for `server`: no timers (paused time), seeded jitter, 3 attempts.
pub fn client(server: &FixtureServer) -> Client {
    let config = ClientConfig {
        timeouts: Timeouts::none(),
        retry: RetryPolicy {
            max_attempts: 3,
            jitter_seed: Some(11),
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    }
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
