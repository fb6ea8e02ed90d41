//! `agent-fork inspect --json`: the facts of a recorded response body.

use serde::Serialize;

/// The facts of a body; the `--json` shape (every key always present).
#[derive(Debug, Serialize)]
pub(crate) struct InspectReport {
    pub(crate) kind: &'static str,
    pub(crate) chunks: usize,
    pub(crate) text: Option<String>,
    pub(crate) thoughts: Option<String>,
    pub(crate) function_calls: Vec<FunctionCallFact>,
    /// Server-side tool calls (`toolCall` parts: Google Search, URL context...).
    pub(crate) tool_calls: Vec<ToolPartFact>,
    /// Their results (`toolResponse` parts).
    pub(crate) tool_responses: Vec<ToolPartFact>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) block_reason: Option<String>,
    pub(crate) usage: Option<UsageFact>,
    pub(crate) grounding: Option<GroundingFact>,
    pub(crate) citations: usize,
    pub(crate) error: Option<ErrorFact>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FunctionCallFact {
    pub(crate) name: String,
    pub(crate) args: serde_json::Value,
}

/// A `toolCall` (its `args`) or `toolResponse` (its `response`) part.
#[derive(Debug, Serialize)]
pub(crate) struct ToolPartFact {
    pub(crate) tool: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UsageFact {
    pub(crate) prompt: u64,
    pub(crate) candidates: u64,
    pub(crate) thoughts: u64,
    pub(crate) cached: u64,
    pub(crate) tool_use: u64,
    pub(crate) total: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct GroundingFact {
    pub(crate) queries: Vec<String>,
    pub(crate) sources: Vec<SourceFact>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SourceFact {
    pub(crate) uri: Option<String>,
    pub(crate) title: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ErrorFact {
    pub(crate) code: u16,
    pub(crate) status: Option<String>,
    pub(crate) message: String,
    pub(crate) retry_delay_s: Option<f64>,
}
