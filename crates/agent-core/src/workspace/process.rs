//! Running a program with a deadline: output captured up to a cap (head and
//! tail kept), the whole process group killed on timeout.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::Instant;

use super::error::ToolError;

/// How long output may keep arriving after the program itself exited (a
/// child it left running in the background may still hold the pipes).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// What a finished (or stopped) program produced.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Some output was cut to fit the cap.
    pub(crate) truncated: bool,
    /// The exit code; `None` when killed by a signal.
    pub(crate) exit_code: Option<i32>,
    /// The deadline passed and the process group was killed.
    pub(crate) timed_out: bool,
}

/// A command prepared for the sandbox: started in `dir`, with no standard
/// input, credential-looking variables removed, git discovery stopped at the
/// workspace root, and in a process group of its own.
pub(crate) fn command(program: &Path, dir: &Path, root: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        let upper = name.to_string_lossy().to_ascii_uppercase();
        let secret = [
            "API_KEY",
            "APIKEY",
            "TOKEN",
            "SECRET",
            "PASSWORD",
            "CREDENTIAL",
        ]
        .iter()
        .any(|word| upper.contains(word));
        if secret || upper.starts_with("GIT_") {
            command.env_remove(&name);
        }
    }
    command.env("PWD", dir);
    if let Some(parent) = root.parent() {
        command.env("GIT_CEILING_DIRECTORIES", parent);
    }
    #[cfg(unix)]
    command.process_group(0);
    command
}

/// Runs `command` until it exits or `timeout` passes, keeping at most
/// `cap` bytes of each output stream.
pub(crate) async fn run(
    mut command: Command,
    timeout: Duration,
    cap: usize,
) -> Result<Finished, ToolError> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| ToolError::io("starting the command", &error))?;
    let group = child.id();
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
                if !drained && tokio::time::timeout(DRAIN_GRACE, &mut pumps).await.is_err() {
                    kill_group(group);
                }
                (Some(status), false)
            }
            None => {
                kill_group(group);
                let _ = child.start_kill();
                let status = child.wait().await;
                let _ = tokio::time::timeout(DRAIN_GRACE, &mut pumps).await;
                (Some(status), true)
            }
        }
    };
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
