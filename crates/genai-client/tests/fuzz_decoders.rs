//! Fuzzing the wire decoders with proptest: SSE framing (random bytes cut
//! at random places), unary responses, recorded bodies, error envelopes and
//! protobuf durations. No input may panic, and SSE framing must not depend
//! on how the network splits the bytes.
//!
//! Deterministic: a fixed seed and case count. `cargo xtask fuzz-smoke`
//! runs the same properties with many more cases (`FUZZ_CASES`) and may
//! pick another seed (`FUZZ_SEED`).

use genai_client::{
    ApiError, SseDecoder, SseFrame, decode_recorded, decode_response, parse_duration,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    test_support::fuzz::config(0x00f0_220d)
}

/// Pieces that SSE bodies, JSON and error envelopes are made of.
const FRAGMENTS: &[&str] = &[
    "data: ",
    "data:",
    "\r\n",
    "\n",
    "\r\n\r\n",
    "\n\n",
    ": keep-alive\n",
    "event: message\n",
    "id: 7\n",
    "retry: 10\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "\\",
    "\\\"",
    ",",
    ":",
    " ",
    r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}"#,
    r#""text":"lo 🌍 é""#,
    r#""finishReason":"STOP""#,
    r#""usageMetadata":{"totalTokenCount":3}"#,
    r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"slow down","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}"#,
    r#""retryDelay":"0.5s""#,
    r#""retryDelay":"-1s""#,
    r#""retryDelay":"99999999999999999999s""#,
    r#""thoughtSignature":"AAAA""#,
    r#""functionCall":{"name":"f","args":{}}"#,
    "<html><title>502 Bad Gateway</title></html>",
    "\u{feff}",
    "null",
    "true",
    "1e999",
    "-0",
];

const SAMPLES: &[&str] = &[
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}]}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}\r\n\r\n",
    "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"4\"}]},\"finishReason\":\"STOP\"}],\"modelVersion\":\"gemini-2.5-flash\"}",
    "{\"error\":{\"code\":429,\"message\":\"Quota exceeded.\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"34.4s\"},{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaMetric\":\"m\"}]}]}}",
    "data: {\"candidates\":[]}\n\n{\n  \"error\": {\n    \"code\": 499,\n    \"status\": \"CANCELLED\"\n  }\n}\n",
    "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]},{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}]",
];

/// Text made of fragments, so that the decoders see near-valid input.
fn fragments() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..48)
        .prop_map(|parts| parts.concat().into_bytes())
}

/// A valid sample with random bytes overwritten, inserted or cut off.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(SAMPLES),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(sample, edits, cut)| {
            let mut bytes = sample.as_bytes().to_vec();
            for (at, byte, op) in edits {
                if bytes.is_empty() {
                    bytes.push(byte);
                    continue;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            let keep = cut.index(bytes.len() + 1);
            if keep > bytes.len() / 2 {
                bytes.truncate(keep);
            }
            bytes
        })
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        fragments(),
        mutated(),
    ]
}

/// Decodes `body` fed in pieces ending at `cuts`.
fn decode_split(
    body: &[u8],
    cuts: &[prop::sample::Index],
) -> (Vec<SseFrame>, Result<Vec<SseFrame>, String>) {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(body.len() + 1)).collect();
    points.push(body.len());
    points.sort_unstable();
    let mut decoder = SseDecoder::default();
    let mut frames = Vec::new();
    let mut start = 0;
    for end in points {
        frames.extend(decoder.feed(&body[start..end]));
        start = end;
    }
    (frames, decoder.finish().map_err(|error| error.to_string()))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sse_framing_never_panics_and_ignores_how_reads_split(
        body in any_body(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = decode_split(&body, &[]);
        let split = decode_split(&body, &cuts);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn unary_responses_never_panic(status in prop_oneof![Just(200u16), 100u16..600, any::<u16>()], body in any_body()) {
        match decode_response(status, &body) {
            Ok(response) => {
                prop_assert!((200..300).contains(&status));
                let _ = (response.text(), response.function_calls(), response.usage());
            }
            Err(error) => {
                let line = error.to_string();
                prop_assert!(!line.is_empty());
                if !(200..300).contains(&status) {
                    prop_assert!(error.api().is_some(), "{}", line);
                }
                let _ = (error.is_retryable(), error.retry_delay(), error.short_reason());
            }
        }
    }

    #[test]
    fn recorded_bodies_never_panic(body in any_body()) {
        if let Ok(recorded) = decode_recorded(&body) {
            let _ = (recorded.response().map(|r| r.text()), recorded.error().map(ToString::to_string), recorded.usage_metadata());
        }
    }

    #[test]
    fn error_bodies_never_panic(status in any::<u16>(), body in any_body()) {
        let error = ApiError::from_body(status, &body);
        let _ = (error.to_string(), error.is_retryable(), error.retry_delay(), error.hint(), error.reason());
        let _ = ApiError::from_envelope(&body, Some(status));
    }

    #[test]
    fn durations_never_panic(text in prop_oneof![".{0,24}", "-?[0-9]{0,25}(\\.[0-9]{0,12})?s?"]) {
        let _ = parse_duration(&text);
    }
}
