//! Project automation, run as `cargo xtask <command>`.
//!
//! `cargo xtask ci` is the one test command: README.md gives it and `.ci/run`
//! calls it. Other commands are added as the project grows.

use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    match command.as_str() {
        "ci" => ci(),
        "" | "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => bail!("unknown xtask command `{other}`; run `cargo xtask help` to list them"),
    }
}

#[expect(clippy::print_stdout, reason = "xtask talks to the developer")]
fn print_help() {
    println!("cargo xtask <command>\n\n  ci    build, clippy (warnings denied), every test");
}

/// Build, lint with warnings denied, then run every test.
fn ci() -> Result<()> {
    cargo(&["build", "--workspace", "--all-targets", "--locked"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace", "--locked"])?;
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("could not start `{cargo}`"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
