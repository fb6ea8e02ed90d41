//! Size budgets of what the tool loop sends back: each function response,
//! and the whole request. A result over its budget is cut (its longest text
//! first) and carries a note telling the model how much was cut, so it can
//! ask for less.

use serde_json::{Value, json};

/// Most bytes (as JSON) one function response may take in a request.
pub const MAX_FUNCTION_RESPONSE_BYTES: usize = 1024 * 1024;

/// Most bytes (as JSON) the conversation sent in one request may take once
/// a turn's tool results are added. Gemini's context of about a million
/// tokens is roughly 4 MiB of text, so more would only be refused, slowly
/// and at a cost.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Room kept for the note added to a cut result.
const NOTE_ROOM: usize = 320;

/// Bytes `value` takes as compact JSON.
pub(crate) fn json_len(value: &impl serde::Serialize) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

/// `value`, cut to at most `budget` bytes of JSON, with a note saying how
/// much was cut when anything was.
pub(crate) fn fit(mut value: Value, budget: usize) -> Value {
    let size = json_len(&value);
    if size <= budget {
        return value;
    }
    let target = budget.saturating_sub(NOTE_ROOM);
    // Cut the longest strings first; a few passes cover JSON escaping.
    for _ in 0..4 {
        let now = json_len(&value);
        if now <= target {
            break;
        }
        let excess = now - target;
        let Some(pointer) = longest_string(&value) else {
            break;
        };
        let Some(Value::String(text)) = value.pointer_mut(&pointer) else {
            break;
        };
        if text.len() < excess.min(1024) {
            break;
        }
        let mut keep = text.len().saturating_sub(excess);
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
        text.truncate(keep);
    }
    let cut_note = |shown: usize| {
        format!(
            "This result was {size} bytes; {} bytes were cut to keep the request within its size limit. Ask for less at a time (a line range, a narrower pattern or path).",
            size.saturating_sub(shown)
        )
    };
    let shown = json_len(&value);
    match value {
        Value::Object(mut fields) if shown <= target => {
            fields.insert("cut".to_owned(), Value::String(cut_note(shown)));
            Value::Object(fields)
        }
        other => {
            let success = other.get("success").cloned().unwrap_or(Value::Bool(false));
            json!({"success": success, "cut": cut_note(0)})
        }
    }
}

/// The JSON pointer of the longest string in `value`, walked without
/// recursion.
fn longest_string(value: &Value) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    let mut stack = vec![(String::new(), value)];
    while let Some((pointer, value)) = stack.pop() {
        match value {
            Value::String(text) if best.as_ref().is_none_or(|(len, _)| text.len() > *len) => {
                best = Some((text.len(), pointer));
            }
            Value::Array(items) => stack.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{pointer}/{i}"), item)),
            ),
            Value::Object(fields) => stack.extend(fields.iter().map(|(key, item)| {
                let key = key.replace('~', "~0").replace('/', "~1");
                (format!("{pointer}/{key}"), item)
            })),
            _ => {}
        }
    }
    best.map(|(_, pointer)| pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_results_are_untouched() {
        let value = json!({"success": true, "content": "hi"});
        assert_eq!(fit(value.clone(), 100), value);
    }

    #[test]
    fn the_longest_text_is_cut_and_the_cut_is_said() {
        let value = json!({"success": true, "path": "a.txt", "content": "x".repeat(10_000)});
        let cut = fit(value, 2_000);
        assert!(json_len(&cut) <= 2_000, "{}", json_len(&cut));
        assert_eq!(cut["path"], "a.txt");
        let note = cut["cut"].as_str().unwrap();
        assert!(note.contains("bytes were cut"), "{note}");
        assert!(cut["content"].as_str().unwrap().len() > 1_000);
    }

    #[test]
    fn many_small_strings_become_a_note() {
        let names: Vec<String> = (0..5_000).map(|i| format!("f{i}")).collect();
        let cut = fit(json!({"success": true, "entries": names}), 1_000);
        assert!(json_len(&cut) <= 1_000);
        assert_eq!(cut["success"], true);
        assert!(cut["cut"].as_str().unwrap().contains("bytes were cut"));
    }
}
