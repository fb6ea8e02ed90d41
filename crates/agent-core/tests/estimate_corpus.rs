//! The budget's input estimate against recorded traffic: the js-genai
//! replays in the wire corpus hold real Developer API requests beside the
//! `promptTokenCount` Gemini answered them with. Before a run's first reply
//! calibrates it, the estimate is a quarter of the request's JSON bytes;
//! on every recorded request that is at least the real count (those
//! requests come to 0.003 to 0.11 prompt tokens a byte: JSON keys and
//! schemas cost bytes, not tokens), so an uncalibrated reservation errs
//! on the side of stopping early, never of overrunning.
//!
//! The corpus is `../shared/fixtures/gemini-wire` (or `GEMINI_WIRE_CORPUS`);
//! when it is missing the test skips, unless `CI=true`.

use std::io::Write;
use std::path::PathBuf;

use genai_client::GenerateContentRequest;
use serde_json::Value;

fn corpus_root() -> Option<PathBuf> {
    test_support::corpus::root_or_skip("estimate_corpus")
}

/// Every Developer API `generateContent` request of the js-genai replays
/// with the `promptTokenCount` of its answer.
fn recorded_pairs(root: &std::path::Path) -> Vec<(String, GenerateContentRequest, u64)> {
    let mut pairs = Vec::new();
    let folder = root.join("js-genai");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(|entry| Some(entry.ok()?.path()))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(replay) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let interactions = replay["interactions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for interaction in interactions {
            let request = &interaction["request"];
            let url = request["url"].as_str().unwrap_or_default();
            let server = request["serverAddress"].as_str().unwrap_or_default();
            if !server.contains("generativelanguage") || !url.contains("enerateContent") {
                continue;
            }
            let Some(body) = request["bodySegments"].get(0) else {
                continue;
            };
            let prompt = interaction["response"]["bodySegments"]
                .as_array()
                .into_iter()
                .flatten()
                .rev()
                .find_map(|segment| segment["usageMetadata"]["promptTokenCount"].as_u64());
            let (Some(prompt), Ok(body)) = (prompt, serde_json::from_value(body.clone())) else {
                continue;
            };
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            pairs.push((name.into_owned(), body, prompt));
        }
    }
    pairs
}

#[test]
fn the_uncalibrated_estimate_is_never_below_a_recorded_prompt_count() {
    let Some(root) = corpus_root() else {
        return;
    };
    let pairs = recorded_pairs(&root);
    assert!(
        pairs.len() >= 10,
        "only {} recorded requests with a prompt count were read",
        pairs.len()
    );
    let (mut bytes, mut tokens) = (0u64, 0u64);
    for (name, request, prompt) in &pairs {
        let estimate = agent_core::estimate_input_tokens(request);
        assert!(
            estimate >= *prompt,
            "{name}: estimated {estimate} tokens, Gemini counted {prompt}"
        );
        bytes += serde_json::to_vec(request).unwrap().len() as u64;
        tokens += prompt;
    }
    let _ = writeln!(
        std::io::stderr(),
        "estimate_corpus: {} requests, {tokens} prompt tokens in {bytes} request bytes ({:.3} a byte)",
        pairs.len(),
        tokens as f64 / bytes as f64
    );
}
