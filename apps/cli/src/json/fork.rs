//! One fork's result: the shape `fork` prints, and every result inside a
//! swarm, plan or workflow document (and each `--results-jsonl` line).

use agent_core::{BuiltinRoute, ForkResult, ForkStatus};
use serde::Serialize;

use super::{CostJson, ErrorJson, Status, UsageJson};

/// One fork's result (the original's field names, plus usage and sources).
#[derive(Debug, Serialize)]
pub(crate) struct ForkJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_id: Option<String>,
    pub(crate) fork_id: String,
    pub(crate) agent_type: String,
    pub(crate) task: String,
    /// How it ended.
    pub(crate) status: Status,
    /// True when the turn limit stopped it with calls still pending
    /// (its status is then `failed`).
    pub(crate) turn_limit_reached: bool,
    pub(crate) result: String,
    pub(crate) model_used: String,
    pub(crate) model_version: Option<String>,
    pub(crate) thinking_tokens: u64,
    pub(crate) cached_tokens: u64,
    pub(crate) total_tokens: u64,
    pub(crate) usage: UsageJson,
    /// What its model calls cost.
    pub(crate) cost: CostJson,
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

impl From<&ForkResult> for ForkJson {
    fn from(result: &ForkResult) -> Self {
        Self {
            run_id: None,
            fork_id: result.fork_id.to_string(),
            agent_type: result.agent_type.clone(),
            task: result.task.clone(),
            status: Status::from(result.status),
            turn_limit_reached: result.status == ForkStatus::Partial,
            result: result.text.clone(),
            model_used: result.model.clone(),
            model_version: result.model_version.clone(),
            thinking_tokens: result.usage.thoughts,
            cached_tokens: result.usage.cached,
            total_tokens: result.usage.total,
            usage: UsageJson::from(&result.usage),
            cost: CostJson::from(&result.cost),
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
