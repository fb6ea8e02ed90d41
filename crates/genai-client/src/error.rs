//! Errors a caller can act on.
//!
//! [`Error`] says what went wrong in one line; [`ApiError`] carries what the
//! server said (HTTP status, status name, message, parsed details, retry
//! delay). No error ever contains the API key: the key travels only in a
//! header, and messages built from server text are scrubbed of it.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::types::enums::BlockReason;

/// Everything that can go wrong talking to Gemini.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request could not be sent or the connection broke.
    #[error("could not reach Gemini at {url}: {message}")]
    Transport {
        /// The base URL that was tried.
        url: String,
        /// What failed.
        message: String,
    },
    /// A timeout fired.
    #[error("timed out {phase} after {}{}", crate::retry::human_duration(*after), phase.hint())]
    Timeout {
        /// What was being waited for.
        phase: TimeoutPhase,
        /// How long was waited.
        after: Duration,
    },
    /// The server's reply could not be understood.
    #[error(
        "could not decode Gemini's reply: {message}{}",
        snippet_suffix(snippet)
    )]
    Decode {
        /// What was wrong.
        message: String,
        /// The start of the offending body.
        snippet: String,
    },
    /// The prompt was blocked before any answer was produced.
    #[error("Gemini blocked the prompt ({reason}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    PromptBlocked {
        /// The block reason.
        reason: BlockReason,
        /// The server's explanation, when given.
        message: Option<String>,
    },
    /// Every allowed attempt failed.
    #[error("gave up after {attempts} attempts in {}: {last}", crate::retry::human_duration(*elapsed))]
    RetriesExhausted {
        /// Attempts made, the first included.
        attempts: u32,
        /// Time spent, waits included.
        elapsed: Duration,
        /// The last attempt's error.
        last: Box<Error>,
    },
    /// The client was configured in a way that cannot work.
    #[error("{0}")]
    Config(String),
    /// A quota stops this model for now: its daily quota is spent, or the
    /// tier has none. Not retried.
    #[error("{0}")]
    Quota(Box<crate::limiter::QuotaStop>),
    /// A reply was larger than the configured limit; reading stopped there.
    #[error(
        "Gemini's reply was too large: {part} exceeded {} (ask for a shorter answer, e.g. a lower maxOutputTokens, or raise the client's reply limit)",
        human_bytes(*limit)
    )]
    TooLarge {
        /// What exceeded its limit.
        part: ReplyPart,
        /// The limit, in bytes.
        limit: u64,
    },
}

/// The part of a reply a [`Error::TooLarge`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyPart {
    /// A unary body.
    Body,
    /// A whole stream.
    Stream,
    /// One event of a stream.
    Event,
}

impl fmt::Display for ReplyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Body => "the body",
            Self::Stream => "the stream",
            Self::Event => "one stream event",
        })
    }
}

/// `512 B`, `16 KiB`, `32 MiB`.
fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b >= KIB * KIB && b % (KIB * KIB) == 0 => format!("{} MiB", b / (KIB * KIB)),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// What a [`Error::Timeout`] was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Connecting.
    Connect,
    /// The response (headers, and the whole body of a unary call).
    Request,
    /// The next chunk of a stream.
    StreamIdle,
    /// The end of a stream (its overall deadline).
    StreamTotal,
}

impl TimeoutPhase {
    /// What the user can do, as a suffix of the error line.
    fn hint(self) -> &'static str {
        match self {
            Self::StreamIdle => " (Gemini stopped sending the answer; try again)",
            Self::StreamTotal => {
                " (the answer streamed for too long; ask for a shorter answer or try again)"
            }
            Self::Connect | Self::Request => "",
        }
    }
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting",
            Self::Request => "waiting for the response",
            Self::StreamIdle => "waiting for the next stream chunk",
            Self::StreamTotal => "waiting for the stream to end",
        })
    }
}

