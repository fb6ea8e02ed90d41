//! HTTP client and wire models for the Google Gemini Developer API (v1beta).
//!
//! This crate knows the Gemini wire and HTTP, and nothing about agents,
//! plans or terminals. It owns:
//!
//! - typed models of `generateContent`, `streamGenerateContent?alt=sse` and
//!   `countTokens` bodies ([`GenerateContentRequest`],
//!   [`GenerateContentResponse`], [`Part`] and friends). Every response field
//!   is optional, unknown fields are ignored and unknown enum values are kept
//!   as `Other(String)`, because the real wire omits defaults and grows new
//!   values all the time;
//! - SSE framing ([`SseDecoder`]) and folding of stream chunks
//!   ([`StreamAccumulator`]);
//! - the [`Client`]: API key, base URL (overridable by
//!   `GOOGLE_GEMINI_BASE_URL`), timeouts, retries with full-jitter backoff
//!   that honour the server's `RetryInfo`, and a shared requests-per-minute
//!   limiter;
//! - [`Error`]s a user can act on, which never contain the API key.
//!
//! ```
//! use genai_client::{decode_response, Content};
//! let body = br#"{"candidates":[{"content":{"role":"model","parts":[{"text":"4"}]},"finishReason":"STOP"}]}"#;
//! let response = decode_response(200, body).unwrap();
//! assert_eq!(response.text(), "4");
//! # let _ = Content::user("2 + 2?");
//! ```
//!
//! Layering: this crate depends on no other project crate.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod accumulate;
pub mod catalog;
mod client;
mod config;
mod cost;
mod decode;
mod error;
mod limiter;
mod open_enum;
mod redact;
mod retry;
mod sse;
mod stream;
mod types;

pub use accumulate::StreamAccumulator;
pub use client::Client;
pub use config::{ApiKey, ClientConfig, DEFAULT_BASE_URL, ReplyLimits, Timeouts, env};
pub use cost::{Cost, CostTotal, Unpriced, Usd, cost_of_call};
pub use decode::{RecordedBody, RecordedStream, decode_recorded, decode_response};
pub use error::{ApiError, Error, ErrorDetail, ErrorKind, ReplyPart, TimeoutPhase, parse_duration};
pub use limiter::{QuotaKind, QuotaStop, QuotaViolation, next_pacific_midnight};
pub use redact::{REDACTED, Redactor, display_url};
pub use retry::{RetryEvent, RetryObserver, RetryPolicy, SharedRetryObserver};
pub use sse::{SseDecoder, SseFrame, TruncatedStream};
pub use stream::ResponseStream;
pub use types::content::{
    Blob, CodeExecutionResult, Content, ExecutableCode, FileData, FunctionCall, FunctionResponse,
    Part, PartData, ToolCall, ToolResponse,
};
pub use types::enums::{
    BlockReason, FinishReason, FunctionCallingMode, Language, Outcome, Role, ToolType,
};
pub use types::models::{ListModelsResponse, Model};
pub use types::request::{
    CountTokensRequest, EmptyObject, FunctionCallingConfig, FunctionDeclaration,
    GenerateContentRequest, GenerationConfig, SafetySetting, ThinkingConfig, ThinkingLevel, Tool,
    ToolConfig,
};
pub use types::response::{
    Candidate, Citation, CitationMetadata, CountTokensResponse, GenerateContentResponse,
    GroundingChunk, GroundingMetadata, GroundingSource, PromptFeedback, SafetyRating, Usage,
    UsageMetadata,
};

/// Formats a duration for people: `850 ms`, `13 s`, `34.4 s`, `2 min 05 s`.
pub fn human_duration(duration: std::time::Duration) -> String {
    retry::human_duration(duration)
}
