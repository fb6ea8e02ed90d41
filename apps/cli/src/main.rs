//! The `agent-fork` command.
//!
//! A thin binary: clap parses, the command modules resolve settings and call
//! the library crates, and [`output::Output`] is the one place that prints.
//! Errors become one line on stderr and an exit code (see [`exit::Exit`]).

mod approval;
mod cli;
mod commands;
mod context;
mod exit;
mod finish;
mod json;
mod live;
mod mcp;
mod output;
mod quota_memory;
mod run_record;
mod session;
mod settings;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use render::{ColorChoice, Theme, resolve_color};

use crate::cli::{Cli, ColorWhen, Command, McpCommand};
use crate::commands::swarm::SwarmArgs;
use crate::exit::{Exit, classify};
use crate::output::{Format, Output, Verbosity};
use crate::session::Traffic;

/// jemalloc instead of the system allocator: a long swarm allocates and
/// frees the same shapes (replies, JSON, buffers) thousands of times, and
/// glibc's malloc let its resident set creep up with the number of tasks
/// even though the live heap stayed flat (bench/profile.md); jemalloc keeps
/// it flat and costs less CPU per fork.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// `agent-fork --version`: the package version.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `agent-fork --version` in full: the version, the commit it was built
/// from and the build date (from build.rs; `unknown` without git).
pub(crate) const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AGENT_FORK_COMMIT"),
    ", built ",
    env!("AGENT_FORK_BUILD_DATE"),
    ")"
);

/// The command line's definition, with colour in help and errors as
/// `--color` (or NO_COLOR) asks, before the arguments are parsed.
fn command() -> clap::Command {
    let args: Vec<String> = std::env::args().collect();
    let mut asked = None;
    for (index, arg) in args.iter().enumerate() {
        let value = match arg.strip_prefix("--color=") {
            Some(value) => Some(value),
            None if arg == "--color" => args.get(index + 1).map(String::as_str),
            None => None,
        };
        if let Some(value) = value {
            asked = Some(value.to_owned());
        }
    }
    let choice = match asked.as_deref() {
        Some("never") => clap::ColorChoice::Never,
        Some("always") => clap::ColorChoice::Always,
        _ if std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty()) => {
            clap::ColorChoice::Never
        }
        _ => clap::ColorChoice::Auto,
    };
    cli::command(choice)
}

fn main() -> ExitCode {
    use clap::FromArgMatches as _;
    let cli = match command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match &cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(
                *shell,
                &mut cli::completion_command(),
                "agent-fork",
                &mut out,
            );
            output::write_stdout(&out);
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let mut out = Vec::new();
            if let Err(error) = clap_mangen::Man::new(command()).render(&mut out) {
                output::eprint_line(&format!("error: cannot write the manual page: {error}"));
                return ExitCode::from(Exit::WorkFailed.code());
            }
            output::write_stdout(&out);
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let terminal = std::io::stdout().is_terminal();
    let choice = match cli.color {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    };
    let no_color = std::env::var("NO_COLOR").ok();
    let color = resolve_color(choice, terminal, no_color.as_deref());
    // OSC 8 links only where colour is on and the terminal is known to
    // follow them (FORCE_HYPERLINK=1/0 decides either way).
    let hyperlinks = color && supports_hyperlinks::on(supports_hyperlinks::Stream::Stdout);
    let theme = Theme::new(color, terminal_width(terminal)).with_hyperlinks(hyperlinks);
    let format = if cli.json {
        Format::Json
    } else if cli.jsonl {
        Format::Jsonl
    } else {
        Format::Human
    };
    let output = Output::new(format, theme, terminal)
        .with_verbosity(Verbosity::from_flags(cli.quiet, cli.verbose));
    let exit = match run(&cli, &output) {
        Ok(exit) => exit,
        Err(error) => {
            let (exit, message) = classify(&error);
            // Errors can quote a reply or a file: no control sequences.
            let message = render::strip_controls_line(&message);
            output.error_line(&format!("error: {message}"));
            // Under --json stdout stays one document: the error's, unless
            // the result was already written (docs/json.md).
            let _ = output.json_error(&json::CommandError::new(exit, &message));
            exit
        }
    };
    ExitCode::from(exit.code())
}

