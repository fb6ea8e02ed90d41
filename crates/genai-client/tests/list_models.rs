//! `Client::list_models` over loopback: pages are followed by their
//! `nextPageToken`, the token travels percent-encoded, and a server that
//! repeats a token cannot keep the client walking forever.

use std::sync::{Arc, Mutex};

use genai_client::{ApiKey, Client, ClientConfig, Timeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `pages` in order (the last one again when they run out) and
/// keeps each request line (`GET /v1beta/models?... HTTP/1.1`).
async fn serve(pages: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        let mut served = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            loop {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match socket.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                if head.is_empty() {
                    break;
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let mut record = text.lines().next().unwrap_or_default().to_owned();
                if text
                    .to_ascii_lowercase()
                    .contains("x-goog-api-key: test-key")
                {
                    record.push_str(" [key]");
                }
                seen.lock().unwrap().push(record);
                let body = &pages[served.min(pages.len() - 1)];
                served += 1;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if socket.write_all(reply.as_bytes()).await.is_err() {
                    break;
                }
            }
        }
    });
    (base_url, lines)
}

fn client(base_url: &str) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_base_url(base_url)
        .with_api_key(ApiKey::new("test-key"));
    Client::new(config).unwrap()
}

#[tokio::test]
async fn every_page_is_followed_by_its_token() {
    let first = r#"{"models":[{"name":"models/gemini-3.8-flash","inputTokenLimit":1048576,"outputTokenLimit":65536,"supportedGenerationMethods":["generateContent","countTokens"],"thinking":true},{"name":"models/gemini-embedding-2","supportedGenerationMethods":["embedContent"]}],"nextPageToken":"a+b/c="}"#;
    let second = r#"{"models":[{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","supportedGenerationMethods":["generateContent"]}]}"#;
    let (base_url, lines) = serve(vec![first.to_owned(), second.to_owned()]).await;
    let models = client(&base_url).list_models(Some(50)).await.unwrap();
    let ids: Vec<&str> = models.iter().map(|model| model.id()).collect();
    assert_eq!(
        ids,
        ["gemini-3.8-flash", "gemini-embedding-2", "gemini-2.5-flash"]
    );
    assert!(models[0].generates_content());
    assert!(!models[1].generates_content());
    assert_eq!(models[0].input_token_limit, Some(1_048_576));
    assert_eq!(models[0].thinking, Some(true));
    assert_eq!(
        *lines.lock().unwrap(),
        [
            "GET /v1beta/models?pageSize=50 HTTP/1.1 [key]",
            "GET /v1beta/models?pageSize=50&pageToken=a%2Bb%2Fc%3D HTTP/1.1 [key]",
        ]
    );
}

#[tokio::test]
async fn a_repeated_token_ends_the_walk() {
    let looping = r#"{"models":[{"name":"models/gemini-3.8-flash"}],"nextPageToken":"again"}"#;
    let (base_url, lines) = serve(vec![looping.to_owned()]).await;
    let models = client(&base_url).list_models(None).await.unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(lines.lock().unwrap().len(), 2);
}
