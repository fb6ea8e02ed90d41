//! The live view: a read-only web server over a runs folder.
//!
//! It binds to loopback only (`127.0.0.1`), makes a random token that every
//! request must carry (`?token=…`, compared in constant time; anything
//! else is 403), accepts only GET with a `Host` of this server (a page on
//! another site cannot reach it through DNS rebinding), and sends a strict
//! Content-Security-Policy with every page. Runs are read through planner's
//! journal reader under the caller's key, like `runs show`: a journal that
//! does not check out is not shown.
//!
//! Live updates are server-sent events: `/runs/<id>/events` checks the
//! run's journal every [`POLL_INTERVAL`] and sends a `journal` event with
//! the last sequence number when it grew; the page's script then fetches
//! the new `<main>` from `/runs/<id>/body`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use planner::{JournalKey, RunId, list_runs, read_journal};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::model::RunView;
use crate::page::{
    IndexEntry, PageMode, content_security_policy, index_html, report_html, run_body,
};

/// How often a live page's journal is checked for new events.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

const LIVE_JS: &str = include_str!("live.js");

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The live view could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The loopback port could not be bound.
    #[error(
        "cannot listen on 127.0.0.1:{port}: {source}; choose another port (0 picks a free one)"
    )]
    Bind {
        /// The port asked for.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// No random token could be made.
    #[error("cannot make an access token: {0}")]
    Token(String),
}

/// How the live view serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    port: u16,
    stream_lifetime: Duration,
}

impl Default for ServeOptions {
    /// Port 0 (a free one), event streams ended after five minutes (the
    /// browser reconnects at once, so nothing is missed).
    fn default() -> Self {
        Self {
            port: 0,
            stream_lifetime: Duration::from_secs(300),
        }
    }
}

impl ServeOptions {
    /// The loopback port (0 picks a free one).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long one event stream stays open before the server ends it
    /// (the page reconnects by itself, carrying on from the journal). A
    /// zero lifetime sends the opening event only, which lets a headless
    /// browser's virtual clock run in tests.
    #[must_use]
    pub fn stream_lifetime(mut self, lifetime: Duration) -> Self {
        self.stream_lifetime = lifetime;
        self
    }
}

/// A running live view. Dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    token: String,
    streams: Arc<AtomicU64>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// The address it listens on (always loopback).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The access token every request must carry.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// How many event streams of runs were opened so far (a page that
    /// follows its run opens one, and another each time it reconnects).
    pub fn streams_opened(&self) -> u64 {
        self.streams.load(Ordering::SeqCst)
    }

    /// The address to open: the run list, with the token.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// Stops accepting, ends every event stream, and waits for open
    /// connections to finish.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

struct State {
    runs_dir: PathBuf,
    key: JournalKey,
    token: String,
    port: u16,
    stream_lifetime: Duration,
    streams: Arc<AtomicU64>,
    shutdown: watch::Receiver<bool>,
}

/// Starts the live view of the runs under `runs_dir` on loopback, reading
/// journals under `key`.
///
/// # Errors
///
/// [`ServeError::Bind`] when the port is taken, [`ServeError::Token`] when
/// the system has no randomness to give.
pub async fn serve(
    runs_dir: PathBuf,
    key: JournalKey,
    options: ServeOptions,
) -> Result<Server, ServeError> {
    let port = options.port;
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| ServeError::Token(error.to_string()))?;
    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| ServeError::Bind { port, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { port, source })?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let streams = Arc::new(AtomicU64::new(0));
    let state = Arc::new(State {
        streams: streams.clone(),
        runs_dir,
        key,
        token: token.clone(),
        port: addr.port(),
        stream_lifetime: options.stream_lifetime,
        shutdown: shutdown_rx.clone(),
    });
    let task = tokio::spawn(accept_loop(listener, state, shutdown_rx));
    Ok(Server {
        addr,
        token,
        streams,
        shutdown,
        task: Some(task),
    })
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                let mut stop = shutdown.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(respond(&state, &request)) }
                    });
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        () = stopped(&mut stop) => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }
    }
    while connections.join_next().await.is_some() {}
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).boxed_unsync()
}

/// A response with the headers every answer carries.
fn answer(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    let policy = content_security_policy(&PageMode::Live {
        token: String::new(),
    });
    if let Ok(csp) = HeaderValue::from_str(&format!("{policy}; frame-ancestors 'none'")) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    answer(status, "text/plain; charset=utf-8", full(text))
}

/// Compares without stopping at the first difference.
fn same_token(given: &str, token: &str) -> bool {
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0_u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn host_is_ours(request: &Request<Incoming>, port: u16) -> bool {
    let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
    else {
        return false;
    };
    host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}")
}

