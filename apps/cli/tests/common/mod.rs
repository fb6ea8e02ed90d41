//! What the end-to-end tests of the binary share: the binary isolated from
//! the developer's environment, pointed (or not) at a loopback stand-in for
//! Gemini, and readers for its output and its run journal.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use assert_cmd::cargo::CommandCargoExt;
use cassette::{Cassette, FixtureServer, Interaction, ServerOptions};

/// A key for the loopback stand-in; never a real one.
pub const STAND_IN_KEY: &str = "fake-key-for-the-loopback-stand-in";

/// The home folder of every binary these tests run: a folder under cargo's
/// target/tmp (one per test process), never the developer's home, so runs
/// (in its `.local/share`) and the journal key (in its `.config`) stay out
/// of the real ones.
pub fn home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("home-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("a temporary home")
            .keep()
    })
}

/// The binary in `folder` with no key, no base URL, no runs-folder or
/// concurrency override, no colour setting, no user config, no remembered
/// quota limits, a home of its own ([`home`]) and no stdin.
pub fn isolated(folder: &Path) -> Command {
    let mut command = Command::cargo_bin("agent-fork").expect("the binary is built");
    command
        .current_dir(folder)
        .env("HOME", home())
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .env_remove("GOOGLE_GEMINI_BASE_URL")
        .env_remove("AGENT_FORK_RUNS_DIR")
        .env_remove("AGENT_FORK_CONCURRENCY")
        .env_remove("NO_COLOR")
        .env("AGENT_FORK_CONFIG", "")
        // One home serves a whole test binary: limits one test's 429s
        // taught must not slow another test that reuses its port.
        .env("AGENT_FORK_REMEMBER_LIMITS", "false")
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

/// Fails unless `output` is of a process that exited with `code` (its
/// output shown otherwise).
pub fn expect(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout_of(output),
        stderr_of(output)
    );
}

/// Standard output as one JSON document.
pub fn json_of(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{}", stdout_of(output)))
}

/// [`isolated`], without colour, 100 columns wide.
pub fn plain(folder: &Path) -> Command {
    let mut command = isolated(folder);
    command.env("NO_COLOR", "1").env("COLUMNS", "100");
    command
}

/// Runs the binary ([`plain`]) in `folder` with `args` and returns its
/// output, after checking its exit code (its output is shown when it is
/// not `code`).
pub fn run(folder: &Path, args: &[&str], code: i32) -> Output {
    let output = plain(folder).args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "agent-fork {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        stdout_of(&output),
        stderr_of(&output)
    );
    output
}

/// [`against`], 100 columns wide, with `model` as every agent's model (the
/// one the stand-in answers as).
pub fn against_as(folder: &Path, server: &FixtureServer, model: &str) -> Command {
    let mut command = against(folder, server);
    command.env("COLUMNS", "100").env("AGENT_FORK_MODEL", model);
    command
}

/// A loopback stand-in for Gemini serving `interactions`, as the authored
/// cassette `name` (`about` says what it stands in for).
pub async fn stand_in(
    name: &str,
    about: &str,
    interactions: Vec<Interaction>,
    options: ServerOptions,
) -> FixtureServer {
    let mut cassette = Cassette::authored(name, about);
    cassette.interactions = interactions;
    FixtureServer::start(vec![cassette], options).await.unwrap()
}

/// Standard output as text.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The runs folder of commands run in `folder`, as `agent-fork config`
/// tells it (asked once per folder).
pub fn runs_dir(folder: &Path) -> PathBuf {
    static KNOWN: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Mutex::default);
    if let Some(dir) = known.lock().unwrap().get(folder) {
        return dir.clone();
    }
    let output = isolated(folder)
        .args(["--json", "config"])
        .output()
        .expect("config runs");
    let config: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("config --json is JSON");
    // (A relative folder is the current folder's.)
    let dir = folder.join(
        config["runs_dir"]["value"]
            .as_str()
            .expect("config names the runs folder"),
    );
    known.lock().unwrap().insert(folder.to_owned(), dir.clone());
    dir
}

/// The folder of run `id` of commands run in `folder`.
pub fn run_folder(folder: &Path, id: &str) -> PathBuf {
    runs_dir(folder).join(id)
}

