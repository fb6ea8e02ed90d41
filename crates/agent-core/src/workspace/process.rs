//! Running a program with a deadline: output captured up to a cap (head and
//! tail kept), a sanitised environment, its own session, and every
//! descendant killed on timeout or cancellation.
//!
//! # Killing the whole tree
//!
//! A command runs in a session of its own, so killing its process group is
//! not enough: a descendant can call `setsid` (a new session and group) or
//! double-fork (its parent exits and it is re-parented). So, on Linux,
//! opening a workspace with shell access makes this process a *child
//! subreaper*: orphaned descendants are re-parented to it instead of to
//! init, and stay findable. When a command times out or its call is
//! cancelled, the process table (`/proc`) is walked: the command's
//! descendants, and every orphan re-parented to this process that it did
//! not start itself (a child outside this process's own group), are killed
//! with SIGKILL, round after round until none is left, then reaped. An
//! orphan left by *another* command is killed too: a process that detached
//! itself is not guaranteed to outlive the call that started it (use
//! `bash(background=true)` for long-running processes). Elsewhere only the
//! process group is killed.
//!
//! # What a command can still see
//!
//! The environment is an allowlist ([`ALLOWED_ENV`]): API keys and
//! everything else are dropped. The command has no standard input and no
//! controlling terminal (its own session: it cannot read the user's
//! terminal or push keystrokes into it). This process is also made
//! non-dumpable, so `/proc/<its pid>/environ` and `/proc/<its pid>/mem` are
//! owned by root and a command running as the same user cannot read the
//! key from them. What remains is what any program of that user can do:
//! read the user's files (a key kept in a file) and the environment of
//! other processes of the user that are dumpable. The shell is the
//! operator's explicit opt-in for that reason.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{LazyLock, Mutex, MutexGuard, Once};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::error::ToolError;

/// How long output may keep arriving after the program itself exited (a
/// child it left running in the background may still hold the pipes).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// The environment variables a command may inherit; every other one is
/// dropped. The search path, home and user names, shell, locale, terminal
/// type, temporary folder and time zone that programs expect, plus:
/// `LANGUAGE` and the `LC_*` categories (locale, never secret),
/// `SSL_CERT_FILE`/`SSL_CERT_DIR` (where TLS tools find certificates on
/// machines with a custom store) and `CARGO_HOME`/`RUSTUP_HOME` (where the
/// Rust toolchain lives when installed elsewhere). Proxy variables are not
/// passed: their URLs often carry a password. Commands also get `PWD` and
/// `GIT_CEILING_DIRECTORIES` (git stops at the workspace).
pub const ALLOWED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_COLLATE",
    "LC_MESSAGES",
    "LC_MONETARY",
    "LC_NUMERIC",
    "LC_TIME",
    "TERM",
    "TMPDIR",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CARGO_HOME",
    "RUSTUP_HOME",
];

/// What a finished (or stopped) program produced.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Some output was cut to fit the cap.
    pub(crate) truncated: bool,
    /// The exit code; `None` when killed by a signal.
    pub(crate) exit_code: Option<i32>,
    /// The deadline passed and the process tree was killed.
    pub(crate) timed_out: bool,
}

/// Makes this process able to find and kill every descendant of a command
/// (a child subreaper) and hides its environment and memory from commands
/// running as the same user (not dumpable). Done once, on Linux, when a
/// workspace with shell access is opened.
pub(crate) fn guard_process() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        {
            let _ = nix::sys::prctl::set_child_subreaper(true);
            let _ = nix::sys::prctl::set_dumpable(false);
        }
    });
}

/// A command prepared for the sandbox: started in `dir`, with no standard
/// input, only the [allowed environment](ALLOWED_ENV), git discovery
/// stopped at the workspace root, in a session of its own (through the
/// `setsid` program where there is one, else a process group of its own).
pub(crate) fn command(program: &Path, dir: &Path, root: &Path) -> Command {
    let mut command = match setsid_program() {
        Some(setsid) => {
            let mut command = Command::new(setsid);
            command.arg(program);
            command
        }
        None => {
            let mut command = Command::new(program);
            #[cfg(unix)]
            command.process_group(0);
            command
        }
    };
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .env_clear();
    for name in ALLOWED_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("PWD", dir);
    if let Some(parent) = root.parent() {
        command.env("GIT_CEILING_DIRECTORIES", parent);
    }
    command
}

/// The `setsid` program (util-linux), when installed in a system folder.
fn setsid_program() -> Option<&'static Path> {
    static SETSID: LazyLock<Option<PathBuf>> = LazyLock::new(|| {
        ["/usr/bin/setsid", "/bin/setsid", "/usr/sbin/setsid"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| cfg!(target_os = "linux") && path.is_file())
    });
    SETSID.as_deref()
}

