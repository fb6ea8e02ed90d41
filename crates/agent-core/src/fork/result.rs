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

/// Why a fork failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkError {
    /// The kind of error (`api`, `transport`, `timeout`, `decode`,
    /// `prompt_blocked`, `retries_exhausted`, `config`).
    pub kind: String,
    /// The message, one line.
    pub message: String,
    /// The HTTP status, for API errors.
    pub http_status: Option<u16>,
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
