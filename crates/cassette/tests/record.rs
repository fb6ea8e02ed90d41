//! The recording proxy: responses stream through as they arrive, the
//! captured cassette never contains the API key, and it replays to the
//! same bytes.

mod common;

use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, Provenance, RecordingProxy, RequestSpec,
    ResponseBody, ResponseSpec, ServerOptions, SseEvent,
};
use common::{GENERATE, STREAM, answer, ask, cassette, client};
use serde_json::{Value, json};

const COUNT: &str = "/v1beta/models/gemini-2.5-flash:countTokens";

/// A fake key with the shape of a Google API key ("AIzaSy" + 33 characters).
fn api_key() -> String {
    format!("AIzaSy{}", "Fake_key-0123456789abcdefghijklmn")
}

/// Another key-shaped string the client never sent.
fn stray_key() -> String {
    format!("AIza{}", "Q".repeat(35))
}

fn upstream_cassette() -> Cassette {
    let events = (0..3)
        .map(|i| SseEvent::delayed(answer(&format!("part {i}")), 1000))
        .collect();
    let echo = json!({
        "totalTokens": 3,
        "note": format!("called with {} and also saw {}", api_key(), stray_key())
    });
    cassette(
        "upstream",
        vec![
            Interaction::new(
                RequestSpec::post(GENERATE).with_body(BodyMatcher::Exact(ask("unary"))),
                ResponseSpec::json(answer("unary answer")),
            ),
            Interaction::new(
                RequestSpec::post(STREAM)
                    .with_query("alt", "sse")
                    .with_body(BodyMatcher::Exact(ask("stream"))),
                ResponseSpec::sse(events),
            ),
            Interaction::new(RequestSpec::post(COUNT), ResponseSpec::json(echo)),
        ],
    )
}

