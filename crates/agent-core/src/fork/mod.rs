//! A fork: one agent working on one task, with an optional context summary
//! and a tool loop.
//!
//! The loop sends the conversation, runs the function calls of the reply
//! (several at once, bounded), sends their results back in call order with
//! matching ids, and stops when a reply has no calls or `max_turns` model
//! calls were made. Model turns are replayed exactly as received, thought
//! signatures included, because Gemini rejects function-calling turns that
//! drop them. Usage is summed over every turn.
//!
//! Built-in tools (Google Search, code execution) beside the workspace's
//! function tools go out per generation (see [`BuiltinRoute`]): together
//! with server-side tool invocations on Gemini 3.x, whose `toolCall` and
//! `toolResponse` parts are replayed like any other part; as the
//! `web_search` / `run_code` functions backed by a separate one-turn call on
//! Gemini 2.x, which refuses the mix.

mod batch;
mod budget;
mod result;
mod run;
mod tools;

pub use batch::{BatchRefusal, batch_fork_result};
pub use budget::{MAX_FUNCTION_RESPONSE_BYTES, MAX_REQUEST_BYTES};
pub use result::{
    ForkError, ForkErrorKind, ForkResult, ForkStatus, ForkStop, SearchRun, TurnRecord,
};
pub use run::Forker;
pub use tools::{BuiltinRoute, RUN_CODE_FUNCTION, WEB_SEARCH_FUNCTION, builtin_route};

use crate::agent::AgentProfile;
use crate::ids::ForkId;

/// Most function calls run from one model turn; further calls in the same
/// turn are answered with an error instead of being run.
pub const MAX_CALLS_PER_TURN: usize = 64;

/// What to fork.
///
/// ```
/// use agent_core::{BuiltinAgent, ForkRequest};
/// let request = ForkRequest::new("Explain borrowing in two sentences.", BuiltinAgent::General.profile())
///     .with_context("The reader knows C++.");
/// assert_eq!(request.max_turns, 10);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ForkRequest {
    /// The fork's id; a new one is made when `None`.
    pub fork_id: Option<ForkId>,
    /// The task, as the user wrote it.
    pub task: String,
    /// The agent profile (type defaults with any overrides applied).
    pub profile: AgentProfile,
    /// A summary of earlier work to build on.
    pub context: Option<String>,
    /// Most model calls in the tool loop.
    pub max_turns: u32,
    /// Stream the answer (emits text deltas as they arrive).
    pub stream: bool,
    /// Most tool calls of one turn running at once.
    pub tool_concurrency: usize,
    /// Ask the model for thought summaries.
    pub include_thoughts: bool,
}

impl ForkRequest {
    /// A request with default settings: 10 turns, no streaming, 4 tool
    /// calls at once, no thought summaries.
    pub fn new(task: impl Into<String>, profile: AgentProfile) -> Self {
        Self {
            fork_id: None,
            task: task.into(),
            profile,
            context: None,
            max_turns: 10,
            stream: false,
            tool_concurrency: 4,
            include_thoughts: false,
        }
    }

    /// The same request with a context summary.
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        let context = context.into();
        self.context = (!context.trim().is_empty()).then_some(context);
        self
    }
}