/// A coarse classification of [`Error`], for reports and retry decisions.
///
/// Serialised as the snake_case word of [`ErrorKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Api`].
    Api,
    /// [`Error::Transport`].
    Transport,
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::Decode`].
    Decode,
    /// [`Error::PromptBlocked`].
    PromptBlocked,
    /// [`Error::RetriesExhausted`].
    RetriesExhausted,
    /// [`Error::Config`].
    Config,
    /// [`Error::TooLarge`].
    TooLarge,
    /// [`Error::Quota`].
    Quota,
}

impl ErrorKind {
    /// A short snake_case name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Transport => "transport",
            Self::Timeout => "timeout",
            Self::Decode => "decode",
            Self::PromptBlocked => "prompt_blocked",
            Self::RetriesExhausted => "retries_exhausted",
            Self::Config => "config",
            Self::TooLarge => "too_large",
            Self::Quota => "quota",
        }
    }
}

impl Error {
    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Api(_) => ErrorKind::Api,
            Self::Transport { .. } => ErrorKind::Transport,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Decode { .. } => ErrorKind::Decode,
            Self::PromptBlocked { .. } => ErrorKind::PromptBlocked,
            Self::RetriesExhausted { .. } => ErrorKind::RetriesExhausted,
            Self::Config(_) => ErrorKind::Config,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Quota(_) => ErrorKind::Quota,
        }
    }

    /// True when Gemini refused the key (see [`ApiError::is_auth`]), looking
    /// through [`Error::RetriesExhausted`].
    pub fn is_auth(&self) -> bool {
        self.api().is_some_and(ApiError::is_auth)
    }

    /// The server's error, looking through [`Error::RetriesExhausted`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            Self::RetriesExhausted { last, .. } => last.api(),
            _ => None,
        }
    }

    /// The innermost error (the last attempt's, after retries).
    pub fn root(&self) -> &Error {
        match self {
            Self::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }

    /// True when trying again may succeed: 408, 429, 500, 502, 503, 504,
    /// connection failures, timeouts, and replies that could not be decoded.
    /// A reply over the size limit is not retried: the same request would
    /// most likely be answered the same way, and each try costs the limit.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(api) => api.is_retryable(),
            Self::Transport { .. } | Self::Timeout { .. } | Self::Decode { .. } => true,
            _ => false,
        }
    }

    /// The delay the server asked for (RetryInfo or `Retry-After`).
    pub fn retry_delay(&self) -> Option<Duration> {
        self.api().and_then(ApiError::retry_delay)
    }

    /// A short reason, e.g. `429 RESOURCE_EXHAUSTED` or `timeout`.
    pub fn short_reason(&self) -> String {
        match self.root() {
            Self::Api(api) => match &api.status {
                Some(status) => format!("{} {status}", api.code),
                None => api.code.to_string(),
            },
            Self::Transport { .. } => "connection error".to_owned(),
            Self::Timeout { phase, .. } => format!("timeout {phase}"),
            Self::Decode { .. } => "undecodable reply".to_owned(),
            other => other.kind().as_str().to_owned(),
        }
    }

    pub(crate) fn decode(message: impl Into<String>, body: &[u8]) -> Self {
        Self::Decode {
            message: message.into(),
            snippet: snippet(body),
        }
    }
}

fn snippet_suffix(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(" (body starts: {snippet})")
    }
}

/// The first 120 characters of a body, on one line.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// An error reply from the server (`google.rpc.Status`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The error code (repeats the HTTP status).
    pub code: u16,
    /// The canonical status name, e.g. `RESOURCE_EXHAUSTED`.
    pub status: Option<String>,
    /// The server's message.
    pub message: String,
    /// Parsed `details`.
    pub details: Vec<ErrorDetail>,
    /// The `Retry-After` header, when sent.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gemini API error {}", self.code)?;
        if let Some(status) = &self.status {
            write!(f, " {status}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(delay) = self.retry_delay() {
            write!(f, " (retry in {})", crate::retry::human_duration(delay))?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl ApiError {
    /// The model a 404 names as not found (`models/X is not found for API
    /// version ...`), without the `models/` prefix.
    ///
    /// ```
    /// use genai_client::ApiError;
    /// let body = br#"{"error":{"code":404,"message":"models/gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}"#;
    /// assert_eq!(ApiError::from_body(404, body).missing_model(), Some("gemini-2.0-flash"));
    /// ```
    pub fn missing_model(&self) -> Option<&str> {
        if self.code != 404 {
            return None;
        }
        let rest = self.message.trim_start().strip_prefix("models/")?;
        let (model, after) = rest.split_once(' ')?;
        (after.starts_with("is not found") && !model.is_empty()).then_some(model)
    }

    /// Builds an error from a body and its HTTP status. JSON error envelopes
    /// are parsed; anything else (an HTML error page, plain text) becomes a
    /// clean message with the status's reason phrase.
    pub fn from_body(http_status: u16, body: &[u8]) -> ApiError {
        if let Some(api) = Self::from_envelope(body, Some(http_status)) {
            return api;
        }
        let text = String::from_utf8_lossy(body);
        ApiError {
            code: http_status,
            status: reason_phrase(http_status).map(str::to_owned),
            message: clean_text(&text),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// Parses a `{"error": {...}}` envelope, if `body` is one.
    pub fn from_envelope(body: &[u8], http_status: Option<u16>) -> Option<ApiError> {
        let value: Value = serde_json::from_slice(body).ok()?;
        Self::from_value(&value, http_status)
    }

    /// Parses a `{"error": {...}}` envelope held as a JSON value.
    pub fn from_value(value: &Value, http_status: Option<u16>) -> Option<ApiError> {
        // Some servers wrap the envelope in a one-element array.
        let value = match value {
            Value::Array(items) if items.len() == 1 => &items[0],
            other => other,
        };
        let error = value.get("error")?.as_object()?;
        let code = error
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|code| u16::try_from(code).ok())
            .or(http_status)
            .unwrap_or(0);
        let details = error
            .get("details")
            .and_then(Value::as_array)
            .map(|details| details.iter().map(ErrorDetail::from_value).collect())
            .unwrap_or_default();
        Some(ApiError {
            code,
            status: error
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            details,
            retry_after: None,
        })
    }

    /// True for 408, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code, 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// The delay the server asked for: RetryInfo first, then `Retry-After`,
    /// then a 429 message's "Please retry in 39.8s." (bodies without details).
    pub fn retry_delay(&self) -> Option<Duration> {
        self.details
            .iter()
            .find_map(|detail| match detail {
                ErrorDetail::RetryInfo { retry_delay } => Some(*retry_delay),
                _ => None,
            })
            .or(self.retry_after)
            .or_else(|| {
                (self.code == 429)
                    .then(|| crate::limiter::retry_in_message(&self.message))
                    .flatten()
            })
    }

    /// Every `QuotaFailure` violation of the error, in order.
    pub fn quota_violations(&self) -> Vec<&crate::limiter::QuotaViolation> {
        self.details
            .iter()
            .flat_map(|detail| match detail {
                ErrorDetail::QuotaFailure { violations } => violations.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The `ErrorInfo.reason`, e.g. `API_KEY_INVALID`.
    pub fn reason(&self) -> Option<&str> {
        self.details.iter().find_map(|detail| match detail {
            ErrorDetail::ErrorInfo { reason, .. } => reason.as_deref(),
            _ => None,
        })
    }

    /// True when the key itself is refused: 401, 403, or an `ErrorInfo`
    /// reason of `API_KEY_INVALID`, `API_KEY_EXPIRED` or `SERVICE_DISABLED`
    /// (Gemini answers a wrong key with 400 `API_KEY_INVALID`). Every other
    /// request with the same key would be refused too.
    ///
    /// ```
    /// use genai_client::ApiError;
    /// let body = br#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
    /// assert!(ApiError::from_body(400, body).is_auth());
    /// assert!(!ApiError::from_body(400, b"{}").is_auth());
    /// ```
    pub fn is_auth(&self) -> bool {
        matches!(self.code, 401 | 403)
            || matches!(
                self.reason(),
                Some("API_KEY_INVALID" | "API_KEY_EXPIRED" | "SERVICE_DISABLED")
            )
    }

    /// What the user can do about it, for the errors where we know.
    pub fn hint(&self) -> Option<&'static str> {
        match (self.code, self.reason()) {
            (_, Some("API_KEY_INVALID")) => Some("check GEMINI_API_KEY"),
            (_, Some("SERVICE_DISABLED")) => {
                Some("enable the Generative Language API for the key's project")
            }
            (404, _) => Some("check the model name"),
            (401 | 403, _) => Some("check GEMINI_API_KEY and its project's permissions"),
            _ => None,
        }
    }

    /// Replaces every secret `redactor` knows in the message and details.
    pub(crate) fn scrub(&mut self, redactor: &crate::redact::Redactor) {
        self.message = redactor.redact(&self.message).into_owned();
        for detail in &mut self.details {
            detail.scrub(redactor);
        }
    }
}

/// One entry of an error's `details`, parsed by its `@type`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorDetail {
    /// `google.rpc.RetryInfo`.
    RetryInfo {
        /// How long to wait.
        retry_delay: Duration,
    },
    /// `google.rpc.ErrorInfo`.
    ErrorInfo {
        /// E.g. `API_KEY_INVALID`.
        reason: Option<String>,
        /// E.g. `googleapis.com`.
        domain: Option<String>,
    },
    /// `google.rpc.QuotaFailure`: the quotas violated.
    QuotaFailure {
        /// Each violation, typed.
        violations: Vec<crate::limiter::QuotaViolation>,
    },
    /// `google.rpc.Help`: links to documentation.
    Help {
        /// The link URLs.
        links: Vec<String>,
    },
    /// `google.rpc.LocalizedMessage`.
    LocalizedMessage {
        /// The message.
        message: String,
    },
    /// `google.rpc.DebugInfo`.
    DebugInfo {
        /// The detail text.
        detail: String,
    },
    /// Any other type, kept as raw JSON.
    Other(Value),
}

impl ErrorDetail {
    fn from_value(value: &Value) -> ErrorDetail {
        let type_url = value
            .get("@type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let kind = type_url.rsplit('/').next().unwrap_or_default();
        match kind {
            "google.rpc.RetryInfo" => {
                match text("retryDelay").as_deref().and_then(parse_duration) {
                    Some(retry_delay) => ErrorDetail::RetryInfo { retry_delay },
                    None => ErrorDetail::Other(value.clone()),
                }
            }
            "google.rpc.ErrorInfo" => ErrorDetail::ErrorInfo {
                reason: text("reason"),
                domain: text("domain"),
            },
            "google.rpc.QuotaFailure" => ErrorDetail::QuotaFailure {
                violations: value
                    .get("violations")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .map(crate::limiter::QuotaViolation::from_value)
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            "google.rpc.Help" => ErrorDetail::Help {
                links: list_field(value, "links", "url"),
            },
            "google.rpc.LocalizedMessage" => ErrorDetail::LocalizedMessage {
                message: text("message").unwrap_or_default(),
            },
            "google.rpc.DebugInfo" => ErrorDetail::DebugInfo {
                detail: text("detail").unwrap_or_default(),
            },
            _ => ErrorDetail::Other(value.clone()),
        }
    }

    fn scrub(&mut self, redactor: &crate::redact::Redactor) {
        let clean = |text: &mut String| *text = redactor.redact(text).into_owned();
        match self {
            ErrorDetail::LocalizedMessage { message } => clean(message),
            ErrorDetail::DebugInfo { detail } => clean(detail),
            ErrorDetail::Other(value) => {
                redactor.redact_value(value);
            }
            ErrorDetail::Help { links } => links.iter_mut().for_each(clean),
            _ => {}
        }
    }
}

fn list_field(value: &Value, list: &str, field: &str) -> Vec<String> {
    value
        .get(list)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get(field).and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a protobuf Duration as JSON renders it: `"13s"`, `"34.4s"`,
/// `"22.231358113s"`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(genai_client::parse_duration("34.4s"), Some(Duration::from_millis(34_400)));
/// assert_eq!(genai_client::parse_duration("13"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let number = text.trim().strip_suffix('s')?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let nanos: u32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    Some(Duration::new(seconds, nanos))
}

/// The reason phrase of common HTTP statuses.
pub(crate) fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        499 => "Client Closed Request",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

/// Turns an HTML error page or plain text into one clean line: the page's
/// visible text (its title when it has no other), whitespace collapsed, at
/// most 300 characters.
pub(crate) fn clean_text(text: &str) -> String {
    let visible = if looks_like_html(text) {
        let body = strip_tags(&remove_element(text, "title"));
        if body.trim().is_empty() {
            html_title(text).unwrap_or_default()
        } else {
            body
        }
    } else {
        text.to_owned()
    };
    let one_line = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

pub(crate) fn looks_like_html(text: &str) -> bool {
    let start = text
        .trim_start()
        .get(..15)
        .unwrap_or(text.trim_start())
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The text of an HTML page's `<title>`.
pub(crate) fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower[start..].find("</title>")? + start;
    Some(html.get(start..end)?.trim().to_owned())
}

/// The HTTP status a Google front-end error page names in its title
/// ("Error 404 (Not Found)!!1").
pub(crate) fn html_status(html: &str) -> Option<u16> {
    let title = html_title(html)?;
    let rest = title.strip_prefix("Error ")?;
    rest.get(..3)?.parse().ok()
}

fn remove_element(html: &str, tag: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    match (lower.find(&open), lower.find(&close)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{}", &html[..start], &html[end + close.len()..])
        }
        _ => html.to_owned(),
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let after = &rest[open..];
        let head = after.get(..8).unwrap_or(after).to_ascii_lowercase();
        let closing = if head.starts_with("<style") {
            Some("</style>")
        } else if head.starts_with("<script") {
            Some("</script>")
        } else {
            None
        };
        let end = match closing {
            // Style and script blocks are skipped whole.
            Some(closing) => after
                .to_ascii_lowercase()
                .find(closing)
                .map(|i| i + closing.len()),
            None => after.find('>').map(|i| i + 1),
        };
        rest = end.map_or("", |end| &after[end..]);
    }
    out.push_str(rest);
    out
}
