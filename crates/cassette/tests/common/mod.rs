//! Helpers shared by the cassette integration tests.

#![allow(dead_code, unreachable_pub)]

use cassette::{BodyMatcher, Cassette, Interaction, RequestSpec, ResponseSpec};
use serde_json::{Value, json};

pub const GENERATE: &str = "/v1beta/models/gemini-2.5-flash:generateContent";
pub const STREAM: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";

/// A client that never goes through an environment proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds")
}

/// A one-turn `generateContent` request body.
pub fn ask(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

/// A model answer with `text`.
pub fn answer(text: &str) -> Value {
    test_support::gemini::Reply::text(text)
        .response_id("resp-1")
        .json()
}

/// An interaction answering `ask(question)` exactly with `answer(reply)`.
pub fn qa(question: &str, reply: &str) -> Interaction {
    Interaction::new(
        RequestSpec::post(GENERATE).with_body(BodyMatcher::Exact(ask(question))),
        ResponseSpec::json(answer(reply)),
    )
}

pub fn cassette(name: &str, interactions: Vec<Interaction>) -> Cassette {
    let mut cassette = Cassette::authored(name, "built in a test");
    cassette.interactions = interactions;
    cassette
}

/// POSTs `body` to `base + path` and returns (status, body text).
pub async fn post(client: &reqwest::Client, base: &str, path: &str, body: &Value) -> (u16, String) {
    let response = client
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .expect("request succeeds");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body reads"))
}
