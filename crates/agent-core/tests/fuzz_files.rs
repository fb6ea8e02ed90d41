//! Fuzzing the conversations users hand to agent-fork, with proptest:
//! conversation files (`Conversation::from_json`) and inline history
//! (`from_lines`). No input may panic; a conversation that parses has
//! content. (Cassettes are fuzzed by their owner, crates/cassette.)
//!
//! Deterministic: a fixed seed and case count; `cargo xtask fuzz-smoke`
//! raises `FUZZ_CASES` and may set `FUZZ_SEED`.

use agent_core::{Conversation, ConversationError};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    test_support::fuzz::config(0xca55)
}

/// This format's own fragments (the JSON pieces come from test-support).
const FRAGMENTS: &[&str] = &[
    r#""turns""#,
    r#""role": "user""#,
    r#""role": "assistant""#,
    r#""role": "model""#,
    r#""role": "wizard""#,
    r#""content": "hi""#,
    r#""content": """#,
    r#""content": "   ""#,
    r#""content": 7"#,
    "é",
    "🌍",
];

const SAMPLES: &[&str] = &[
    r#"{"turns": [{"role": "user", "content": "Build an API."}, {"role": "assistant", "content": "Use FastAPI."}]}"#,
    r#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"#,
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

}
