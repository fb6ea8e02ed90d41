//! The `--json` rule of docs/json.md: stdout holds exactly one JSON
//! document with `schema_version` 1, whether the command succeeded (every
//! replayed scenario of tests/scenarios.toml, runs, config, models) or
//! failed (bad input, a missing key, a model Gemini does not serve); a
//! failure before any result is an error document, and the one-line error
//! also goes to stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{stderr_of, stdout_of};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn agent_fork(folder: &Path) -> Command {
    let mut command = common::isolated(folder);
    command.env("NO_COLOR", "1").env("COLUMNS", "100");
    command
}

/// The one document on stdout, checked for `schema_version` 1.
fn document(output: &Output, what: &str) -> Value {
    let text = stdout_of(output);
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|error| {
        panic!(
            "{what}: stdout is not one JSON document ({error}):\n{text}\nstderr: {}",
            stderr_of(output)
        )
    });
    assert_eq!(value["schema_version"], 1, "{what}: {value}");
    value
}

/// An error document: kind, message and exit code agree with the process.
fn error_document(output: &Output, kind: &str, what: &str) -> Value {
    let value = document(output, what);
    let error = &value["error"];
    assert_eq!(error["kind"], kind, "{what}: {value}");
    assert_eq!(
        error["exit_code"].as_i64(),
        output.status.code().map(i64::from),
        "{what}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        stderr_of(output).contains(&format!("error: {message}")),
        "{what}: stderr {}",
        stderr_of(output)
    );
    value
}

#[derive(serde::Deserialize)]
struct Scenarios {
    scenario: Vec<Scenario>,
}

#[derive(serde::Deserialize)]
struct Scenario {
    name: String,
    args: Vec<String>,
    cassette: Option<String>,
}

#[test]
fn every_replayed_scenario_prints_one_versioned_document() {
    let text = std::fs::read_to_string(repo().join("tests/scenarios.toml")).unwrap();
    let scenarios: Scenarios = toml::from_str(&text).unwrap();
    let mut checked = 0;
    for scenario in scenarios.scenario {
        // The examples command has no --json; {shared} scenarios are run by
        // the fixtures test, which skips them without ../shared.
        if scenario.args.first().is_some_and(|arg| arg == "examples")
            || scenario.args.iter().any(|arg| arg.contains("{shared}"))
        {
            continue;
        }
        let folder = tempfile::tempdir().unwrap();
        let mut command = agent_fork(folder.path());
        command.arg("--json");
        if let Some(cassette) = &scenario.cassette {
            command.arg("--replay").arg(repo().join(cassette));
        }
        let repo = repo().display().to_string();
        command.args(scenario.args.iter().map(|arg| arg.replace("{repo}", &repo)));
        let output = command.output().unwrap();
        let value = document(&output, &scenario.name);
        // A failure before any result is an error document, never a mix.
        if value["error"]["exit_code"].is_number() {
            assert_ne!(output.status.code(), Some(0), "{}: {value}", scenario.name);
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} scenarios ran");
}

#[test]
fn failures_print_an_error_document_and_the_same_line_on_stderr() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let run = |args: &[&str]| agent_fork(dir).arg("--json").args(args).output().unwrap();

    let missing = run(&["inspect", "missing.json"]);
    assert_eq!(missing.status.code(), Some(2));
    let value = error_document(&missing, "usage", "inspect of a missing file");
    insta::assert_json_snapshot!("inspect_missing_file_error", value);

    let unknown = run(&["runs", "show", "run_00000000000000000000000000"]);
    assert_eq!(unknown.status.code(), Some(2));
    error_document(&unknown, "usage", "runs show of an unknown run");

    let refused = run(&[
        "--thinking",
        "off",
        "fork",
        "--type",
        "code",
        "Write a haiku",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    error_document(&refused, "usage", "thinking the model refuses");

    let no_cassette = run(&["--replay", "nowhere.json", "fork", "Say hi"]);
    assert_ne!(no_cassette.status.code(), Some(0));
    error_document(&no_cassette, "usage", "a cassette that is not there");

    let list = run(&["examples"]);
    assert_eq!(list.status.code(), Some(2));
    error_document(&list, "usage", "the list of examples");

    // One example under --json: its fork's document, the notice on stderr.
    let example = run(&["examples", "basic_fork"]);
    assert_eq!(example.status.code(), Some(0), "{}", stderr_of(&example));
    assert_eq!(document(&example, "one example")["status"], "succeeded");
    assert!(stderr_of(&example).contains("No GEMINI_API_KEY set"));

    // --jsonl: the error document is the last line.
    let jsonl = agent_fork(dir)
        .args(["--jsonl", "inspect", "missing.json"])
        .output()
        .unwrap();
    let last = stdout_of(&jsonl).lines().last().map(str::to_owned).unwrap();
    let value: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(value["error"]["kind"], "usage");
}

#[test]
fn runs_and_config_documents_are_typed() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let config = agent_fork(dir).args(["--json", "config"]).output().unwrap();
    let config = document(&config, "config");
    assert_eq!(config["api_key"]["value"], false);
    assert!(config["concurrency"]["value"].is_u64(), "{config}");
    assert!(config["allow_shell"]["value"].is_boolean(), "{config}");
    assert!(config["model"]["value"].is_null(), "{config}");

    let fork = agent_fork(dir)
        .arg("--json")
        .arg("--replay")
        .arg(repo().join("fixtures/sessions/basic_fork.json"))
        .args([
            "fork",
            "Explain the difference between async and threading in Python in 3 sentences.",
        ])
        .output()
        .unwrap();
    let fork = document(&fork, "fork");
    assert_eq!(fork["status"], "succeeded");
    assert_eq!(fork["cost"]["currency"], "USD");
    assert!(fork["cost"]["amount"].is_f64(), "{fork}");
    let run_id = fork["run_id"].as_str().unwrap();

    let list = agent_fork(dir)
        .args(["--json", "runs", "list"])
        .output()
        .unwrap();
    let list = document(&list, "runs list");
    assert!(
        list["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|run| run["run_id"] == run_id && run["state"] == "completed"),
        "{list}"
    );
    let show = agent_fork(dir)
        .args(["--json", "runs", "show", run_id])
        .output()
        .unwrap();
    let show = document(&show, "runs show");
    assert_eq!(show["state"], "completed");
    assert_eq!(show["result"]["status"], "succeeded");
}
