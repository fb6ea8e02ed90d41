//! The recorded raw bodies, served over loopback HTTP to the real client.
//!
//! A tiny HTTP/1.1 server answers each call with one corpus body, sent with
//! `Transfer-Encoding: chunked` and cut at random byte positions (seeded),
//! each piece its own chunk, yielding between pieces, so that SSE events,
//! CRLF pairs and multi-byte characters arrive split across reads. What the
//! client returns must have the same facts as decoding the whole file at
//! once with `decode_recorded`. Raw JSON, SSE and HTML files are served as
//! they are; NDJSON files get their SSE framing back.

#[allow(dead_code)] // Shared with the conformance suite.
#[path = "conformance/corpus.rs"]
mod corpus;
#[allow(dead_code)] // Shared with the conformance suite.
#[path = "conformance/facts.rs"]
mod facts;

use std::io::Write;
use std::sync::{Arc, Mutex};

use corpus::{CorpusFile, Format};
use facts::{ErrorFacts, Facts, Kind, diff};
use genai_client::{
    Client, ClientConfig, Content, CountTokensRequest, Error, GenerateContentRequest, RecordedBody,
    RetryPolicy, StreamAccumulator, Timeouts, decode_recorded,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Seeds of the cut positions; each body is served once per seed.
const SEEDS: [u64; 4] = [1, 7, 42, 20_240_601];

/// Which client method a body answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Generate,
    Stream,
    CountTokens,
}

impl Call {
    fn path_suffix(self) -> &'static str {
        match self {
            Call::Generate => ":generateContent",
            Call::Stream => ":streamGenerateContent?alt=sse",
            Call::CountTokens => ":countTokens",
        }
    }
}

/// The next answer of the server.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    seed: u64,
}

/// A loopback server answering each request with the reply put in its slot,
/// and keeping each request's path.
struct Server {
    base_url: String,
    slot: Arc<Mutex<Option<Reply>>>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let slot = Arc::new(Mutex::new(None));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (shared_slot, shared_paths) = (slot.clone(), paths.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (slot, paths) = (shared_slot.clone(), shared_paths.clone());
                tokio::spawn(serve(socket, slot, paths));
            }
        });
        Server {
            base_url,
            slot,
            paths,
        }
    }

    fn answer_next(&self, reply: Reply) {
        *self.slot.lock().expect("slot") = Some(reply);
    }

    fn last_path(&self) -> Option<String> {
        self.paths.lock().expect("paths").last().cloned()
    }
}

async fn serve(
    mut socket: TcpStream,
    slot: Arc<Mutex<Option<Reply>>>,
    paths: Arc<Mutex<Vec<String>>>,
) {
    socket.set_nodelay(true).expect("nodelay");
    while let Some(path) = read_request(&mut socket).await {
        paths.lock().expect("paths").push(path);
        let Some(reply) = slot.lock().expect("slot").take() else {
            return;
        };
        if write_chunked(&mut socket, &reply).await.is_err() {
            // The client stopped reading (it saw an error); fine.
            return;
        }
    }
}

/// Reads a request head and its `Content-Length` body; returns the path.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut piece = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&piece[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&piece[..read]);
    }
    head.split_whitespace().nth(1).map(str::to_owned)
}

/// Cut positions: a seeded number of distinct offsets inside the body.
fn pieces(body: &[u8], seed: u64) -> Vec<&[u8]> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let most = (body.len() / 4).clamp(1, 200);
    let mut cuts: Vec<usize> = (0..rng.usize(1..=most))
        .map(|_| rng.usize(1..body.len().max(2)))
        .filter(|&cut| cut < body.len())
        .collect();
    cuts.push(0);
    cuts.push(body.len());
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|pair| &body[pair[0]..pair[1]])
        .collect()
}

async fn write_chunked(socket: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} Recorded\r\ncontent-type: {}\r\ntransfer-encoding: chunked\r\n\r\n",
        reply.status, reply.content_type
    );
    socket.write_all(head.as_bytes()).await?;
    for piece in pieces(&reply.body, reply.seed) {
        socket
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .await?;
        socket.write_all(piece).await?;
        socket.write_all(b"\r\n").await?;
        socket.flush().await?;
        tokio::task::yield_now().await;
    }
    socket.write_all(b"0\r\n\r\n").await?;
    socket.flush().await
}

/// The body as the server would send it: NDJSON gets its SSE framing back.
fn wire_body(file: &CorpusFile) -> Vec<u8> {
    if file.format != Format::Ndjson {
        return file.bytes.clone();
    }
    String::from_utf8_lossy(&file.bytes)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .flat_map(|line| format!("data: {line}\r\n\r\n").into_bytes())
        .collect()
}

/// How a body is served: which call it answers, with which status and type.
fn plan(file: &CorpusFile, at_once: &Result<RecordedBody, Error>) -> (Call, u16, &'static str) {
    let streamed = matches!(file.format, Format::Sse | Format::Ndjson)
        || file
            .path
            .rsplit('/')
            .next()
            .is_some_and(|name| name.starts_with("streaming-"));
    let call = match at_once {
        Ok(RecordedBody::CountTokens(_)) => Call::CountTokens,
        _ if streamed => Call::Stream,
        _ => Call::Generate,
    };
    let status = match at_once {
        Ok(RecordedBody::Error(api)) if api.code >= 400 => api.code,
        Ok(RecordedBody::Error(_)) => 500,
        _ => 200,
    };
    let content_type = match (file.format, call) {
        (Format::Html, _) => "text/html; charset=UTF-8",
        (_, Call::Stream) if status == 200 => "text/event-stream",
        _ => "application/json; charset=UTF-8",
    };
    (call, status, content_type)
}

