//! The CLI scenarios of `tests/scenarios.toml`, under `cargo test`: each
//! runs the real binary in a fresh temporary folder against its cassette
//! (`--replay`, strict: an unmatched or unused interaction fails the run),
//! and what a person reads, plus the `--json` output when asked, is
//! compared with its insta snapshot in `tests/snapshots/` after paths, ids,
//! timestamps and durations are replaced (before stderr's lines are sorted,
//! so parallel progress compares in a stable order). Accept an intended change with
//! `cargo insta review` (or `INSTA_UPDATE=always`, which is what
//! `cargo xtask test-fixtures --bless` sets). Scenarios that read `../shared`
//! skip with a message when it is absent, and fail under `CI=true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, serde::Deserialize)]
struct ScenarioFile {
    scenario: Vec<Scenario>,
}

/// One run of the binary (the fields of tests/scenarios.toml).
#[derive(Debug, serde::Deserialize)]
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
    /// Files (relative path → content) to create in the workspace first.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// The exit code expected (default 0).
    #[serde(default)]
    exit: i32,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository")
}

/// What changes from run to run, in the order it is replaced (after the
/// run's own paths).
const FILTERS: &[(&str, &str)] = &[
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

/// Runs `scenario` (with `--json` when `json`): the text to snapshot,
/// normalised, and the exit code.
fn run(scenario: &Scenario, json: bool, root: &Path, shared: &Path) -> (String, i32) {
    let folder = tempfile::tempdir().unwrap();
    let workspace = folder.path().join("work");
    std::fs::create_dir_all(&workspace).unwrap();
    for (path, content) in &scenario.files {
        let target = workspace.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_agent-fork"));
    command
        .current_dir(&workspace)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", folder.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        // A fixed day, so lifecycle warnings and days to shutdown do not
        // change the snapshots from one day to the next.
        .env("AGENT_FORK_TODAY", "2026-11-29")
        .env(
            "AGENT_FORK_CONFIG",
            folder.path().join("no-user-config.toml"),
        );
    if let Some(cassette) = &scenario.cassette {
        command.arg("--replay").arg(root.join(cassette));
    }
    if json {
        command.arg("--json");
    }
    // {repo} and {shared} reach the binary as short relative paths through
    // links beside the workspace, so what it prints (a path in a panel
    // title, cut to fit) is the same wherever the clone lives.
    std::os::unix::fs::symlink(root, folder.path().join("repo")).unwrap();
    std::os::unix::fs::symlink(shared, folder.path().join("shared")).unwrap();
    command.args(scenario.args.iter().map(|arg| {
        arg.replace("{repo}", "../repo")
            .replace("{shared}", "../shared")
    }));
    let output = command.output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    let normalise = |text: &str| {
        let text = text
            .replace(&workspace.display().to_string(), "[WORKSPACE]")
            .replace(&folder.path().display().to_string(), "[TMP]")
            .replace(&shared.display().to_string(), "[SHARED]")
            .replace(&root.display().to_string(), "[REPO]");
        FILTERS.iter().fold(text, |text, (pattern, replacement)| {
            regex::Regex::new(pattern)
                .unwrap()
                .replace_all(&text, *replacement)
                .into_owned()
        })
    };
    let mut text = format!(
        "$ agent-fork {}{}\nexit: {code}\n--- stdout\n",
        if json { "--json " } else { "" },
        scenario.args.join(" ")
    );
    text.push_str(&normalise(&String::from_utf8_lossy(&output.stdout)));
    let stderr = normalise(&String::from_utf8_lossy(&output.stderr));
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
    (text, code)
}

#[test]
#[allow(clippy::print_stderr, reason = "a skipped scenario says why")]
fn every_scenario_matches_its_snapshot() {
    let root = repo();
    let shared = root.join("..").join("shared");
    let text = std::fs::read_to_string(root.join("tests/scenarios.toml")).unwrap();
    let file: ScenarioFile = toml::from_str(&text).expect("tests/scenarios.toml is valid");
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    let mut failures = Vec::new();
    let mut checked = 0;
    for scenario in &file.scenario {
        if scenario.args.iter().any(|arg| arg.contains("{shared}")) && !shared.is_dir() {
            // The recorded corpus lives beside the repository, not in it: a
            // fresh clone has none. CI always has it, so there it must be.
            assert!(
                !ci,
                "scenario {} needs ../shared beside the repository, and CI=true",
                scenario.name
            );
            eprintln!(
                "skipped scenario {} (it reads ../shared, which is absent here)",
                scenario.name
            );
            continue;
        }
        let variants: &[bool] = if scenario.json {
            &[false, true]
        } else {
            &[false]
        };
        for &json in variants {
            let name = if json {
                format!("{}.json", scenario.name)
            } else {
                scenario.name.clone()
            };
            let (text, code) = run(scenario, json, &root, &shared);
            checked += 1;
            if code != scenario.exit {
                failures.push(format!(
                    "{name}: exit {code}, expected {}\n{text}",
                    scenario.exit
                ));
                continue;
            }
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(root.join("tests/snapshots"));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            let matched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_snapshot!(name.as_str(), text));
            }));
            if matched.is_err() {
                failures.push(format!("{name}: differs from tests/snapshots/{name}.snap"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} scenario runs failed (if the change is intended: `cargo insta review`, or `cargo xtask test-fixtures --bless`, and review the diff):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
