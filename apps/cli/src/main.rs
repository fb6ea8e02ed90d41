//! The `agent-fork` command.
//!
//! A thin binary: clap parses, the command modules resolve settings and call
//! the library crates, and [`output::Output`] is the one place that prints.
//! Errors become one line on stderr and an exit code (see [`exit::Exit`]).

mod cli;
mod commands;
mod exit;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, ColorWhen, Command};
use crate::exit::classify;
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = Output::new(cli.json, color_enabled(cli.color), terminal_width());
    let result = match &cli.command {
        Command::Inspect(args) => commands::inspect::run(args, &output),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(error) => {
            let (exit, message) = classify(&error);
            output.error_line(&format!("error: {message}"));
            exit
        }
    };
    ExitCode::from(exit.code())
}

fn color_enabled(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse().ok())
        .unwrap_or(100)
}
