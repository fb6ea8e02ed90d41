//! The command line as typed: clap definitions only. The command modules
//! resolve these into settings and call the library crates.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::common::AgentFlags;
use crate::commands::fork::ForkArgs;
use crate::commands::inspect::InspectArgs;
use crate::commands::summarize::SummarizeArgs;
use crate::commands::swarm::SwarmArgs;

/// Fork tasks to specialised Gemini agents, run swarms, and inspect,
/// record or replay Gemini traffic.
///
/// Set GEMINI_API_KEY to call Gemini. Without a key, `agent-fork examples`
/// replays bundled recorded sessions and `--replay FILE` replays your own.
#[derive(Debug, Parser)]
#[command(
    name = "agent-fork",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Print one JSON object instead of panels (stable keys, for scripts).
    #[arg(long, global = true, conflicts_with = "jsonl")]
    pub(crate) json: bool,

    /// Stream events as JSON lines while the work runs, then the result as one line.
    #[arg(long, global = true)]
    pub(crate) jsonl: bool,

    /// When to use colour: auto (only on a terminal, and not with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub(crate) color: ColorWhen,

    /// Replay a cassette on loopback instead of calling Gemini (no key needed).
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "record")]
    pub(crate) replay: Option<PathBuf>,

    /// Call Gemini and record the session into a cassette file (the key is redacted).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) record: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) agents: AgentFlags,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// Colour on a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Fork a task to one agent: `agent-fork fork "Explain ownership" --type general`.
    ///
    /// The agent gets a system instruction for its type, an optional context
    /// summary, and (for code, analysis and general agents) file tools that
    /// act inside --workspace. The answer streams as it arrives.
    Fork(ForkArgs),
    /// Run many agents at once and consolidate their results:
    /// `agent-fork swarm "task one" "task two" --type analysis`.
    Swarm(SwarmArgs),
    /// Summarise a conversation for a hand-off to another agent.
    Summarize(SummarizeArgs),
    /// Show the resolved settings and where each came from.
    Config,
    /// Show what a recorded Gemini response body (JSON or SSE stream) contains.
    ///
    /// Exit 0 for a response, 3 for an API error body, 2 for a file that
    /// cannot be read or is not a Gemini response.
    Inspect(InspectArgs),
}