/// What the client should return for a body with these facts: a blocked
/// prompt (a block reason and no candidate) is an error, and an error
/// before the first chunk fails the call itself.
fn as_the_client_sees_it(facts: &Facts, at_once: &Result<RecordedBody, Error>) -> Facts {
    let candidates = at_once
        .as_ref()
        .ok()
        .and_then(RecordedBody::response)
        .map_or(0, |response| response.candidates.len());
    match (&facts.block_reason, &facts.error) {
        (Some(reason), None) if candidates == 0 => Facts {
            block_reason: Some(reason.clone()),
            ..Facts::empty(Kind::Blocked)
        },
        (_, Some(error)) if facts.kind == Kind::Stream && facts.chunks == 0 => Facts {
            error: Some(error.clone()),
            ..Facts::empty(Kind::Error)
        },
        _ => facts.clone(),
    }
}

/// Calls the client and turns what it returns into facts.
async fn call_client(client: &Client, call: Call) -> Result<Facts, String> {
    let request = GenerateContentRequest {
        contents: vec![Content::user("Replay the recorded reply.")],
        ..GenerateContentRequest::default()
    };
    let model = "gemini-2.5-flash";
    match call {
        Call::Generate => match client.generate_content(model, &request).await {
            Ok(response) => Ok(Facts::of_response(Kind::Response, 1, &response)),
            Err(error) => Facts::of_error_value(&error),
        },
        Call::CountTokens => {
            let request = CountTokensRequest::contents(request.contents);
            match client.count_tokens(model, &request).await {
                Ok(count) => Facts::of_outcome(&Ok(RecordedBody::CountTokens(count))),
                Err(error) => Facts::of_error_value(&error),
            }
        }
        Call::Stream => {
            let mut stream = match client.stream_generate_content(model, &request).await {
                Ok(stream) => stream,
                Err(error) => return Facts::of_error_value(&error),
            };
            let (mut accumulator, mut chunks) = (StreamAccumulator::default(), 0);
            let mut failure = None;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(chunk) => {
                        accumulator.push(&chunk);
                        chunks += 1;
                    }
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            assert!(
                failure.is_none() || stream.next().await.is_none(),
                "an error ends the stream"
            );
            let facts = Facts::of_response(Kind::Stream, chunks, &accumulator.finish());
            match failure {
                None => Ok(facts),
                Some(Error::Api(api)) => Ok(Facts {
                    error: Some(ErrorFacts::from(&*api)),
                    ..facts
                }),
                // The body ended inside an event.
                Some(Error::Decode { message, .. }) if message.contains("middle of an event") => {
                    Ok(Facts {
                        truncated: true,
                        ..facts
                    })
                }
                Some(other) => Facts::of_error_value(&other),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_bodies_cut_at_random_through_the_real_client() {
    let Some(corpus) = corpus::load_or_skip("wire_over_loopback") else {
        return;
    };
    let server = Server::start().await;
    let client = Client::new(
        ClientConfig::default()
            .with_base_url(&server.base_url)
            .with_retry(RetryPolicy::none())
            // Decoding is under test, not quota: the corpus's 429s would
            // otherwise teach limits and holds that wait in real time.
            .with_quota_scheduling(false)
            .with_timeouts(Timeouts::none()),
    )
    .expect("a client");
    let served: Vec<_> = corpus
        .files
        .iter()
        .filter(|file| {
            matches!(
                file.format,
                Format::Json | Format::Sse | Format::Html | Format::Ndjson
            )
        })
        .collect();
    let mut failures = Vec::new();
    let mut calls = 0;
    for file in &served {
        let body = wire_body(file);
        let at_once = decode_recorded(&body);
        let expected = match Facts::of_outcome(&at_once) {
            Ok(facts) => as_the_client_sees_it(&facts, &at_once),
            Err(problem) => {
                failures.push(format!("{}: {problem}", file.path));
                continue;
            }
        };
        let (call, status, content_type) = plan(file, &at_once);
        for seed in SEEDS {
            server.answer_next(Reply {
                status,
                content_type,
                body: body.clone(),
                seed,
            });
            calls += 1;
            let label = format!("{} (seed {seed}, {call:?}, HTTP {status})", file.path);
            match call_client(&client, call).await {
                Ok(actual) => {
                    let lines = diff(&expected, &actual);
                    if !lines.is_empty() {
                        failures.push(format!("{label}:\n  {}", lines.join("\n  ")));
                    }
                }
                Err(problem) => failures.push(format!("{label}: {problem}")),
            }
            let path = server.last_path().unwrap_or_default();
            if !path.ends_with(call.path_suffix()) {
                failures.push(format!("{label}: the client asked for {path}"));
            }
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "wire_over_loopback: {} files, {calls} calls through the client",
        served.len()
    );
    assert!(served.len() > 50, "only {} raw files served", served.len());
    assert!(
        failures.is_empty(),
        "{} calls disagree with decoding the whole body:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn cuts_cover_the_body_and_differ_by_seed() {
    let body: Vec<u8> = (0..=255).collect();
    let layouts: Vec<Vec<usize>> = SEEDS
        .iter()
        .map(|&seed| {
            let pieces = pieces(&body, seed);
            assert_eq!(pieces.concat(), body);
            assert!(pieces.iter().all(|piece| !piece.is_empty()));
            pieces.iter().map(|piece| piece.len()).collect()
        })
        .collect();
    assert!(layouts.windows(2).all(|pair| pair[0] != pair[1]));
    assert!(layouts.iter().any(|layout| layout.len() > 10));
}
