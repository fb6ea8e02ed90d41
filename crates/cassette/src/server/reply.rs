//! Turns a cassette response (and an optional fault) into bytes on the wire:
//! real content types, `data: <json>\r\n\r\n` SSE framing with per-event
//! delays, and the broken variants the faults call for.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;

use crate::fault::Fault;
use crate::format::{ResponseBody, ResponseSpec, SseEvent};
use crate::net::{Body, ConnReset, full_body};

/// Content type of JSON responses, as the real API sends it.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";
const SSE_CONTENT_TYPE: &str = "text/event-stream";
const TEXT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";

/// What the handler should do.
pub(crate) enum Reply {
    /// Send this response.
    Send(Response<Body>),
    /// Wait, then drop the connection without a response.
    Close { after: Duration, reset: bool },
}

/// Builds the reply for `response`, applying `fault`.
pub(crate) fn build(response: &ResponseSpec, fault: Option<&Fault>, reset: &ConnReset) -> Reply {
    let Some(fault) = fault.filter(|f| !f.delivers_response()) else {
        return Reply::Send(normal(response));
    };
    if let Some((status, envelope)) = fault.error_envelope() {
        return Reply::Send(json_response(status, &envelope));
    }
    let full = whole_body(&response.body);
    let half = |bytes: &Bytes| bytes.slice(..bytes.len() / 2);
    let body = match fault {
        Fault::ResetBeforeResponse => {
            return Reply::Close {
                after: Duration::ZERO,
                reset: true,
            };
        }
        Fault::Stall { duration } => {
            return Reply::Close {
                after: *duration,
                reset: false,
            };
        }
        Fault::ResetDuringBody => steps(
            vec![Step::Chunk(half(&full)), Step::Fail { reset: true }],
            reset.clone(),
        ),
        Fault::CutSse { after_events } => {
            let plan = match &response.body {
                ResponseBody::Sse(events) => cut_sse(events, *after_events),
                _ => vec![Step::Chunk(half(&full)), Step::Fail { reset: false }],
            };
            steps(plan, reset.clone())
        }
        Fault::MalformedJson => match &response.body {
            ResponseBody::Json(_) => full_body(half(&full)),
            ResponseBody::Sse(events) => {
                let data = events
                    .first()
                    .map_or_else(|| b"{}".to_vec(), |e| compact(&e.data));
                let mut framed = b"data: ".to_vec();
                framed.extend_from_slice(&data[..data.len() / 2]);
                framed.extend_from_slice(b"\r\n\r\n");
                full_body(framed)
            }
            ResponseBody::Text(_) => full_body(&b"{\"candidates\": [{\"content\": "[..]),
        },
        Fault::ByteTrickle { every } => {
            let plan = full
                .iter()
                .flat_map(|&byte| [Step::Wait(*every), Step::Chunk(Bytes::from(vec![byte]))])
                .collect();
            steps(plan, ConnReset::default())
        }
        Fault::Flood { bytes } => flood(*bytes, matches!(response.body, ResponseBody::Sse(_))),
        // Handled above; listed so a new fault kind is a compile error here.
        Fault::RateLimited { .. }
        | Fault::Internal
        | Fault::Unavailable
        | Fault::Latency { .. } => {
            return Reply::Send(normal(response));
        }
    };
    Reply::Send(with_head(response, body))
}

/// A body of `total` bytes, made in 64 KiB pieces as hyper asks for them:
/// the start of a JSON reply whose text goes on and on.
fn flood(total: u64, sse: bool) -> Body {
    const PIECE: usize = 64 * 1024;
    let head: &[u8] = if sse {
        b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\""
    } else {
        b"{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\""
    };
    let filler = Bytes::from(vec![b'a'; PIECE]);
    let first = Bytes::copy_from_slice(head);
    let stream = futures_util::stream::unfold((0u64, first), move |(sent, next)| {
        let filler = filler.clone();
        async move {
            if sent >= total {
                return None;
            }
            let left = usize::try_from(total - sent).unwrap_or(usize::MAX);
            let piece = if next.len() > left {
                next.slice(..left)
            } else {
                next
            };
            let sent = sent + piece.len() as u64;
            Some((Ok::<_, io::Error>(Frame::data(piece)), (sent, filler)))
        }
    });
    StreamBody::new(stream).boxed_unsync()
}

