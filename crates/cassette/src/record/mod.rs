//! The recording proxy: forwards loopback requests to a live upstream,
//! streams each response back as it arrives (SSE event by event), and
//! captures the exchange into a redacted, `recorded` cassette.

mod capture;
pub(crate) mod redact;

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderName};
use hyper::{Request, Response};
use serde_json::json;

use crate::format::{Cassette, Interaction, Provenance};
use crate::net::{Body, ConnReset, Listener, parse_query};
use crate::server::json_response;
use capture::{Capture, Exchange};
use redact::secrets_in;

/// A loopback proxy that records what passes through it.
///
/// Point a client's base URL at [`RecordingProxy::base_url`]; each request
/// is forwarded to the upstream with its method, path, query, headers (less
/// hop-by-hop ones, `host` and `accept-encoding`) and body.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cassette::{Cassette, FixtureServer, Interaction, RecordingProxy, RequestSpec, ResponseSpec, ServerOptions};
///
/// // Any HTTP upstream works; here a fixture server stands in for the API.
/// let mut upstream = Cassette::authored("upstream", "doc example");
/// upstream.interactions.push(Interaction::new(
///     RequestSpec::post("/v1beta/models/m:countTokens"),
///     ResponseSpec::json(serde_json::json!({"totalTokens": 3})),
/// ));
/// let upstream = FixtureServer::start(vec![upstream], ServerOptions::default()).await.unwrap();
/// let proxy = RecordingProxy::start(&upstream.base_url()).await.unwrap();
/// reqwest::Client::new()
///     .post(format!("{}/v1beta/models/m:countTokens", proxy.base_url()))
///     .header("x-goog-api-key", "my-secret-key")
///     .body(r#"{"contents": []}"#)
///     .send().await.unwrap()
///     .text().await.unwrap();
/// let recorded = proxy.finish("count", "recorded in the doc example");
/// assert_eq!(recorded.interactions.len(), 1);
/// assert!(!recorded.to_json().contains("my-secret-key"));
/// # }
/// ```
pub struct RecordingProxy {
    listener: Listener,
    shared: Arc<Shared>,
}

/// Why a [`RecordingProxy`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The upstream base URL does not parse.
    #[error(
        "invalid upstream URL {url:?}: {reason} (expected e.g. https://generativelanguage.googleapis.com)"
    )]
    InvalidUpstream {
        /// The URL given.
        url: String,
        /// The parse error.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the upstream HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// Binding the loopback port failed.
    #[error("cannot bind the recording proxy on 127.0.0.1: {0}")]
    Bind(#[source] io::Error),
}

struct Shared {
    client: reqwest::Client,
    upstream: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    done: Vec<Exchange>,
    /// Secrets seen in request headers and queries.
    secrets: Vec<String>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for RecordingProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingProxy")
            .field("addr", &self.listener.addr())
            .field("upstream", &redact::without_userinfo(&self.shared.upstream))
            .finish_non_exhaustive()
    }
}

impl RecordingProxy {
    /// Binds `127.0.0.1` on a free port and forwards to `upstream_base_url`
    /// (scheme, host and optional port; request paths are appended).
    pub async fn start(upstream_base_url: &str) -> Result<Self, RecordError> {
        let url =
            reqwest::Url::parse(upstream_base_url).map_err(|e| RecordError::InvalidUpstream {
                url: redact::without_userinfo(upstream_base_url),
                reason: e.to_string(),
            })?;
        // Credentials in the upstream URL are secrets of the recording too.
        let mut secrets = Vec::new();
        if let Some(password) = url.password() {
            secrets.push(password.to_owned());
            if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                secrets.push(decoded.into_owned());
            }
            secrets.push(format!("{}:{password}", url.username()));
        }
        secrets.retain(|secret| secret.len() >= 4);
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        let mut builder = reqwest::Client::builder();
        if loopback {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(RecordError::Client)?;
        let shared = Arc::new(Shared {
            client,
            upstream: upstream_base_url.trim_end_matches('/').to_owned(),
            state: Mutex::new(State {
                secrets,
                ..State::default()
            }),
        });
        let handler_state = Arc::clone(&shared);
        let listener = Listener::bind(0, move |req, _reset: ConnReset| {
            forward(Arc::clone(&handler_state), req)
        })
        .await
        .map_err(RecordError::Bind)?;
        Ok(Self { listener, shared })
    }

