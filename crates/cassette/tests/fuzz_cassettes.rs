//! Fuzzing cassette files with proptest (`Cassette::from_json`, which the
//! CLI's `--replay` reads): no input may panic, and a cassette that loads
//! survives a round trip through its own JSON.
//!
//! Deterministic: a fixed seed and case count; `cargo xtask fuzz-smoke`
//! raises `FUZZ_CASES` and may set `FUZZ_SEED`.

use cassette::Cassette;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    test_support::fuzz::config(0xca55)
}

/// This format's own fragments (the JSON pieces come from test-support).
const FRAGMENTS: &[&str] = &[
    "é",
    "🌍",
    r#""format": "agent-fork-cassette""#,
    r#""version": 1"#,
    r#""version": 2"#,
    r#""meta""#,
    r#""provenance": "authored""#,
    r#""provenance": "recorded""#,
    r#""interactions""#,
    r#""request": {"path": "/v1beta/models/m:generateContent"}"#,
    r#""response": {"status": 200, "json": {}}"#,
    r#""response": {"status": 99999, "text": "x"}"#,
    r#""sse": [{"data": {}, "delay_ms": 18446744073709551615}]"#,
    r#""body": {"key_fields": {"turns": 1}}"#,
    r#""body": {"subset": []}"#,
    r#""fault": {"kind": "stall", "duration_ms": 5}"#,
    r#""fault": {"kind": "rate_limited", "times": 0}"#,
    r#""repeatable": true"#,
];

const SAMPLES: &[&str] = &[
    r#"{"format": "agent-fork-cassette", "version": 1, "meta": {"name": "n", "provenance": "authored", "created": "2026-01-01T00:00:00Z", "how": "by hand"}, "interactions": [{"label": "l", "request": {"method": "POST", "path": "/v1beta/models/gemini-3.8-flash:streamGenerateContent", "query": {"alt": "sse"}, "body": {"key_fields": {"last_user_text_contains": "x", "turns": 1}}}, "response": {"status": 200, "sse": [{"data": {"candidates": []}, "delay_ms": 5}], "latency_ms": 3}, "repeatable": true, "fault": {"kind": "cut_sse", "after_events": 1, "times": 2}}]}"#,
];

fn text() -> impl Strategy<Value = String> {
    test_support::fuzz::text(FRAGMENTS, SAMPLES, 200, 6)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cassettes_never_panic_and_round_trip(file in text()) {
        if let Ok(cassette) = Cassette::from_json(&file) {
            let again = Cassette::from_json(&cassette.to_json()).expect("a cassette's own JSON loads");
            prop_assert_eq!(again.to_json(), cassette.to_json());
        }
    }
}
