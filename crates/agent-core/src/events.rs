//! What agent-core reports while it works.
//!
//! agent-core never prints. Forks and swarms send [`Event`]s to an
//! [`EventSink`]; the CLI draws them as progress, `--jsonl` streams them, and
//! the planner journals them.

use std::sync::Arc;
use std::time::Duration;

use genai_client::Usage;
use serde_json::Value;

use crate::fork::ForkStatus;
use crate::ids::{ForkId, SwarmId};

/// Something that happened during a fork or swarm.
///
/// Deliberately not `#[non_exhaustive]`: every consumer lives in this
/// workspace (the CLI's `--jsonl` stream and progress, the planner's
/// journal), and each matches exhaustively, so a new event fails to compile
/// where it must be handled instead of silently dropping out of a stream.
/// Adding a variant is therefore a breaking change, made in the same commit
/// as its consumers.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A fork began.
    ForkStarted {
        /// The fork.
        fork_id: ForkId,
        /// Its agent type.
        agent_type: String,
        /// The model it uses.
        model: String,
        /// The task.
        task: String,
        /// Whether workspace tools are offered.
        tools: bool,
    },
    /// Answer text arrived (streaming forks only).
    TextDelta {
        /// The fork.
        fork_id: ForkId,
        /// The new text.
        text: String,
    },
    /// The model asked for a tool call.
    ToolCall {
        /// The fork.
        fork_id: ForkId,
        /// The tool.
        name: String,
        /// Its arguments.
        args: Value,
    },
    /// The approval gate decided a call whose rule was not `allow` (asked a
    /// person, or denied by the policy). A denied call then ends with a
    /// failed [`Event::ToolResult`] and never runs.
    ToolApproval {
        /// The fork.
        fork_id: ForkId,
        /// The tool.
        name: String,
        /// The decision.
        decision: crate::approval::Decision,
    },
    /// The server behind an external (MCP) tool failed during a call: it
    /// timed out, its connection ended, it answered garbage, or it was not
    /// running. The call then ends with a failed [`Event::ToolResult`] and
    /// the agent goes on.
    ToolServerFailed {
        /// The fork.
        fork_id: ForkId,
        /// The tool called (`SERVER__tool`).
        name: String,
        /// The server.
        server: String,
        /// How it failed.
        kind: crate::external::ServerFailureKind,
        /// One line, secrets redacted.
        message: String,
    },
    /// A tool call finished.
    ToolResult {
        /// The fork.
        fork_id: ForkId,
        /// The tool.
        name: String,
        /// Whether it succeeded.
        ok: bool,
        /// The error, when it failed.
        error: Option<String>,
    },
    /// A model call failed and will be retried.
    Retry {
        /// The fork (or the consolidation of a swarm, under the swarm's fork id).
        fork_id: ForkId,
        /// The attempt that failed.
        attempt: u32,
        /// Attempts allowed in all (the first included).
        max_attempts: u32,
        /// The wait before the next one.
        delay: Duration,
        /// A short reason, e.g. `429 RESOURCE_EXHAUSTED`.
        reason: String,
    },
    /// A fork ended.
    ForkFinished {
        /// The fork.
        fork_id: ForkId,
        /// How it ended.
        status: ForkStatus,
        /// Tokens over all its turns.
        usage: Usage,
        /// Wall time.
        elapsed: Duration,
        /// The error, when it failed.
        error: Option<String>,
    },
    /// A swarm's counts changed.
    SwarmProgress {
        /// The swarm.
        swarm_id: SwarmId,
        /// Forks finished successfully.
        done: usize,
        /// Forks that failed.
        failed: usize,
        /// Forks running now.
        running: usize,
        /// Tasks in all, when known.
        total: Option<usize>,
    },
    /// A swarm began consolidating its results.
    ConsolidationStarted {
        /// The swarm.
        swarm_id: SwarmId,
        /// How many results go in.
        results: usize,
    },
}

/// Where events go. Cheap to clone; a no-op sink ignores them.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use agent_core::{Event, EventSink};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = EventSink::new({
///     let seen = seen.clone();
///     move |event: Event| seen.lock().unwrap().push(event)
/// });
/// # let _ = sink;
/// ```
#[derive(Clone)]
pub struct EventSink {
    handler: Option<Arc<dyn Fn(Event) + Send + Sync>>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.handler.is_some() {
            "EventSink"
        } else {
            "EventSink(none)"
        })
    }
}

impl EventSink {
    /// A retry observer for the client that turns its retries into
    /// [`Event::Retry`] events of `fork_id` (a fork, or a pseudo fork such
    /// as a planner's `planner`).
    pub fn retry_observer(&self, fork_id: ForkId) -> genai_client::SharedRetryObserver {
        let events = self.clone();
        Arc::new(move |retry: &genai_client::RetryEvent| {
            events.emit(Event::Retry {
                fork_id: fork_id.clone(),
                attempt: retry.attempt,
                max_attempts: retry.max_attempts,
                delay: retry.delay,
                reason: retry.reason.clone(),
            });
        })
    }

    /// A sink calling `handler` for each event.
    pub fn new(handler: impl Fn(Event) + Send + Sync + 'static) -> Self {
        Self {
            handler: Some(Arc::new(handler)),
        }
    }

    /// A sink that drops every event.
    pub fn none() -> Self {
        Self { handler: None }
    }

    /// Sends an event.
    pub fn emit(&self, event: Event) {
        if let Some(handler) = &self.handler {
            handler(event);
        }
    }
}
