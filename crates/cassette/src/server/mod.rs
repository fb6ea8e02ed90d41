//! The loopback fixture server: replays cassettes over real HTTP/1.1 on
//! `127.0.0.1`, matching requests by content (not by position), injecting
//! faults, counting everything, and reporting mismatches.

mod reply;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::fault::FaultKind;
use crate::format::Cassette;
use crate::net::{Body, ConnReset, GuardedBody, Listener, parse_query};
use state::{Decision, Shared};

pub(crate) use reply::json_response;

/// HTTP status answered to a request no interaction matches. Deliberately
/// one the Gemini API never sends, and not retryable.
pub const UNMATCHED_STATUS: u16 = 418;

/// A fixture server replaying cassettes on loopback.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cassette::{Cassette, FixtureServer, Interaction, RequestSpec, ResponseSpec, ServerOptions};
///
/// let mut cassette = Cassette::authored("doc", "doc example");
/// cassette.interactions.push(Interaction::new(
///     RequestSpec::post("/v1beta/models/m:countTokens"),
///     ResponseSpec::json(serde_json::json!({"totalTokens": 3})),
/// ));
/// let server = FixtureServer::start(vec![cassette], ServerOptions::default()).await.unwrap();
/// let url = format!("{}/v1beta/models/m:countTokens", server.base_url());
/// let text = reqwest::Client::new().post(url).body("{}").send().await.unwrap().text().await.unwrap();
/// assert_eq!(text, r#"{"totalTokens":3}"#);
/// server.assert_clean();
/// # }
/// ```
pub struct FixtureServer {
    shared: Arc<Shared>,
    listener: Listener,
}

/// How a [`FixtureServer`] behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// When true (the default) [`FixtureServer::verify`] also fails on
    /// non-repeatable interactions that were never used.
    pub strict: bool,
    /// Extra latency before every response (faults included).
    pub latency: Option<Duration>,
    /// Faults injected at random, deterministically.
    pub random_faults: Option<RandomFaults>,
    /// Loopback port to bind; 0 (the default) picks a free one.
    pub port: u16,
}

/// Random fault injection. Each request's draw comes from a hash of the
/// seed, its method, path and body bytes, and how many times the same
/// request was seen before, so the faults do not depend on arrival order.
#[derive(Debug, Clone)]
pub struct RandomFaults {
    /// Seed for the draws.
    pub seed: u64,
    /// Probability of each fault kind (checked in order; the sum should not
    /// exceed 1). Each kind injects [`FaultKind::default_fault`].
    pub rates: Vec<(FaultKind, f64)>,
}

/// Identifies an interaction: the cassette's position in the list given to
/// [`FixtureServer::start`] and the interaction's index in that cassette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InteractionId {
    /// Index of the cassette.
    pub cassette: usize,
    /// Index of the interaction within its cassette.
    pub index: usize,
}

/// A snapshot of the server's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerStats {
    /// Requests received, matched or not.
    pub total_requests: u64,
    /// Requests no interaction matched.
    pub unmatched_requests: u64,
    /// Requests received per URL path.
    pub requests_per_path: BTreeMap<String, u64>,
    /// Requests between head read and body fully written right now.
    pub in_flight: usize,
    /// The most requests ever in flight at once.
    pub max_in_flight: usize,
    /// Per interaction, in load order.
    pub interaction_hits: Vec<InteractionHits>,
    /// Faults injected, by kind.
    pub faults_injected: BTreeMap<FaultKind, u64>,
}

/// How often one interaction matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionHits {
    /// Which interaction.
    pub id: InteractionId,
    /// Its label.
    pub label: Option<String>,
    /// Matching requests, including those answered with a fault.
    pub hits: u64,
    /// Whether its real response was delivered at least once.
    pub used: bool,
}

/// A request the server received, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRequest {
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// The body parsed as JSON; `None` when empty or not JSON.
    pub body: Option<Value>,
    /// The body bytes as received.
    pub raw_body: Bytes,
    /// The headers, names in lower case; `x-goog-api-key` and
    /// `authorization` are left out.
    pub headers: BTreeMap<String, String>,
    /// The interaction it matched.
    pub matched: Option<InteractionId>,
    /// The fault it was answered with.
    pub fault: Option<FaultKind>,
}

/// A request no interaction matched, with the explanation sent back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Position in [`FixtureServer::requests`].
    pub request_index: usize,
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Key fields, closest candidate and a diff, ready to print.
    pub report: String,
}

/// A non-repeatable interaction whose response was never delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedInteraction {
    /// Which interaction.
    pub id: InteractionId,
    /// The cassette's `meta.name`.
    pub cassette: String,
    /// Its label.
    pub label: Option<String>,
}

/// What [`FixtureServer::verify`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct VerifyError {
    /// Requests that matched nothing.
    pub unmatched: Vec<Mismatch>,
    /// Interactions left unused (strict mode only).
    pub unused: Vec<UnusedInteraction>,
}

/// Why a [`FixtureServer`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the loopback port failed.
    #[error(
        "cannot bind fixture server on 127.0.0.1:{port}: {source} (use port 0 for a free port)"
    )]
    Bind {
        /// The port asked for.
        port: u16,
        /// The underlying error.
        source: io::Error,
    },
    /// A response in a cassette cannot be put on the wire.
    #[error("cassette {cassette:?} interaction {index}: {reason}")]
    InvalidResponse {
        /// The cassette's `meta.name`.
        cassette: String,
        /// Index of the interaction.
        index: usize,
        /// What is wrong (bad status or header).
        reason: String,
    },
}

