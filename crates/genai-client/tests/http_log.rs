//! The HTTP observer (`Client::with_http_observer`, behind the CLI's `-v`
//! and `-vv`): one event when a request goes out and one when its response
//! arrives or it fails, and the API key in none of them.

use std::sync::{Arc, Mutex};

use cassette::{Cassette, FixtureServer, Interaction, RequestSpec, ResponseSpec, ServerOptions};
use genai_client::{
    ApiKey, Client, ClientConfig, Content, GenerateContentRequest, HttpEvent, RetryPolicy, Timeouts,
};

const KEY: &str = "sk-test-key-never-shown-0123456789";

fn request() -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user("Say hi.")],
        ..Default::default()
    }
}

#[tokio::test]
async fn the_observer_sees_each_exchange_and_never_the_key() {
    let mut cassette = Cassette::authored("http-log", "authored: one reply");
    cassette.interactions.push(Interaction::new(
        RequestSpec::post("/v1beta/models/m:generateContent"),
        ResponseSpec::json(test_support::gemini::chunk("hi")),
    ));
    let server = FixtureServer::start(vec![cassette], ServerOptions::default())
        .await
        .unwrap();
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .with_api_key(ApiKey::new(KEY))
        .with_base_url(&server.base_url());
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let client = Client::new(config)
        .unwrap()
        .with_http_observer(Arc::new(move |event: &HttpEvent| {
            seen.lock().unwrap().push(event.clone());
        }))
        // A client made from it for a fork keeps the observer.
        .with_retry_observer(Arc::new(|_: &genai_client::RetryEvent| {}));
    client.generate_content("m", &request()).await.unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    match &events[0] {
        HttpEvent::Request {
            method,
            url,
            headers,
            body_bytes,
        } => {
            assert_eq!(*method, "POST");
            assert!(url.ends_with("/v1beta/models/m:generateContent"), "{url}");
            assert!(*body_bytes > 10);
            assert!(headers.contains(&("x-goog-api-key".into(), genai_client::REDACTED.into())));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(events[1], HttpEvent::Response { status: 200, .. }));
    assert!(!format!("{events:?}").contains(KEY));

    // A request that cannot connect is told as failed.
    let closed = ClientConfig::default()
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .with_api_key(ApiKey::new(KEY))
        .with_base_url("http://127.0.0.1:9");
    let failures = Arc::new(Mutex::new(Vec::new()));
    let seen = failures.clone();
    let client =
        Client::new(closed)
            .unwrap()
            .with_http_observer(Arc::new(move |event: &HttpEvent| {
                seen.lock().unwrap().push(event.clone());
            }));
    assert!(client.generate_content("m", &request()).await.is_err());
    let failures = failures.lock().unwrap().clone();
    assert!(
        matches!(failures.last(), Some(HttpEvent::Failed { .. })),
        "{failures:?}"
    );
}
