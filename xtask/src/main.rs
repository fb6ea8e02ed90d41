//! Project automation, run as `cargo xtask <command>`.
//!
//! `cargo xtask ci` is the one test command: README.md gives it and
//! `.ci/run` calls it. `cargo xtask help` lists the others.

mod bench;
mod fixtures;
mod fuzz;
mod server;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const HELP: &str = "cargo xtask <command>

  ci                      build, clippy (warnings denied), every test, the recorded-fixture suite
  test-fixtures [--bless] run the CLI scenarios (an insta test) and the example programs
  fixture-server FILE...  serve cassettes on loopback (--port N, --lenient) until Ctrl-C
  bench [--repeat N]      release benchmarks against a loopback Gemini; writes bench/latest.md and .json
                          (--only startup,swarm,rss,plan,stream  --out DIR  --skip-build)
  fuzz-smoke [--cases N]  the decoder fuzzers, 10,000 cases each, under a time cap (part of ci)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = args
        .split_first()
        .map_or(("", &[][..]), |(first, rest)| (first.as_str(), rest));
    match command {
        "ci" => ci(),
        "test-fixtures" => fixtures::run(rest),
        "fixture-server" => server::run(rest),
        "bench" => bench::run(rest),
        "fuzz-smoke" => fuzz::run(rest),
        // Helpers the benchmark starts as processes of their own.
        "bench-server" => bench::server::server_main(rest),
        "bench-measure" => bench::measure::helper_main(rest),
        "" | "help" | "--help" | "-h" => {
            say(HELP);
            Ok(())
        }
        other => bail!("unknown xtask command `{other}`; run `cargo xtask help` to list them"),
    }
}

/// Prints a line for the developer.
#[expect(clippy::print_stdout, reason = "xtask talks to the developer")]
pub(crate) fn say(text: &str) {
    println!("{text}");
}

/// Build, lint with warnings denied, run every test, the fixture suite,
/// then the decoder fuzzers with many cases.
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
    // The CLI scenarios are one of the tests (apps/cli/tests/scenarios.rs).
    cargo(&["test", "--workspace", "--locked"])?;
    fixtures::examples()?;
    fuzz::run(&[])?;
    say("ci: all green");
    Ok(())
}

/// Runs cargo with `args`, failing when it fails.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
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

/// The repository's root folder (xtask's parent).
pub(crate) fn repository_root() -> Result<PathBuf> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| "xtask".to_owned());
    let root = Path::new(&manifest)
        .parent()
        .context("xtask sits inside the repository")?;
    Ok(root.to_path_buf())
}

/// Cargo's target folder: `CARGO_TARGET_DIR`, else `target/` in the root.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Loads the cassettes in `files`, naming the one that cannot be read.
pub(crate) fn load_cassettes(files: &[String]) -> Result<Vec<cassette::Cassette>> {
    files
        .iter()
        .map(|file| cassette::Cassette::load(file).with_context(|| format!("cannot load {file}")))
        .collect()
}
