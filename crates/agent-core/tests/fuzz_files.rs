//! Fuzzing the files users hand to agent-fork, with proptest: conversation
//! files (`Conversation::from_json`), inline history (`from_lines`) and
//! cassettes (`Cassette::from_json`, which `--replay` reads). No input may
//! panic; what parses keeps its promises (a conversation has content, a
//! cassette survives a round trip through its own JSON).
//!
//! Deterministic: a fixed seed and case count; `cargo xtask fuzz-smoke`
//! raises `FUZZ_CASES` and may set `FUZZ_SEED`.

use agent_core::{Conversation, ConversationError};
use cassette::Cassette;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    test_support::fuzz::config(0xca55)
}

const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    " ",
    "\n",
    "\\u0000",
    "null",
    "1",
    "-1",
    "1e999",
    "true",
    r#""turns""#,
    r#""role": "user""#,
    r#""role": "assistant""#,
    r#""role": "model""#,
    r#""role": "wizard""#,
    r#""content": "hi""#,
    r#""content": """#,
    r#""content": "   ""#,
    r#""content": 7"#,
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
    "é",
    "🌍",
];

const SAMPLES: &[&str] = &[
    r#"{"turns": [{"role": "user", "content": "Build an API."}, {"role": "assistant", "content": "Use FastAPI."}]}"#,
    r#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"#,
    r#"{"format": "agent-fork-cassette", "version": 1, "meta": {"name": "n", "provenance": "authored", "created": "2026-01-01T00:00:00Z", "how": "by hand"}, "interactions": [{"label": "l", "request": {"method": "POST", "path": "/v1beta/models/gemini-3.8-flash:streamGenerateContent", "query": {"alt": "sse"}, "body": {"key_fields": {"last_user_text_contains": "x", "turns": 1}}}, "response": {"status": 200, "sse": [{"data": {"candidates": []}, "delay_ms": 5}], "latency_ms": 3}, "repeatable": true, "fault": {"kind": "cut_sse", "after_events": 1, "times": 2}}]}"#,
];

fn text() -> impl Strategy<Value = String> {
    test_support::fuzz::text(FRAGMENTS, SAMPLES, 200, 6)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn conversation_files_never_panic(file in text()) {
        match Conversation::from_json(&file) {
            Ok(conversation) => {
                prop_assert!(conversation.turns.iter().any(|turn| !turn.content.trim().is_empty()));
                let _ = (conversation.transcript(), conversation.estimated_tokens());
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn inline_history_never_panics(lines in prop::collection::vec(".{0,80}", 0..8)) {
        match Conversation::from_lines(&lines) {
            Ok(conversation) => prop_assert_eq!(conversation.turns.len(), lines.len()),
            Err(ConversationError::Line { index, .. }) => prop_assert!((1..=lines.len()).contains(&index)),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn cassettes_never_panic_and_round_trip(file in text()) {
        if let Ok(cassette) = Cassette::from_json(&file) {
            let again = Cassette::from_json(&cassette.to_json()).expect("a cassette's own JSON loads");
            prop_assert_eq!(again.to_json(), cassette.to_json());
        }
    }
}
