//! Tools from outside the workspace, offered beside its tools.
//!
//! The `mcp-tools` crate implements [`ExternalTools`] over MCP servers; the
//! fork's tool loop declares their functions, puts every call through the
//! approval gate like any other, and hands the approved ones over. A call
//! never fails: failures come back as `{"success": false, "error": ..}`.

use std::future::Future;
use std::pin::Pin;

use genai_client::FunctionDeclaration;
use serde_json::Value;

use crate::workspace::ToolOutcome;

/// Between a server's name and its tool's in a function name
/// (`docs__search`).
pub const MCP_SEPARATOR: &str = "__";

/// A boxed future, as [`ExternalTools::call`] returns it.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = ToolOutcome> + Send + 'a>>;

/// A set of tools that are not the workspace's (MCP servers' tools).
pub trait ExternalTools: Send + Sync {
    /// The function declarations offered to an agent allowed the servers
    /// `servers` (`None`: every server of the set).
    fn declarations(&self, servers: Option<&[String]>) -> Vec<FunctionDeclaration>;

    /// Whether `name` is one of these tools (declared to an agent allowed
    /// `servers`).
    fn owns(&self, name: &str, servers: Option<&[String]>) -> bool;

    /// Runs the tool `name` with `args`. Never panics; failures are
    /// `ok: false` outcomes with a one-line `error`.
    fn call<'a>(&'a self, name: &'a str, args: &'a Value) -> ToolFuture<'a>;
}
