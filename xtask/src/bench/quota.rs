//! `cargo xtask bench --only quota`: a swarm far above its quota, against a
//! quota-enforcing loopback server, with and without quota-aware scheduling.
//!
//! The server keeps a sliding minute per model and answers a request that
//! would cross its requests-per-minute or input-tokens-per-minute limit with
//! a real-shaped 429 (`QuotaFailure` with `quotaId` and `quotaValue`, `Help`,
//! `RetryInfo` until the oldest request leaves the window). Input tokens are
//! counted as a quarter of the body's bytes and returned as
//! `promptTokenCount`. Client and server run in one tokio runtime with paused
//! time, so a quota "minute" is virtual and a run takes seconds: the time
//! scale is whatever the paused clock makes of it, and every figure is in
//! virtual time. Goodput is the quota-limited ideal duration (tasks / RPM,
//! or input tokens / TPM, in minutes) over the run's duration.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

const MODEL: &str = "gemini-2.5-flash";
const SIZES: [usize; 4] = [50, 200, 800, 3_000];
/// The cautious start's first-minute allowance (the client's default).
const CAUTIOUS_START: u32 = genai_client::DEFAULT_CAUTIOUS_START;

/// Which limit binds.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Limit {
    Rpm(u64),
    Tpm(u64),
}

#[derive(Debug, Default)]
struct Window {
    seen: VecDeque<(Instant, u64)>,
    requests: u64,
    rejected: u64,
}

/// One scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct QuotaFigure {
    scenario: String,
    scheduling: bool,
    /// The limit given as a setting (else learned from the first 429s).
    configured: bool,
    /// The cautious start's first-minute allowance, when on.
    cautious_start: Option<u32>,
    tasks: usize,
    concurrency: usize,
    limit: Limit,
    virtual_seconds: f64,
    ideal_seconds: f64,
    goodput: f64,
    requests: u64,
    share_429: f64,
    lost: usize,
}

fn body_429(limit: Limit, retry: Duration) -> String {
    let (metric, id, value) = match limit {
        Limit::Rpm(value) => (
            "generate_requests_per_model",
            "GenerateRequestsPerMinutePerProjectPerModel",
            value,
        ),
        Limit::Tpm(value) => (
            "generate_content_paid_tier_input_token_count",
            "GenerateContentPaidTierInputTokensPerModelPerMinute",
            value,
        ),
    };
    let delay = format!("{:.3}s", retry.as_secs_f64().max(0.001));
    serde_json::json!({"error": {
        "code": 429,
        "message": format!("You exceeded your current quota.\n* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, limit: {value}, model: {MODEL}\nPlease retry in {delay}."),
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": format!("generativelanguage.googleapis.com/{metric}"),
                "quotaId": id,
                "quotaDimensions": {"location": "global", "model": MODEL},
                "quotaValue": value.to_string()
            }]},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
        ]
    }})
    .to_string()
}

fn admit(window: &mut Window, limit: Limit, tokens: u64) -> Result<(), Duration> {
    let now = Instant::now();
    let minute = Duration::from_secs(60);
    while window
        .seen
        .front()
        .is_some_and(|(at, _)| now.duration_since(*at) >= minute)
    {
        window.seen.pop_front();
    }
    window.requests += 1;
    let over = match limit {
        Limit::Rpm(rpm) => window.seen.len() as u64 + 1 > rpm,
        Limit::Tpm(tpm) => window.seen.iter().map(|(_, t)| t).sum::<u64>() + tokens > tpm,
    };
    if over {
        window.rejected += 1;
        let oldest = window.seen.front().map_or(now, |(at, _)| *at);
        return Err((oldest + minute).saturating_duration_since(now));
    }
    window.seen.push_back((now, tokens));
    Ok(())
}

