//! `cargo xtask test-fixtures`: the CLI scenarios of `tests/scenarios.toml`
//! and the example programs. The scenarios are an integration test of the
//! binary (`apps/cli/tests/scenarios.rs`, insta snapshots in
//! `tests/snapshots/`), which `cargo test` runs too; this command runs that
//! test (`--bless` accepts every changed snapshot through
//! `INSTA_UPDATE=always`; review the diff, or use `cargo insta review`), then
//! every example program against its bundled session.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, repository_root, say, target_dir};

pub(crate) fn run(args: &[String]) -> Result<()> {
    let bless = args.iter().any(|arg| arg == "--bless");
    let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo_bin)
        .args([
            "test",
            "--package",
            "agent-fork",
            "--test",
            "scenarios",
            "--locked",
        ])
        .env("INSTA_UPDATE", if bless { "always" } else { "no" })
        .status()
        .with_context(|| format!("could not start `{cargo_bin}`"))?;
    let scenarios_failed = !status.success();
    examples()?;
    if scenarios_failed {
        bail!(
            "the CLI scenarios do not match their snapshots; if the change is intended, run `cargo xtask test-fixtures --bless` (or `cargo insta review`) and review the snapshots"
        );
    }
    say(&format!(
        "test-fixtures: the CLI scenarios {}",
        if bless {
            "are blessed"
        } else {
            "match their snapshots"
        }
    ));
    Ok(())
}

/// Runs the example programs (`cargo xtask ci` runs the scenarios with the
/// rest of the tests, and this once).
pub(crate) fn examples() -> Result<()> {
    let failures = run_example_programs(&repository_root()?)?;
    if !failures.is_empty() {
        for failure in &failures {
            say(failure);
        }
        bail!("{} example programs failed", failures.len());
    }
    Ok(())
}

/// Runs every `examples/*.rs` program without a key: each replays its
/// bundled session strictly and must exit 0, so the programs cannot rot
/// while `agent-fork examples` (the scenarios above) stays green.
fn run_example_programs(root: &Path) -> Result<Vec<String>> {
    cargo(&[
        "build",
        "--quiet",
        "--package",
        "agent-fork-examples",
        "--examples",
        "--locked",
    ])?;
    let mut names: Vec<String> = std::fs::read_dir(root.join("examples"))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let program = target_dir(root)
            .join("debug/examples")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let folder = tempfile::tempdir()?;
        let output = Command::new(&program)
            .current_dir(folder.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", folder.path())
            .env("NO_COLOR", "1")
            .output()
            .with_context(|| format!("cannot run {}", program.display()))?;
        if !output.status.success() {
            failures.push(format!(
                "example program {name} failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    say(&format!(
        "test-fixtures: {} example programs replayed their sessions",
        names.len() - failures.len()
    ));
    Ok(failures)
}
