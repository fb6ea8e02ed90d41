//! Turning response bodies into typed values.
//!
//! [`decode_response`] reads a unary body given its HTTP status;
//! [`decode_recorded`] reads a body saved to a file, where the status is
//! unknown and the shape (JSON, SSE, a JSON array of chunks, newline-
//! delimited chunks, an error envelope, an HTML error page) must be guessed.

use serde_json::Value;

use crate::accumulate::StreamAccumulator;
use crate::error::{ApiError, Error, html_status, looks_like_html};
use crate::sse::{SseDecoder, SseFrame};
use crate::types::response::{CountTokensResponse, GenerateContentResponse, UsageMetadata};

/// Top-level keys a `GenerateContentResponse` may carry; an object with none
/// of them is not one.
const RESPONSE_KEYS: &[&str] = &[
    "candidates",
    "promptFeedback",
    "usageMetadata",
    "modelVersion",
    "responseId",
    "createTime",
];

/// Decodes a unary `generateContent` body.
///
/// ```
/// let body = br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"slow down",
///   "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}"#;
/// let error = genai_client::decode_response(429, body).unwrap_err();
/// assert_eq!(error.retry_delay(), Some(std::time::Duration::from_secs(13)));
/// ```
pub fn decode_response(status: u16, body: &[u8]) -> Result<GenerateContentResponse, Error> {
    if !(200..300).contains(&status) {
        return Err(Error::Api(Box::new(ApiError::from_body(status, body))));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| Error::decode(format!("the body is not JSON ({error})"), body))?;
    response_from_value(value, body)
}

/// Decodes one stream frame: a response chunk, or an error sent mid-stream.
pub(crate) fn decode_frame(frame: &SseFrame) -> Result<GenerateContentResponse, Error> {
    let payload = frame.payload();
    let value: Value = serde_json::from_str(payload).map_err(|error| {
        Error::decode(
            format!("a stream event is not JSON ({error})"),
            payload.as_bytes(),
        )
    })?;
    response_from_value(value, payload.as_bytes())
}

fn response_from_value(value: Value, body: &[u8]) -> Result<GenerateContentResponse, Error> {
    if let Some(api) = ApiError::from_value(&value, None) {
        return Err(Error::Api(Box::new(api)));
    }
    let is_response = match &value {
        Value::Object(map) => {
            map.is_empty() || RESPONSE_KEYS.iter().any(|key| map.contains_key(*key))
        }
        _ => false,
    };
    if !is_response {
        return Err(Error::decode(
            "the JSON is not a GenerateContentResponse",
            body,
        ));
    }
    serde_json::from_value(value)
        .map_err(|error| Error::decode(format!("unexpected response shape ({error})"), body))
}

/// What a saved body turned out to hold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RecordedBody {
    /// A unary `generateContent` reply.
    Response(GenerateContentResponse),
    /// A stream (SSE, a JSON array of chunks, or one chunk per line).
    Stream(RecordedStream),
    /// An error reply.
    Error(ApiError),
    /// A `countTokens` reply.
    CountTokens(CountTokensResponse),
}

/// A decoded stream.
#[derive(Debug, Clone, Default)]
pub struct RecordedStream {
    /// The response chunks, in order.
    pub chunks: Vec<GenerateContentResponse>,
    /// The chunks folded into one response.
    pub combined: GenerateContentResponse,
    /// An error that ended the stream, if one did.
    pub error: Option<ApiError>,
    /// True when the body ended in the middle of an event.
    pub truncated: bool,
}

/// Decodes a body saved to a file, guessing its shape.
///
/// ```
/// use genai_client::{decode_recorded, RecordedBody};
/// let body = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n\
///              data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n";
/// let RecordedBody::Stream(stream) = decode_recorded(body).unwrap() else { panic!() };
/// assert_eq!(stream.chunks.len(), 2);
/// assert_eq!(stream.combined.text(), "Hello");
/// ```
pub fn decode_recorded(body: &[u8]) -> Result<RecordedBody, Error> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(Error::decode("the body is empty", body));
    }
    if trimmed.lines().any(|line| line.starts_with("data:")) {
        return decode_sse(trimmed.as_bytes());
    }
    if looks_like_html(trimmed) {
        let status = html_status(trimmed).unwrap_or(0);
        return Ok(RecordedBody::Error(ApiError::from_body(
            status,
            trimmed.as_bytes(),
        )));
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => decode_json_value(value, body),
        Err(_) => decode_json_lines(trimmed, body),
    }
}

