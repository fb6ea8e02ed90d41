//! Retry, timeout and redaction behaviour of the client, against a scripted
//! loopback server, in paused tokio time (waits cost no real time and the
//! elapsed virtual time is exact).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use genai_client::{
    ApiKey, Client, ClientConfig, Content, Error, GenerateContentRequest, RetryEvent, RetryPolicy,
    Timeouts,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// What the server does with one request.
#[derive(Clone)]
enum Reply {
    /// A whole response.
    Whole { status: u16, body: String },
    /// A 200 SSE response: these events, then the connection is dropped
    /// without finishing the chunked body.
    EventsThenDrop(Vec<String>),
    /// Read the request, then say nothing for this long.
    Silence(Duration),
}

const OK_BODY: &str = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}"#;

fn error_body(code: u16, status: &str, retry_delay: Option<&str>) -> String {
    let details = retry_delay
        .map(|delay| {
            format!(r#","details":[{{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{delay}"}}]"#)
        })
        .unwrap_or_default();
    format!(
        r#"{{"error":{{"code":{code},"message":"scripted {status}","status":"{status}"{details}}}}}"#
    )
}

/// A loopback server answering requests with a fixed script, counting them
/// and keeping each request's `x-goog-api-key` header.
struct ScriptedServer {
    base_url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ScriptedServer {
    async fn start(script: Vec<Reply>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.into_iter()));
        let seen = requests.clone();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let (script, seen) = (script.clone(), seen.clone());
                tokio::spawn(async move { serve_connection(socket, script, seen).await });
            }
        });
        ScriptedServer { base_url, requests }
    }

    fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn serve_connection(
    mut socket: TcpStream,
    script: Arc<Mutex<std::vec::IntoIter<Reply>>>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    loop {
        let Some(key) = read_request(&mut socket).await else {
            return;
        };
        seen.lock().unwrap().push(key);
        let reply = script
            .lock()
            .unwrap()
            .next()
            .expect("the script ran out of replies");
        match reply {
            Reply::Whole { status, body } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await.unwrap();
                socket.write_all(body.as_bytes()).await.unwrap();
            }
            Reply::EventsThenDrop(events) => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                socket.write_all(head.as_bytes()).await.unwrap();
                for event in events {
                    let frame = format!("data: {event}\r\n\r\n");
                    let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                    socket.write_all(chunk.as_bytes()).await.unwrap();
                }
                socket.flush().await.unwrap();
                return;
            }
            Reply::Silence(duration) => {
                tokio::time::sleep(duration).await;
                return;
            }
        }
    }
}

/// Reads one request; returns its `x-goog-api-key` header ("" when absent).
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buffer.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buffer).to_string();
    let header = |name: &str| {
        head.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    let mut body = vec![0u8; length];
    socket.read_exact(&mut body).await.ok()?;
    Some(header("x-goog-api-key"))
}

fn request() -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user("hi")],
        ..Default::default()
    }
}

fn client(server: &ScriptedServer, retry: RetryPolicy) -> (Client, Arc<Mutex<Vec<RetryEvent>>>) {
    let config = ClientConfig::default()
        .with_retry(retry)
        .with_timeouts(Timeouts::none())
        .with_base_url(&server.base_url);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let client =
        Client::new(config)
            .unwrap()
            .with_retry_observer(Arc::new(move |event: &RetryEvent| {
                sink.lock().unwrap().push(event.clone())
            }));
    (client, events)
}

fn seeded() -> RetryPolicy {
    RetryPolicy {
        jitter_seed: Some(7),
        ..RetryPolicy::default()
    }
}