impl fmt::Debug for FixtureServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixtureServer")
            .field("addr", &self.listener.addr())
            .finish_non_exhaustive()
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            strict: true,
            latency: None,
            random_faults: None,
            port: 0,
        }
    }
}

impl ServerOptions {
    /// Options that do not report unused interactions.
    pub fn lenient() -> Self {
        Self {
            strict: false,
            ..Self::default()
        }
    }
}

impl fmt::Display for InteractionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.cassette, self.index)
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cassette verification failed: {} unmatched request(s), {} unused interaction(s)",
            self.unmatched.len(),
            self.unused.len()
        )?;
        for mismatch in &self.unmatched {
            writeln!(
                f,
                "\nrequest #{}: {}",
                mismatch.request_index,
                mismatch.report.trim_end()
            )?;
        }
        if !self.unused.is_empty() {
            writeln!(
                f,
                "\nunused interactions (never answered with their real response):"
            )?;
            for unused in &self.unused {
                let label = unused
                    .label
                    .as_deref()
                    .map(|l| format!(" {l:?}"))
                    .unwrap_or_default();
                writeln!(
                    f,
                    "  {}{label} in cassette {:?}",
                    unused.id, unused.cassette
                )?;
            }
        }
        Ok(())
    }
}

impl FixtureServer {
    /// Binds `127.0.0.1` and starts serving `cassettes` (their interactions
    /// are matched in list order, then file order) on the current runtime.
    pub async fn start(
        cassettes: Vec<Cassette>,
        options: ServerOptions,
    ) -> Result<Self, ServerError> {
        for cassette in &cassettes {
            for (index, interaction) in cassette.interactions.iter().enumerate() {
                reply::validate(&interaction.response).map_err(|reason| {
                    ServerError::InvalidResponse {
                        cassette: cassette.meta.name.clone(),
                        index,
                        reason,
                    }
                })?;
            }
        }
        let port = options.port;
        let shared = Arc::new(Shared::new(cassettes, options));
        let handler_state = Arc::clone(&shared);
        let listener = Listener::bind(port, move |req, reset| {
            handle(Arc::clone(&handler_state), req, reset)
        })
        .await
        .map_err(|source| ServerError::Bind { port, source })?;
        Ok(Self { shared, listener })
    }

    /// `http://127.0.0.1:PORT`, to use as the client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.listener.addr())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.requests()
    }

    /// Fails if a request went unmatched or (in strict mode) a
    /// non-repeatable interaction was never used.
    pub fn verify(&self) -> Result<(), VerifyError> {
        let (unmatched, unused) = self.shared.problems();
        if unmatched.is_empty() && unused.is_empty() {
            Ok(())
        } else {
            Err(VerifyError { unmatched, unused })
        }
    }

    /// Panics with the [`VerifyError`] report unless [`Self::verify`] passes.
    #[track_caller]
    pub fn assert_clean(&self) {
        if let Err(error) = self.verify() {
            panic!("{error}");
        }
    }

    /// Stops accepting, lets open exchanges finish, and waits for them.
    pub async fn shutdown(self) {
        self.listener.shutdown().await;
    }

    /// Serves until `stop` resolves (e.g. Ctrl-C), then shuts down and
    /// verifies. For long-running replays such as the CLI's `--replay`.
    pub async fn serve_until(self, stop: impl Future<Output = ()>) -> Result<(), VerifyError> {
        stop.await;
        let result = self.verify();
        self.shutdown().await;
        result
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    reset: ConnReset,
) -> Result<Response<Body>, io::Error> {
    let in_flight = shared.enter();
    let (parts, body) = req.into_parts();
    let raw_body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let incoming = state::Incoming {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parse_query(parts.uri.query().unwrap_or(""))
            .into_iter()
            .collect(),
        body: serde_json::from_slice(&raw_body).ok(),
        raw_body,
        secrets: crate::record::redact::secrets_in(&parts.headers, parts.uri.query().unwrap_or("")),
        headers: parts
            .headers
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "x-goog-api-key" | "authorization"))
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
    };
    let (response, fault, delay) = match shared.decide(incoming) {
        Decision::Unmatched(report) => {
            let envelope = json!({"error": {
                "code": UNMATCHED_STATUS,
                "status": "CASSETTE_MISMATCH",
                "message": report,
            }});
            let res = reply::json_response(UNMATCHED_STATUS, &envelope);
            return Ok(res.map(|body| GuardedBody::wrap(body, in_flight)));
        }
        Decision::Reply {
            response,
            fault,
            delay,
        } => (response, fault, delay),
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match reply::build(&response, fault.as_ref(), &reset) {
        reply::Reply::Send(res) => Ok(res.map(|body| GuardedBody::wrap(body, in_flight))),
        reply::Reply::Close {
            after,
            reset: abortive,
        } => {
            if !after.is_zero() {
                tokio::time::sleep(after).await;
            }
            if abortive {
                reset.request();
            }
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "injected fault: connection closed",
            ))
        }
    }
}
