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
//! - the Batch API and the Files API ([`Client::create_batch`],
//!   [`Client::upload_file`], [`Client::download_results`], [`Operation`]);
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
//! # Streaming
//!
//! [`Client::stream_generate_content`] returns a [`ResponseStream`] of
//! chunks; each carries the text that arrived since the last one.
//!
//! ```no_run
//! use genai_client::{Client, ClientConfig, Content, GenerateContentRequest};
//!
//! # async fn demo() -> Result<(), genai_client::Error> {
//! let client = Client::new(ClientConfig::from_env())?;
//! let request = GenerateContentRequest {
//!     contents: vec![Content::user("Name three rivers.")],
//!     ..GenerateContentRequest::default()
//! };
//! let mut stream = client.stream_generate_content("gemini-2.5-flash", &request).await?;
//! while let Some(chunk) = stream.next().await {
//!     print!("{}", chunk?.text());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # A tool loop
//!
//! Declare functions, run the calls the model asks for, send the results
//! back as function-response parts, until the model answers in text. The
//! arguments come from the model: check them as hostile input.
//!
//! ```no_run
//! use genai_client::{
//!     Client, ClientConfig, Content, FunctionDeclaration, GenerateContentRequest, Part, Role,
//!     Tool,
//! };
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), genai_client::Error> {
//! let client = Client::new(ClientConfig::from_env())?;
//! let weather = FunctionDeclaration {
//!     name: "get_weather".to_owned(),
//!     description: "The weather in a city today.".to_owned(),
//!     parameters: Some(json!({
//!         "type": "OBJECT",
//!         "properties": {"city": {"type": "STRING"}},
//!         "required": ["city"]
//!     })),
//!     parameters_json_schema: None,
//! };
//! let mut request = GenerateContentRequest {
//!     contents: vec![Content::user("Do I need an umbrella in Oslo?")],
//!     tools: vec![Tool::FunctionDeclarations(vec![weather])],
//!     ..GenerateContentRequest::default()
//! };
//! for _turn in 0..5 {
//!     let response = client.generate_content("gemini-2.5-flash", &request).await?;
//!     let calls: Vec<_> = response.function_calls().into_iter().cloned().collect();
//!     if calls.is_empty() {
//!         println!("{}", response.text());
//!         break;
//!     }
//!     // The model's turn goes back as it came (with any thought signatures).
//!     if let Some(turn) = response.candidates.first().and_then(|c| c.content.clone()) {
//!         request.contents.push(turn);
//!     }
//!     let results = calls
//!         .iter()
//!         .map(|call| Part::function_response(call, json!({"forecast": "rain"})))
//!         .collect();
//!     request.contents.push(Content { role: Some(Role::User), parts: results });
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Layering: this crate depends on no other project crate.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod accumulate;
mod batch;
pub mod catalog;
mod client;
mod config;
mod cost;
mod decode;
mod error;
mod http_log;
mod limiter;
mod open_enum;
mod redact;
mod retry;
mod sse;
mod stream;
mod tls;
mod types;

pub use accumulate::StreamAccumulator;
pub use batch::{MAX_RESULT_LINE_BYTES, ResultLines, UPLOAD_CHUNK_BYTES};
pub use client::Client;
pub use config::{
    ApiKey, ClientConfig, DEFAULT_BASE_URL, DEFAULT_CAUTIOUS_START, ReplyLimits, Timeouts, env,
};
pub use cost::{Cost, CostTotal, Unpriced, Usd, cost_of_batch_call, cost_of_call, supports_batch};
pub use decode::{RecordedBody, RecordedStream, decode_recorded, decode_response};
pub use error::{ApiError, Error, ErrorDetail, ErrorKind, ReplyPart, TimeoutPhase, parse_duration};
pub use http_log::{HttpEvent, HttpObserver, SharedHttpObserver};
pub use limiter::{
    LearnedLimit, PerMinuteQuota, QuotaKind, QuotaStop, QuotaViolation, next_pacific_midnight,
};
pub use redact::{REDACTED, Redactor, display_url};
pub use retry::{RetryEvent, RetryObserver, RetryPolicy, SharedRetryObserver};
pub use sse::{SseDecoder, SseFrame, TruncatedStream};
pub use stream::ResponseStream;
pub use types::batch::{
    BatchMetadata, BatchName, BatchOutput, BatchSpec, BatchState, BatchStats, CreateBatchRequest,
    File, FileName, InlinedRequest, InlinedRequests, InlinedResponse, InlinedResponses,
    InputConfig, ListBatchesResponse, Operation, RequestLine, ResultLine, Status, UploadedFile,
};
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
