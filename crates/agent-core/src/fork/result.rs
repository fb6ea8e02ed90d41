//! What a fork returns.

use genai_client::{Cost, CostTotal, GroundingSource, Usage};
use serde::{Deserialize, Serialize};

use super::tools::BuiltinRoute;
use crate::ids::ForkId;

/// How a fork ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForkStatus {
    /// The model answered without pending calls.
    Success,
    /// The turn limit stopped a loop that still had calls pending.
    Partial,
    /// A model call failed for good.
    Error,
    /// Cancelled; the result holds what was done before.
    Cancelled,
}

impl ForkStatus {
    /// The status as a word (`success`, `partial`, `error`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Partial => "partial",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What kind of failure stopped a fork.
///
/// Serialised as one snake_case word: the client's kinds as genai-client
/// names them (`api`, `transport`, `timeout`, `decode`, `prompt_blocked`,
/// `retries_exhausted`, `config`, `too_large`, `quota`), or
/// `budget_exhausted` when the run's spending budget refused the call, or
/// `input_too_large` when a request could not fit the model's input limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ForkErrorKind {
    /// A model call failed, as genai-client classifies it.
    Client(genai_client::ErrorKind),
    /// A failure of the fork's own making.
    Fork(ForkStop),
}

/// Failures that come from the fork's own limits, not from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForkStop {
    /// The run's spending budget refused the next call (the fork ends
    /// `cancelled`; its task can run again when the run is resumed with a
    /// larger budget).
    BudgetExhausted,
    /// The request could not fit the model's input limit and was not sent
    /// (the fork ends `error`).
    InputTooLarge,
}

impl ForkErrorKind {
    /// The kind as one snake_case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client(kind) => kind.as_str(),
            Self::Fork(ForkStop::BudgetExhausted) => "budget_exhausted",
            Self::Fork(ForkStop::InputTooLarge) => "input_too_large",
        }
    }

    /// The client's kind, when a model call failed.
    pub fn client(self) -> Option<genai_client::ErrorKind> {
        match self {
            Self::Client(kind) => Some(kind),
            Self::Fork(_) => None,
        }
    }
}

impl From<genai_client::ErrorKind> for ForkErrorKind {
    fn from(kind: genai_client::ErrorKind) -> Self {
        Self::Client(kind)
    }
}

/// Why a fork failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkError {
    /// The kind of failure.
    pub kind: ForkErrorKind,
    /// The message, one line.
    pub message: String,
    /// The HTTP status, for API errors.
    pub http_status: Option<u16>,
    /// True when Gemini refused the API key (401, 403, `API_KEY_INVALID`):
    /// every other call with the same key would fail too, so a swarm or a
    /// plan stops at the first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auth: bool,
}

/// One model call of the loop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Tokens of this call.
    pub usage: Usage,
    /// What this call cost, priced by the model that answered; `None` when
    /// the catalog could not price it.
    #[serde(default)]
    pub cost: Option<Cost>,
    /// Names of the functions the model called.
    pub function_calls: Vec<String>,
    /// Why the model stopped.
    pub finish_reason: Option<String>,
}

/// One search run for a fork, with the sources it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRun {
    /// The model call (1-based) it belongs to.
    pub turn: u32,
    /// How it was run.
    pub route: BuiltinRoute,
    /// The queries sent to Google Search.
    pub queries: Vec<String>,
    /// The sources it found.
    pub sources: Vec<GroundingSource>,
}

/// The outcome of a fork.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForkResult {
    /// The fork's id.
    pub fork_id: ForkId,
    /// The agent type.
    pub agent_type: String,
    /// The task.
    pub task: String,
    /// How it ended.
    pub status: ForkStatus,
    /// The answer: the text of every model turn, joined by blank lines.
    pub text: String,
    /// Thought summaries, when asked for.
    pub thoughts: String,
    /// The model asked for.
    pub model: String,
    /// The model version that answered.
    pub model_version: Option<String>,
    /// Tokens summed over every turn.
    pub usage: Usage,
    /// Cost summed over every turn (with the count of calls it could not
    /// price).
    #[serde(default)]
    pub cost: CostTotal,
    /// Each model call.
    pub turns: Vec<TurnRecord>,
    /// Names of the tools run, in order.
    pub tools_executed: Vec<String>,
    /// Files the tools created (relative to the workspace).
    pub files_created: Vec<String>,
    /// Google Search queries the model ran.
    pub search_queries: Vec<String>,
    /// Grounding sources (research forks).
    pub sources: Vec<GroundingSource>,
    /// How the fork's built-in tools (search, code execution) reached the
    /// model; `None` when it had none.
    #[serde(default)]
    pub builtin_route: Option<BuiltinRoute>,
    /// Each search run for the fork, in order: by Gemini while answering
    /// (grounding, or server-side `toolCall`s beside function tools), or by a
    /// separate grounded call behind the `web_search` function.
    #[serde(default)]
    pub searches: Vec<SearchRun>,
    /// Why it failed, when it did.
    pub error: Option<ForkError>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u64,
}

impl ForkResult {
    /// Thinking tokens over every turn.
    pub fn thinking_tokens(&self) -> u64 {
        self.usage.thoughts
    }

    /// True for `success`.
    pub fn is_success(&self) -> bool {
        self.status == ForkStatus::Success
    }
}

#[cfg(test)]
mod kind_tests {
    use super::{ForkErrorKind, ForkStop};

    #[test]
    fn error_kinds_are_one_word_on_disk_and_read_back() {
        for (kind, word) in [
            (ForkErrorKind::Client(genai_client::ErrorKind::Api), "api"),
            (
                ForkErrorKind::Client(genai_client::ErrorKind::RetriesExhausted),
                "retries_exhausted",
            ),
            (
                ForkErrorKind::Fork(ForkStop::BudgetExhausted),
                "budget_exhausted",
            ),
            (
                ForkErrorKind::Fork(ForkStop::InputTooLarge),
                "input_too_large",
            ),
        ] {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::json!(word));
            assert_eq!(kind.as_str(), word);
            let back: ForkErrorKind = serde_json::from_value(json).unwrap();
            assert_eq!(back, kind);
        }
    }
}
