//! Authored Gemini replies (`GenerateContentResponse` JSON), built in code.
//!
//! ```
//! use test_support::gemini::{Reply, call};
//! let reply = Reply::parts(serde_json::json!([call("read_file", serde_json::json!({"path": "a"}))]))
//!     .usage(10, 2, 0)
//!     .json();
//! assert_eq!(reply["usageMetadata"]["totalTokenCount"], 12);
//! ```

use serde_json::{Value, json};

/// A reply with one candidate, finished with `STOP`.
#[derive(Debug, Clone)]
pub struct Reply {
    parts: Value,
    usage: Option<Value>,
    model_version: String,
    response_id: String,
}

impl Reply {
    /// A reply whose candidate says `text`.
    pub fn text(text: &str) -> Reply {
        Reply::parts(json!([{ "text": text }]))
    }

    /// A reply whose candidate holds `parts` (a JSON array).
    pub fn parts(parts: Value) -> Reply {
        Reply {
            parts,
            usage: None,
            model_version: "gemini-2.5-flash".to_owned(),
            response_id: "authored-test-reply".to_owned(),
        }
    }

    /// Adds `usageMetadata` (see [`usage`]).
    pub fn usage(mut self, prompt: u64, candidates: u64, thoughts: u64) -> Reply {
        self.usage = Some(usage(prompt, candidates, thoughts));
        self
    }

    /// Sets `modelVersion` (default `gemini-2.5-flash`).
    pub fn model_version(mut self, model: &str) -> Reply {
        model.clone_into(&mut self.model_version);
        self
    }

    /// Sets `responseId` (default `authored-test-reply`).
    pub fn response_id(mut self, id: &str) -> Reply {
        id.clone_into(&mut self.response_id);
        self
    }

    /// The reply as JSON.
    pub fn json(self) -> Value {
        let mut reply = json!({
            "candidates": [{"content": {"role": "model", "parts": self.parts}, "finishReason": "STOP", "index": 0}],
            "modelVersion": self.model_version,
            "responseId": self.response_id
        });
        if let Some(usage) = self.usage {
            reply["usageMetadata"] = usage;
        }
        reply
    }
}

/// A reply whose candidate holds `parts`, with `usage` (shorthand for
/// [`Reply::parts`] with the given `usageMetadata`).
pub fn reply(parts: Value, usage: Value) -> Value {
    let mut reply = Reply::parts(parts).json();
    reply["usageMetadata"] = usage;
    reply
}

/// A text reply with some usage (100 prompt, 20 output, 30 thinking tokens).
pub fn text_reply(text: &str) -> Value {
    Reply::text(text).usage(100, 20, 30).json()
}

/// `usageMetadata` in the Developer API's shape: the total is prompt +
/// candidates + thoughts, and thoughts are listed only when there are some.
pub fn usage(prompt: u64, candidates: u64, thoughts: u64) -> Value {
    let mut usage = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]
    });
    if thoughts > 0 {
        usage["thoughtsTokenCount"] = json!(thoughts);
    }
    usage
}

/// A stream chunk or bare reply: one candidate with `text` and nothing else
/// (no finish reason, no usage).
pub fn chunk(text: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]})
}

/// A function-call part.
pub fn call(name: &str, args: Value) -> Value {
    json!({"functionCall": {"name": name, "args": args}})
}

/// A function-call part carrying a thought signature.
pub fn signed_call(name: &str, args: Value, signature: &str) -> Value {
    json!({"functionCall": {"name": name, "args": args}, "thoughtSignature": signature})
}
