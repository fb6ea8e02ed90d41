//! A stdio server's transport, watched for lines that are not JSON.
//!
//! rmcp skips a line of a server's stdout that is not JSON (there is no id
//! in it to answer), so a call whose answer was such a line would wait for
//! its timeout. [`Watched`] reads the child's stdout for rmcp and looks at
//! every line on the way: a line that is not JSON (or longer than rmcp
//! reads) is told on a [`watch`] channel ([`JunkLines`]), once everything
//! the server had written up to then was handed to rmcp, so a call whose
//! answer came with the line has it first. The bytes reach rmcp unchanged.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::{AsyncRwTransport, DEFAULT_MAX_LINE_LENGTH};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::watch;

/// The last line a server wrote that is not JSON, and how many there were.
#[derive(Debug, Clone, Default)]
pub(crate) struct JunkLine {
    /// Lines told so far.
    pub(crate) count: u64,
    /// The start of the last one, escaped (server-controlled text).
    pub(crate) sample: String,
}

/// Where a server's junk lines are told: a call subscribes before it is
/// sent and fails as a bad reply on the next one.
pub(crate) type JunkLines = watch::Receiver<JunkLine>;

/// Most characters of a junk line quoted in an error.
const SAMPLE_CHARS: usize = 100;

/// A server's stdout as rmcp reads it, watched line by line.
pub(crate) struct Watched<R> {
    inner: R,
    /// The line read so far (empty once it is over the limit).
    line: Vec<u8>,
    /// The line is longer than rmcp reads: it is dropped, a junk line.
    oversized: bool,
    /// The junk line seen since the last time the server's output ran dry.
    pending: Option<String>,
    told: watch::Sender<JunkLine>,
}

impl<R> Watched<R> {
    /// Watches `inner`; its junk lines are told on the returned receiver.
    pub(crate) fn new(inner: R) -> (Self, JunkLines) {
        let (told, junk) = watch::channel(JunkLine::default());
        let watched = Self {
            inner,
            line: Vec::new(),
            oversized: false,
            pending: None,
            told,
        };
        (watched, junk)
    }

    /// Looks at `bytes` read from the server.
    fn scan(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let end = bytes.iter().position(|&byte| byte == b'\n');
            let part = &bytes[..end.unwrap_or(bytes.len())];
            if !self.oversized {
                if self.line.len() + part.len() > DEFAULT_MAX_LINE_LENGTH {
                    // Only its start is kept, for the error.
                    self.oversized = true;
                    let head = (SAMPLE_CHARS * 4).saturating_sub(self.line.len());
                    self.line.truncate(SAMPLE_CHARS * 4);
                    self.line.extend_from_slice(&part[..head.min(part.len())]);
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            let Some(end) = end else { return };
            self.end_line();
            bytes = &bytes[end + 1..];
        }
    }

    /// A whole line was read: is it JSON, as rmcp reads it?
    fn end_line(&mut self) {
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        let junk = self.oversized
            || (!line.iter().all(u8::is_ascii_whitespace)
                && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err());
        if junk && self.pending.is_none() {
            let text = String::from_utf8_lossy(line);
            let mut sample: String = text.chars().take(SAMPLE_CHARS).collect();
            if self.oversized {
                sample.push_str("... (a line over rmcp's limit)");
            } else if text.chars().nth(SAMPLE_CHARS).is_some() {
                sample.push_str("...");
            }
            self.pending = Some(format!("{sample:?}"));
        }
        self.line.clear();
        self.oversized = false;
    }

    /// Tells the pending junk line: rmcp asked for more, so it had every
    /// line before (a call answered with the junk line has its answer).
    fn tell(&mut self) {
        if let Some(sample) = self.pending.take() {
            self.told.send_modify(|junk| {
                junk.count += 1;
                junk.sample = sample;
            });
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                this.scan(&buf.filled()[before..]);
            }
            // Nothing more for now, the end, or an error: what came before
            // was all handed on.
            _ => this.tell(),
        }
        polled
    }
}

/// A stdio server: the child process and rmcp's transport over its
/// stdin and its watched stdout.
pub(crate) struct ChildTransport {
    child: Child,
    transport: AsyncRwTransport<RoleClient, Watched<ChildStdout>, ChildStdin>,
}

impl ChildTransport {
    /// The transport of `child` (spawned with piped stdin and stdout, and
    /// `kill_on_drop`), and where its junk lines are told.
    pub(crate) fn new(mut child: Child) -> io::Result<(Self, JunkLines)> {
        let missing = |what| io::Error::other(format!("the server's {what} is not a pipe"));
        let stdin = child.stdin.take().ok_or_else(|| missing("stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| missing("stdout"))?;
        let (stdout, junk) = Watched::new(stdout);
        let transport = AsyncRwTransport::new(stdout, stdin);
        Ok((Self { child, transport }, junk))
    }
}

impl Transport<RoleClient> for ChildTransport {
    type Error = io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.transport.send(item)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.transport.receive()
    }

    /// Closes the server's stdin (the MCP stdio shutdown), gives it a
    /// moment to exit, then kills it.
    async fn close(&mut self) -> Result<(), Self::Error> {
        self.transport.close().await?;
        if tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines that are JSON (a BOM, `\r\n`, blank lines too) are not junk;
    /// one that is not is told once the output runs dry, quoted escaped.
    #[test]
    fn junk_lines_are_told_when_the_output_runs_dry() {
        let (mut watched, junk) = Watched::new(tokio::io::empty());
        watched.scan(b"{\"jsonrpc\":\"2.0\"}\r\n\n  \n\xEF\xBB\xBF[1, 2]\n{\"a\"");
        watched.scan(b": 1}\n");
        watched.tell();
        assert_eq!(junk.borrow().count, 0);
        watched.scan(b"Loading model\x1b[2J...\n{\"ok\": tr");
        assert_eq!(junk.borrow().count, 0, "told only when the output runs dry");
        watched.scan(b"ue}\nmore junk\n");
        watched.tell();
        let told = junk.borrow().clone();
        assert_eq!(told.count, 1);
        assert_eq!(told.sample, r#""Loading model\u{1b}[2J...""#);
        watched.tell();
        assert_eq!(junk.borrow().count, 1);
    }
}
