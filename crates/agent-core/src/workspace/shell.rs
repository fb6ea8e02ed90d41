//! `bash`: a shell command run in the workspace, with a deadline picked by
//! the kind of command, capped output, and background processes that are
//! tracked so they can be ended.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use regex::Regex;
use serde_json::json;
use tokio::process::Child;

use super::args::Args;
use super::error::{Reply, ToolError, first_line};
use super::process::{self, forget, kill_tree};
use super::sandbox::Sandbox;

/// Longest command accepted, in bytes.
const MAX_COMMAND_BYTES: usize = 64 * 1024;
/// Longest timeout the model may ask for, in seconds.
const MAX_TIMEOUT_SECS: u64 = 3600;
/// Most background processes alive at once.
const MAX_BACKGROUND: usize = 16;

/// `bash(command, path=".", timeout?, background=false, stream_output=false)`.
/// `stream_output` is accepted for compatibility: output is returned when
/// the command ends.
pub(crate) async fn bash(
    sandbox: &Sandbox,
    background: &Background,
    args: &Args<'_>,
) -> Result<Reply, ToolError> {
    let command_text = args.string("command")?;
    let path = args.string_or("path", ".")?;
    let timeout = args.opt_integer("timeout", 1, MAX_TIMEOUT_SECS)?;
    let in_background = args.bool_or("background", false)?;
    args.bool_or("stream_output", false)?;
    if command_text.trim().is_empty() || command_text.len() > MAX_COMMAND_BYTES {
        return Err(args.error(
            "command",
            &format!("must be 1 to {MAX_COMMAND_BYTES} bytes of shell text"),
        ));
    }
    if let Some(reason) = denied(command_text) {
        return Err(ToolError::new(format!("refused: {reason}")));
    }
    let (rel, dir) = sandbox.existing_dir(path)?;
    let mut command = process::command(shell_program(), &dir, sandbox.root());
    command.arg("-c").arg(command_text);

    if in_background {
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let (id, pid) = background.spawn(command)?;
        return Ok(Reply::ok(json!({
            "process_id": id,
            "pid": pid,
            "path": rel,
            "note": "running in the background; its output is discarded (redirect it to a file to keep it)",
        })));
    }

    let timeout_secs = timeout.unwrap_or_else(|| default_timeout(command_text).as_secs());
    let finished = process::run(
        command,
        Duration::from_secs(timeout_secs),
        sandbox.limits().max_output_bytes,
    )
    .await?;
    let fields = json!({
        "command": command_text,
        "path": rel,
        "exit_code": finished.exit_code,
        "stdout": finished.stdout,
        "stderr": finished.stderr,
        "truncated": finished.truncated,
        "timed_out": finished.timed_out,
        "timeout": timeout_secs,
    });
    Ok(if finished.timed_out {
        Reply::failed(
            format!("the command ran longer than {timeout_secs} s and was stopped"),
            fields,
        )
    } else if finished.exit_code == Some(0) {
        Reply::ok(fields)
    } else {
        let detail = first_line(&finished.stderr);
        let status = finished.exit_code.map_or_else(
            || "was killed by a signal".to_owned(),
            |code| format!("exited with status {code}"),
        );
        let error = if detail.is_empty() {
            format!("the command {status}")
        } else {
            format!("the command {status}: {detail}")
        };
        Reply::failed(error, fields)
    })
}

/// The deadline used when the model gives none, chosen by the kind of
/// command: installs 600 s, builds and tests 300 s, quick file commands
/// 30 s, anything else 120 s.
pub(crate) fn default_timeout(command: &str) -> Duration {
    static INSTALL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(pip3?|npm|yarn|pnpm|cargo|gem|go|brew|poetry|uv\s+pip)\s+(install|add)\b|\bapt(-get)?\s+|\bconda\s+install\b")
            .expect("a valid regular expression")
    });
    static BUILD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(make|pytest|tox|mvn|gradle|cmake|ninja)\b|\bcargo\s+(build|test|check|run|clippy)\b|\b(npm|yarn|pnpm)\s+(test|run\s+build|run\s+test)\b|\bgo\s+(build|test)\b|\bpython3?\s+-m\s+(pytest|unittest)\b")
            .expect("a valid regular expression")
    });
    const QUICK: [&str; 14] = [
        "ls", "cat", "echo", "pwd", "head", "tail", "wc", "mkdir", "touch", "cp", "mv", "rm",
        "printf", "true",
    ];
    if INSTALL.is_match(command) {
        return Duration::from_secs(600);
    }
    if BUILD.is_match(command) {
        return Duration::from_secs(300);
    }
    let first = command
        .trim_start()
        .split(|c: char| c.is_whitespace() || ";|&()".contains(c))
        .next()
        .unwrap_or("");
    if QUICK.contains(&first) {
        return Duration::from_secs(30);
    }
    Duration::from_secs(120)
}

