//! `cargo xtask test-fixtures`: every CLI scenario in `tests/scenarios.toml`
//! runs the real `agent-fork` binary in a fresh temporary folder against
//! its cassette (`--replay`, strict: an unmatched or unused interaction
//! fails the run), and what a person reads, plus the `--json` output, is
//! compared with the snapshots in `tests/snapshots/`. Ids, timestamps,
//! durations and paths are normalised first. `--bless` rewrites the
//! snapshots instead.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde::Deserialize;

use crate::{cargo, repository_root, say, target_dir};

#[derive(Debug, Deserialize)]
struct ScenarioFile {
    scenario: Vec<Scenario>,
}

/// One run of the binary.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    /// Snapshot name.
    name: String,
    /// Arguments after `agent-fork`.
    args: Vec<String>,
    /// A cassette (relative to the repository) to `--replay`.
    cassette: Option<String>,
    /// Also run with `--json` and snapshot that.
    #[serde(default)]
    json: bool,
    /// Files (relative path → content) to create in the temporary folder first.
    #[serde(default)]
    files: std::collections::BTreeMap<String, String>,
    /// The exit code expected (default 0).
    #[serde(default)]
    exit: i32,
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let bless = args.iter().any(|arg| arg == "--bless");
    let root = repository_root()?;
    cargo(&["build", "--quiet", "--package", "agent-fork", "--locked"])?;
    let binary = target_dir(&root)
        .join("debug")
        .join(format!("agent-fork{}", std::env::consts::EXE_SUFFIX));
    let text = std::fs::read_to_string(root.join("tests/scenarios.toml"))
        .context("cannot read tests/scenarios.toml")?;
    let file: ScenarioFile = toml::from_str(&text).context("tests/scenarios.toml is not valid")?;
    let normaliser = Normaliser::new()?;
    let mut failures = Vec::new();
    let mut checked = 0;
    let shared_present = root.join("..").join("shared").is_dir();
    for scenario in &file.scenario {
        if scenario.args.iter().any(|arg| arg.contains("{shared}")) && !shared_present {
            // The recorded corpus lives beside the repository, not in it: a
            // fresh clone has none. CI always has it, so there it must be.
            if std::env::var("CI").is_ok_and(|value| value == "true") {
                bail!(
                    "scenario {} needs ../shared beside the repository, and CI=true",
                    scenario.name
                );
            }
            say(&format!(
                "test-fixtures: skipped {} (it reads ../shared, which is absent here)",
                scenario.name
            ));
            continue;
        }
        let mut variants = vec![false];
        if scenario.json {
            variants.push(true);
        }
        for json in variants {
            let (actual, code) = run_scenario(&binary, &root, scenario, json, &normaliser)?;
            let extension = if json { "json.snap" } else { "snap" };
            let snapshot = root
                .join("tests/snapshots")
                .join(format!("{}.{extension}", scenario.name));
            checked += 1;
            if code != scenario.exit {
                failures.push(format!(
                    "{} ({}): exit {code}, expected {}\n{actual}",
                    scenario.name, extension, scenario.exit
                ));
                continue;
            }
            if bless {
                std::fs::create_dir_all(snapshot.parent().context("snapshot folder")?)?;
                std::fs::write(&snapshot, &actual)?;
                continue;
            }
            let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
            if expected != actual {
                failures.push(format!(
                    "{} ({extension}) differs from {}:\n{}",
                    scenario.name,
                    snapshot.display(),
                    diff(&expected, &actual)
                ));
            }
        }
    }
    failures.extend(run_example_programs(&root)?);
    if !failures.is_empty() {
        for failure in &failures {
            say(failure);
        }
        bail!(
            "{} of {checked} fixture scenarios failed; if the change is intended, run `cargo xtask test-fixtures --bless` and review the snapshots",
            failures.len()
        );
    }
    say(&format!(
        "test-fixtures: {checked} scenario runs {}",
        if bless {
            "blessed"
        } else {
            "match their snapshots"
        }
    ));
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

