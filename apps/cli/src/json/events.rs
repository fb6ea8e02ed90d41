//! The `--jsonl` event lines written while work runs (before the result
//! document). Each line names its kind in `event`.

use agent_core::Event;
use serde::Serialize;

use super::{Status, UsageJson, millis};

/// One `--jsonl` event line. The conversion from [`agent_core::Event`] is
/// an exhaustive match on purpose: a new event must be given a line here.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum EventLine<'a> {
    /// A fork began.
    ForkStarted {
        fork_id: &'a str,
        agent_type: &'a str,
        model: &'a str,
        task: &'a str,
        tools: bool,
    },
    /// Streamed answer text.
    TextDelta { fork_id: &'a str, text: &'a str },
    /// The model called a tool.
    ToolCall {
        fork_id: &'a str,
        name: &'a str,
        args: &'a serde_json::Value,
    },
    /// The approval gate decided a call whose rule was not `allow`.
    ToolApproval {
        fork_id: &'a str,
        name: &'a str,
        approved: bool,
        /// `rule`, `person`, `person_always`, `assume_yes`, `no_terminal`,
        /// `timeout` or `earlier`.
        by: &'static str,
    },
    /// The MCP server behind a tool failed during a call.
    ToolServerFailed {
        fork_id: &'a str,
        name: &'a str,
        server: &'a str,
        /// `timed_out`, `disconnected`, `bad_reply` or `not_running`.
        kind: &'static str,
        message: &'a str,
    },
    /// A tool answered.
    ToolResult {
        fork_id: &'a str,
        name: &'a str,
        ok: bool,
        error: Option<&'a str>,
    },
    /// A model call is retried.
    Retry {
        fork_id: &'a str,
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: &'a str,
    },
    /// A fork ended.
    ForkFinished {
        fork_id: &'a str,
        status: Status,
        usage: UsageJson,
        elapsed_ms: u64,
        error: Option<&'a str>,
    },
    /// A swarm's progress.
    SwarmProgress {
        swarm_id: &'a str,
        done: usize,
        failed: usize,
        running: usize,
        total: Option<usize>,
    },
    /// A swarm's consolidation began.
    ConsolidationStarted { swarm_id: &'a str, results: usize },
}

impl<'a> From<&'a Event> for EventLine<'a> {
    fn from(event: &'a Event) -> Self {
        match event {
            Event::ForkStarted {
                fork_id,
                agent_type,
                model,
                task,
                tools,
            } => Self::ForkStarted {
                fork_id: fork_id.as_str(),
                agent_type,
                model,
                task,
                tools: *tools,
            },
            Event::TextDelta { fork_id, text } => Self::TextDelta {
                fork_id: fork_id.as_str(),
                text,
            },
            Event::ToolCall {
                fork_id,
                name,
                args,
            } => Self::ToolCall {
                fork_id: fork_id.as_str(),
                name,
                args,
            },
            Event::ToolApproval {
                fork_id,
                name,
                decision,
            } => Self::ToolApproval {
                fork_id: fork_id.as_str(),
                name,
                approved: decision.approved,
                by: decision.by.as_str(),
            },
            Event::ToolServerFailed {
                fork_id,
                name,
                server,
                kind,
                message,
            } => Self::ToolServerFailed {
                fork_id: fork_id.as_str(),
                name,
                server,
                kind: kind.as_str(),
                message,
            },
            Event::ToolResult {
                fork_id,
                name,
                ok,
                error,
            } => Self::ToolResult {
                fork_id: fork_id.as_str(),
                name,
                ok: *ok,
                error: error.as_deref(),
            },
            Event::Retry {
                fork_id,
                attempt,
                max_attempts,
                delay,
                reason,
            } => Self::Retry {
                fork_id: fork_id.as_str(),
                attempt: *attempt,
                max_attempts: *max_attempts,
                delay_ms: millis(*delay),
                reason,
            },
            Event::ForkFinished {
                fork_id,
                status,
                usage,
                elapsed,
                error,
            } => Self::ForkFinished {
                fork_id: fork_id.as_str(),
                status: Status::from(*status),
                usage: UsageJson::from(usage),
                elapsed_ms: millis(*elapsed),
                error: error.as_deref(),
            },
            Event::SwarmProgress {
                swarm_id,
                done,
                failed,
                running,
                total,
            } => Self::SwarmProgress {
                swarm_id: swarm_id.as_str(),
                done: *done,
                failed: *failed,
                running: *running,
                total: *total,
            },
            Event::ConsolidationStarted { swarm_id, results } => Self::ConsolidationStarted {
                swarm_id: swarm_id.as_str(),
                results: *results,
            },
        }
    }
}

/// A plan step's progress line under `--jsonl`.
#[derive(Debug, Serialize)]
pub(crate) struct StepEventLine<'a> {
    /// Always `step`.
    pub(crate) event: &'static str,
    pub(crate) step_id: &'a str,
    pub(crate) name: &'a str,
    /// The progress word (`running`, `done`, `failed`, `skipped`, ...).
    pub(crate) status: String,
}
