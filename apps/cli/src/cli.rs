//! The command line as typed: clap definitions only. The command modules
//! resolve these into settings and call the library crates.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::common::AgentFlags;
use crate::commands::examples::ExamplesArgs;
use crate::commands::fork::ForkArgs;
use crate::commands::inspect::InspectArgs;
use crate::commands::plan::PlanArgs;
use crate::commands::runs::{ResumeArgs, RunsCommand};
use crate::commands::summarize::SummarizeArgs;
use crate::commands::swarm::SwarmArgs;
use crate::commands::workflow::{MapReduceArgs, RefineArgs, ResearchThenCodeArgs};

/// Fork tasks to specialised Gemini agents, run swarms, plan goals into DAGs
/// of steps, summarise conversations for hand-offs, and inspect, record or
/// replay Gemini traffic.
///
/// Set GEMINI_API_KEY to call Gemini. Without a key, `agent-fork examples all`
/// replays the bundled recorded sessions and `--replay FILE` replays your own.
/// Every run is journalled in a per-user data folder kept per project, out
/// of every workspace (`agent-fork config` shows where); `agent-fork resume`
/// continues one that was interrupted.
///
/// Exit codes: 0 success, 1 the work failed, 2 bad usage or input, 3 API
/// error, 130 interrupted.
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
    /// Plan a goal into a DAG of steps and run it, each step as soon as its
    /// dependencies are done: `agent-fork plan --goal "..." --context "..."`.
    ///
    /// `--dry-run` only makes and saves the plan; edit it and run it with
    /// `--plan FILE`. A failed step's dependents are skipped; independent
    /// steps go on.
    #[command(alias = "plan-and-execute")]
    Plan(PlanArgs),
    /// Research with Google Search, then hand the findings to a code agent.
    ResearchThenCode(ResearchThenCodeArgs),
    /// Run one agent per item (`{item}` in --map-template), then combine the results.
    MapReduce(MapReduceArgs),
    /// Do a task, have a reviewer judge it against criteria, improve it until it passes.
    #[command(alias = "iterative")]
    Refine(RefineArgs),
    /// Summarise a conversation for a hand-off to another agent.
    Summarize(SummarizeArgs),
    /// List and show journalled runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Continue an interrupted run without repeating finished work.
    Resume(ResumeArgs),
    /// Run the seven seed examples (bundled sessions replay without a key).
    Examples(ExamplesArgs),
    /// Show the resolved settings and where each came from.
    Config,
    /// Show the Gemini models this key can use (ListModels), with what the
    /// model catalog knows: family, thinking control, limits, lifecycle and
    /// days to shutdown. Without a key, the catalog alone (said on stderr).
    Models,
    /// Show what a recorded Gemini response body (JSON or SSE stream) contains.
    ///
    /// Exit 0 for a response, 3 for an API error body, 2 for a file that
    /// cannot be read or is not a Gemini response.
    Inspect(InspectArgs),
    /// MCP servers: `agent-fork mcp list` starts each configured server and
    /// shows whether it starts and its tools.
    #[command(subcommand)]
    Mcp(McpCommand),
}

/// The `mcp` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum McpCommand {
    /// Each configured server (and each --mcp one): whether it starts, its tools.
    List,
}

/// How a user raises a fork's turn limit, for the view of a fork that
/// stopped there (views speak in library terms; the flag is named here).
pub(crate) const TURN_LIMIT_HINT: &str = "raise --max-turns to let it finish";
