//! Cassettes: recorded or authored Gemini HTTP sessions, and the machinery
//! to replay and record them.
//!
//! Every test in agent-fork runs offline against a loopback server replaying
//! cassettes, and users get `--record` / `--replay` from the same pieces:
//!
//! * [`format`](mod@format): the versioned JSON cassette format ([`Cassette`]), with
//!   request matchers ([`BodyMatcher`]) and responses (JSON, SSE, text).
//!   `FORMAT.md` beside this crate's `Cargo.toml` documents it.
//! * [`server`]: [`FixtureServer`], an HTTP/1.1 server on `127.0.0.1` that
//!   answers requests by content (so concurrent requests may arrive in any
//!   order), speaks the real wire format (`data: <json>\r\n\r\n` SSE frames,
//!   Google error envelopes), injects faults ([`Fault`]), counts requests
//!   and concurrency, and explains every mismatch.
//! * [`record`]: [`RecordingProxy`], a loopback proxy that forwards to a
//!   live upstream, streams responses through as they arrive, and turns the
//!   session into a redacted cassette (API keys never reach the file).
//!
//! Architecture invariant: this crate depends on no other project crate. It
//! knows HTTP, JSON and the few Gemini request fields it matches on, never
//! the client's wire types, so that `genai-client`'s own tests can use it.

pub mod fault;
pub mod format;
pub mod matcher;
pub mod record;
pub mod server;

mod clock;
mod diff;
mod net;

pub use fault::{Fault, FaultKind, FaultSpec, format_retry_delay};
pub use format::{
    Cassette, FormatError, Interaction, Meta, Provenance, RequestSpec, ResponseBody, ResponseSpec,
    SseEvent,
};
pub use matcher::{BodyMatcher, FunctionResponseMatch, KeyFields};
pub use record::{RecordError, RecordingProxy};
pub use server::{
    FixtureServer, InteractionHits, InteractionId, Mismatch, RandomFaults, ReceivedRequest,
    ServerError, ServerOptions, ServerStats, UnusedInteraction, VerifyError,
};
