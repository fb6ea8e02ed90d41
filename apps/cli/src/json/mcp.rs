//! `agent-fork mcp list --json`.

use serde::Serialize;

/// `agent-fork mcp list --json`: one entry per configured server.
#[derive(Debug, Serialize)]
pub(crate) struct McpListJson {
    pub(crate) servers: Vec<McpServerJson>,
}

#[derive(Debug, Serialize)]
pub(crate) struct McpServerJson {
    pub(crate) name: String,
    pub(crate) transport: &'static str,
    pub(crate) started: bool,
    pub(crate) error: Option<String>,
    pub(crate) tools: Vec<McpToolJson>,
    pub(crate) skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct McpToolJson {
    pub(crate) function: String,
    pub(crate) name: String,
    pub(crate) description: String,
}
