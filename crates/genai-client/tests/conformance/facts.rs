//! The facts asserted for each observation, and a readable diff of two sets.
//!
//! Facts are what a caller relies on: answer and thought text (length, a
//! hash and a short prefix), function calls, usage, finish and block
//! reasons, grounding and citation counts, and the error. They are small on
//! purpose: `expected.json` holds facts about the corpus, never copies of it.
//!
//! Rules (the same ones the table was derived with): text and thoughts are
//! the first candidate's `text` parts without / with `"thought": true`,
//! joined over a stream's chunks; function calls are the named `functionCall`
//! parts in order, `args` as sent (or as assembled from Vertex `partialArgs`
//! fragments: strings with `willContinue` joined, `$.a[0].b` paths making
//! arrays of objects) or `{}` when absent; usage is the last
//! `usageMetadata` holding any counter (a `countTokens` reply counts as
//! prompt = total = `totalTokens`); the finish reason is the last one sent;
//! grounding queries, sources (chunks naming a uri or title) and citations
//! are counted once each across a stream; signatures are the
//! `thoughtSignature` values on the first candidate's parts, in order (a
//! stream's folded parts must keep every signature of every chunk, which is
//! what replaying a Gemini 3 turn needs), recorded as a count and a hash of
//! the values joined by newlines; server-side tool parts are the `toolCall`
//! and `toolResponse` parts. Entries that omit these three expect none.

use genai_client::{ApiError, Error, GenerateContentResponse, RecordedBody};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Arguments longer than this (as canonical JSON) are recorded as a hash.
const ARGS_LIMIT: usize = 200;

/// What an observation turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// A unary reply.
    Response,
    /// A stream (possibly ended by an error).
    Stream,
    /// An error reply.
    Error,
    /// A `countTokens` reply.
    CountTokens,
    /// The body is not a Gemini reply at all.
    DecodeError,
    /// The client refused a reply whose prompt was blocked (loopback only).
    Blocked,
}

/// The facts of one observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Facts {
    pub(crate) kind: Kind,
    /// Stream chunks decoded (1 for a unary reply, 0 otherwise).
    pub(crate) chunks: usize,
    /// Answer text of the first candidate, thoughts excluded, in chars.
    pub(crate) text_len: usize,
    pub(crate) text_sha: String,
    pub(crate) text_start: String,
    pub(crate) thought_len: usize,
    pub(crate) thought_sha: String,
    pub(crate) function_calls: Vec<CallFacts>,
    pub(crate) usage: Option<UsageFacts>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) block_reason: Option<String>,
    pub(crate) grounding_queries: usize,
    pub(crate) grounding_sources: usize,
    pub(crate) citations: usize,
    pub(crate) error: Option<ErrorFacts>,
    pub(crate) truncated: bool,
    /// `thoughtSignature`s on the first candidate's parts.
    #[serde(default)]
    pub(crate) signatures: usize,
    /// Hash of those signatures, joined by `\n`.
    #[serde(default = "empty_sha")]
    pub(crate) signatures_sha: String,
    /// `toolCall` and `toolResponse` parts of the first candidate.
    #[serde(default)]
    pub(crate) server_tool_parts: usize,
}

fn empty_sha() -> String {
    sha16("")
}

/// A named function call (nameless Vertex `partialArgs` fragments are not
/// calls of their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallFacts {
    pub(crate) name: String,
    /// The arguments (`{}` when absent), when short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) args: Option<Value>,
    /// Hash of the canonical arguments, when long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) args_sha: Option<String>,
}

/// Token counts, missing counters as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsageFacts {
    pub(crate) prompt: u64,
    pub(crate) candidates: u64,
    pub(crate) thoughts: u64,
    pub(crate) cached: u64,
    pub(crate) tool_use: u64,
    pub(crate) total: u64,
}

/// An error reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorFacts {
    pub(crate) code: u16,
    pub(crate) status: Option<String>,
    /// The first 40 chars of the message.
    pub(crate) message_start: String,
    pub(crate) retry_delay_ms: Option<u64>,
}

