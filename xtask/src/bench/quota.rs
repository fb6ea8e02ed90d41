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
/// The budget scenario's limit, in dollars (about 40 % of the swarm's cost).
const BUDGET_USD: f64 = 1.0;
/// The cautious start's first-minute allowance (the recommended one).
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
    /// What the answered requests cost, priced as Gemini would bill them.
    billed: genai_client::Usd,
}

/// How the server answers.
#[derive(Debug, Clone, Copy)]
struct Setup {
    limit: Limit,
    /// How long each answer takes.
    latency: Duration,
    /// Answers of varied length (40 to 1,539 output tokens, by the prompt's
    /// size) instead of one token.
    varied_output: bool,
}

/// How the client of a scenario knows (or learns) the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    /// The default client: the limit is learned from the first 429s.
    Learned,
    /// The default client, started with the limits an earlier run of the
    /// same scenario learned (what `remember_limits` gives the CLI).
    Remembered,
    /// Learned, with the cautious start on.
    Cautious,
    /// The limit given as a setting.
    Set,
    /// Quota scheduling off: retries only.
    RetriesOnly,
}

impl Mode {
    fn label(self) -> String {
        match self {
            Self::Learned => "on (default): limit learned, cautious start off".into(),
            Self::Remembered => "on (default): limit remembered from an earlier run".into(),
            Self::Cautious => format!("on, limit learned, cautious start ({CAUTIOUS_START})"),
            Self::Set => "on, limit set".into(),
            Self::RetriesOnly => "off (retries only)".into(),
        }
    }
}

/// One scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct QuotaFigure {
    scenario: String,
    mode: Mode,
    scheduling: bool,
    /// The limit given as a setting (else learned from the first 429s).
    configured: bool,
    /// The cautious start's first-minute allowance, when on.
    cautious_start: Option<u32>,
    tasks: usize,
    concurrency: usize,
    limit: Limit,
    /// How long the server takes to answer, virtual seconds.
    latency_seconds: f64,
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

async fn serve(mut socket: TcpStream, window: Arc<Mutex<Window>>, setup: Setup) {
    let limit = setup.limit;
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
        let output = if setup.varied_output {
            40 + (tokens * 37) % 1_500
        } else {
            1
        };
        let verdict = {
            let mut window = window.lock().unwrap_or_else(|p| p.into_inner());
            let verdict = admit(&mut window, limit, tokens);
            if verdict.is_ok() {
                let usage = genai_client::Usage {
                    prompt: tokens,
                    candidates: output,
                    total: tokens + output,
                    ..genai_client::Usage::default()
                };
                window.billed += genai_client::cost_of_call(
                    &usage,
                    Some(MODEL),
                    MODEL,
                    chrono::Utc::now().date_naive(),
                )
                .map_or(genai_client::Usd::ZERO, |cost| cost.usd);
            }
            verdict
        };
        let (status, body) = match verdict {
            Ok(()) => (200, serde_json::json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": tokens, "candidatesTokenCount": output, "totalTokenCount": tokens + output},
                "modelVersion": MODEL
            }).to_string()),
            Err(retry) => (429, body_429(limit, retry)),
        };
        if !setup.latency.is_zero() {
            tokio::time::sleep(setup.latency).await;
        }
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Starts the quota-enforcing server: its base URL, its counters and the
/// task to abort at the end.
async fn start_server(
    setup: Setup,
) -> Result<(String, Arc<Mutex<Window>>, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let window = Arc::new(Mutex::new(Window::default()));
    let server_window = window.clone();
    let server = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, server_window.clone(), setup));
        }
    });
    Ok((base_url, window, server))
}

/// Runs one scenario; returns its figures and the limits its client
/// learned.
async fn scenario(
    limit: Limit,
    (mode, known): (Mode, &[genai_client::LearnedLimit]),
    tasks: usize,
    concurrency: usize,
    latency: Duration,
) -> Result<(QuotaFigure, Vec<genai_client::LearnedLimit>)> {
    let scheduling = mode != Mode::RetriesOnly;
    let configured = mode == Mode::Set;
    let cautious_start = (mode == Mode::Cautious).then_some(CAUTIOUS_START);
    let (base_url, window, server) = start_server(Setup {
        limit,
        latency,
        varied_output: false,
    })
    .await?;
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
        .with_known_limits(known.to_vec())
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
    // The last answer then takes the server's latency.
    let ideal_seconds = ((ideal_minutes.ceil() - 1.0).max(0.0)) * 60.0 + latency.as_secs_f64();
    let figure = QuotaFigure {
        scenario: match limit {
            Limit::Rpm(_) => "rpm".into(),
            Limit::Tpm(_) => "tpm".into(),
        },
        mode,
        scheduling,
        configured,
        cautious_start,
        tasks,
        concurrency,
        limit,
        latency_seconds: latency.as_secs_f64(),
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
    };
    Ok((figure, client.learned_limits()))
}

