//! What goes over the wire, told to an observer: one [`HttpEvent`] when a
//! request is sent and one when its response headers arrive (or it fails),
//! for a caller's request log or HTTP debug log.
//!
//! Every URL and header value is scrubbed by the client's [`Redactor`]
//! before an observer sees it, and the API key header is never shown: an
//! observer can print what it gets.
//!
//! [`Redactor`]: crate::Redactor

use std::sync::Arc;
use std::time::Duration;

/// One step of an HTTP exchange with Gemini.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpEvent {
    /// A request is about to be sent.
    Request {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL, without userinfo, secrets redacted.
        url: String,
        /// Request headers set by the client (the key's value replaced by
        /// the redaction marker).
        headers: Vec<(String, String)>,
        /// Size of the JSON body in bytes (0 for a GET).
        body_bytes: usize,
    },
    /// The response's status and headers arrived.
    Response {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL, as in [`HttpEvent::Request`].
        url: String,
        /// The HTTP status.
        status: u16,
        /// Response headers, secrets redacted.
        headers: Vec<(String, String)>,
        /// Time from sending to the headers.
        elapsed: Duration,
    },
    /// The request failed before any response (connection refused, timeout).
    Failed {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL, as in [`HttpEvent::Request`].
        url: String,
        /// What went wrong, one line, secrets redacted.
        message: String,
        /// Time from sending to the failure.
        elapsed: Duration,
    },
}

/// Told of every [`HttpEvent`] of a client (see
/// [`Client::with_http_observer`](crate::Client::with_http_observer)).
pub trait HttpObserver: Send + Sync {
    /// Called as the exchange goes.
    fn on_http(&self, event: &HttpEvent);
}

impl<F: Fn(&HttpEvent) + Send + Sync> HttpObserver for F {
    fn on_http(&self, event: &HttpEvent) {
        self(event);
    }
}

/// An [`HttpObserver`] shared between clients.
pub type SharedHttpObserver = Arc<dyn HttpObserver>;