async fn serve(mut socket: TcpStream, window: Arc<Mutex<Window>>, limit: Limit) {
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 8192];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let tokens = (length as u64).div_ceil(4);
        buffer.drain(..head_end + length);
        let verdict = {
            let mut window = window.lock().unwrap_or_else(|p| p.into_inner());
            admit(&mut window, limit, tokens)
        };
        let (status, body) = match verdict {
            Ok(()) => (200, serde_json::json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": tokens, "candidatesTokenCount": 1, "totalTokenCount": tokens + 1},
                "modelVersion": MODEL
            }).to_string()),
            Err(retry) => (429, body_429(limit, retry)),
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn scenario(
    limit: Limit,
    (scheduling, configured, cautious_start): (bool, bool, Option<u32>),
    tasks: usize,
    concurrency: usize,
) -> Result<QuotaFigure> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let window = Arc::new(Mutex::new(Window::default()));
    let server_window = window.clone();
    let server = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, server_window.clone(), limit));
        }
    });
    let config = genai_client::ClientConfig::default()
        .with_timeouts(genai_client::Timeouts::none())
        .with_retry(genai_client::RetryPolicy {
            jitter_seed: Some(11),
            max_attempts: 8,
            ..genai_client::RetryPolicy::default()
        })
        .with_quota_scheduling(scheduling)
        .with_cautious_start(cautious_start)
        .with_requests_per_minute(match (configured, limit) {
            (true, Limit::Rpm(rpm)) => u32::try_from(rpm).ok(),
            _ => None,
        })
        .with_input_tokens_per_minute(match (configured, limit) {
            (true, Limit::Tpm(tpm)) => Some(tpm),
            _ => None,
        })
        .with_base_url(&base_url);
    let client = genai_client::Client::new(config)?;
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let begin = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    let mut total_tokens = 0u64;
    for index in 0..tasks {
        let size = SIZES[(index * 7 + 3) % SIZES.len()];
        let request = genai_client::GenerateContentRequest {
            contents: vec![genai_client::Content::user("x".repeat(size * 4))],
            ..Default::default()
        };
        total_tokens += serde_json::to_vec(&request)?.len().div_ceil(4) as u64;
        let (client, gate) = (client.clone(), gate.clone());
        running.spawn(async move {
            let _permit = gate.acquire_owned().await;
            client.generate_content(MODEL, &request).await.is_ok()
        });
    }
    let mut lost = 0;
    while let Some(done) = running.join_next().await {
        if !done.unwrap_or(false) {
            lost += 1;
        }
    }
    let elapsed = begin.elapsed().as_secs_f64();
    server.abort();
    let (requests, rejected) = {
        let window = window.lock().unwrap_or_else(|p| p.into_inner());
        (window.requests, window.rejected)
    };
    let ideal_minutes = match limit {
        Limit::Rpm(rpm) => tasks as f64 / rpm as f64,
        Limit::Tpm(tpm) => total_tokens as f64 / tpm as f64,
    };
    // The best any client can do under a sliding-minute limit: a whole
    // minute's quota at once, then one more minute's for every minute that
    // passes, so the last of N minutes' worth of work starts at (⌈N⌉ − 1)
    // minutes. (A continuous N − 1 cannot be met: no minute holds more
    // than the limit.)
    let ideal_seconds = ((ideal_minutes.ceil() - 1.0).max(0.0)) * 60.0;
    Ok(QuotaFigure {
        scenario: match limit {
            Limit::Rpm(_) => "rpm".into(),
            Limit::Tpm(_) => "tpm".into(),
        },
        scheduling,
        configured,
        cautious_start,
        tasks,
        concurrency,
        limit,
        virtual_seconds: elapsed,
        ideal_seconds,
        goodput: if elapsed > 0.0 {
            (ideal_seconds / elapsed).min(1.0)
        } else {
            0.0
        },
        requests,
        share_429: rejected as f64 / requests.max(1) as f64,
        lost,
    })
}

/// Runs every scenario and writes `quota.md` and `quota.json` to `out`.
pub(crate) fn run(out: &Path, tasks: usize) -> Result<Vec<QuotaFigure>> {
    let mut figures = Vec::new();
    for limit in [Limit::Rpm(100), Limit::Tpm(100_000)] {
        for mode in [
            (true, false, Some(CAUTIOUS_START)),
            (true, false, None),
            (true, true, None),
            (false, false, None),
        ] {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()?;
            figures.push(runtime.block_on(scenario(limit, mode, tasks, 200))?);
        }
    }
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("quota.json"),
        serde_json::to_string_pretty(&figures)?,
    )?;
    let mut md = String::from(
        "# Quota benchmark (virtual time)\n\nA swarm far above its quota (concurrency 200) against a quota-enforcing loopback server (sliding minute, real-shaped 429s). Targets: goodput ≥ 0.95 of the quota-limited ideal, 429s ≤ 2 % of requests, 0 tasks lost. The ideal is the best any client can do under a sliding-minute limit: a whole minute's quota at once, one more for each minute that passes, so N minutes' worth of work ends at (⌈N⌉ − 1) minutes (a continuous N − 1 cannot be met, since no minute may hold more than the limit). The server answers at once (no latency), so the retries-only client, which waits exactly as RetryInfo says, keeps pace while sending 2.7× the requests. The default client starts cautiously (8 requests in a model's first minute, 1.1 more per reply that is not a 429, until the first 429's quotaValue gives the limit), which keeps the 429s to at most the start plus a tenth of the limit. With the cautious start off (`cautious_start = 0`, `ClientConfig::with_cautious_start(None)`) the limit is still learned from the first 429, but the 429s are the first burst of 200 concurrent calls sent before it was known; it is the choice for a swarm well within its quota that should not pay the ramp (a few round trips). Every figure is in virtual time (paused tokio clock), so the CPU this machine shares with other builds does not change them.\n\n| limit | scheduling | tasks | virtual s | ideal s | goodput | requests | 429 share | lost |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for f in &figures {
        let limit = match f.limit {
            Limit::Rpm(n) => format!("{n} RPM"),
            Limit::Tpm(n) => format!("{n} TPM"),
        };
        md.push_str(&format!(
            "| {limit} | {} | {} | {:.1} | {:.1} | {:.3} | {} | {:.1} % | {} |\n",
            match (f.scheduling, f.configured, f.cautious_start) {
                (true, false, Some(start)) => {
                    format!("on (default): limit learned, cautious start ({start})")
                }
                (true, false, None) => "on, limit learned, cautious start off".to_owned(),
                (true, true, _) => "on, limit set".to_owned(),
                _ => "off (retries only)".to_owned(),
            },
            f.tasks,
            f.virtual_seconds,
            f.ideal_seconds,
            f.goodput,
            f.requests,
            f.share_429 * 100.0,
            f.lost
        ));
    }
    std::fs::write(out.join("quota.md"), &md)?;
    crate::say(&md);
    Ok(figures)
}