/// The budget scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BudgetFigure {
    /// Learned from the first 429s, or remembered from an earlier run.
    mode: Mode,
    tasks: usize,
    concurrency: usize,
    limit: Limit,
    /// Each answer's latency, virtual seconds.
    latency_seconds: f64,
    budget_usd: f64,
    /// What the budget says was spent (its settled calls).
    spent_usd: f64,
    /// What the server's answers cost (priced as billed).
    billed_usd: f64,
    /// Forks whose call was answered.
    completed: usize,
    /// Forks whose call the budget refused.
    refused: usize,
    /// Tasks never started (left for a resumed run).
    not_started: usize,
    /// Calls in flight when the budget admitted its last call, and what
    /// they cost.
    in_flight_at_last_admission: usize,
    in_flight_usd: f64,
    /// Billed beyond the budget.
    overrun_usd: f64,
    /// Billed beyond the budget plus the in-flight calls' cost (must be 0).
    overrun_beyond_in_flight_usd: f64,
    requests: u64,
    share_429: f64,
    virtual_seconds: f64,
}

/// A swarm with a dollar budget (the library's `Budget`, what
/// `--budget-usd` gives a run) against the quota server: mixed prompt
/// sizes, answers of varied length and a latency, so reservations differ
/// from the real cost and calls are in flight when the budget stops.
async fn budget_scenario(
    tasks: usize,
    concurrency: usize,
    budget_usd: f64,
    (mode, known): (Mode, &[genai_client::LearnedLimit]),
) -> Result<(BudgetFigure, Vec<genai_client::LearnedLimit>)> {
    let setup = Setup {
        limit: Limit::Rpm(100),
        latency: Duration::from_secs(2),
        varied_output: true,
    };
    let (base_url, window, server) = start_server(setup).await?;
    let config = genai_client::ClientConfig::default()
        .with_timeouts(genai_client::Timeouts::none())
        .with_retry(genai_client::RetryPolicy {
            jitter_seed: Some(11),
            max_attempts: 8,
            ..genai_client::RetryPolicy::default()
        })
        .with_known_limits(known.to_vec())
        .with_base_url(&base_url);
    let client = genai_client::Client::new(config)?;
    let learner = client.clone();
    let limit = genai_client::Usd::from_dollars(budget_usd);
    let budget = Arc::new(agent_core::Budget::new(agent_core::BudgetLimits {
        usd: Some(limit),
        tokens: None,
    }));
    // The order of fork starts (each fork's one call is reserved as it
    // starts) and ends.
    let log = Arc::new(Mutex::new(Vec::new()));
    let events = {
        let log = log.clone();
        agent_core::EventSink::new(move |event| {
            let entry = match event {
                agent_core::Event::ForkStarted { fork_id, .. } => (true, fork_id),
                agent_core::Event::ForkFinished { fork_id, .. } => (false, fork_id),
                _ => return,
            };
            log.lock().unwrap_or_else(|p| p.into_inner()).push(entry);
        })
    };
    let forker = agent_core::Forker::new(client)
        .with_budget(budget.clone())
        .with_events(events);
    let mut profile = agent_core::BuiltinAgent::General.profile();
    profile.model = MODEL.to_owned();
    profile.thinking = None;
    profile.search = false;
    profile.code_execution = false;
    let options = agent_core::SwarmOptions {
        concurrency,
        max_turns: 1,
        consolidate: false,
        ..agent_core::SwarmOptions::new(profile)
    };
    let work = (0..tasks).map(|index| {
        let size = SIZES[(index * 7 + 3) % SIZES.len()];
        (index, format!("task {index}: {}", "x".repeat(size * 4)))
    });
    let begin = Instant::now();
    let outcome = agent_core::Swarm::new(&forker, options)
        .run(
            work,
            Some(tasks),
            &tokio_util::sync::CancellationToken::new(),
            |_, _| {},
        )
        .await;
    let elapsed = begin.elapsed().as_secs_f64();
    server.abort();
    let refused_by_budget = |result: &agent_core::ForkResult| {
        result
            .error
            .as_ref()
            .is_some_and(|error| error.kind == agent_core::BUDGET_EXHAUSTED)
    };
    let admitted: std::collections::HashMap<&agent_core::ForkId, &agent_core::ForkResult> = outcome
        .results
        .iter()
        .map(|(_, result)| result)
        .filter(|result| !refused_by_budget(result))
        .map(|result| (&result.fork_id, result))
        .collect();
    let log = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let last = log
        .iter()
        .rposition(|(started, id)| *started && admitted.contains_key(id));
    let in_flight: Vec<&agent_core::ForkResult> = match last {
        Some(last) => log[..=last]
            .iter()
            .filter(|(started, _)| *started)
            .filter_map(|(_, id)| admitted.get(id).copied())
            .filter(|result| {
                log[last + 1..]
                    .iter()
                    .any(|(started, id)| !started && *id == result.fork_id)
            })
            .collect(),
        None => Vec::new(),
    };
    let in_flight_usd: genai_client::Usd = in_flight.iter().map(|result| result.cost.usd).sum();
    let (requests, rejected, billed) = {
        let window = window.lock().unwrap_or_else(|p| p.into_inner());
        (window.requests, window.rejected, window.billed)
    };
    let dollars = |usd: genai_client::Usd| usd.picodollars() as f64 / 1e12;
    let overrun = billed.picodollars().saturating_sub(limit.picodollars());
    let beyond = billed
        .picodollars()
        .saturating_sub(limit.picodollars() + in_flight_usd.picodollars());
    let figure = BudgetFigure {
        mode,
        tasks,
        concurrency,
        limit: setup.limit,
        latency_seconds: setup.latency.as_secs_f64(),
        budget_usd,
        spent_usd: dollars(budget.spent().0),
        billed_usd: dollars(billed),
        completed: outcome.completed,
        refused: outcome
            .results
            .iter()
            .filter(|(_, result)| refused_by_budget(result))
            .count(),
        not_started: tasks - outcome.results.len(),
        in_flight_at_last_admission: in_flight.len(),
        in_flight_usd: dollars(in_flight_usd),
        overrun_usd: overrun as f64 / 1e12,
        overrun_beyond_in_flight_usd: beyond as f64 / 1e12,
        requests,
        share_429: rejected as f64 / requests.max(1) as f64,
        virtual_seconds: elapsed,
    };
    Ok((figure, learner.learned_limits()))
}