/// A second line of defence only (the real boundary is the operator's
/// opt-in): a few commands that would wreck the machine.
fn denied(command: &str) -> Option<&'static str> {
    static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (
                r"\brm\s+(-[a-zA-Z]+\s+)*(/|/\*|~|~/|\$HOME/?)(\s|$|;|&|\|)",
                "removing the root or home folder",
            ),
            (r":\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:", "a fork bomb"),
            (r"\bmkfs(\.\w+)?\b", "formatting a file system"),
            (r"\bdd\b[^|;&]*\bof=/dev/", "writing to a raw device"),
            (r">\s*/dev/(sd|nvme|hd|vd)[a-z]", "writing to a raw device"),
            (
                r"\b(shutdown|reboot|poweroff|halt)\b",
                "stopping the machine",
            ),
        ]
        .into_iter()
        .map(|(pattern, reason)| {
            (
                Regex::new(pattern).expect("a valid regular expression"),
                reason,
            )
        })
        .collect()
    });
    PATTERNS
        .iter()
        .find(|(pattern, _)| pattern.is_match(command))
        .map(|(_, reason)| *reason)
}

/// `bash` when it is on the search path, else `sh`.
fn shell_program() -> &'static std::path::Path {
    static SHELL: LazyLock<PathBuf> = LazyLock::new(|| {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("bash"))
                .find(|candidate| candidate.is_file())
        });
        found.unwrap_or_else(|| PathBuf::from("sh"))
    });
    SHELL.as_path()
}

/// The background processes started by `bash(background=true)`.
#[derive(Debug, Default)]
pub(crate) struct Background {
    next: AtomicU64,
    running: Mutex<BTreeMap<String, Child>>,
}

impl Background {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Child>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts `command` and tracks it. Returns its id and OS process id.
    fn spawn(
        &self,
        mut command: tokio::process::Command,
    ) -> Result<(String, Option<u32>), ToolError> {
        let mut running = self.lock();
        running.retain(|_, child| {
            let alive = matches!(child.try_wait(), Ok(None));
            if !alive {
                forget(child.id());
            }
            alive
        });
        if running.len() >= MAX_BACKGROUND {
            return Err(ToolError::new(format!(
                "{MAX_BACKGROUND} background processes are already running; wait for some to finish"
            )));
        }
        let child = process::spawn(&mut command)
            .map_err(|error| ToolError::io("starting the command", &error))?;
        let pid = child.id();
        let id = format!("bg-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
        running.insert(id.clone(), child);
        Ok((id, pid))
    }

    /// Kills every tracked process tree and waits for the processes.
    pub(crate) async fn shutdown(&self) {
        let children: Vec<Child> = std::mem::take(&mut *self.lock()).into_values().collect();
        for mut child in children {
            let pid = child.id();
            kill_tree(pid);
            let _ = child.start_kill();
            let _ = child.wait().await;
            forget(pid);
        }
    }

    /// Kills every tracked process tree without waiting (for `Drop`).
    pub(crate) fn kill_all_now(&self) {
        for (_, mut child) in std::mem::take(&mut *self.lock()) {
            let pid = child.id();
            kill_tree(pid);
            let _ = child.start_kill();
            forget(pid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{default_timeout, denied};

    #[test]
    fn timeouts_follow_the_kind_of_command() {
        assert_eq!(default_timeout("pip install requests").as_secs(), 600);
        assert_eq!(default_timeout("sudo apt-get install -y jq").as_secs(), 600);
        assert_eq!(default_timeout("cargo test -p x").as_secs(), 300);
        assert_eq!(default_timeout("make all").as_secs(), 300);
        assert_eq!(default_timeout("ls -la").as_secs(), 30);
        assert_eq!(default_timeout("pwd; echo x").as_secs(), 30);
        assert_eq!(default_timeout("python3 app.py").as_secs(), 120);
    }

    #[test]
    fn the_deny_list_stops_only_catastrophes() {
        assert!(denied("rm -rf /").is_some());
        assert!(denied("rm -rf ~").is_some());
        assert!(denied(":(){ :|:& };:").is_some());
        assert!(denied("rm -rf build/").is_none());
        assert!(denied("echo hello > out.txt").is_none());
    }
}
