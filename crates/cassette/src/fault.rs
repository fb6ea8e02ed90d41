//! Faults the fixture server can inject: Gemini error envelopes (429 with
//! `google.rpc.RetryInfo`, 500, 503), connection resets, stalls, cut SSE
//! streams, malformed JSON and extra latency.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A fault injected instead of, or into, a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 `RESOURCE_EXHAUSTED` with a `google.rpc.RetryInfo` detail.
    RateLimited {
        /// The `retryDelay` advertised (rendered like `"13s"` or `"0.5s"`).
        retry_delay: Duration,
    },
    /// HTTP 500 `INTERNAL`.
    Internal,
    /// HTTP 503 `UNAVAILABLE` ("The model is overloaded. Please try again later.").
    Unavailable,
    /// Close the connection (abortively, with a TCP reset) after reading the
    /// request and before writing any response byte.
    ResetBeforeResponse,
    /// Write the status line, the headers and half of the body, then reset
    /// the connection.
    ResetDuringBody,
    /// Read the request, write nothing for `duration`, then close.
    Stall {
        /// How long to stay silent.
        duration: Duration,
    },
    /// Write `after_events` whole SSE events and half of the next one, then
    /// close without finishing the chunked body. On a non-SSE response:
    /// half of the body, then close.
    CutSse {
        /// Whole events written before the cut.
        after_events: usize,
    },
    /// A 200 whose body is not valid JSON; for SSE a single event whose data
    /// is truncated JSON.
    MalformedJson,
    /// Extra delay before the real response. The only fault that still
    /// delivers (and so consumes) the interaction.
    Latency {
        /// The extra delay.
        delay: Duration,
    },
    /// Write the real status and headers, then the body one byte at a time,
    /// waiting `every` before each byte (a server that keeps a connection
    /// alive without ever completing a chunk).
    ByteTrickle {
        /// The wait before each byte.
        every: Duration,
    },
    /// Write the real status and headers, then a body of `bytes` bytes made
    /// on the fly (never held in memory): one JSON reply whose text never
    /// ends, framed as a single `data:` event on an SSE response.
    Flood {
        /// How many body bytes to write.
        bytes: u64,
    },
}

/// The kind of a [`Fault`], without parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// See [`Fault::RateLimited`].
    RateLimited,
    /// See [`Fault::Internal`].
    Internal,
    /// See [`Fault::Unavailable`].
    Unavailable,
    /// See [`Fault::ResetBeforeResponse`].
    ResetBeforeResponse,
    /// See [`Fault::ResetDuringBody`].
    ResetDuringBody,
    /// See [`Fault::Stall`].
    Stall,
    /// See [`Fault::CutSse`].
    CutSse,
    /// See [`Fault::MalformedJson`].
    MalformedJson,
    /// See [`Fault::Latency`].
    Latency,
    /// See [`Fault::ByteTrickle`].
    ByteTrickle,
    /// See [`Fault::Flood`].
    Flood,
}

/// A per-interaction fault: the first `times` requests that match the
/// interaction get `fault`; later ones get the real response.
///
/// In a cassette: `{"kind": "rate_limited", "retry_delay_ms": 13000, "times": 1}`.
/// Parameters: `retry_delay_ms` (rate_limited), `duration_ms` (stall),
/// `after_events` (cut_sse), `delay_ms` (latency, and the wait before each
/// byte of byte_trickle), `bytes` (flood); `times` defaults to 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultRepr", into = "FaultRepr")]
pub struct FaultSpec {
    /// The fault to inject.
    pub fault: Fault,
    /// How many matching requests get it (at least 1).
    pub times: u32,
}

impl FaultSpec {
    /// Injects `fault` once.
    pub fn once(fault: Fault) -> Self {
        Self { fault, times: 1 }
    }

    /// Injects `fault` for the first `times` matching requests.
    pub fn times(fault: Fault, times: u32) -> Self {
        Self { fault, times }
    }
}

