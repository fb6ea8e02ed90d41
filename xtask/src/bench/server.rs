//! The fixture server in a process of its own, so that it never shares the
//! measured client's threads or CPU accounting.
//!
//! `xtask bench-server FILE...` serves the cassettes (lenient: the benchmark
//! repeats interactions), prints `listening <base url>`, serves until its
//! standard input closes, then prints `stats <json>` and exits. The parent
//! holds that input: if the benchmark dies, the server goes with it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use cassette::{FixtureServer, ServerOptions};
use serde::Deserialize;
use serde_json::json;

/// `xtask bench-server FILE...`.
pub(crate) fn server_main(files: &[String]) -> Result<()> {
    if files.is_empty() {
        bail!("bench-server needs at least one cassette");
    }
    let cassettes = crate::load_cassettes(files)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = FixtureServer::start(cassettes, ServerOptions::lenient()).await?;
        say_flush(&format!("listening {}", server.base_url()))?;
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        let stats = server.stats();
        let faults: serde_json::Map<String, serde_json::Value> = stats
            .faults_injected
            .iter()
            .map(|(kind, count)| {
                let name = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (name, json!(count))
            })
            .collect();
        let report = json!({
            "total_requests": stats.total_requests,
            "unmatched_requests": stats.unmatched_requests,
            "max_in_flight": stats.max_in_flight,
            "faults": faults,
        });
        server.shutdown().await;
        say_flush(&format!("stats {report}"))?;
        Ok(())
    })
}

#[expect(clippy::print_stdout, reason = "the parent reads this line")]
fn say_flush(line: &str) -> Result<()> {
    println!("{line}");
    std::io::stdout().flush()?;
    Ok(())
}

/// What the server counted.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ServerReport {
    pub(crate) total_requests: u64,
    pub(crate) unmatched_requests: u64,
    pub(crate) max_in_flight: usize,
}

/// A running `bench-server` child.
pub(crate) struct BenchServer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    url: String,
}

impl BenchServer {
    /// Starts `xtask bench-server` (the binary `xtask`) over `cassettes`.
    pub(crate) fn start(xtask: &Path, cassettes: &[PathBuf]) -> Result<BenchServer> {
        let mut child = Command::new(xtask)
            .arg("bench-server")
            .args(cassettes)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", xtask.display()))?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().context("server stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix("listening ") else {
            bail!("the bench server did not start: {line:?}");
        };
        Ok(BenchServer {
            url: url.to_owned(),
            child,
            stdin,
            stdout,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server and returns its counters.
    pub(crate) fn finish(mut self) -> Result<ServerReport> {
        drop(self.stdin.take());
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        self.child.wait()?;
        let text = line
            .trim()
            .strip_prefix("stats ")
            .with_context(|| format!("the bench server sent no stats: {line:?}"))?;
        Ok(serde_json::from_str(text)?)
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
