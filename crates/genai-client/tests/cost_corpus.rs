//! Cost arithmetic from recorded usage blocks of the wire corpus (files with
//! cached, thinking and tool-use tokens). Expected amounts are worked out by
//! hand from the catalog's rates in each row's comment.
//!
//! The corpus is `../shared/fixtures/gemini-wire` (or `GEMINI_WIRE_CORPUS`);
//! when it is missing the test skips, unless `CI=true`.

use std::path::PathBuf;

use genai_client::{GenerateContentResponse, Unpriced, cost_of_call};

fn corpus_root() -> Option<PathBuf> {
    test_support::corpus::root_or_skip("cost_corpus")
}

/// The first object in `value` that carries `usageMetadata`, as a response.
fn first_response(value: &serde_json::Value) -> Option<GenerateContentResponse> {
    match value {
        serde_json::Value::Object(map) if map.contains_key("usageMetadata") => {
            serde_json::from_value(value.clone()).ok()
        }
        serde_json::Value::Object(map) => map.values().find_map(first_response),
        serde_json::Value::Array(items) => items.iter().find_map(first_response),
        _ => None,
    }
}

#[test]
fn recorded_usage_blocks_are_priced_by_model_version() {
    let Some(root) = corpus_root() else { return };
    let day = "2026-11-29".parse().unwrap();
    let table: [(&str, Result<u64, Unpriced>); 5] = [
        // gemini-2.5-flash: prompt 12013 (11243 cached), candidates 15, thoughts 73:
        // 770 × $0.30 + 11243 × $0.03 + 88 × $2.50 per 1M.
        (
            "firebase-vertexai/unary-success-implicit-caching.json",
            Ok(770 * 300_000 + 11_243 * 30_000 + 88 * 2_500_000),
        ),
        // gemini-2.5-flash: prompt 14, candidates 2, thoughts 24.
        (
            "firebase-googleai/unary-success-thinking-reply-thought-summary.json",
            Ok(14 * 300_000 + 26 * 2_500_000),
        ),
        // gemini-2.5-flash: prompt 21 + tool-use 160 at input, candidates 96 + thoughts 86.
        (
            "firebase-googleai/unary-success-code-execution.json",
            Ok(181 * 300_000 + 182 * 2_500_000),
        ),
        // gemini-2.5-flash: prompt 15 + tool-use 424, candidates 102 + thoughts 142.
        (
            "firebase-googleai/unary-success-url-context.json",
            Ok(439 * 300_000 + 244 * 2_500_000),
        ),
        // An experimental model the catalog does not price: unknown, not guessed.
        (
            "js-genai/Client_Tests_test_thinking_generate_content_should_return_thought_field.json",
            Err(Unpriced::UnknownModel(
                "gemini-2.0-flash-thinking-exp-01-21".into(),
            )),
        ),
    ];
    for (path, expected) in table {
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let response = first_response(&value).unwrap_or_else(|| panic!("{path}: no usage"));
        let usage = response.usage().expect("recorded usage");
        let cost = cost_of_call(&usage, response.model_version.as_deref(), "", day)
            .map(|cost| cost.usd.picodollars());
        assert_eq!(cost, expected, "{path}");
    }
}