/// Help and version go out as clap writes them; every other parse error
/// becomes the first line of clap's message plus where to read more, so a
/// bad flag reads like every other usage error: one line, exit 2.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Nothing useful can be done if stdout is gone.
            let _ = error.print();
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(Exit::Usage.code()))
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let message = first.strip_prefix("error: ").unwrap_or(first);
            // clap's "tip: a similar argument exists: '--json'" is kept.
            let tips: Vec<&str> = rendered
                .lines()
                .filter_map(|line| line.trim().strip_prefix("tip: "))
                .collect();
            let tips = if tips.is_empty() {
                String::new()
            } else {
                format!("; {}", tips.join("; "))
            };
            output::eprint_line(&format!(
                "error: {message}{tips} (see `agent-fork --help`, or `--help` after the command)"
            ));
            ExitCode::from(Exit::Usage.code())
        }
    }
}

fn run(cli: &Cli, output: &Output) -> Result<Exit> {
    let traffic = match (&cli.replay, &cli.record) {
        (Some(path), _) => Traffic::Replay(path.clone()),
        (None, Some(path)) => Traffic::Record(path.clone()),
        (None, None) => Traffic::Live,
    };
    runtime()?.block_on(async {
        match &cli.command {
            Command::Inspect(args) => commands::inspect::run(args, output),
            Command::Config => commands::config::run(&cli.agents, output),
            Command::Mcp(McpCommand::List) => crate::mcp::list(&cli.agents, output).await,
            Command::Models => commands::models::run(&cli.agents, &traffic, output).await,
            Command::Fork(args) if args.swarm => {
                let swarm = SwarmArgs {
                    tasks: args.tasks.clone(),
                    agent_type: args.agent_type.clone(),
                    context: args.context.clone(),
                    ..SwarmArgs::default()
                };
                commands::swarm::run(&swarm, &cli.agents, &traffic, output).await
            }
            Command::Fork(args) => commands::fork::run(args, &cli.agents, &traffic, output).await,
            Command::Swarm(args) => commands::swarm::run(args, &cli.agents, &traffic, output).await,
            Command::Summarize(args) => {
                commands::summarize::run(args, &cli.agents, &traffic, output).await
            }
            Command::Plan(args) => commands::plan::run(args, &cli.agents, &traffic, output).await,
            Command::ResearchThenCode(args) => {
                commands::workflow::research_then_code(args, &cli.agents, &traffic, output).await
            }
            Command::MapReduce(args) => {
                commands::workflow::map_reduce(args, &cli.agents, &traffic, output).await
            }
            Command::Refine(args) => {
                commands::workflow::refine(args, &cli.agents, &traffic, output).await
            }
            Command::Runs(commands::runs::RunsCommand::Cancel { id }) => {
                let settings = settings::Settings::resolve(cli.agents.layer())?;
                commands::batch::cancel(id, &settings, &traffic, output).await
            }
            Command::Runs(command) => {
                commands::runs::runs(command, &cli.agents, &traffic, output).await
            }
            Command::Resume(args) => {
                commands::runs::resume(args, &cli.agents, &traffic, output).await
            }
            Command::Examples(args) => {
                commands::examples::run(args, &cli.agents, &traffic, output).await
            }
            Command::Completions { .. } | Command::Man => Ok(Exit::Success),
        }
    })
}

/// One thread drives every fork: the work is waiting on Gemini, and a
/// fork costs about 0.1 ms of CPU (bench/latest.md), so a second worker
/// only adds a second allocator arena and cross-thread wake-ups. Blocking
/// work (file tools, the journal's disk syncs) runs on threads of its own.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The width to lay output out in: `COLUMNS`, else the terminal's, else 100.
fn terminal_width(terminal: bool) -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse().ok());
    columns
        .or_else(|| {
            terminal
                .then(|| terminal_size::terminal_size().map(|(width, _)| usize::from(width.0)))
                .flatten()
        })
        .unwrap_or(100)
}