fn decode_json_value(value: Value, body: &[u8]) -> Result<RecordedBody, Error> {
    if let Some(api) = ApiError::from_value(&value, None) {
        return Ok(RecordedBody::Error(api));
    }
    match value {
        Value::Array(items) => fold_chunks(items.into_iter().map(Ok), body),
        Value::Object(ref map) if map.contains_key("totalTokens") => serde_json::from_value(value)
            .map(RecordedBody::CountTokens)
            .map_err(|error| {
                Error::decode(format!("unexpected countTokens shape ({error})"), body)
            }),
        other => response_from_value(other, body).map(RecordedBody::Response),
    }
}

fn decode_json_lines(text: &str, body: &[u8]) -> Result<RecordedBody, Error> {
    let values: Result<Vec<Value>, _> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str::<Value>)
        .collect();
    match values {
        Ok(values) => fold_chunks(values.into_iter().map(Ok), body),
        Err(error) => Err(Error::decode(
            format!("the body is neither JSON nor SSE ({error})"),
            body,
        )),
    }
}

fn decode_sse(body: &[u8]) -> Result<RecordedBody, Error> {
    let mut decoder = SseDecoder::default();
    let mut frames = decoder.feed(body);
    let mut truncated = false;
    match decoder.finish() {
        Ok(rest) => frames.extend(rest),
        Err(_) => truncated = true,
    }
    // A body that is one bare error object with no events is an error reply.
    if let [SseFrame::BareJson(payload)] = frames.as_slice() {
        if let Some(api) = ApiError::from_envelope(payload.as_bytes(), None) {
            return Ok(RecordedBody::Error(api));
        }
    }
    let values = frames.iter().map(|frame| {
        serde_json::from_str::<Value>(frame.payload()).map_err(|error| {
            Error::decode(
                format!("a stream event is not JSON ({error})"),
                frame.payload().as_bytes(),
            )
        })
    });
    let mut result = fold_chunks(values, body)?;
    if let RecordedBody::Stream(stream) = &mut result {
        stream.truncated = truncated;
    }
    Ok(result)
}

fn fold_chunks(
    values: impl Iterator<Item = Result<Value, Error>>,
    body: &[u8],
) -> Result<RecordedBody, Error> {
    let mut stream = RecordedStream::default();
    let mut accumulator = StreamAccumulator::default();
    for value in values {
        let value = value?;
        if let Some(api) = ApiError::from_value(&value, None) {
            stream.error = Some(api);
            break;
        }
        let chunk = response_from_value(value, body)?;
        accumulator.push(&chunk);
        stream.chunks.push(chunk);
    }
    stream.combined = accumulator.finish();
    Ok(RecordedBody::Stream(stream))
}

impl RecordedBody {
    /// The response a caller would end up with: the reply, or the stream's
    /// chunks folded into one.
    pub fn response(&self) -> Option<&GenerateContentResponse> {
        match self {
            Self::Response(response) => Some(response),
            Self::Stream(stream) => Some(&stream.combined),
            Self::Error(_) | Self::CountTokens(_) => None,
        }
    }

    /// The error the body carries, if any.
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Self::Error(error) => Some(error),
            Self::Stream(stream) => stream.error.as_ref(),
            _ => None,
        }
    }

    /// The token counts, from the response or from a `countTokens` reply
    /// (read as prompt tokens).
    pub fn usage_metadata(&self) -> Option<UsageMetadata> {
        match self {
            Self::CountTokens(count) => Some(UsageMetadata {
                prompt_token_count: Some(count.total_tokens),
                cached_content_token_count: count.cached_content_token_count,
                total_token_count: Some(count.total_tokens),
                ..UsageMetadata::default()
            }),
            other => other
                .response()
                .and_then(|response| response.usage_metadata.clone()),
        }
    }
}