impl Fault {
    /// This fault's kind.
    pub fn kind(&self) -> FaultKind {
        match self {
            Self::RateLimited { .. } => FaultKind::RateLimited,
            Self::Internal => FaultKind::Internal,
            Self::Unavailable => FaultKind::Unavailable,
            Self::ResetBeforeResponse => FaultKind::ResetBeforeResponse,
            Self::ResetDuringBody => FaultKind::ResetDuringBody,
            Self::Stall { .. } => FaultKind::Stall,
            Self::CutSse { .. } => FaultKind::CutSse,
            Self::MalformedJson => FaultKind::MalformedJson,
            Self::Latency { .. } => FaultKind::Latency,
            Self::ByteTrickle { .. } => FaultKind::ByteTrickle,
            Self::Flood { .. } => FaultKind::Flood,
        }
    }

    /// Whether the real response is still delivered (only [`Fault::Latency`]).
    pub(crate) fn delivers_response(&self) -> bool {
        matches!(self, Self::Latency { .. })
    }

    /// The Gemini error envelope for the error-status faults.
    pub(crate) fn error_envelope(&self) -> Option<(u16, Value)> {
        match self {
            Self::RateLimited { retry_delay } => {
                let delay = format_retry_delay(*retry_delay);
                Some((
                    429,
                    json!({"error": {
                        "code": 429,
                        "message": format!(
                            "You exceeded your current quota, please check your plan and billing details. Please retry in {delay}."
                        ),
                        "status": "RESOURCE_EXHAUSTED",
                        "details": [
                            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
                        ]
                    }}),
                ))
            }
            Self::Internal => Some((
                500,
                json!({"error": {
                    "code": 500,
                    "message": "An internal error has occurred. Please retry or report the problem.",
                    "status": "INTERNAL"
                }}),
            )),
            Self::Unavailable => Some((
                503,
                json!({"error": {
                    "code": 503,
                    "message": "The model is overloaded. Please try again later.",
                    "status": "UNAVAILABLE"
                }}),
            )),
            _ => None,
        }
    }
}

impl FaultKind {
    /// The fault injected when this kind is drawn by random fault injection:
    /// rate limited with a 1 s retry delay, a 30 s stall, a cut after the
    /// first SSE event, 100 ms of latency, a byte every 60 s, a 100 MB flood;
    /// the others have no parameters.
    pub fn default_fault(self) -> Fault {
        match self {
            Self::RateLimited => Fault::RateLimited {
                retry_delay: Duration::from_secs(1),
            },
            Self::Internal => Fault::Internal,
            Self::Unavailable => Fault::Unavailable,
            Self::ResetBeforeResponse => Fault::ResetBeforeResponse,
            Self::ResetDuringBody => Fault::ResetDuringBody,
            Self::Stall => Fault::Stall {
                duration: Duration::from_secs(30),
            },
            Self::CutSse => Fault::CutSse { after_events: 1 },
            Self::MalformedJson => Fault::MalformedJson,
            Self::Latency => Fault::Latency {
                delay: Duration::from_millis(100),
            },
            Self::ByteTrickle => Fault::ByteTrickle {
                every: Duration::from_secs(60),
            },
            Self::Flood => Fault::Flood { bytes: 100_000_000 },
        }
    }
}