/// An error envelope or other JSON document with the real content type.
pub(crate) fn json_response(status: u16, value: &Value) -> Response<Body> {
    let mut res = Response::new(full_body(compact(value)));
    *res.status_mut() = status_code(status);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    res
}

/// Checks that a response's status and headers can be put on the wire.
pub(crate) fn validate(response: &ResponseSpec) -> Result<(), String> {
    StatusCode::from_u16(response.status)
        .map_err(|_| format!("invalid status {}", response.status))?;
    for (name, value) in &response.headers {
        HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name:?}"))?;
    }
    Ok(())
}

fn normal(response: &ResponseSpec) -> Response<Body> {
    let body = match &response.body {
        ResponseBody::Sse(events) => {
            let plan = events
                .iter()
                .flat_map(|e| {
                    [
                        Step::Wait(Duration::from_millis(e.delay_ms)),
                        Step::Chunk(frame(&e.data)),
                    ]
                })
                .collect();
            steps(plan, ConnReset::default())
        }
        other => full_body(whole_body(other)),
    };
    with_head(response, body)
}

fn with_head(response: &ResponseSpec, body: Body) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status_code(response.status);
    let default_type = match response.body {
        ResponseBody::Json(_) => JSON_CONTENT_TYPE,
        ResponseBody::Sse(_) => SSE_CONTENT_TYPE,
        ResponseBody::Text(_) => TEXT_CONTENT_TYPE,
    };
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(default_type));
    for (name, value) in &response.headers {
        // Validated when the server started.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    res
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The complete body bytes, ignoring SSE delays.
fn whole_body(body: &ResponseBody) -> Bytes {
    match body {
        ResponseBody::Json(value) => Bytes::from(compact(value)),
        ResponseBody::Text(text) => Bytes::from(text.clone()),
        ResponseBody::Sse(events) => events
            .iter()
            .flat_map(|e| frame(&e.data))
            .collect::<Vec<u8>>()
            .into(),
    }
}

fn cut_sse(events: &[SseEvent], after_events: usize) -> Vec<Step> {
    let mut plan = Vec::new();
    for (i, event) in events.iter().enumerate() {
        plan.push(Step::Wait(Duration::from_millis(event.delay_ms)));
        let framed = frame(&event.data);
        if i == after_events {
            plan.push(Step::Chunk(framed.slice(..framed.len() / 2)));
            break;
        }
        plan.push(Step::Chunk(framed));
    }
    plan.push(Step::Fail { reset: false });
    plan
}

/// One SSE event as the real API frames it.
pub(crate) fn frame(data: &Value) -> Bytes {
    let mut out = b"data: ".to_vec();
    out.extend_from_slice(&compact(data));
    out.extend_from_slice(b"\r\n\r\n");
    out.into()
}

fn compact(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

enum Step {
    Wait(Duration),
    Chunk(Bytes),
    /// Give hyper a moment to flush what was written, then fail the body so
    /// that hyper drops the connection mid-message.
    Fail {
        reset: bool,
    },
}

fn steps(plan: Vec<Step>, reset: ConnReset) -> Body {
    let state = (VecDeque::from(plan), reset);
    let stream = futures_util::stream::unfold(state, |(mut plan, reset)| async move {
        loop {
            match plan.pop_front()? {
                Step::Wait(duration) if duration.is_zero() => {}
                Step::Wait(duration) => tokio::time::sleep(duration).await,
                Step::Chunk(bytes) => return Some((Ok(Frame::data(bytes)), (plan, reset))),
                Step::Fail { reset: abortive } => {
                    // Each yield returns Pending to hyper, which flushes its
                    // write buffer before polling the body again.
                    for _ in 0..4 {
                        tokio::task::yield_now().await;
                    }
                    if abortive {
                        reset.request();
                    }
                    let error = io::Error::new(io::ErrorKind::ConnectionAborted, "injected fault");
                    return Some((Err(error), (plan, reset)));
                }
            }
        }
    });
    StreamBody::new(stream).boxed_unsync()
}
