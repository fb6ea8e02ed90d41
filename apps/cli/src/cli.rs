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
    version = crate::VERSION,
    long_version = crate::LONG_VERSION,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Print one JSON object instead of panels (stable keys, for scripts).
    #[arg(long, global = true, conflicts_with = "jsonl", help_heading = GLOBAL)]
    pub(crate) json: bool,

    /// Stream events as JSON lines while the work runs, then the result as one line.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub(crate) jsonl: bool,

    /// Print only the answer on stdout (no panels or progress; warnings and errors still on stderr).
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub(crate) quiet: bool,

    /// Say more on stderr: -v one line per request to Gemini, -vv also an HTTP debug log (the key redacted).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub(crate) verbose: u8,

    /// When to use colour: auto (only on a terminal, and not with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN", help_heading = GLOBAL)]
    pub(crate) color: ColorWhen,

    /// Replay a cassette on loopback instead of calling Gemini (no key needed).
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "record", help_heading = GLOBAL)]
    pub(crate) replay: Option<PathBuf>,

    /// Call Gemini and record the session into a cassette file (the key is redacted).
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub(crate) record: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) agents: AgentFlags,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The global flags that act on each command whose help should not offer
/// the others (a path of subcommand names, then the ids of the flags it
/// uses). Commands not listed use every global flag. [`command`] hides the
/// rest from their help and completions; they still parse, and do nothing.
pub(crate) const GLOBAL_FLAGS_USED: &[(&[&str], &[&str])] = &[
    // config shows the settings: the flags that set one show as its source.
    (
        &["config"],
        &[
            "json",
            "color",
            "workspace",
            "no_tools",
            "allow_shell",
            "model",
            "thinking",
            "budget_usd",
            "budget_tokens",
        ],
    ),
    // models calls ListModels (or replays it): no agent runs.
    (
        &["models"],
        &["json", "verbose", "color", "replay", "record"],
    ),
    (&["inspect"], &["json", "color"]),
    (&["completions"], &[]),
    (&["man"], &[]),
    (&["runs", "list"], &["json", "quiet", "color"]),
    (&["runs", "show"], &["json", "quiet", "color"]),
    (&["runs", "report"], &["json", "color"]),
    (&["runs", "serve"], &["json", "color"]),
    // runs cancel asks Gemini to cancel a batch job.
    (
        &["runs", "cancel"],
        &["json", "verbose", "color", "replay", "record"],
    ),
    (&["mcp", "list"], &["json", "color", "mcp"]),
    // examples runs its agents in a folder of its own (no --workspace).
    (
        &["examples"],
        &[
            "json",
            "jsonl",
            "quiet",
            "verbose",
            "color",
            "replay",
            "record",
            "no_tools",
            "allow_shell",
            "model",
            "thinking",
            "yes",
            "mcp",
            "budget_usd",
            "budget_tokens",
        ],
    ),
];

/// The ids of the built `command`'s global flags.
fn global_ids(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .map(|arg| arg.get_id().to_string())
        .collect()
}

/// The command line's definition as parsed, completed and documented: the
/// derive's, built (global flags copied into every subcommand), with each
/// command of [`GLOBAL_FLAGS_USED`] offering only the global flags it uses.
/// `color` is set before the build, which copies it into every subcommand.
pub(crate) fn command(color: clap::ColorChoice) -> clap::Command {
    use clap::CommandFactory as _;
    let mut command = Cli::command().color(color);
    command.build();
    let globals = global_ids(&command);
    for (path, used) in GLOBAL_FLAGS_USED {
        let unused: Vec<&str> = globals
            .iter()
            .map(String::as_str)
            .filter(|id| !used.contains(id))
            .collect();
        hide_in(&mut command, path, &unused);
    }
    command
}

