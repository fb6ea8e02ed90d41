//! Loopback HTTP/1.1 plumbing shared by the fixture server and the recording
//! proxy: the accept loop, graceful shutdown, a response body type, and a
//! connection wrapper that can end with a TCP reset instead of a clean close.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The response body type both servers produce.
pub(crate) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// A whole body known up front (sent with `content-length`).
pub(crate) fn full_body(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Set by a handler to make its connection end with a TCP reset (`SO_LINGER`
/// 0) rather than an orderly close when hyper drops it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnReset(Arc<AtomicBool>);

impl ConnReset {
    pub(crate) fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A running accept loop. Dropping it starts a graceful shutdown.
#[derive(Debug)]
pub(crate) struct Listener {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Listener {
    /// Binds `127.0.0.1:port` (0 = ephemeral) and serves every connection
    /// with `handler` on the current tokio runtime.
    pub(crate) async fn bind<H, F>(port: u16, handler: H) -> io::Result<Self>
    where
        H: Fn(Request<Incoming>, ConnReset) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Result<Response<Body>, io::Error>> + Send + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, handler, shutdown_rx));
        Ok(Self {
            addr,
            shutdown,
            task: Some(task),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open connections finish their current
    /// exchange, and waits for them.
    pub(crate) async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            // A join error means the loop panicked or the runtime is going
            // away; either way there is nothing left to wait for.
            let _ = task.await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

async fn accept_loop<H, F>(listener: TcpListener, handler: H, mut shutdown: watch::Receiver<bool>)
where
    H: Fn(Request<Incoming>, ConnReset) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, io::Error>> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => {
                // Accept errors (e.g. too many open files) are transient for
                // a test server; keep serving the connections we have.
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let reset = ConnReset::default();
                let io = TokioIo::new(ResettableStream { stream, reset: reset.clone() });
                let handler = handler.clone();
                let mut stop = shutdown.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| handler(req, reset.clone()));
                    let conn = http1::Builder::new().serve_connection(io, service);
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

/// Resolves once shutdown was requested (or the server handle is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender was dropped, which also means stop.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A TCP stream that sets `SO_LINGER` to 0 before closing when its
/// connection asked for a reset, so the peer sees `ECONNRESET`.
struct ResettableStream {
    stream: TcpStream,
    reset: ConnReset,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.requested() {
            // Best effort: without it the peer sees an orderly close instead.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A body that keeps `guard` alive until hyper drops the body, i.e. until
/// it has been fully written or the connection died.
pub(crate) struct GuardedBody<G> {
    inner: Body,
    _guard: G,
}

impl<G: Send + Unpin + 'static> GuardedBody<G> {
    pub(crate) fn wrap(inner: Body, guard: G) -> Body {
        Self {
            inner,
            _guard: guard,
        }
        .boxed_unsync()
    }
}

impl<G: Unpin> HttpBody for GuardedBody<G> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Splits a URL query into decoded key/value pairs (`+` is a space, `%XX`
/// escapes are decoded; invalid escapes are kept as written).
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    #[test]
    fn decodes_query_pairs() {
        let pairs = parse_query("alt=sse&key=a%2Bb&x=1+2&flag&bad=%zz");
        let expect = [
            ("alt", "sse"),
            ("key", "a+b"),
            ("x", "1 2"),
            ("flag", ""),
            ("bad", "%zz"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(pairs, expect);
    }
}