/// Renders a protobuf `Duration` the way Google APIs do: whole seconds as
/// `"13s"`, fractions with trailing zeros trimmed as `"0.5s"`.
pub fn format_retry_delay(delay: Duration) -> String {
    let secs = delay.as_secs();
    let nanos = delay.subsec_nanos();
    if nanos == 0 {
        return format!("{secs}s");
    }
    let fraction = format!("{nanos:09}");
    format!("{secs}.{}s", fraction.trim_end_matches('0'))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRepr {
    kind: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_events: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

impl TryFrom<FaultRepr> for FaultSpec {
    type Error = String;

    fn try_from(repr: FaultRepr) -> Result<Self, String> {
        let need = |value: Option<u64>, field: &str| {
            value
                .map(Duration::from_millis)
                .ok_or_else(|| format!("fault kind {:?} needs \"{field}\"", kind_name(repr.kind)))
        };
        let fault = match repr.kind {
            FaultKind::RateLimited => Fault::RateLimited {
                retry_delay: need(repr.retry_delay_ms, "retry_delay_ms")?,
            },
            FaultKind::Internal => Fault::Internal,
            FaultKind::Unavailable => Fault::Unavailable,
            FaultKind::ResetBeforeResponse => Fault::ResetBeforeResponse,
            FaultKind::ResetDuringBody => Fault::ResetDuringBody,
            FaultKind::Stall => Fault::Stall {
                duration: need(repr.duration_ms, "duration_ms")?,
            },
            FaultKind::CutSse => Fault::CutSse {
                after_events: repr
                    .after_events
                    .ok_or_else(|| "fault kind \"cut_sse\" needs \"after_events\"".to_owned())?,
            },
            FaultKind::MalformedJson => Fault::MalformedJson,
            FaultKind::Latency => Fault::Latency {
                delay: need(repr.delay_ms, "delay_ms")?,
            },
            FaultKind::ByteTrickle => Fault::ByteTrickle {
                every: need(repr.delay_ms, "delay_ms")?,
            },
            FaultKind::Flood => Fault::Flood {
                bytes: repr
                    .bytes
                    .ok_or_else(|| "fault kind \"flood\" needs \"bytes\"".to_owned())?,
            },
        };
        if repr.times == 0 {
            return Err("fault \"times\" must be at least 1 (remove the fault instead)".into());
        }
        Ok(Self {
            fault,
            times: repr.times,
        })
    }
}

impl From<FaultSpec> for FaultRepr {
    fn from(spec: FaultSpec) -> Self {
        let ms = |d: Duration| Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut repr = Self {
            kind: spec.fault.kind(),
            retry_delay_ms: None,
            duration_ms: None,
            after_events: None,
            delay_ms: None,
            bytes: None,
            times: spec.times,
        };
        match spec.fault {
            Fault::RateLimited { retry_delay } => repr.retry_delay_ms = ms(retry_delay),
            Fault::Stall { duration } => repr.duration_ms = ms(duration),
            Fault::CutSse { after_events } => repr.after_events = Some(after_events),
            Fault::Latency { delay } | Fault::ByteTrickle { every: delay } => {
                repr.delay_ms = ms(delay);
            }
            Fault::Flood { bytes } => repr.bytes = Some(bytes),
            _ => {}
        }
        repr
    }
}

fn kind_name(kind: FaultKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_renders_like_protobuf_duration() {
        assert_eq!(format_retry_delay(Duration::from_secs(13)), "13s");
        assert_eq!(format_retry_delay(Duration::from_millis(500)), "0.5s");
        assert_eq!(format_retry_delay(Duration::from_millis(34_400)), "34.4s");
        assert_eq!(
            format_retry_delay(Duration::from_nanos(22_231_358_113)),
            "22.231358113s"
        );
    }

    #[test]
    fn fault_spec_round_trips_and_validates() {
        let text = r#"{"kind":"rate_limited","retry_delay_ms":13000,"times":2}"#;
        let spec: FaultSpec = serde_json::from_str(text).expect("valid spec");
        assert_eq!(
            spec,
            FaultSpec::times(
                Fault::RateLimited {
                    retry_delay: Duration::from_secs(13)
                },
                2
            )
        );
        assert_eq!(serde_json::to_string(&spec).expect("serializes"), text);
        let missing = serde_json::from_str::<FaultSpec>(r#"{"kind":"stall"}"#);
        let message = missing.expect_err("duration is required").to_string();
        assert!(message.contains("duration_ms"), "{message}");
        let once: FaultSpec = serde_json::from_str(r#"{"kind":"internal"}"#).expect("valid spec");
        assert_eq!(once.times, 1);
    }
}