/// Runs every scenario and writes `quota.md` and `quota.json` to `out`.
pub(crate) fn run(out: &Path, tasks: usize) -> Result<Vec<QuotaFigure>> {
    let mut figures = Vec::new();
    for limit in [Limit::Rpm(100), Limit::Tpm(100_000)] {
        // What the last `Learned` run taught, for the `Remembered` run
        // after it (a new client and a new server minute, as a later run).
        let mut learned = Vec::new();
        for (mode, latency) in [
            (Mode::Learned, 0),
            (Mode::Remembered, 0),
            (Mode::Cautious, 0),
            (Mode::Set, 0),
            (Mode::RetriesOnly, 0),
            (Mode::Learned, 2),
            (Mode::Remembered, 2),
            (Mode::Cautious, 2),
        ] {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()?;
            let latency = Duration::from_secs(latency);
            let known = if mode == Mode::Remembered {
                learned.clone()
            } else {
                Vec::new()
            };
            let (figure, taught) =
                runtime.block_on(scenario(limit, (mode, &known), tasks, 200, latency))?;
            if mode == Mode::Learned {
                learned = taught;
            }
            figures.push(figure);
        }
    }
    let budget = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()?;
        // The default client meeting the quota for the first time, then a
        // later run remembering what it learned.
        let (first, learned) = runtime.block_on(budget_scenario(
            tasks,
            200,
            BUDGET_USD,
            (Mode::Learned, &[]),
        ))?;
        let (later, _) = runtime.block_on(budget_scenario(
            tasks,
            200,
            BUDGET_USD,
            (Mode::Remembered, &learned),
        ))?;
        [first, later]
    };
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("quota.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "quota": figures,
            "budget": budget,
        }))?,
    )?;
    let mut md = String::from(
        "# Quota benchmark (virtual time)\n\nA swarm far above its quota (concurrency 200) against a quota-enforcing loopback server (sliding minute, real-shaped 429s). Targets: goodput ≥ 0.95 of the quota-limited ideal, 429s ≤ 2 % of requests, 0 tasks lost. The ideal is the best any client can do under a sliding-minute limit: a whole minute's quota at once, one more for each minute that passes, so N minutes' worth of work ends at (⌈N⌉ − 1) minutes (a continuous N − 1 cannot be met, since no minute may hold more than the limit); with answers that take time it adds one answer's latency.\n\nRows, per limit: the default client meeting the quota for the first time learns the limit from the first 429's `quotaValue`, so its 429s are the first burst of 200 concurrent calls sent before the limit was known (about 100 of some 1,100 requests); nothing is lost and goodput is unchanged, since a 429 is not billed and the client waits exactly as RetryInfo says. The next run remembers what the first learned (the CLI keeps learned limits for 24 h per endpoint and key, `remember_limits`; here a new client and a new server minute are given the first run's `Client::learned_limits`): it starts at the limit and meets every target with no 429 at all. The cautious start (`cautious_start = 8`: 8 requests in a model's first minute, 1.1 more per reply that is not a 429, until a 429 gives the limit) keeps even the first meeting under 2 %, but its ramp slows every swarm well within its quota (a 1,000-task swarm at 200 ms answers fell from 0.97 to 0.37 makespan efficiency in bench/latest.md), so it is opt-in. No client that knows nothing of a limit can do both: Gemini tells a limit only in a 429, and any first burst larger than the limit is refused. With a limit set, no 429 either; with scheduling off (retries only) the swarm sends 2.7× the requests. Every figure is in virtual time (paused tokio clock), so the CPU this machine shares with other builds does not change them.\n\n| limit | scheduling | answer latency | tasks | virtual s | ideal s | goodput | requests | 429 share | lost |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for f in &figures {
        let limit = match f.limit {
            Limit::Rpm(n) => format!("{n} RPM"),
            Limit::Tpm(n) => format!("{n} TPM"),
        };
        md.push_str(&format!(
            "| {limit} | {} | {:.0} s | {} | {:.1} | {:.1} | {:.3} | {} | {:.1} % | {} |\n",
            f.mode.label(),
            f.latency_seconds,
            f.tasks,
            f.virtual_seconds,
            f.ideal_seconds,
            f.goodput,
            f.requests,
            f.share_429 * 100.0,
            f.lost
        ));
    }
    let first = &budget[0];
    md.push_str(&format!(
        "\n## Budget\n\nThe same swarm ({} tasks of mixed prompt sizes, concurrency {}, {} RPM, default client) with a ${:.2} budget (the library's `Budget`, what `--budget-usd` gives a run). Here the server takes {:.0} s to answer and answers of varied length (40 to 1,539 output tokens), so a reservation (calibrated input, the average output so far) differs from what the call costs, and many calls are in flight when the budget stops. \"Billed\" is what the server's answers cost at the catalog's prices; \"in flight\" is the calls the budget had admitted and not yet settled when it admitted its last one. The budget may be overrun only by what those calls cost beyond their reservations: the overrun beyond them must be 0. The first row meets the quota for the first time: its 429s are calls sent before the first answers (2 s later) said the limit; the second row is a later run that remembers the limit.\n\n| quota | budget | spent (budget) | billed (server) | completed | refused | not started | in flight at last admission | their cost | overrun | overrun beyond in flight | requests | 429 share | virtual s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        first.tasks,
        first.concurrency,
        match first.limit {
            Limit::Rpm(n) | Limit::Tpm(n) => n,
        },
        first.budget_usd,
        first.latency_seconds,
    ));
    for row in &budget {
        md.push_str(&format!(
            "| {} | ${:.2} | ${:.4} | ${:.4} | {} | {} | {} | {} | ${:.4} | ${:.4} | ${:.4} | {} | {:.1} % | {:.1} |\n",
            match row.mode {
                Mode::Remembered => "remembered",
                _ => "learned",
            },
            row.budget_usd,
            row.spent_usd,
            row.billed_usd,
            row.completed,
            row.refused,
            row.not_started,
            row.in_flight_at_last_admission,
            row.in_flight_usd,
            row.overrun_usd,
            row.overrun_beyond_in_flight_usd,
            row.requests,
            row.share_429 * 100.0,
            row.virtual_seconds,
        ));
    }
    std::fs::write(out.join("quota.md"), &md)?;
    crate::say(&md);
    Ok(figures)
}