#[tokio::test(start_paused = true)]
async fn retry_info_delay_is_honoured() {
    let server = ScriptedServer::start(vec![
        Reply::Whole {
            status: 429,
            body: error_body(429, "RESOURCE_EXHAUSTED", Some("13s")),
        },
        Reply::Whole {
            status: 200,
            body: OK_BODY.into(),
        },
    ])
    .await;
    let (client, events) = client(&server, seeded());
    let started = Instant::now();
    let response = client
        .generate_content("gemini-2.5-flash", &request())
        .await
        .unwrap();
    assert_eq!(response.text(), "ok");
    assert!(
        started.elapsed() >= Duration::from_secs(13),
        "waited only {:?}",
        started.elapsed()
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason, "429 RESOURCE_EXHAUSTED");
    assert_eq!(events[0].server_delay, Some(Duration::from_secs(13)));
    assert!(events[0].delay >= Duration::from_secs(13));
    // The delay is said in seconds (13 s or a little more, with jitter);
    // how durations read is the crate's own business, tested beside it.
    let line = events[0].to_string();
    let delay = line
        .strip_prefix("retrying in ")
        .and_then(|rest| rest.strip_suffix(": 429 RESOURCE_EXHAUSTED"))
        .unwrap_or_else(|| panic!("unexpected retry line: {line}"));
    assert!(delay.ends_with(" s") && delay.starts_with('1'), "{line}");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn backoff_schedule_follows_the_policy() {
    let server = ScriptedServer::start(vec![
        Reply::Whole {
            status: 503,
            body: error_body(503, "UNAVAILABLE", None),
        },
        Reply::Whole {
            status: 500,
            body: error_body(500, "INTERNAL", None),
        },
        Reply::Whole {
            status: 503,
            body: error_body(503, "UNAVAILABLE", None),
        },
        Reply::Whole {
            status: 200,
            body: OK_BODY.into(),
        },
    ])
    .await;
    let policy = seeded();
    let (client, events) = client(&server, policy.clone());
    let started = Instant::now();
    client.generate_content("m", &request()).await.unwrap();
    // The same seed gives the same draws, so the schedule is known exactly.
    let mut rng = fastrand_like(7);
    let expected: Vec<Duration> = (1..=3)
        .map(|retry| policy.delay_for(retry, rng(), None))
        .collect();
    let delays: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .map(|event| event.delay)
        .collect();
    assert_eq!(delays, expected);
    for (retry, delay) in (1..=3).zip(&delays) {
        assert!(*delay <= policy.cap_for_retry(retry));
    }
    // Tokio's timer rounds each sleep up to the next millisecond.
    let waited: Duration = delays.iter().sum();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= waited && elapsed <= waited + Duration::from_millis(3),
        "{elapsed:?} vs {waited:?}"
    );
}

