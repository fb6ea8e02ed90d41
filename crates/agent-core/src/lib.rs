//! Agent types, forks and their tool loop, the workspace sandbox, swarms and
//! the context summarizer.
//!
//! - [`AgentCatalog`] and [`AgentProfile`]: the five built-in agent types
//!   (code, research, analysis, creative, general) with their default
//!   models, thinking budgets and roles, and custom types from
//!   `agent-fork.toml`.
//! - [`Forker`]: runs a [`ForkRequest`] through the tool loop and returns a
//!   [`ForkResult`] (status, text, usage summed over turns, tools run, files
//!   created, grounding sources, the error kind on failure).
//! - [`workspace`]: the fourteen workspace tools and the sandbox that keeps
//!   them inside the workspace folder.
//! - [`Approvals`]: the approval policy every tool call passes before it
//!   runs (allow, ask a person through an [`Approver`], or deny).
//! - [`ExternalTools`]: tools from outside the workspace (the MCP servers
//!   of the `mcp-tools` crate), offered beside the workspace's.
//! - [`Swarm`]: many forks at once, bounded, with consolidation.
//! - [`summarize`]: the context summarizer and its hand-off layouts.
//!
//! agent-core never prints: it sends [`Event`]s to an [`EventSink`] and
//! returns typed results; render and the CLI draw them.
//!
//! Layering: depends on genai-client only.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod agent;
mod approval;
mod events;
mod external;
mod fork;
mod ids;
mod prompts;
mod spending;
mod summarizer;
mod swarm;
pub mod workspace;

pub use agent::{
    AgentCatalog, AgentOverrides, AgentProfile, BuiltinAgent, CatalogError, role_default,
    thinking_config,
};
pub use approval::{
    Answer, ApprovalLedger, ApprovalPolicy, ApprovalQuestion, ApprovalRecord, Approvals, Approver,
    AskFuture, DEFAULT_QUESTION_TIMEOUT, DecidedBy, Decision, PolicyEntry, Rule, ToolClass,
    call_digest,
};
pub use events::{Event, EventSink};
pub use external::{
    ExternalOutcome, ExternalTools, MCP_SEPARATOR, ServerFailure, ServerFailureKind, ToolFuture,
};
pub use fork::{
    BatchRefusal, BuiltinRoute, ForkError, ForkErrorKind, ForkRequest, ForkResult, ForkStatus,
    ForkStop, Forker, MAX_CALLS_PER_TURN, MAX_FUNCTION_RESPONSE_BYTES, MAX_REQUEST_BYTES,
    RUN_CODE_FUNCTION, SearchRun, TurnRecord, WEB_SEARCH_FUNCTION, batch_fork_result,
    builtin_route,
};
pub use ids::{ForkId, SwarmId};
pub use spending::{
    BUDGET_EXHAUSTED, BatchEstimate, Budget, BudgetExhausted, BudgetLimits, INPUT_TOO_LARGE,
    InputTooLarge, MAX_CHARS_PER_TOKEN, Reservation, check_input_limit, estimate_input_tokens,
    input_tokens_at_least,
};
pub use summarizer::{
    Artifact, Conversation, ConversationError, Handoff, Speaker, SummarizeError, Summary,
    SummaryOptions, SummaryStyle, TokenCounting, Turn, estimate_tokens, summarize,
    summarize_within,
};
pub use swarm::{ConsolidationOptions, Swarm, SwarmCollector, SwarmOptions, SwarmOutcome};
