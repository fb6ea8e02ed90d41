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
mod run_record;
mod session;
mod settings;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use render::{ColorChoice, Theme, resolve_color};

use crate::cli::{Cli, ColorWhen, Command, McpCommand};
use crate::commands::swarm::SwarmArgs;
use crate::exit::{Exit, classify};
use crate::output::{Format, Output};
use crate::session::Traffic;

/// jemalloc instead of the system allocator: a long swarm allocates and
/// frees the same shapes (replies, JSON, buffers) thousands of times, and
/// glibc's malloc let its resident set creep up with the number of tasks
/// even though the live heap stayed flat (bench/profile.md); jemalloc keeps
/// it flat and costs less CPU per fork.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let terminal = std::io::stdout().is_terminal();
    let choice = match cli.color {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    };
    let no_color = std::env::var("NO_COLOR").ok();
    let theme = Theme::new(
        resolve_color(choice, terminal, no_color.as_deref()),
        terminal_width(terminal),
    );
    let format = if cli.json {
        Format::Json
    } else if cli.jsonl {
        Format::Jsonl
    } else {
        Format::Human
    };
    let output = Output::new(format, theme, terminal);
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
            output::eprint_line(&format!(
                "error: {message} (see `agent-fork --help`, or `--help` after the command)"
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
                let runs_dir = settings::Settings::resolve(cli.agents.layer())?
                    .runs_dir
                    .value;
                commands::batch::cancel(id, &runs_dir, &traffic, output).await
            }
            Command::Runs(command) => commands::runs::runs(command, &cli.agents, output),
            Command::Resume(args) => {
                commands::runs::resume(args, &cli.agents, &traffic, output).await
            }
            Command::Examples(args) => {
                commands::examples::run(args, &cli.agents, &traffic, output).await
            }
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