/// The process ids of the commands this process started and has not reaped
/// yet. Held while starting a command and while sweeping, so a sweep never
/// mistakes a command just started for an orphan.
static STARTED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

fn started() -> MutexGuard<'static, BTreeSet<u32>> {
    STARTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts `command` and records its process id.
pub(crate) fn spawn(command: &mut Command) -> std::io::Result<Child> {
    let mut started = started();
    let child = command.spawn()?;
    if let Some(pid) = child.id() {
        started.insert(pid);
    }
    Ok(child)
}

/// Forgets a command whose process was reaped (or is being dropped).
pub(crate) fn forget(pid: Option<u32>) {
    if let Some(pid) = pid {
        started().remove(&pid);
    }
}

/// Kills `pid`'s tree when dropped while armed: a cancelled call leaves
/// nothing running.
struct TreeGuard {
    pid: Option<u32>,
    armed: bool,
}

impl Drop for TreeGuard {
    fn drop(&mut self) {
        if self.armed {
            kill_tree(self.pid);
            forget(self.pid);
        }
    }
}

/// Runs `command` until it exits or `timeout` passes, keeping at most
/// `cap` bytes of each output stream.
pub(crate) async fn run(
    mut command: Command,
    timeout: Duration,
    cap: usize,
) -> Result<Finished, ToolError> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    reap_orphans(&BTreeSet::new());
    let mut child =
        spawn(&mut command).map_err(|error| ToolError::io("starting the command", &error))?;
    let pid = child.id();
    let mut guard = TreeGuard { pid, armed: true };
    let (mut out, mut err) = (Capped::new(cap), Capped::new(cap));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let deadline = Instant::now() + timeout;
    let (status, timed_out) = {
        let pumps = async {
            tokio::join!(pump(stdout, &mut out), pump(stderr, &mut err));
        };
        tokio::pin!(pumps);
        let mut drained = false;
        let exited = loop {
            tokio::select! {
                status = child.wait() => break Some(status),
                () = &mut pumps, if !drained => drained = true,
                () = tokio::time::sleep_until(deadline) => break None,
            }
        };
        match exited {
            Some(status) => {
                forget(pid);
                if !drained && tokio::time::timeout(DRAIN_GRACE, &mut pumps).await.is_err() {
                    // Something it left behind still holds the pipes.
                    kill_tree(pid);
                }
                (Some(status), false)
            }
            None => {
                kill_tree(pid);
                let _ = child.start_kill();
                let status = child.wait().await;
                forget(pid);
                let _ = tokio::time::timeout(DRAIN_GRACE, &mut pumps).await;
                (Some(status), true)
            }
        }
    };
    guard.armed = false;
    let status = status
        .transpose()
        .map_err(|error| ToolError::io("waiting for the command", &error))?;
    let (stdout, cut_out) = out.finish();
    let (stderr, cut_err) = err.finish();
    Ok(Finished {
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        exit_code: status.and_then(|status| status.code()),
        timed_out,
    })
}

/// Kills the process tree of the command `root` (which may have exited
/// already) and every orphan re-parented to this process that it did not
/// start, then reaps the orphans. Best effort; see the module docs.
pub(crate) fn kill_tree(root: Option<u32>) {
    kill_group(root);
    #[cfg(target_os = "linux")]
    {
        let mut killed = BTreeSet::new();
        for _ in 0..64 {
            let started = started();
            let table = process_table();
            let targets = tree_targets(&table, root, &started);
            if targets.is_empty() {
                break;
            }
            for pid in targets {
                if let Ok(raw) = i32::try_from(pid) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(raw),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    killed.insert(pid);
                }
            }
        }
        reap_orphans(&killed);
    }
}