    /// `http://127.0.0.1:PORT`, to use as the client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.listener.addr())
    }

    /// Exchanges whose response has been fully received so far.
    pub fn recorded_count(&self) -> usize {
        self.shared.lock().done.len()
    }

    /// Builds a `recorded` cassette from every completed exchange, in the
    /// order the requests arrived. Requests match on method, path, query
    /// (without `key`) and the exact JSON body. API keys are redacted.
    /// Exchanges still streaming are left out; failed ones are not recorded.
    pub fn finish(&self, name: &str, how: &str) -> Cassette {
        let state = self.shared.lock();
        let mut exchanges: Vec<&Exchange> = state.done.iter().collect();
        exchanges.sort_by_key(|e| e.seq);
        let mut secrets = state.secrets.clone();
        // Longest first, so a token is replaced before any secret inside it.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut cassette = Cassette::with_provenance(name, how, Provenance::Recorded);
        cassette.interactions = exchanges
            .iter()
            .map(|e| e.to_interaction(&secrets))
            .collect::<Vec<Interaction>>();
        cassette
    }

    /// Stops accepting, lets open exchanges finish, and waits for them.
    pub async fn shutdown(self) {
        self.listener.shutdown().await;
    }
}

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn forwardable(name: &HeaderName, extra: &[HeaderName]) -> bool {
    !HOP_BY_HOP.contains(&name.as_str()) && !extra.contains(name)
}

async fn forward(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, io::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let query = parts.uri.query().unwrap_or("");
    let seq = {
        let mut state = shared.lock();
        for secret in secrets_in(&parts.headers, query) {
            if !state.secrets.contains(&secret) {
                state.secrets.push(secret);
            }
        }
        state.next_seq += 1;
        state.next_seq
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = format!("{}{path_and_query}", shared.upstream);
    let mut request = shared
        .client
        .request(parts.method.clone(), url)
        .body(body.clone());
    let skip = [
        header::HOST,
        header::CONTENT_LENGTH,
        header::ACCEPT_ENCODING,
    ];
    for (name, value) in &parts.headers {
        if forwardable(name, &skip) {
            request = request.header(name, value);
        }
    }
    let upstream = match request.send().await {
        Ok(upstream) => upstream,
        Err(error) => {
            let envelope = json!({"error": {
                "code": 502,
                "status": "BAD_GATEWAY",
                "message": format!(
                    "recording proxy could not reach the upstream: {}",
                    error.without_url()
                ),
            }});
            return Ok(json_response(502, &envelope));
        }
    };
    let capture = Capture::new(
        seq,
        parts.method.as_str(),
        parts.uri.path(),
        parse_query(query),
        &body,
        upstream.status().as_u16(),
        upstream
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut response = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if forwardable(name, &[header::CONTENT_LENGTH]) {
            response = response.header(name, value);
        }
    }
    let stream = futures_util::stream::unfold(
        (Box::pin(upstream.bytes_stream()), Some(capture), shared),
        |(mut stream, mut capture, shared)| async move {
            use futures_util::StreamExt;
            match stream.next().await {
                Some(Ok(chunk)) => {
                    if let Some(capture) = capture.as_mut() {
                        capture.push(&chunk);
                    }
                    Some((Ok(Frame::data(chunk)), (stream, capture, shared)))
                }
                Some(Err(error)) => Some((Err(io::Error::other(error)), (stream, None, shared))),
                None => {
                    if let Some(capture) = capture.take() {
                        shared.lock().done.push(capture.finish());
                    }
                    None
                }
            }
        },
    );
    response
        .body(StreamBody::new(stream).boxed_unsync())
        .map_err(io::Error::other)
}
