//! What the end-to-end tests of the binary share: the binary isolated from
//! the developer's environment, pointed (or not) at a loopback stand-in for
//! Gemini, and readers for its output and its run journal.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use cassette::FixtureServer;

/// A key for the loopback stand-in; never a real one.
pub const STAND_IN_KEY: &str = "fake-key-for-the-loopback-stand-in";

/// The binary in `folder` with no key, no base URL, no runs-folder or
/// concurrency override, no colour setting, no user config and no stdin.
pub fn isolated(folder: &Path) -> Command {
    let mut command = Command::cargo_bin("agent-fork").expect("the binary is built");
    command
        .current_dir(folder)
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .env_remove("GOOGLE_GEMINI_BASE_URL")
        .env_remove("AGENT_FORK_RUNS_DIR")
        .env_remove("AGENT_FORK_CONCURRENCY")
        .env_remove("NO_COLOR")
        .env("AGENT_FORK_CONFIG", folder.join("no-user-config.toml"))
        .stdin(Stdio::null());
    command
}

/// [`isolated`], without colour, calling `server` as if it were Gemini.
pub fn against(folder: &Path, server: &FixtureServer) -> Command {
    let mut command = isolated(folder);
    command
        .env("NO_COLOR", "1")
        .env("GEMINI_API_KEY", STAND_IN_KEY)
        .env("GOOGLE_GEMINI_BASE_URL", server.base_url());
    command
}

/// Standard output as text.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The journal of the only run under `folder`'s `.agent-fork/runs`, or ""
/// before it exists.
pub fn only_journal(folder: &Path) -> String {
    std::fs::read_dir(folder.join(".agent-fork/runs"))
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(Result::ok)
        .and_then(|entry| std::fs::read_to_string(entry.path().join("journal.jsonl")).ok())
        .unwrap_or_default()
}
