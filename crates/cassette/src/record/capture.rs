//! Capturing one proxied exchange: the request as sent and the response as
//! it streamed back, with SSE events split out and timed as they arrived.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::redact::{redact_str, redact_value};
use crate::format::{Interaction, RequestSpec, ResponseBody, ResponseSpec, SseEvent};
use crate::matcher::BodyMatcher;

/// An exchange whose response is still arriving.
pub(super) struct Capture {
    exchange: Exchange,
    sse: bool,
    raw: Vec<u8>,
    /// Complete SSE event blocks with the delay before each.
    blocks: Vec<(Vec<u8>, Duration)>,
    /// Where the next SSE event block starts in `raw`.
    event_start: usize,
    last_event_at: Instant,
}

/// A completed exchange, not yet redacted.
pub(super) struct Exchange {
    pub(super) seq: u64,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    request_body: Option<Value>,
    status: u16,
    content_type: Option<String>,
    /// The response's resumable-upload headers (`x-goog-upload-*`), which
    /// a replayed upload needs (its session URL, its status).
    upload_headers: Vec<(String, String)>,
    body: ResponseBody,
}

impl Capture {
    /// Starts capturing once the upstream's response head has arrived.
    pub(super) fn new(
        seq: u64,
        method: &str,
        path: &str,
        query: Vec<(String, String)>,
        request_body: &Bytes,
        status: u16,
        headers: &reqwest::header::HeaderMap,
    ) -> Self {
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let upload_headers = headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-goog-upload-"))
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let sse = content_type.is_some_and(|t| t.trim_start().starts_with("text/event-stream"));
        let exchange = Exchange {
            seq,
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            request_body: serde_json::from_slice(request_body).ok(),
            status,
            content_type: content_type.map(str::to_owned),
            upload_headers,
            body: ResponseBody::Text(String::new()),
        };
        Self {
            exchange,
            sse,
            raw: Vec::new(),
            blocks: Vec::new(),
            event_start: 0,
            last_event_at: Instant::now(),
        }
    }

    /// Adds a chunk of response body as it passes through.
    pub(super) fn push(&mut self, chunk: &[u8]) {
        self.raw.extend_from_slice(chunk);
        if !self.sse {
            return;
        }
        while let Some((sep_start, sep_end)) = find_separator(&self.raw, self.event_start) {
            let now = Instant::now();
            let block = self.raw[self.event_start..sep_start].to_vec();
            self.blocks.push((block, now - self.last_event_at));
            self.last_event_at = now;
            self.event_start = sep_end;
        }
    }

    /// The response ended normally: decide how to store its body.
    pub(super) fn finish(mut self) -> Exchange {
        let text = || ResponseBody::Text(String::from_utf8_lossy(&self.raw).into_owned());
        self.exchange.body = if self.sse {
            let rest = &self.raw[self.event_start..];
            let events: Option<Vec<SseEvent>> = self
                .blocks
                .iter()
                .map(|(block, delay)| {
                    let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                    sse_data(block).map(|data| SseEvent { data, delay_ms })
                })
                .collect();
            match events {
                // Anything else (comments, `event:` lines, a bare error
                // object) cannot be replayed from events, so keep it raw.
                Some(events) if rest.iter().all(u8::is_ascii_whitespace) => {
                    ResponseBody::Sse(events)
                }
                _ => text(),
            }
        } else {
            serde_json::from_slice(&self.raw).map_or_else(|_| text(), ResponseBody::Json)
        };
        self.exchange
    }
}

impl Exchange {
    /// The exchange as a cassette interaction, with every secret redacted.
    pub(super) fn to_interaction(&self, secrets: &[String]) -> Interaction {
        let query: BTreeMap<String, String> = self
            .query
            .iter()
            .filter(|(key, _)| key != "key")
            .map(|(key, value)| (redact_str(key, secrets), redact_str(value, secrets)))
            .collect();
        let request = RequestSpec {
            method: self.method.clone(),
            path: redact_str(&self.path, secrets),
            query,
            body: self
                .request_body
                .as_ref()
                .map(|b| BodyMatcher::Exact(redact_value(b, secrets))),
            headers: BTreeMap::new(),
        };
        let body = match &self.body {
            ResponseBody::Json(value) => ResponseBody::Json(redact_value(value, secrets)),
            ResponseBody::Text(text) => ResponseBody::Text(redact_str(text, secrets)),
            ResponseBody::Sse(events) => ResponseBody::Sse(
                events
                    .iter()
                    .map(|e| SseEvent {
                        data: redact_value(&e.data, secrets),
                        delay_ms: e.delay_ms,
                    })
                    .collect(),
            ),
        };
        let mut response = ResponseSpec::new(self.status, body);
        if let Some(content_type) = &self.content_type {
            response
                .headers
                .insert("content-type".to_owned(), redact_str(content_type, secrets));
        }
        for (name, value) in &self.upload_headers {
            response
                .headers
                .insert(name.clone(), redact_str(value, secrets));
        }
        Interaction::new(request, response)
    }
}

/// The first event separator (`\r\n\r\n`, `\n\n` or `\r\r`) at or after
/// `from`, as (start, end).
fn find_separator(raw: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i + 1 < raw.len() {
        if raw[i..].starts_with(b"\r\n\r\n") {
            return Some((i, i + 4));
        }
        if raw[i..].starts_with(b"\n\n") || raw[i..].starts_with(b"\r\r") {
            return Some((i, i + 2));
        }
        i += 1;
    }
    None
}

/// The JSON payload of an event block made only of `data:` lines.
fn sse_data(block: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(block).ok()?;
    let mut data = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let rest = line.strip_prefix("data:")?;
        data.push(rest.strip_prefix(' ').unwrap_or(rest));
    }
    if data.is_empty() {
        return None;
    }
    serde_json::from_str(&data.join("\n")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_events_on_any_separator() {
        let raw = b"data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\n\npartial";
        assert_eq!(find_separator(raw, 0), Some((13, 17)));
        assert_eq!(find_separator(raw, 17), Some((30, 32)));
        assert_eq!(find_separator(raw, 32), None);
        assert_eq!(
            sse_data(b"data: {\"a\":1}"),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(sse_data(b"event: x\ndata: {}"), None);
    }
}
