//! `git_operations`: a few git subcommands run directly (no shell) in the
//! workspace, with arguments that may not name anything outside it.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::args::Args;
use super::error::{Reply, ToolError, first_line};
use super::process;
use super::sandbox::{Sandbox, has_drive_prefix, shorten};

/// The subcommands offered.
const OPERATIONS: [&str; 7] = [
    "status", "diff", "log", "add", "commit", "branch", "checkout",
];
/// How long a git command may run.
const GIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Options that read or write files named outside the repository, or
/// redirect git to another repository.
const REFUSED_OPTIONS: [&str; 8] = [
    "--output",
    "--no-index",
    "--git-dir",
    "--work-tree",
    "--exec-path",
    "--namespace",
    "--upload-pack",
    "--exec",
];

/// `git_operations(operation, args="", path=".")`
pub(crate) async fn run(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let operation = args.string("operation")?;
    let extra = args.string_or("args", "")?;
    let path = args.string_or("path", ".")?;
    if !OPERATIONS.contains(&operation) {
        return Err(args.error(
            "operation",
            &format!("must be one of: {}", OPERATIONS.join(", ")),
        ));
    }
    let words = split_words(extra)?;
    check_words(&words)?;
    let (rel, dir) = sandbox.existing_dir(path)?;
    let mut command = process::command(Path::new("git"), &dir, sandbox.root());
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env("GIT_EDITOR", "true")
        .arg("--no-pager")
        .arg(operation)
        .args(&words);
    let finished = process::run(command, GIT_TIMEOUT, sandbox.limits().max_output_bytes)
        .await
        .map_err(|error| {
            ToolError::new(format!(
                "git could not be started ({}); is git installed?",
                error.message()
            ))
        })?;
    let fields = json!({
        "operation": operation,
        "args": words,
        "path": rel,
        "exit_code": finished.exit_code,
        "stdout": finished.stdout,
        "stderr": finished.stderr,
        "truncated": finished.truncated,
    });
    Ok(if finished.timed_out {
        Reply::failed(
            format!(
                "git {operation} ran longer than {} s and was stopped",
                GIT_TIMEOUT.as_secs()
            ),
            fields,
        )
    } else if finished.exit_code == Some(0) {
        Reply::ok(fields)
    } else {
        let detail = first_line(&finished.stderr);
        Reply::failed(format!("git {operation} failed: {detail}"), fields)
    })
}

/// Splits `text` like a POSIX shell splits words: whitespace separates,
/// single quotes keep text as is, double quotes allow `\"` and `\\`, a
/// backslash outside quotes escapes the next character. Nothing is
/// expanded.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, ToolError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => {
                            return Err(ToolError::new(
                                "git_operations: args has an unclosed single quote",
                            ));
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {
                                return Err(ToolError::new(
                                    "git_operations: args has an unclosed double quote",
                                ));
                            }
                        },
                        Some(c) => word.push(c),
                        None => {
                            return Err(ToolError::new(
                                "git_operations: args has an unclosed double quote",
                            ));
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Refuses arguments that name paths outside the workspace or switch git
/// to reading and writing elsewhere. The value after `-m`/`--message` is a
/// commit message and is not checked.
///
/// Option values are checked wherever they are written: as the next word
/// (`-F file`), after `=` (`--file=x`), or attached to a short option
/// (`-Fx`). A short option whose attached text could hold a path after
/// other option letters (`-vF/etc/x`, `-Fsub/x`) cannot be told apart
/// without git's option tables, so it is refused with a hint to write the
/// value as its own word. Long options may be abbreviated in git, so a
/// prefix of a refused option is refused too.
fn check_words(words: &[String]) -> Result<(), ToolError> {
    let mut message_next = false;
    for word in words {
        if std::mem::take(&mut message_next) {
            continue;
        }
        if matches!(word.as_str(), "-m" | "--message") {
            message_next = true;
            continue;
        }
        if word.starts_with("--message=") || (word.starts_with("-m") && !word.starts_with("--")) {
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(name, _)| name);
            if let Some(option) = REFUSED_OPTIONS
                .iter()
                .find(|option| option[2..].starts_with(name) && name.len() >= 2)
            {
                return Err(ToolError::new(format!(
                    "git_operations: the option {option} is not allowed here"
                )));
            }
            if let Some((_, value)) = long.split_once('=') {
                check_value(word, value)?;
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|short| !short.is_empty()) {
            // `-X` then an attached value or more option letters.
            let attached = &short[short.chars().next().map_or(0, char::len_utf8)..];
            check_value(word, attached)?;
            let letters = attached
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(attached.len());
            if letters > 0 && attached[letters..].starts_with(['/', '\\', '~']) {
                return Err(ToolError::new(format!(
                    "git_operations: '{}' mixes option letters and a path; write the option and its value as separate words (for example -F file)",
                    shorten(word)
                )));
            }
        } else {
            check_value(word, word)?;
        }
    }
    Ok(())
}

/// Refuses `value` (part of `word`) when it names a path outside the
/// workspace: absolute, from a home folder, or climbing with `..`, also
/// after a `:` (as in `-L1,2:/etc/x` or `rev:path`).
fn check_value(word: &str, value: &str) -> Result<(), ToolError> {
    let text = value.replace('\\', "/");
    let outside = |text: &str| {
        text.starts_with('/')
            || text.starts_with('~')
            || has_drive_prefix(text)
            || text.split('/').any(|part| part == "..")
    };
    if outside(&text) || text.split([':', '=', ',']).skip(1).any(outside) {
        return Err(ToolError::new(format!(
            "git_operations: '{}' names a path outside the workspace; use paths relative to it",
            shorten(word)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_words, split_words};

    #[test]
    fn words_split_like_a_shell_without_expansion() {
        let words = split_words(r#"-m "fix: the \"x\" bug" 'a b' c\ d $HOME"#).unwrap();
        assert_eq!(words, ["-m", "fix: the \"x\" bug", "a b", "c d", "$HOME"]);
        assert!(split_words("'open").is_err());
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn arguments_stay_inside_the_workspace() {
        let words = |text: &str| split_words(text).unwrap();
        assert!(check_words(&words("--oneline -n 5")).is_ok());
        assert!(check_words(&words("-m '../ and /etc in a message are fine'")).is_ok());
        assert!(check_words(&words("../outside.txt")).is_err());
        assert!(check_words(&words("/etc/passwd")).is_err());
        assert!(check_words(&words("--output=../x")).is_err());
        assert!(check_words(&words("--no-index a b")).is_err());
        assert!(check_words(&words("-F /etc/passwd")).is_err());
        assert!(check_words(&words("--template=/tmp/t")).is_err());
    }

    #[test]
    fn values_attached_to_short_options_are_checked() {
        let words = |text: &str| split_words(text).unwrap();
        for refused in [
            "-F/etc/hostname",
            "-C/",
            "-o/tmp/x",
            "-F../x",
            "-F~/x",
            "-vF/etc/x",
            "-Fsub/x",
            "-O/etc/order",
            "-L1,2:/etc/passwd",
            "--file=/etc/x",
            "--pathspec-from-file=../list",
            "--out=x.txt",
            "--outp=x.txt",
            "--no-ind a b",
            "HEAD:../x",
        ] {
            assert!(check_words(&words(refused)).is_err(), "{refused}");
        }
        for allowed in [
            "-n5",
            "-am",
            "-U3",
            "-p",
            "-F",
            "--stat",
            "-Ssome_text",
            "-F notes.txt",
            "--name-only",
            "-- src/lib.rs",
        ] {
            assert!(check_words(&words(allowed)).is_ok(), "{allowed}");
        }
    }
}