fn respond(state: &State, request: &Request<Incoming>) -> Response<Body> {
    if request.method() != Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "read-only: GET only\n");
    }
    if !host_is_ours(request, state.port) {
        return plain(StatusCode::FORBIDDEN, "wrong Host\n");
    }
    let token = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="));
    if !token.is_some_and(|token| same_token(token, &state.token)) {
        return plain(
            StatusCode::FORBIDDEN,
            "forbidden: open the address agent-fork printed (it carries the token)\n",
        );
    }
    let path = request.uri().path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [""] => index(state),
        ["events"] => index_events(state),
        ["live.js"] => answer(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            full(LIVE_JS),
        ),
        ["runs", id] => run_page(state, id, Part::Page),
        ["runs", id, "body"] => run_page(state, id, Part::Body),
        ["runs", id, "events"] => run_events(state, id),
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn index(state: &State) -> Response<Body> {
    match list_runs(&state.runs_dir, &state.key) {
        Ok(listing) => {
            let entries: Vec<IndexEntry> = listing
                .runs
                .iter()
                .map(|run| IndexEntry {
                    id: run.id.to_string(),
                    kind: run.kind.to_string(),
                    created: run.created.clone(),
                    state: run.state,
                    summary: run.summary.clone(),
                })
                .collect();
            let html = index_html(&entries, listing.untrusted.len(), &state.token);
            answer(StatusCode::OK, "text/html; charset=utf-8", full(html))
        }
        Err(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot read the runs folder\n",
        ),
    }
}

enum Part {
    Page,
    Body,
}

fn journal_path(state: &State, id: &str) -> Option<PathBuf> {
    let id: RunId = id.parse().ok()?;
    Some(state.runs_dir.join(id.as_str()).join("journal.jsonl"))
}

fn run_page(state: &State, id: &str, part: Part) -> Response<Body> {
    let Some(path) = journal_path(state, id) else {
        return plain(StatusCode::NOT_FOUND, "no such run\n");
    };
    let contents = match read_journal(&path, &state.key) {
        Ok(contents) => contents,
        Err(planner::JournalError::Untrusted { .. }) => {
            return plain(
                StatusCode::FORBIDDEN,
                "this run's journal does not check out under your key; it is not shown\n",
            );
        }
        Err(_) => return plain(StatusCode::NOT_FOUND, "no such run\n"),
    };
    let view = RunView::from_journal(&contents);
    let html = match part {
        Part::Page => report_html(
            &view,
            &PageMode::Live {
                token: state.token.clone(),
            },
        ),
        Part::Body => run_body(&view),
    };
    answer(StatusCode::OK, "text/html; charset=utf-8", full(html))
}

/// A stream of server-sent events: `first` at once, then every time
/// `probe` (run each [`POLL_INTERVAL`]) gives something new, until shutdown.
fn event_stream<P>(state: &State, event: &'static str, probe: P) -> Response<Body>
where
    P: Fn() -> Option<String> + Send + 'static,
{
    let shutdown = state.shutdown.clone();
    let deadline = tokio::time::Instant::now() + state.stream_lifetime;
    let first = probe();
    let opening = format!(
        "retry: 1000\nevent: {event}\ndata: {}\n\n",
        first.clone().unwrap_or_default()
    );
    let stream = stream::unfold(
        (Some(opening), first, shutdown, probe),
        move |(pending, mut last, mut shutdown, probe)| async move {
            if let Some(text) = pending {
                return Some((
                    Ok(Frame::data(Bytes::from(text))),
                    (None, last, shutdown, probe),
                ));
            }
            loop {
                if *shutdown.borrow() || tokio::time::Instant::now() >= deadline {
                    return None;
                }
                tokio::select! {
                    () = tokio::time::sleep(POLL_INTERVAL) => {}
                    () = stopped(&mut shutdown) => return None,
                }
                let now = probe();
                if now.is_some() && now != last {
                    let text = format!(
                        "event: {event}\ndata: {}\n\n",
                        now.clone().unwrap_or_default()
                    );
                    last = now;
                    return Some((
                        Ok(Frame::data(Bytes::from(text))),
                        (None, last, shutdown, probe),
                    ));
                }
            }
        },
    );
    answer(
        StatusCode::OK,
        "text/event-stream",
        StreamBody::new(stream).boxed_unsync(),
    )
}

fn run_events(state: &State, id: &str) -> Response<Body> {
    let Some(path) = journal_path(state, id) else {
        return plain(StatusCode::NOT_FOUND, "no such run\n");
    };
    state.streams.fetch_add(1, Ordering::SeqCst);
    let key = state.key.clone();
    // Checked cheaply by size; read (and verified) only when it changed.
    let mut seen: Option<(u64, String)> = None;
    let probe = std::sync::Mutex::new(move || {
        let len = std::fs::symlink_metadata(&path).ok()?.len();
        if let Some((seen_len, seq)) = &seen {
            if *seen_len == len {
                return Some(seq.clone());
            }
        }
        let contents = read_journal(&path, &key).ok()?;
        let seq = contents.records.last()?.seq.to_string();
        seen = Some((len, seq.clone()));
        Some(seq)
    });
    event_stream(state, "journal", move || {
        probe.lock().ok().and_then(|mut probe| probe())
    })
}

/// The runs folder's shape: each run folder and its journal's size.
fn folder_signature(dir: &Path) -> Option<String> {
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let len = std::fs::symlink_metadata(entry.path().join("journal.jsonl"))
                .ok()?
                .len();
            Some(format!("{}:{len}", entry.file_name().to_string_lossy()))
        })
        .collect();
    entries.sort();
    Some(format!("{}", fnv(&entries.join("\n"))))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn index_events(state: &State) -> Response<Body> {
    let dir = state.runs_dir.clone();
    event_stream(state, "runs", move || folder_signature(&dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abcd", "abcd"));
        assert!(!same_token("abc", "abcd"));
        assert!(!same_token("abce", "abcd"));
        assert!(!same_token("", "abcd"));
    }
}
