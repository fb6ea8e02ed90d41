//! The command line as typed: clap definitions only. Resolving these into
//! settings happens in the command modules.

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::inspect::InspectArgs;

/// Fork tasks to specialised Gemini agents, run swarms and plans, and
/// inspect or replay recorded Gemini traffic.
#[derive(Debug, Parser)]
#[command(name = "agent-fork", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Print one JSON object instead of panels (stable keys, for scripts).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// When to use colour: auto (only on a terminal, and not with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub(crate) color: ColorWhen,

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
    /// Show what a recorded Gemini response body (JSON or SSE stream) contains.
    ///
    /// Exit 0 for a response, 3 for an API error body, 2 for a file that
    /// cannot be read or is not a Gemini response.
    Inspect(InspectArgs),
}
