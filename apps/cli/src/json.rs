//! The `--json` and `--jsonl` shapes: stable, documented, snake_case.
//! Library types are converted here by hand, so a library change cannot
//! silently change what scripts read.

use agent_core::{BuiltinRoute, Event, ForkResult};
use genai_client::Usage;
use serde::Serialize;
use serde_json::{Value, json};

/// Token counts by kind.
#[derive(Debug, Serialize)]
pub(crate) struct UsageJson {
    pub(crate) prompt: u64,
    pub(crate) output: u64,
    pub(crate) thinking: u64,
    pub(crate) cached: u64,
    pub(crate) tool_use: u64,
    pub(crate) total: u64,
}

impl From<&Usage> for UsageJson {
    fn from(usage: &Usage) -> Self {
        Self {
            prompt: usage.prompt,
            output: usage.candidates,
            thinking: usage.thoughts,
            cached: usage.cached,
            tool_use: usage.tool_use,
            total: usage.total,
        }
    }
}

/// One fork's result (the original's field names, plus usage and sources).
#[derive(Debug, Serialize)]
pub(crate) struct ForkJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_id: Option<String>,
    pub(crate) fork_id: String,
    pub(crate) agent_type: String,
    pub(crate) task: String,
    pub(crate) status: &'static str,
    pub(crate) result: String,
    pub(crate) model_used: String,
    pub(crate) model_version: Option<String>,
    pub(crate) thinking_tokens: u64,
    pub(crate) cached_tokens: u64,
    pub(crate) total_tokens: u64,
    pub(crate) usage: UsageJson,
    pub(crate) turns: usize,
    pub(crate) tools_executed: Vec<String>,
    pub(crate) files_created: Vec<String>,
    pub(crate) search_queries: Vec<String>,
    pub(crate) sources: Vec<SourceJson>,
    /// How search / code execution reached the model (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) builtin_tools: Option<&'static str>,
    /// Each search run for the fork (only when there was one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) searches: Vec<SearchJson>,
    pub(crate) timestamp: String,
    pub(crate) elapsed_ms: u64,
    pub(crate) error: Option<ErrorJson>,
}

/// A grounding source.
#[derive(Debug, Serialize)]
pub(crate) struct SourceJson {
    pub(crate) title: Option<String>,
    pub(crate) uri: Option<String>,
}

/// One search run for a fork.
#[derive(Debug, Serialize)]
pub(crate) struct SearchJson {
    /// The model call it belongs to (1-based).
    pub(crate) turn: u32,
    /// `alone`, `beside_functions` or `separate_call`.
    pub(crate) via: &'static str,
    pub(crate) queries: Vec<String>,
    pub(crate) sources: Vec<SourceJson>,
}

fn source_json(source: &genai_client::GroundingSource) -> SourceJson {
    SourceJson {
        title: source.title.clone(),
        uri: source.uri.clone(),
    }
}

/// Why something failed.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorJson {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) http_status: Option<u16>,
}

impl From<&ForkResult> for ForkJson {
    fn from(result: &ForkResult) -> Self {
        Self {
            run_id: None,
            fork_id: result.fork_id.to_string(),
            agent_type: result.agent_type.clone(),
            task: result.task.clone(),
            status: result.status.as_str(),
            result: result.text.clone(),
            model_used: result.model.clone(),
            model_version: result.model_version.clone(),
            thinking_tokens: result.usage.thoughts,
            cached_tokens: result.usage.cached,
            total_tokens: result.usage.total,
            usage: UsageJson::from(&result.usage),
            turns: result.turns.len(),
            tools_executed: result.tools_executed.clone(),
            files_created: result.files_created.clone(),
            search_queries: result.search_queries.clone(),
            sources: result.sources.iter().map(source_json).collect(),
            builtin_tools: result.builtin_route.map(BuiltinRoute::as_str),
            searches: result
                .searches
                .iter()
                .map(|search| SearchJson {
                    turn: search.turn,
                    via: search.route.as_str(),
                    queries: search.queries.clone(),
                    sources: search.sources.iter().map(source_json).collect(),
                })
                .collect(),
            timestamp: result.started_at.clone(),
            elapsed_ms: result.elapsed_ms,
            error: result.error.as_ref().map(|error| ErrorJson {
                kind: error.kind.as_str().to_owned(),
                message: error.message.clone(),
                http_status: error.http_status,
            }),
        }
    }
}

impl ForkJson {
    /// The same result, naming the run it belongs to.
    pub(crate) fn with_run(mut self, run_id: &str) -> Self {
        self.run_id = Some(run_id.to_owned());
        self
    }
}

/// One `--jsonl` event line. The match is exhaustive on purpose (see
/// [`agent_core::Event`]): a new event must be given a line here.
pub(crate) fn event(event: &Event) -> Value {
    match event {
        Event::ForkStarted {
            fork_id,
            agent_type,
            model,
            task,
            tools,
        } => json!({
            "event": "fork_started", "fork_id": fork_id.as_str(), "agent_type": agent_type,
            "model": model, "task": task, "tools": tools
        }),
        Event::TextDelta { fork_id, text } => {
            json!({"event": "text_delta", "fork_id": fork_id.as_str(), "text": text})
        }
        Event::ToolCall {
            fork_id,
            name,
            args,
        } => {
            json!({"event": "tool_call", "fork_id": fork_id.as_str(), "name": name, "args": args})
        }
        Event::ToolResult {
            fork_id,
            name,
            ok,
            error,
        } => json!({
            "event": "tool_result", "fork_id": fork_id.as_str(), "name": name, "ok": ok, "error": error
        }),
        Event::Retry {
            fork_id,
            attempt,
            max_attempts,
            delay,
            reason,
        } => json!({
            "event": "retry", "fork_id": fork_id.as_str(), "attempt": attempt,
            "max_attempts": max_attempts,
            "delay_ms": millis(*delay), "reason": reason
        }),
        Event::ForkFinished {
            fork_id,
            status,
            usage,
            elapsed,
            error,
        } => json!({
            "event": "fork_finished", "fork_id": fork_id.as_str(), "status": status.as_str(),
            "usage": UsageJson::from(usage),
            "elapsed_ms": millis(*elapsed), "error": error
        }),
        Event::SwarmProgress {
            swarm_id,
            done,
            failed,
            running,
            total,
        } => json!({
            "event": "swarm_progress", "swarm_id": swarm_id.as_str(), "done": done,
            "failed": failed, "running": running, "total": total
        }),
        Event::ConsolidationStarted { swarm_id, results } => json!({
            "event": "consolidation_started", "swarm_id": swarm_id.as_str(), "results": results
        }),
    }
}

/// Whole milliseconds, for the `*_ms` fields.
pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