/// Sends SIGKILL to the process group led by `leader` (best effort).
pub(crate) fn kill_group(leader: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = leader
        .and_then(|id| i32::try_from(id).ok())
        .filter(|id| *id > 0)
    {
        use nix::sys::signal::{Signal, killpg};
        let _ = killpg(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = leader;
}

/// One line of the process table.
#[derive(Debug, Clone, Copy)]
struct Proc {
    ppid: u32,
    pgrp: u32,
    zombie: bool,
}

/// The process table from `/proc`: process id to parent, group, state.
fn process_table() -> BTreeMap<u32, Proc> {
    let mut table = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return table;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (name) state ppid pgrp ..."; the name may hold spaces and ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let ppid = fields.next().and_then(|field| field.parse().ok());
        let pgrp = fields.next().and_then(|field| field.parse().ok());
        if let (Some(ppid), Some(pgrp)) = (ppid, pgrp) {
            table.insert(
                pid,
                Proc {
                    ppid,
                    pgrp,
                    zombie: state == "Z" || state == "X",
                },
            );
        }
    }
    table
}

/// Whether `pid` is an orphan re-parented to this process: its child, not
/// a command it started, and not in its own process group (so not a
/// program it ran directly for itself).
fn is_orphan(pid: u32, proc: &Proc, started: &BTreeSet<u32>) -> bool {
    proc.ppid == std::process::id()
        && !started.contains(&pid)
        && proc.pgrp != own_group()
        && pid != std::process::id()
}

fn own_group() -> u32 {
    #[cfg(unix)]
    {
        u32::try_from(nix::unistd::getpgrp().as_raw()).unwrap_or(0)
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// The live processes to kill: `root` and its descendants, and the orphans
/// and theirs.
fn tree_targets(
    table: &BTreeMap<u32, Proc>,
    root: Option<u32>,
    started: &BTreeSet<u32>,
) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (pid, proc) in table {
        children.entry(proc.ppid).or_default().push(*pid);
    }
    let mut queue: VecDeque<u32> = table
        .iter()
        .filter(|(pid, proc)| is_orphan(**pid, proc, started))
        .map(|(pid, _)| *pid)
        .collect();
    if let Some(root) = root.filter(|root| table.contains_key(root)) {
        queue.push_back(root);
    }
    let mut seen = BTreeSet::new();
    while let Some(pid) = queue.pop_front() {
        if pid == std::process::id() || !seen.insert(pid) {
            continue;
        }
        if let Some(below) = children.get(&pid) {
            queue.extend(below.iter().copied());
        }
    }
    seen.into_iter()
        .filter(|pid| table.get(pid).is_some_and(|proc| !proc.zombie))
        .collect()
}

/// Reaps orphans re-parented to this process that have exited, and waits
/// for those in `killed` (sent SIGKILL) to exit and reaps them too.
fn reap_orphans(killed: &BTreeSet<u32>) {
    #[cfg(target_os = "linux")]
    for _ in 0..1000 {
        let started = started();
        let table = process_table();
        let mut pending = false;
        for (pid, proc) in &table {
            if !is_orphan(*pid, proc, &started) {
                if killed.contains(pid) && !started.contains(pid) {
                    // Killed, but its parent has not been reaped yet.
                    pending = true;
                }
                continue;
            }
            if !proc.zombie && !killed.contains(pid) {
                continue;
            }
            if let Ok(raw) = i32::try_from(*pid) {
                use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
                if let Ok(WaitStatus::StillAlive) =
                    waitpid(nix::unistd::Pid::from_raw(raw), Some(WaitPidFlag::WNOHANG))
                {
                    pending = true;
                }
            }
        }
        drop(started);
        if !pending {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = killed;
}

async fn pump<R: AsyncRead + Unpin>(reader: Option<R>, sink: &mut Capped) {
    let Some(mut reader) = reader else { return };
    let mut buffer = [0u8; 8192];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => sink.push(&buffer[..n]),
        }
    }
}

/// Output kept up to a cap: the first half and the last half, with a marker
/// saying how much was cut between them.
#[derive(Debug)]
pub(crate) struct Capped {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    half: usize,
    cut: usize,
}

impl Capped {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            head: Vec::new(),
            tail: VecDeque::new(),
            half: cap / 2,
            cut: 0,
        }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        let room = self.half.saturating_sub(self.head.len());
        let take = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..take]);
        bytes = &bytes[take..];
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(self.half);
        if excess > 0 {
            self.tail.drain(..excess);
            self.cut += excess;
        }
    }

    /// The text kept, and whether anything was cut.
    pub(crate) fn finish(self) -> (String, bool) {
        let tail: Vec<u8> = self.tail.into_iter().collect();
        if self.cut == 0 {
            let mut all = self.head;
            all.extend_from_slice(&tail);
            return (String::from_utf8_lossy(&all).into_owned(), false);
        }
        let text = format!(
            "{}\n[… {} bytes cut …]\n{}",
            String::from_utf8_lossy(&self.head),
            self.cut,
            String::from_utf8_lossy(&tail)
        );
        (text, true)
    }
}

#[cfg(test)]
mod tests {
    use super::Capped;

    #[test]
    fn capped_output_keeps_head_and_tail() {
        let mut capped = Capped::new(8);
        capped.push(b"abcdef");
        capped.push(b"ghijkl");
        let (text, cut) = capped.finish();
        assert!(cut);
        assert_eq!(text, "abcd\n[… 4 bytes cut …]\nijkl");
        let mut small = Capped::new(8);
        small.push(b"abc");
        assert_eq!(small.finish(), ("abc".to_owned(), false));
    }
}
