//! The architecture's rules, checked (`cargo test -p xtask`).
//!
//! ARCHITECTURE.md states how the crates may depend on each other and who
//! may print; these tests read `cargo metadata` and the sources and fail
//! when the code and the map disagree:
//!
//! - every dependency between project packages is an arrow the map's
//!   `tidy:arrows` block allows, and every package is on the map;
//! - `anyhow` is a dependency of apps and xtask only;
//! - only the CLI's output module writes to stdout or stderr;
//! - no library crate names one of the CLI's flags in its code, since a
//!   library for other teams speaks in its own terms;
//! - no function in the CLI's commands (`apps/cli/src/commands/`) is longer
//!   than [`MAX_COMMAND_FN_LINES`] lines: a command is a few named steps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_root: PathBuf,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    manifest_path: PathBuf,
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    /// `None` for a normal dependency, `dev` or `build` otherwise.
    kind: Option<String>,
}

fn metadata() -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed");
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints its JSON")
}

/// The allowed arrows, read from ARCHITECTURE.md's `tidy:arrows` block:
/// lines such as `- planner → agent-core, genai-client; dev → cassette`.
fn allowed_arrows(root: &Path) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let block = map
        .split("<!-- tidy:arrows -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /tidy:arrows -->").next())
        .expect("ARCHITECTURE.md has a <!-- tidy:arrows --> block");
    let names = |list: &str| -> BTreeSet<String> {
        list.split(',')
            .map(|name| name.trim().trim_matches('`').to_owned())
            .filter(|name| !name.is_empty())
            .collect()
    };
    let mut arrows = BTreeMap::new();
    for line in block
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- "))
    {
        let (normal, dev) = line.split_once("; dev →").unwrap_or((line, ""));
        let (package, targets) = normal.split_once('→').unwrap_or((normal, ""));
        arrows.insert(
            package.trim().trim_matches('`').to_owned(),
            (names(targets), names(dev)),
        );
    }
    arrows
}