/// The journal of the only run in `folder`'s runs folder, or "" before it
/// exists.
pub fn only_journal(folder: &Path) -> String {
    std::fs::read_dir(runs_dir(folder))
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(Result::ok)
        .and_then(|entry| std::fs::read_to_string(entry.path().join("journal.jsonl")).ok())
        .unwrap_or_default()
}

/// Saves an authored cassette `name` (its provenance says `why`) holding
/// `interactions` at `path`, for `--replay`; returns the path.
pub fn save_cassette(
    path: PathBuf,
    name: &str,
    why: &str,
    interactions: Vec<Interaction>,
) -> PathBuf {
    let mut cassette = Cassette::authored(name, why);
    cassette.interactions = interactions;
    cassette.save(&path).expect("the cassette is written");
    path
}

/// A pseudo-terminal `columns` wide and `rows` high.
#[cfg(target_os = "linux")]
pub fn pty(columns: u16, rows: u16) -> nix::pty::OpenptyResult {
    let size = nix::pty::Winsize {
        ws_row: rows,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    nix::pty::openpty(Some(&size), None).unwrap()
}

/// A thread reading everything the terminal whose `master` side this is
/// shows, until the last holder of its other side (the child) has exited
/// (the read then ends with EIO).
#[cfg(target_os = "linux")]
pub fn read_terminal(master: std::fs::File) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut shown = Vec::new();
        copy_until_closed(master, |bytes| shown.extend_from_slice(bytes));
        shown
    })
}

/// [`read_terminal`] for a test that looks while the child runs: what the
/// terminal has shown so far, kept as it comes, and the reading thread.
/// `master` stays the caller's to type into.
#[cfg(target_os = "linux")]
pub fn watch_terminal(
    master: &std::fs::File,
) -> (std::sync::Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let shown = std::sync::Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let shown = shown.clone();
        let master = master.try_clone().expect("the terminal's side");
        std::thread::spawn(move || {
            copy_until_closed(master, |bytes| {
                shown.lock().expect("the screen").extend_from_slice(bytes);
            });
        })
    };
    (shown, reader)
}

/// Hands `sink` what `master` reads until it ends (EOF or EIO).
#[cfg(target_os = "linux")]
fn copy_until_closed(mut master: std::fs::File, mut sink: impl FnMut(&[u8])) {
    use std::io::Read as _;
    let mut buffer = [0; 4096];
    while let Ok(read) = master.read(&mut buffer) {
        if read == 0 {
            break;
        }
        sink(&buffer[..read]);
    }
}

/// Waits until `ready` (checked every 10 ms), failing with `why()` after
/// two minutes: for a child process to reach a point a test acts at.
pub async fn wait_until(mut ready: impl FnMut() -> bool, why: impl Fn() -> String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "{}", why());
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Sends SIGINT (Ctrl-C) to `child` and waits for it to exit, with what it
/// wrote to its piped stdout and stderr.
#[cfg(unix)]
pub async fn interrupt(child: std::process::Child) -> Output {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT sent");
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("the waiting task")
        .expect("the child's output")
}

/// Runs `command` with its stdin and stderr on a new terminal and its
/// stdout piped, `typed` waiting in the terminal for its questions to read
/// (one line each); returns its output and everything the terminal showed.
#[cfg(target_os = "linux")]
pub fn answered_on_a_terminal(mut command: Command, typed: &[u8]) -> (Output, String) {
    use std::io::Write as _;
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let slave = std::fs::File::from(pty.slave);
    command
        .stdin(Stdio::from(slave.try_clone().expect("the terminal's side")))
        .stderr(Stdio::from(slave))
        .stdout(Stdio::piped());
    let child = command.spawn().expect("the binary starts");
    // The command holds the terminal's side too: only the child may, so
    // the reader ends when the child does.
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    master.write_all(typed).expect("typed into the terminal");
    let reader = read_terminal(master);
    let output = child.wait_with_output().expect("the child's output");
    let shown = reader.join().expect("the terminal's reader");
    (output, String::from_utf8_lossy(&shown).into_owned())
}
