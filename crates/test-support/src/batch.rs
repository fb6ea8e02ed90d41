//! Authored Batch API bodies (not recordings), shaped like the real ones
//! quoted in `gemini-facts-2026-11.md` §1.3: the PENDING and SUCCEEDED
//! Operations of langchain4j's `GoogleAiGeminiBatchChatModelTest.java`, the
//! RUNNING job of python-genai issue #1323, and the 2026-08-20 file-based
//! success. Counters are strings, as on the wire.

use serde_json::{Value, json};

/// The `@type` of a job's metadata.
const BATCH_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
/// The `@type` of a job's output.
const OUTPUT_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/// A job's Operation in `state` (`BATCH_STATE_*`), with `stats` as given
/// (numbers become strings) and no output.
pub fn operation(name: &str, display_name: &str, state: &str, stats: &[(&str, u64)]) -> Value {
    let stats: serde_json::Map<String, Value> = stats
        .iter()
        .map(|(key, value)| ((*key).to_owned(), json!(value.to_string())))
        .collect();
    let mut op = json!({
        "name": name,
        "metadata": {
            "@type": BATCH_TYPE,
            "model": "models/gemini-2.5-flash-lite",
            "displayName": display_name,
            "createTime": "2026-11-29T17:23:06.004734302Z",
            "updateTime": "2026-11-29T17:23:06.004734302Z",
            "batchStats": stats,
            "state": state,
            "name": name,
        }
    });
    if matches!(
        state,
        "BATCH_STATE_SUCCEEDED"
            | "BATCH_STATE_FAILED"
            | "BATCH_STATE_CANCELLED"
            | "BATCH_STATE_EXPIRED"
    ) {
        op["done"] = json!(true);
        op["metadata"]["endTime"] = json!("2026-11-29T17:25:11.120000000Z");
    }
    op
}

/// A SUCCEEDED job with inline `responses` (each `{"response"|"error", "metadata"?}`),
/// in both `metadata.output` and `response`, as recorded bodies have them.
pub fn succeeded_inline(name: &str, display_name: &str, responses: Vec<Value>) -> Value {
    let ok = responses
        .iter()
        .filter(|r| r.get("response").is_some())
        .count() as u64;
    let failed = responses.len() as u64 - ok;
    let mut op = operation(
        name,
        display_name,
        "BATCH_STATE_SUCCEEDED",
        &[
            ("requestCount", responses.len() as u64),
            ("successfulRequestCount", ok),
            ("failedRequestCount", failed),
        ],
    );
    let output = json!({"inlinedResponses": {"inlinedResponses": responses}});
    op["metadata"]["output"] = output.clone();
    let mut response = output;
    response["@type"] = json!(OUTPUT_TYPE);
    op["response"] = response;
    op
}

/// A SUCCEEDED job whose results are in `file` (`files/batch-...`).
pub fn succeeded_file(name: &str, display_name: &str, file: &str, count: u64) -> Value {
    let mut op = operation(
        name,
        display_name,
        "BATCH_STATE_SUCCEEDED",
        &[("requestCount", count), ("successfulRequestCount", count)],
    );
    op["metadata"]["output"] = json!({"responsesFile": file});
    op["response"] = json!({"@type": OUTPUT_TYPE, "responsesFile": file});
    op
}

/// An inline result holding `reply` (a `GenerateContentResponse`), with
/// `key` echoed in its metadata when given.
pub fn inline_ok(reply: Value, key: Option<&str>) -> Value {
    let mut item = json!({"response": reply});
    if let Some(key) = key {
        item["metadata"] = json!({"key": key});
    }
    item
}

/// An inline per-item failure (a `google.rpc.Status`).
pub fn inline_error(code: i64, message: &str, key: Option<&str>) -> Value {
    let mut item = json!({"error": {"code": code, "message": message}});
    if let Some(key) = key {
        item["metadata"] = json!({"key": key});
    }
    item
}

/// A result-file line.
pub fn result_line(key: &str, reply: Value) -> String {
    json!({"response": reply, "key": key}).to_string()
}

/// A failed result-file line.
pub fn error_line(key: &str, code: i64, message: &str) -> String {
    json!({"key": key, "error": {"code": code, "message": message}}).to_string()
}

/// The `{"file": File}` answer to a finished upload.
pub fn uploaded_file(name: &str, display_name: &str, size: u64) -> Value {
    json!({"file": {
        "name": name,
        "displayName": display_name,
        "mimeType": "application/jsonl",
        "sizeBytes": size.to_string(),
        "createTime": "2026-11-29T17:23:01.000000Z",
        "updateTime": "2026-11-29T17:23:01.000000Z",
        "expirationTime": "2026-12-01T17:23:01.000000Z",
        "sha256Hash": "ZmFrZQ==",
        "uri": format!("https://generativelanguage.googleapis.com/v1beta/{name}"),
        "state": "ACTIVE",
        "source": "UPLOADED"
    }})
}