#[test]
fn dependency_arrows_follow_the_architecture_map() {
    let metadata = metadata();
    let arrows = allowed_arrows(&metadata.workspace_root);
    let project: BTreeSet<&str> = metadata.packages.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();
    for package in &metadata.packages {
        let Some((normal, dev)) = arrows.get(&package.name) else {
            problems.push(format!(
                "{} is not on ARCHITECTURE.md's map (tidy:arrows)",
                package.name
            ));
            continue;
        };
        for dependency in &package.dependencies {
            // A crate may name itself as a dev-dependency to turn on its
            // own test-only features.
            if !project.contains(dependency.name.as_str()) || dependency.name == package.name {
                continue;
            }
            let allowed = match dependency.kind.as_deref() {
                Some("dev") => dev.contains(&dependency.name) || normal.contains(&dependency.name),
                _ => normal.contains(&dependency.name),
            };
            if !allowed {
                problems.push(format!(
                    "{} → {} ({}) is not an arrow ARCHITECTURE.md allows",
                    package.name,
                    dependency.name,
                    dependency.kind.as_deref().unwrap_or("normal")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn anyhow_only_in_apps_and_xtask() {
    let metadata = metadata();
    let offenders: Vec<String> = metadata
        .packages
        .iter()
        .filter(|package| {
            let relative = package
                .manifest_path
                .strip_prefix(&metadata.workspace_root)
                .unwrap_or(&package.manifest_path);
            relative.starts_with("crates")
        })
        .filter(|package| {
            package
                .dependencies
                .iter()
                .any(|dependency| dependency.name == "anyhow" && dependency.kind.is_none())
        })
        .map(|package| package.name.clone())
        .collect();
    assert!(
        offenders.is_empty(),
        "library crates must return typed errors (thiserror), not anyhow: {offenders:?}"
    );
}

/// The Rust files below `dir`, with their text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file is text");
                found.push((path, text));
            }
        }
    }
    found.sort();
    found
}

/// The lines of `text` that are code: comments and `#[cfg(test)]` modules
/// (which by this project's habit come last in a file) are left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(index, line)| (index + 1, line))
}

#[test]
fn only_the_output_module_prints() {
    let root = metadata().workspace_root;
    let printing = Regex::new(r"\b(e?print(ln)?!|io::stdout\(\)|io::stderr\(\))").expect("regex");
    let mut problems = Vec::new();
    for dir in ["crates", "apps/cli/src"] {
        for (path, text) in sources(&root.join(dir)) {
            let relative = path.strip_prefix(&root).unwrap_or(&path);
            let in_tests = relative.components().any(|part| {
                matches!(
                    part.as_os_str().to_str(),
                    Some("tests" | "benches" | "examples")
                )
            });
            // test-support is a dev-only crate: its code is tests' code (a
            // suite that skips says so on stderr).
            let test_only = relative.starts_with("crates/test-support");
            // A build script's stdout is its protocol with cargo, not output.
            let build_script = relative.file_name().is_some_and(|name| name == "build.rs");
            if in_tests
                || test_only
                || build_script
                || relative == Path::new("apps/cli/src/output.rs")
            {
                continue;
            }
            for (number, line) in code_lines(&text) {
                // Asking whether stdout is a terminal writes nothing.
                let line = line.replace("io::stdout().is_terminal()", "");
                if printing.is_match(&line) {
                    problems.push(format!("{}:{number}: {}", relative.display(), line.trim()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "only apps/cli/src/output.rs writes to stdout or stderr:\n{}",
        problems.join("\n")
    );
}

/// The CLI's long flags, read from its clap definitions.
fn cli_flags(root: &Path) -> BTreeSet<String> {
    let explicit = Regex::new(r#"long\s*=\s*"([^"]+)""#).expect("regex");
    let field = Regex::new(r"^\s*(?:pub(?:\(crate\))?\s+)?([a-z_0-9]+)\s*:").expect("regex");
    let long = Regex::new(r"\blong\b").expect("regex");
    let mut flags = BTreeSet::new();
    for (_, text) in sources(&root.join("apps/cli/src")) {
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            if !line.contains("#[arg(") || !long.is_match(line) {
                continue;
            }
            if let Some(name) = explicit.captures(line) {
                flags.insert(name[1].to_owned());
                continue;
            }
            if let Some(name) = lines[index + 1..]
                .iter()
                .take(8)
                .find_map(|next| field.captures(next))
            {
                flags.insert(name[1].replace('_', "-"));
            }
        }
    }
    flags
}

#[test]
fn library_crates_do_not_speak_in_cli_flags() {
    let root = metadata().workspace_root;
    let flags = cli_flags(&root);
    assert!(
        flags.contains("model") && flags.contains("json"),
        "the flag scan found the CLI's flags: {flags:?}"
    );
    let literal = Regex::new(r#""([^"\\]|\\.)*""#).expect("regex");
    let mut problems = Vec::new();
    for (path, text) in sources(&root.join("crates")) {
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        if relative
            .components()
            .any(|part| part.as_os_str() == "tests")
        {
            continue;
        }
        for (number, line) in code_lines(&text) {
            for string in literal.find_iter(line) {
                for flag in &flags {
                    let spelled = format!("--{flag}");
                    let found = string.as_str().match_indices(&spelled).any(|(at, _)| {
                        let after = string.as_str()[at + spelled.len()..].chars().next();
                        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
                    });
                    if found {
                        problems.push(format!(
                            "{}:{number}: names the CLI flag {spelled}",
                            relative.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The most lines a function in `apps/cli/src/commands/` may have, from
/// its `fn` line to its closing brace (doc comments and attributes not
/// counted).
const MAX_COMMAND_FN_LINES: usize = 60;

/// Functions in `apps/cli/src/commands/` allowed to be longer, as
/// (file, function, why). Keep it empty: split a long function into named
/// steps instead.
const LONG_COMMAND_FNS: &[(&str, &str, &str)] = &[];

/// The functions of `text` (rustfmt-formatted Rust) as (name, first line,
/// length in lines): a function runs from its `fn` line to the first line
/// that is its indentation followed by `}`. Declarations without a body
/// are left out, and so are `#[cfg(test)]` modules.
fn function_lengths(text: &str) -> Vec<(String, usize, usize)> {
    let start = Regex::new(
        r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)",
    )
    .expect("regex");
    let lines: Vec<&str> = text
        .lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(captures) = start.captures(line) else {
            continue;
        };
        let closing = format!("{}}}", &captures[1]);
        let (mut length, mut opened) = (None, false);
        for (offset, next) in lines[index..].iter().enumerate() {
            let next = next.trim_end();
            if *next == closing || (offset == 0 && next.ends_with('}')) {
                length = Some(offset + 1);
                break;
            }
            opened |= next.contains('{');
            if !opened && next.ends_with(';') {
                break; // a declaration without a body
            }
        }
        if let Some(length) = length {
            found.push((captures[2].to_owned(), index + 1, length));
        }
    }
    found
}

#[test]
fn function_lengths_count_from_fn_to_its_closing_brace() {
    let mut text = String::from("/// Doc.\npub(crate) async fn long(\n    a: u8,\n) -> u8 {\n");
    text.push_str(&"    let _ = a;\n".repeat(60));
    text.push_str("    a\n}\n\nfn short() {}\n\nimpl X {\n    fn inner(&self) {\n        use std::io;\n        if true {\n        }\n    }\n}\n");
    text.push_str("trait T {\n    fn declared(&self)\n        -> u8;\n}\n");
    text.push_str("#[cfg(test)]\nmod tests {\n    fn ignored() {\n    }\n}\n");
    let lengths = function_lengths(&text);
    assert_eq!(
        lengths,
        vec![
            ("long".to_owned(), 2, 65),
            ("short".to_owned(), 68, 1),
            ("inner".to_owned(), 71, 5),
        ]
    );
}

#[test]
fn command_functions_are_short() {
    let root = metadata().workspace_root;
    let commands = root.join("apps/cli/src/commands");
    let mut problems = Vec::new();
    let mut allowed_seen = BTreeSet::new();
    let files = sources(&commands);
    assert!(!files.is_empty(), "no sources under {}", commands.display());
    for (path, text) in files {
        let file = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        for (name, line, length) in function_lengths(&text) {
            if length <= MAX_COMMAND_FN_LINES {
                continue;
            }
            let allowed = LONG_COMMAND_FNS
                .iter()
                .any(|(allowed_file, function, _)| *allowed_file == file && *function == name);
            if allowed {
                allowed_seen.insert((file.clone(), name));
                continue;
            }
            problems.push(format!(
                "apps/cli/src/commands/{file}:{line}: fn {name} is {length} lines (at most {MAX_COMMAND_FN_LINES}): split it into named steps"
            ));
        }
    }
    for (file, function, _) in LONG_COMMAND_FNS {
        if !allowed_seen.contains(&((*file).to_owned(), (*function).to_owned())) {
            problems.push(format!(
                "LONG_COMMAND_FNS lists {file}::{function}, which is no longer long: remove it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