/// Sends the three requests the way a Gemini client would, with the key in
/// the header and (for the test) also in the query.
async fn exercise(
    client: &reqwest::Client,
    base: &str,
    key: Option<&str>,
) -> (String, String, String) {
    let send = |path: &str, body: Value| {
        let mut url = reqwest::Url::parse(&format!("{base}{path}")).expect("a URL");
        if let Some(key) = key {
            url.query_pairs_mut().append_pair("key", key);
        }
        let request = client.post(url).json(&body);
        match key {
            Some(key) => request.header("x-goog-api-key", key),
            None => request,
        }
    };
    let unary = send(GENERATE, ask("unary"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let stream = send(&format!("{STREAM}?alt=sse"), ask("stream"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let count = send(COUNT, json!({"contents": []}))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    (unary, stream, count)
}

#[tokio::test(start_paused = true)]
async fn records_redacts_and_replays() {
    let upstream = FixtureServer::start(vec![upstream_cassette()], ServerOptions::default())
        .await
        .expect("upstream starts");
    let proxy = RecordingProxy::start(&upstream.base_url())
        .await
        .expect("proxy starts");
    let client = client();
    let key = api_key();
    let (unary, stream, count) = exercise(&client, &proxy.base_url(), Some(&key)).await;
    assert_eq!(
        serde_json::from_str::<Value>(&unary).expect("json"),
        answer("unary answer")
    );
    assert!(
        count.contains(&key),
        "the upstream echoed the key through the proxy"
    );
    upstream.assert_clean();
    // The proxy forwarded the key to the upstream.
    let forwarded = upstream.requests();
    assert_eq!(forwarded[0].query.get("key"), Some(&key));

    let recorded = proxy.finish(
        "recorded_session",
        "recorded in a test against a fixture upstream",
    );
    assert_eq!(recorded.meta.provenance, Provenance::Recorded);
    assert_eq!(recorded.interactions.len(), 3);
    let ResponseBody::Sse(events) = &recorded.interactions[1].response.body else {
        panic!(
            "stream recorded as events: {:?}",
            recorded.interactions[1].response.body
        );
    };
    assert_eq!(events.len(), 3);
    assert!(events[1].delay_ms >= 1000, "{events:?}");
    assert_eq!(
        recorded.interactions[1]
            .request
            .query
            .get("alt")
            .map(String::as_str),
        Some("sse")
    );
    assert!(!recorded.interactions[1].request.query.contains_key("key"));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recorded.json");
    recorded.save(&path).expect("saves");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(
        !text.contains(&key),
        "the API key leaked into the cassette:\n{text}"
    );
    assert!(
        !text.contains(&stray_key()),
        "a key-shaped string leaked:\n{text}"
    );
    assert!(!text.contains("AIza"), "{text}");
    assert!(
        text.contains("called with REDACTED and also saw REDACTED"),
        "{text}"
    );
    assert!(text.contains(r#""provenance": "recorded""#), "{text}");

    // Replaying the saved cassette gives the same bytes (the echo aside).
    let replay = FixtureServer::start(
        vec![Cassette::load(&path).expect("loads")],
        ServerOptions::default(),
    )
    .await
    .expect("replay starts");
    let (replayed_unary, replayed_stream, _) = exercise(&client, &replay.base_url(), None).await;
    assert_eq!(replayed_unary, unary);
    assert_eq!(replayed_stream, stream);
    replay.assert_clean();
}

#[tokio::test(start_paused = true)]
async fn sse_flows_through_the_proxy_event_by_event() {
    let upstream = FixtureServer::start(vec![upstream_cassette()], ServerOptions::lenient())
        .await
        .expect("upstream starts");
    let proxy = RecordingProxy::start(&upstream.base_url())
        .await
        .expect("proxy starts");
    let mut response = client()
        .post(format!("{}{STREAM}?alt=sse", proxy.base_url()))
        .json(&ask("stream"))
        .send()
        .await
        .expect("head arrives");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = response.chunk().await.expect("reads").expect("a chunk");
    let expected = format!(
        "data: {}\r\n\r\n",
        serde_json::to_string(&answer("part 0")).expect("json")
    );
    assert_eq!(String::from_utf8_lossy(&first), expected);
    assert_eq!(proxy.recorded_count(), 0, "still streaming");
    while response.chunk().await.expect("reads").is_some() {}
    assert_eq!(proxy.recorded_count(), 1);
}

#[tokio::test]
async fn unreachable_upstream_is_a_502_and_not_recorded() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let proxy = RecordingProxy::start(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("proxy starts");
    let response = client()
        .post(format!("{}{GENERATE}", proxy.base_url()))
        .json(&ask("x"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 502);
    assert!(proxy.finish("empty", "nothing").interactions.is_empty());
}

#[tokio::test]
async fn invalid_upstream_url_is_refused() {
    let error = RecordingProxy::start("not a url")
        .await
        .expect_err("invalid");
    assert!(
        error.to_string().contains("invalid upstream URL"),
        "{error}"
    );
}

/// Credentials in the upstream URL (`https://user:password@host`) are
/// secrets of the recording: an upstream that echoes the password has it
/// redacted in the cassette, and the proxy's Debug output hides it.
#[tokio::test]
async fn upstream_userinfo_never_reaches_the_cassette() {
    let password = "hunter2-UPSTREAMCHECK-0b7d";
    let echo = json!({"totalTokens": 3, "note": format!("authorized as agent:{password}")});
    let upstream = FixtureServer::start(
        vec![cassette(
            "upstream",
            vec![Interaction::new(
                RequestSpec::post(COUNT),
                ResponseSpec::json(echo),
            )],
        )],
        ServerOptions::default(),
    )
    .await
    .expect("upstream starts");
    let with_userinfo = upstream
        .base_url()
        .replace("http://", &format!("http://agent:{password}@"));
    let proxy = RecordingProxy::start(&with_userinfo)
        .await
        .expect("proxy starts");
    let (status, _) = common::post(
        &client(),
        &proxy.base_url(),
        COUNT,
        &json!({"contents": []}),
    )
    .await;
    assert_eq!(status, 200);
    let recorded = proxy.finish("userinfo", "recorded in a test").to_json();
    assert!(recorded.contains("authorized as"), "{recorded}");
    for shown in [recorded, format!("{proxy:?}")] {
        assert!(
            !shown.contains(password),
            "the password leaked into: {shown}"
        );
    }
}
