//! Tools from outside the workspace, offered beside its tools.
//!
//! The `mcp-tools` crate implements [`ExternalTools`] over MCP servers; the
//! fork's tool loop declares their functions, puts every call through the
//! approval gate like any other, and hands the approved ones over. A call
//! never fails: failures come back as `{"success": false, "error": ..}`.
//! When the server itself failed (not the tool: it timed out, crashed,
//! answered garbage), the outcome says so in [`ExternalOutcome::failure`]
//! and the fork reports it as [`crate::Event::ToolServerFailed`].

use std::future::Future;
use std::pin::Pin;

use genai_client::FunctionDeclaration;
use serde_json::Value;

use crate::workspace::ToolOutcome;

/// Between a server's name and its tool's in a function name
/// (`docs__search`).
pub const MCP_SEPARATOR: &str = "__";

/// A boxed future, as [`ExternalTools::call`] returns it.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = ExternalOutcome> + Send + 'a>>;

/// How the server behind an external tool failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerFailureKind {
    /// The call got no answer within its timeout.
    TimedOut,
    /// The connection ended: the process exited or the stream closed.
    Disconnected,
    /// The server answered with a protocol error or something that is not
    /// a result.
    BadReply,
    /// The server was not running (it did not start, or failed before).
    NotRunning,
}

impl ServerFailureKind {
    /// As a word (`timed_out`, `disconnected`, `bad_reply`, `not_running`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TimedOut => "timed_out",
            Self::Disconnected => "disconnected",
            Self::BadReply => "bad_reply",
            Self::NotRunning => "not_running",
        }
    }
}

/// The server behind an external tool failed during a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFailure {
    /// The server's name.
    pub server: String,
    /// How it failed.
    pub kind: ServerFailureKind,
    /// One line saying what happened, secrets redacted.
    pub message: String,
}

/// What an external call gave: the result for the model and, when the
/// server itself failed, how.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalOutcome {
    /// Handed back to the model.
    pub outcome: ToolOutcome,
    /// The server's failure, when there was one (not a tool's own error
    /// result, which the model just reads).
    pub failure: Option<ServerFailure>,
}

impl From<ToolOutcome> for ExternalOutcome {
    fn from(outcome: ToolOutcome) -> Self {
        Self {
            outcome,
            failure: None,
        }
    }
}

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
