//! Streaming delay: how long after an SSE chunk leaves the server its text
//! reaches `agent-fork --jsonl`'s event stream.
//!
//! A minimal HTTP/1.1 server on a thread of this process writes each event
//! as one chunk, `GAP_MS` apart, and notes the instant each write returned;
//! another thread notes the instant each `text_delta` line arrives on the
//! child's standard output. Both instants come from the same monotonic
//! clock, so their difference is the delay the client added (loopback TCP,
//! HTTP and SSE decoding, the fork's event, JSON, the pipe).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

/// Events per streamed reply.
pub(crate) const EVENTS: usize = 40;
/// Pause before each event.
pub(crate) const GAP_MS: u64 = 25;

/// Runs `runs` streamed forks and returns every per-chunk delay in ms.
pub(crate) fn delays(binary: &Path, dir: &Path, runs: usize) -> Result<Vec<f64>> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut all = Vec::new();
    for run in 0..runs {
        let (sent_tx, sent_rx) = mpsc::channel();
        let accept = listener.try_clone()?;
        let server = thread::spawn(move || serve_one(&accept, &sent_tx));
        let mut child = Command::new(binary)
            .args(["--jsonl", "--no-tools", "fork", "--type", "creative"])
            .arg(format!("Stream a short story, take {run}."))
            .env("GEMINI_API_KEY", "bench-dummy-key")
            .env("GOOGLE_GEMINI_BASE_URL", &url)
            .env("AGENT_FORK_CONFIG", "")
            .env("NO_COLOR", "1")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut arrivals = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if line.contains("\"event\":\"text_delta\"") {
                arrivals.push(Instant::now());
            }
        }
        let status = child.wait()?;
        server
            .join()
            .map_err(|_| anyhow::anyhow!("the streaming server thread panicked"))??;
        let sent: Vec<Instant> = sent_rx.try_iter().collect();
        if !status.success() || arrivals.len() != sent.len() || sent.len() != EVENTS {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            bail!(
                "streamed fork failed ({status}): {} events sent, {} deltas seen: {}",
                sent.len(),
                arrivals.len(),
                stderr.trim()
            );
        }
        all.extend(
            sent.iter()
                .zip(&arrivals)
                .map(|(sent, seen)| seen.saturating_duration_since(*sent).as_secs_f64() * 1e3),
        );
    }
    Ok(all)
}

/// Answers one request with `EVENTS` SSE events, sending the instant each
/// write began (a fast reader may see the bytes before `write` returns).
fn serve_one(listener: &TcpListener, sent: &mpsc::Sender<Instant>) -> Result<()> {
    let (mut socket, _) = listener.accept()?;
    socket.set_nodelay(true)?;
    read_request(&mut socket)?;
    socket.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )?;
    for index in 0..EVENTS {
        thread::sleep(Duration::from_millis(GAP_MS));
        let last = index + 1 == EVENTS;
        let mut chunk = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": format!("word{index} ")}]}, "index": 0}]});
        if last {
            chunk["candidates"][0]["finishReason"] = json!("STOP");
            chunk["usageMetadata"] =
                json!({"promptTokenCount": 10, "candidatesTokenCount": 40, "totalTokenCount": 50});
        }
        let event = format!("data: {chunk}\r\n\r\n");
        let framed = format!("{:x}\r\n{event}\r\n", event.len());
        let at = Instant::now();
        socket.write_all(framed.as_bytes())?;
        let _ = sent.send(at);
    }
    socket.write_all(b"0\r\n\r\n")?;
    socket.flush()?;
    Ok(())
}

/// Reads the request head and its `content-length` body.
fn read_request(socket: &mut TcpStream) -> Result<()> {
    let mut reader = BufReader::new(socket.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("the client closed before sending a request");
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(())
}