/// The client's jitter source: a fastrand generator with the policy's seed.
fn fastrand_like(seed: u64) -> impl FnMut() -> f64 {
    let mut rng = fastrand::Rng::with_seed(seed);
    move || rng.f64()
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404] {
        let server = ScriptedServer::start(vec![Reply::Whole {
            status,
            body: error_body(status, "INVALID_ARGUMENT", None),
        }])
        .await;
        let (client, events) = client(&server, seeded());
        let error = client.generate_content("m", &request()).await.unwrap_err();
        assert_eq!(error.api().map(|api| api.code), Some(status));
        assert_eq!(server.request_count(), 1);
        assert!(events.lock().unwrap().is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded() {
    let failures = (0..5)
        .map(|_| Reply::Whole {
            status: 503,
            body: error_body(503, "UNAVAILABLE", None),
        })
        .collect();
    let server = ScriptedServer::start(failures).await;
    let (client, events) = client(&server, seeded());
    let error = client.generate_content("m", &request()).await.unwrap_err();
    assert!(
        matches!(error, Error::RetriesExhausted { attempts: 5, .. }),
        "{error}"
    );
    assert_eq!(error.api().map(|api| api.code), Some(503));
    assert_eq!(server.request_count(), 5);
    assert_eq!(events.lock().unwrap().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn the_total_deadline_stops_retries() {
    let server = ScriptedServer::start(vec![Reply::Whole {
        status: 429,
        body: error_body(429, "RESOURCE_EXHAUSTED", Some("45s")),
    }])
    .await;
    let policy = RetryPolicy {
        total_deadline: Duration::from_secs(30),
        ..seeded()
    };
    let (client, _) = client(&server, policy);
    let error = client.generate_content("m", &request()).await.unwrap_err();
    assert!(
        matches!(error, Error::RetriesExhausted { attempts: 1, .. }),
        "{error}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_is_not_retried_after_its_first_chunk() {
    let chunk = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"par"}]}}]}"#;
    let server = ScriptedServer::start(vec![
        Reply::EventsThenDrop(vec![chunk.into()]),
        Reply::Whole {
            status: 200,
            body: OK_BODY.into(),
        },
    ])
    .await;
    let (client, events) = client(&server, seeded());
    let mut stream = client
        .stream_generate_content("m", &request())
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.text(), "par");
    let broken = stream.next().await.unwrap();
    assert!(broken.is_err());
    assert!(stream.next().await.is_none());
    assert_eq!(server.request_count(), 1);
    assert!(events.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_stream_failing_before_its_first_chunk_is_retried() {
    let chunk = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"whole"}]},"finishReason":"STOP"}]}"#;
    let server = ScriptedServer::start(vec![
        Reply::Whole {
            status: 503,
            body: error_body(503, "UNAVAILABLE", None),
        },
        Reply::EventsThenDrop(vec![]),
        Reply::EventsThenDrop(vec![chunk.into()]),
    ])
    .await;
    let (client, events) = client(&server, seeded());
    let stream = client
        .stream_generate_content("m", &request())
        .await
        .unwrap();
    // The third reply drops the connection after its event, so collecting
    // reports the break; what matters here is that two retries happened.
    let _ = stream.collect_response().await;
    assert_eq!(server.request_count(), 3);
    assert_eq!(events.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_request_timeout_fires_and_is_retried() {
    let server = ScriptedServer::start(vec![
        Reply::Silence(Duration::from_secs(3600)),
        Reply::Whole {
            status: 200,
            body: OK_BODY.into(),
        },
    ])
    .await;
    let config = ClientConfig::default()
        .with_retry(seeded())
        .with_timeouts(Timeouts {
            request: Some(Duration::from_secs(20)),
            ..Timeouts::none()
        })
        .with_base_url(&server.base_url);
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let response = client.generate_content("m", &request()).await.unwrap();
    assert_eq!(response.text(), "ok");
    assert!(started.elapsed() >= Duration::from_secs(20));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_key_is_sent_as_a_header_and_never_shown() {
    let key = "AIzaSyTESTKEY0123456789abcdefghijklmnop";
    let echo = format!(
        r#"{{"error":{{"code":400,"message":"API key not valid: {key}","status":"INVALID_ARGUMENT"}}}}"#
    );
    let server = ScriptedServer::start(vec![Reply::Whole {
        status: 400,
        body: echo,
    }])
    .await;
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_base_url(&server.base_url)
        .with_api_key(ApiKey::new(&format!("  {key}\n")));
    let client = Client::new(config).unwrap();
    let error = client.generate_content("m", &request()).await.unwrap_err();
    assert_eq!(server.requests.lock().unwrap().as_slice(), [key.to_owned()]);
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
    ] {
        assert!(!shown.contains(key), "the key leaked into: {shown}");
    }
    assert!(error.to_string().contains("[REDACTED]"));
}

#[tokio::test(start_paused = true)]
async fn base_url_userinfo_never_shows_in_errors_or_debug_output() {
    let password = "hunter2-PASSWORD-9f8e";
    let echo = format!(
        r#"{{"error":{{"code":401,"message":"bad credentials agent:{password}","status":"UNAUTHENTICATED"}}}}"#
    );
    let server = ScriptedServer::start(vec![Reply::Whole {
        status: 401,
        body: echo,
    }])
    .await;
    let with_userinfo = |base: &str| base.replace("http://", &format!("http://agent:{password}@"));
    let one_try = || {
        ClientConfig::default()
            .with_timeouts(Timeouts::none())
            .with_retry(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            })
    };
    // The server echoes the password back.
    let client = Client::new(one_try().with_base_url(&with_userinfo(&server.base_url))).unwrap();
    let echoed = client.generate_content("m", &request()).await.unwrap_err();
    // Nothing listens on port 9: a transport error names the base URL.
    let closed =
        Client::new(one_try().with_base_url(&with_userinfo("http://127.0.0.1:9"))).unwrap();
    let unreachable = closed.generate_content("m", &request()).await.unwrap_err();
    assert!(
        unreachable.to_string().contains("127.0.0.1:9"),
        "{unreachable}"
    );
    for shown in [
        echoed.to_string(),
        format!("{echoed:?}"),
        unreachable.to_string(),
        format!("{unreachable:?}"),
        format!("{client:?}"),
        format!("{:?}", client.config()),
        client.config().display_base_url(),
    ] {
        assert!(
            !shown.contains(password),
            "the password leaked into: {shown}"
        );
        assert!(
            !shown.contains("agent:"),
            "the userinfo leaked into: {shown}"
        );
    }
    assert_eq!(
        client.redactor().redact(&format!("x {password} y")),
        "x [REDACTED] y"
    );
}

/// A body whose `Content-Length` is over the limit is refused with
/// `TooLarge`, and not retried: the same request would most likely get the
/// same answer.
#[tokio::test(start_paused = true)]
async fn an_oversized_body_is_too_large_and_not_retried() {
    let padded = OK_BODY.replace("\"ok\"", &format!("\"{}\"", "x".repeat(4096)));
    let server = ScriptedServer::start(vec![
        Reply::Whole {
            status: 200,
            body: padded,
        },
        Reply::Whole {
            status: 200,
            body: OK_BODY.into(),
        },
    ])
    .await;
    let config = ClientConfig::default()
        .with_retry(seeded())
        .with_timeouts(Timeouts::none())
        .with_limits(genai_client::ReplyLimits {
            max_body_bytes: 1024,
            ..genai_client::ReplyLimits::default()
        })
        .with_base_url(&server.base_url);
    let client = Client::new(config).unwrap();
    let error = client.generate_content("m", &request()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::TooLarge {
                part: genai_client::ReplyPart::Body,
                limit: 1024
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("1 KiB"), "{error}");
    assert_eq!(server.request_count(), 1);
}