/// First 16 hex digits of the SHA-256 of `text`.
pub(crate) fn sha16(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn prefix(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

impl Facts {
    /// Facts of nothing: no text, no calls, no usage.
    pub(crate) fn empty(kind: Kind) -> Facts {
        Facts {
            kind,
            chunks: 0,
            text_len: 0,
            text_sha: sha16(""),
            text_start: String::new(),
            thought_len: 0,
            thought_sha: sha16(""),
            function_calls: Vec::new(),
            usage: None,
            finish_reason: None,
            block_reason: None,
            grounding_queries: 0,
            grounding_sources: 0,
            citations: 0,
            error: None,
            truncated: false,
            signatures: 0,
            signatures_sha: empty_sha(),
            server_tool_parts: 0,
        }
    }

    /// Facts of a reply (`chunks` = 1) or of a stream's folded chunks.
    pub(crate) fn of_response(
        kind: Kind,
        chunks: usize,
        response: &GenerateContentResponse,
    ) -> Facts {
        let (text, thought) = (response.text(), response.thought_text());
        let parts = response
            .content()
            .map(|content| content.parts.as_slice())
            .unwrap_or_default();
        let signatures: Vec<&str> = parts
            .iter()
            .filter_map(|part| part.thought_signature.as_deref())
            .collect();
        Facts {
            signatures: signatures.len(),
            signatures_sha: sha16(&signatures.join("\n")),
            server_tool_parts: response.tool_calls().len() + response.tool_responses().len(),
            chunks,
            text_len: text.chars().count(),
            text_sha: sha16(&text),
            text_start: prefix(&text, 24),
            thought_len: thought.chars().count(),
            thought_sha: sha16(&thought),
            function_calls: response
                .function_calls()
                .into_iter()
                .filter(|call| !call.name.is_empty())
                .map(|call| CallFacts::new(&call.name, call.args_or_empty()))
                .collect(),
            usage: response
                .usage_metadata
                .as_ref()
                .filter(|usage| usage.has_counts())
                .map(|usage| UsageFacts::from(&genai_client::Usage::from(usage))),
            finish_reason: response.finish_reason().map(|r| r.as_str().to_owned()),
            block_reason: response.block_reason().map(|r| r.as_str().to_owned()),
            grounding_queries: response.grounding_queries().len(),
            grounding_sources: response.grounding_sources().len(),
            citations: response.citations().len(),
            ..Facts::empty(kind)
        }
    }

    /// Facts of an error reply.
    pub(crate) fn of_error(api: &ApiError) -> Facts {
        Facts {
            error: Some(ErrorFacts::from(api)),
            ..Facts::empty(Kind::Error)
        }
    }

    /// Facts of whatever the decoders made of an observation.
    pub(crate) fn of_outcome(outcome: &Result<RecordedBody, Error>) -> Result<Facts, String> {
        match outcome {
            Ok(RecordedBody::Response(response)) => {
                Ok(Facts::of_response(Kind::Response, 1, response))
            }
            Ok(RecordedBody::Stream(stream)) => Ok(Facts {
                error: stream.error.as_ref().map(ErrorFacts::from),
                truncated: stream.truncated,
                ..Facts::of_response(Kind::Stream, stream.chunks.len(), &stream.combined)
            }),
            Ok(RecordedBody::Error(api)) => Ok(Facts::of_error(api)),
            Ok(body @ RecordedBody::CountTokens(_)) => Ok(Facts {
                usage: body
                    .usage_metadata()
                    .map(|usage| UsageFacts::from(&genai_client::Usage::from(&usage))),
                ..Facts::empty(Kind::CountTokens)
            }),
            Ok(other) => Err(format!("an unknown kind of body: {other:?}")),
            Err(error) => Facts::of_error_value(error),
        }
    }

    /// Facts of an error returned instead of a body.
    pub(crate) fn of_error_value(error: &Error) -> Result<Facts, String> {
        match error {
            Error::Decode { .. } => Ok(Facts::empty(Kind::DecodeError)),
            Error::Api(api) => Ok(Facts::of_error(api)),
            Error::PromptBlocked { reason, .. } => Ok(Facts {
                block_reason: Some(reason.as_str().to_owned()),
                ..Facts::empty(Kind::Blocked)
            }),
            other => Err(format!("unexpected error: {other}")),
        }
    }
}

impl CallFacts {
    fn new(name: &str, args: Value) -> CallFacts {
        let canonical = canonical(&args).to_string();
        let long = canonical.chars().count() > ARGS_LIMIT;
        CallFacts {
            name: name.to_owned(),
            args_sha: long.then(|| sha16(&canonical)),
            args: (!long).then_some(args),
        }
    }
}

/// The value with object keys sorted (serialised compactly, this is the
/// canonical form the expected table hashes).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            let sorted: Map<String, Value> = keys
                .into_iter()
                .map(|key| (key.clone(), canonical(&map[key])))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

impl From<&genai_client::Usage> for UsageFacts {
    fn from(usage: &genai_client::Usage) -> Self {
        UsageFacts {
            prompt: usage.prompt,
            candidates: usage.candidates,
            thoughts: usage.thoughts,
            cached: usage.cached,
            tool_use: usage.tool_use,
            total: usage.total,
        }
    }
}

impl From<&ApiError> for ErrorFacts {
    fn from(api: &ApiError) -> Self {
        ErrorFacts {
            code: api.code,
            status: api.status.clone(),
            message_start: prefix(&api.message, 40),
            retry_delay_ms: api
                .retry_delay()
                .map(|delay| u64::try_from(delay.as_millis()).expect("a sane delay")),
        }
    }
}

/// One line per differing field, e.g. `text_len: expected 12, got 0`.
pub(crate) fn diff(expected: &Facts, actual: &Facts) -> Vec<String> {
    let (Value::Object(expected), Value::Object(actual)) = (
        serde_json::to_value(expected).expect("facts serialise"),
        serde_json::to_value(actual).expect("facts serialise"),
    ) else {
        unreachable!("facts are objects");
    };
    expected
        .iter()
        .filter(|(key, value)| actual.get(*key) != Some(*value))
        .map(|(key, value)| {
            let got = actual.get(key).unwrap_or(&Value::Null);
            format!("{key}: expected {value}, got {got}")
        })
        .collect()
}