/// The command line as shell completions offer it: [`command`] without
/// what its help hides (the global flags a command does not use, hidden
/// subcommands). clap_complete offers hidden flags and subcommands, and clap
/// can remove neither from a command, so the tree is assembled again from
/// the visible parts of the built one.
pub(crate) fn completion_command() -> clap::Command {
    visible_only(&command(clap::ColorChoice::Never))
}

/// `built`'s visible arguments and (recursively) subcommands, with what the
/// completion scripts read of it: name, about, aliases, version. Each
/// argument keeps only its conflicts with the arguments kept, and is no
/// longer global (it was already copied into every subcommand that shows it).
fn visible_only(built: &clap::Command) -> clap::Command {
    use clap::builder::Resettable::{Reset, Value};
    let kept: Vec<&clap::Arg> = built
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .collect();
    let is_kept = |id: &clap::Id| kept.iter().any(|arg| arg.get_id() == id);
    let args: Vec<clap::Arg> = kept
        .iter()
        .map(|arg| {
            let conflicts: Vec<clap::Id> = built
                .get_arg_conflicts_with(arg)
                .into_iter()
                .map(|other| other.get_id().clone())
                .filter(is_kept)
                .collect();
            (*arg)
                .clone()
                .global(false)
                .requires(Reset)
                .conflicts_with(Reset)
                .conflicts_with_all(conflicts)
        })
        .collect();
    let mut visible = clap::Command::new(built.get_name().to_owned())
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .allow_external_subcommands(built.is_allow_external_subcommands_set())
        .about(built.get_about().cloned().map_or(Reset, Value))
        .long_about(built.get_long_about().cloned().map_or(Reset, Value))
        .visible_aliases(built.get_visible_aliases().map(str::to_owned))
        .args(args)
        .subcommands(
            built
                .get_subcommands()
                .filter(|sub| !sub.is_hide_set())
                .map(visible_only),
        );
    if let Some(version) = built.get_version() {
        visible = visible.version(version.to_owned());
    }
    if let Some(version) = built.get_long_version() {
        visible = visible.long_version(version.to_owned());
    }
    visible
}

/// Hides the flags `ids` in `command`'s subcommand at `path`, in place:
/// clap's `mut_arg` and `mut_subcommand` move what they change to the end
/// of its list, which on a built command leaves the flags' lookup pointing
/// at the wrong arguments (`--help` parsed as another flag).
fn hide_in(command: &mut clap::Command, path: &[&str], ids: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        let whole = std::mem::take(command);
        *command = whole.mut_args(|arg| {
            let hidden = ids.contains(&arg.get_id().as_str()) || arg.is_hide_set();
            arg.hide(hidden)
        });
        return;
    };
    let sub = command
        .find_subcommand_mut(first)
        .unwrap_or_else(|| panic!("GLOBAL_FLAGS_USED names no command `{first}`"));
    hide_in(sub, rest, ids);
}

/// The help heading of the flags every command takes.
pub(crate) const GLOBAL: &str = "Global options";

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
    ///
    /// Also continues a run its budget stopped (`budget_exhausted`): the
    /// `--budget-usd` / `--budget-tokens` given now are the new total for
    /// the whole run, what it spent before included, so
    /// `agent-fork resume RUN --budget-usd 5` lets a run that spent $2 of
    /// $2 spend $3 more. The run's cost is summed over all its sessions.
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
    /// Print a shell completion script: `agent-fork completions bash > ~/.local/share/bash-completion/completions/agent-fork`.
    Completions {
        /// The shell: bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `agent-fork man > agent-fork.1; man ./agent-fork.1`.
    Man,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag the table names is a global flag (a misspelt id would
    /// hide the flag it meant to keep), and every command it names exists
    /// (`command` panics otherwise).
    #[test]
    fn the_table_names_real_global_flags_and_commands() {
        let globals = global_ids(&command(clap::ColorChoice::Never));
        for (path, used) in GLOBAL_FLAGS_USED {
            for id in *used {
                assert!(globals.iter().any(|global| global == id), "{path:?}: {id}");
            }
        }
    }
}