fn run_scenario(
    binary: &Path,
    root: &Path,
    scenario: &Scenario,
    json: bool,
    normaliser: &Normaliser,
) -> Result<(String, i32)> {
    let folder = tempfile::tempdir()?;
    let workspace = folder.path().join("work");
    std::fs::create_dir_all(&workspace)?;
    for (path, content) in &scenario.files {
        let target = workspace.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, content)?;
    }
    let mut command = Command::new(binary);
    command.current_dir(&workspace).env_clear();
    command
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", folder.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        // A fixed day, so lifecycle warnings and days to shutdown do not
        // change the snapshots from one day to the next.
        .env("AGENT_FORK_TODAY", "2026-11-29")
        // Empty: no user config.
        .env("AGENT_FORK_CONFIG", "");
    if let Some(cassette) = &scenario.cassette {
        command.arg("--replay").arg(root.join(cassette));
    }
    if json {
        command.arg("--json");
    }
    // {repo} and {shared} reach the binary as short relative paths through
    // links beside the workspace, so what it prints (a path in a panel
    // title, cut to fit) is the same wherever the clone lives.
    let shared = root.join("..").join("shared");
    std::os::unix::fs::symlink(root, folder.path().join("repo"))?;
    std::os::unix::fs::symlink(&shared, folder.path().join("shared"))?;
    command.args(scenario.args.iter().map(|arg| {
        arg.replace("{repo}", "../repo")
            .replace("{shared}", "../shared")
    }));
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    let code = output.status.code().unwrap_or(-1);
    let paths = |text: &str| {
        let text = text
            .replace(&workspace.display().to_string(), "[WORKSPACE]")
            .replace(&folder.path().display().to_string(), "[TMP]")
            .replace(&shared.display().to_string(), "[SHARED]")
            .replace(&root.display().to_string(), "[REPO]");
        normaliser.apply(&text)
    };
    let stdout = paths(&String::from_utf8_lossy(&output.stdout));
    let stderr = paths(&String::from_utf8_lossy(&output.stderr));
    let shown_args = scenario.args.join(" ");
    let mut text = format!(
        "$ agent-fork {}{shown_args}\nexit: {code}\n",
        if json { "--json " } else { "" }
    );
    text.push_str("--- stdout\n");
    text.push_str(&stdout);
    if !stderr.is_empty() {
        // Progress of parallel work arrives in any order: compare it sorted.
        let mut lines: Vec<&str> = stderr.lines().collect();
        lines.sort_unstable();
        text.push_str("--- stderr (sorted)\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok((text, code))
}

/// Replaces what changes from run to run.
struct Normaliser {
    rules: Vec<(Regex, &'static str)>,
}

impl Normaliser {
    fn new() -> Result<Self> {
        let rules = [
            (r"fork_\d{6}_\d{3}_[0-9a-z]{4}", "fork_[ID]"),
            (r"swarm_\d{6}_[0-9a-z]{4}", "swarm_[ID]"),
            (r"(wf|run)_\d{6,8}_\d{6}_[0-9a-z]{4}", "${1}_[ID]"),
            (r"wf_\d{6}_\d{3}_[0-9a-z]{4}", "wf_[ID]"),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "[TIMESTAMP]",
            ),
            (r"\[\d{2}:\d{2}\.\d\]", "[MM:SS.s]"),
            (r"\b\d+(\.\d)? (ms|s)\b", "[DURATION]"),
            (r"\b\d+ min \d{2} s\b", "[DURATION]"),
            (r#""elapsed_ms": \d+"#, r#""elapsed_ms": 0"#),
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
            (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMPDIR]"),
            // The per-project runs folder: <name>-<hash of the project root>.
            (r"(projects/[A-Za-z0-9._-]+)-[0-9a-f]{12}\b", "${1}-[HASH]"),
        ];
        let rules = rules
            .into_iter()
            .map(|(pattern, replacement)| Ok((Regex::new(pattern)?, replacement)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { rules })
    }

    fn apply(&self, text: &str) -> String {
        self.rules
            .iter()
            .fold(text.to_owned(), |text, (pattern, replacement)| {
                pattern.replace_all(&text, *replacement).into_owned()
            })
    }
}

/// A line diff: `-` expected, `+` actual, for the first differing region.
fn diff(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let start = expected
        .iter()
        .zip(&actual)
        .take_while(|(a, b)| a == b)
        .count();
    let tail = expected[start..]
        .iter()
        .rev()
        .zip(actual[start..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = format!("@@ line {} @@\n", start + 1);
    for line in &expected[start..expected.len() - tail] {
        out.push_str(&format!("-{line}\n"));
    }
    for line in &actual[start..actual.len() - tail] {
        out.push_str(&format!("+{line}\n"));
    }
    out
}
