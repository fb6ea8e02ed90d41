//! `cargo xtask bench`: the release `agent-fork` binary against a loopback
//! fixture server in its own process, every figure repeated, and a report
//! in `bench/latest.md` and `bench/latest.json`.
//!
//! Benchmarks are not tests: nothing here runs under `cargo test` and no
//! timing is asserted anywhere. A run is refused as a measurement only when
//! the work itself went wrong (a failed fork, a retried request).

mod batch;
pub(crate) mod measure;
mod quota;
mod report;
mod scenarios;
pub(crate) mod server;
mod stream;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{cargo, repository_root, say, target_dir};
use measure::{Run, Spread, Usage, measured};
use report::{Bound, Figure, Report};
use scenarios::Dag;
use server::BenchServer;

/// Which parts to run.
const SECTIONS: [&str; 7] = [
    "startup", "swarm", "rss", "plan", "stream", "quota", "batch",
];

struct Options {
    repeat: usize,
    skip_build: bool,
    only: Vec<String>,
    out: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            repeat: 3,
            skip_build: false,
            // The batch section (a 100,000-task job) runs only when asked for.
            only: SECTIONS
                .iter()
                .filter(|s| **s != "batch")
                .map(|s| (*s).to_owned())
                .collect(),
            out: None,
        };
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "--repeat" => {
                    let value = rest.next().context("--repeat needs a number")?;
                    options.repeat =
                        value.parse().ok().filter(|n| *n >= 1).with_context(|| {
                            format!("--repeat {value} is not a positive number")
                        })?;
                }
                "--skip-build" => options.skip_build = true,
                "--only" => {
                    let value = rest.next().context("--only needs a list")?;
                    options.only = value.split(',').map(str::to_owned).collect();
                    if let Some(bad) = options
                        .only
                        .iter()
                        .find(|s| !SECTIONS.contains(&s.as_str()))
                    {
                        bail!("--only {bad}: choose from {}", SECTIONS.join(","));
                    }
                }
                "--out" => {
                    options.out = Some(PathBuf::from(rest.next().context("--out needs a folder")?))
                }
                other => bail!(
                    "unknown bench option {other}; use --repeat N, --only {}, --out DIR, --skip-build",
                    SECTIONS.join(",")
                ),
            }
        }
        Ok(options)
    }

    fn wants(&self, section: &str) -> bool {
        self.only.iter().any(|s| s == section)
    }
}

/// The programs and the scratch folder of one benchmark session.
struct Bench {
    binary: PathBuf,
    xtask: PathBuf,
    work: tempfile::TempDir,
    runs: usize,
}

/// Settings a developer may have exported that would change the runs.
const CLEARED_ENV: [&str; 16] = [
    "GOOGLE_API_KEY",
    "AGENT_FORK_MODEL",
    "AGENT_FORK_THINKING",
    "AGENT_FORK_WORKSPACE",
    "AGENT_FORK_ALLOW_SHELL",
    "AGENT_FORK_NO_TOOLS",
    "AGENT_FORK_CONCURRENCY",
    "AGENT_FORK_MAX_TURNS",
    "AGENT_FORK_RUNS_DIR",
    "AGENT_FORK_REQUESTS_PER_MINUTE",
    "AGENT_FORK_INPUT_TOKENS_PER_MINUTE",
    "AGENT_FORK_CAUTIOUS_START",
    "AGENT_FORK_REMEMBER_LIMITS",
    "AGENT_FORK_BUDGET_USD",
    "AGENT_FORK_BUDGET_TOKENS",
    "AGENT_FORK_CONFIG",
];

pub(crate) fn run(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let root = repository_root()?;
    if options.wants("quota") {
        // In-process, in virtual time: no release binary needed.
        let out = options.out.clone().unwrap_or_else(|| root.join("bench"));
        quota::run(&out, 1_000)?;
        if options.only.len() == 1 {
            return Ok(());
        }
    }
    if !options.skip_build {
        say("bench: building agent-fork and xtask in release");
        cargo(&[
            "build",
            "--release",
            "--locked",
            "-p",
            "agent-fork",
            "-p",
            "xtask",
        ])?;
    }
    let release = target_dir(&root).join("release");
    let bench = Bench {
        binary: release.join(format!("agent-fork{}", std::env::consts::EXE_SUFFIX)),
        xtask: release.join(format!("xtask{}", std::env::consts::EXE_SUFFIX)),
        work: tempfile::tempdir()?,
        runs: options.repeat,
    };
    for program in [&bench.binary, &bench.xtask] {
        if !program.is_file() {
            bail!("{} is missing; run without --skip-build", program.display());
        }
    }
    let mut report = Report {
        commit: report::commit(&root),
        date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        machine: report::machine(),
        repeats: options.repeat,
        command: std::iter::once("cargo xtask bench".to_owned())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        figures: Vec::new(),
        targets: Vec::new(),
    };
    if options.wants("batch") {
        // Its own report (bench/batch.md); with --only batch, nothing else.
        let out = options.out.clone().unwrap_or_else(|| root.join("bench"));
        batch::run(&bench, &out)?;
        if options.only.len() == 1 {
            return Ok(());
        }
    }
    if options.wants("startup") {
        bench.startup(&mut report.figures)?;
    }
    if options.wants("swarm") {
        for latency in [0, 200] {
            bench.swarm(&mut report.figures, (1_000, 100, latency), None)?;
        }
        // The same swarm with its journal on a tmpfs, where a sync costs
        // nothing: the difference is what syncing each result costs.
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            let runs = tempfile::tempdir_in(shm)?;
            bench.swarm(&mut report.figures, (1_000, 100, 200), Some(runs.path()))?;
        }
    }
    if options.wants("rss") {
        bench.streamed_rss(&mut report.figures)?;
    }
    if options.wants("plan") {
        for dag in [Dag::chain(), Dag::fan_out(), Dag::irregular()] {
            bench.plan(&mut report.figures, &dag)?;
        }
    }
    if options.wants("stream") {
        bench.streaming(&mut report.figures)?;
    }
    add_targets(&mut report);
    let out = options.out.unwrap_or_else(|| root.join("bench"));
    report.write(&out)?;
    say(&report.markdown());
    say(&format!("bench: wrote {}", out.join("latest.md").display()));
    Ok(())
}

fn add_targets(report: &mut Report) {
    for latency in [0, 200] {
        report.target(
            &format!("CPU per 1,000 forks (1k swarm, {latency} ms)"),
            &format!("swarm_1k_c100_{latency}ms.cpu_per_1000_s"),
            Bound::AtMost,
            0.2,
        );
        report.target(
            &format!("peak RSS, 1k swarm ({latency} ms)"),
            &format!("swarm_1k_c100_{latency}ms.rss_mib"),
            Bound::AtMost,
            20.0,
        );
    }
    report.target(
        "RSS growth from 1k to 10k tasks, results streamed to a file",
        "rss_jsonl.growth_10k_over_1k",
        Bound::AtMost,
        1.10,
    );
    report.target("start-up, `--help`", "startup.help_ms", Bound::AtMost, 10.0);
    report.target(
        "start-up, `config`",
        "startup.config_ms",
        Bound::AtMost,
        10.0,
    );
    report.target(
        "makespan efficiency, 1k swarm at 200 ms",
        "swarm_1k_c100_200ms.efficiency",
        Bound::AtLeast,
        0.95,
    );
    for dag in [Dag::chain(), Dag::fan_out(), Dag::irregular()] {
        report.target(
            &format!("makespan efficiency, plan: {}", dag.label),
            &format!("plan_{}.efficiency", dag.key),
            Bound::AtLeast,
            0.95,
        );
    }
}

fn figure(key: &str, label: &str, unit: &str, samples: &[f64]) -> Figure {
    Figure {
        key: key.to_owned(),
        label: label.to_owned(),
        unit: unit.to_owned(),
        spread: Spread::of(samples),
    }
}

impl Bench {
    /// A new empty folder for one run.
    fn folder(&self, name: &str) -> Result<PathBuf> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(self.work.path())?
            .keep();
        Ok(dir)
    }

    /// Runs `agent-fork ARGS` in `dir` against `server`, measured.
    fn agent_fork(
        &self,
        dir: &Path,
        server: Option<&str>,
        args: &[String],
        extra_env: &[(String, String)],
    ) -> Result<(Usage, Value)> {
        let mut env = vec![
            ("GEMINI_API_KEY".to_owned(), "bench-dummy-key".to_owned()),
            // Empty: no user config.
            ("AGENT_FORK_CONFIG".to_owned(), String::new()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
            // Runs and the journal key go to the bench's folder, never the
            // real home (runs live in the per-user data folder by default).
            ("HOME".to_owned(), dir.display().to_string()),
            (
                "XDG_DATA_HOME".to_owned(),
                dir.join(".local/share").display().to_string(),
            ),
            (
                "XDG_CONFIG_HOME".to_owned(),
                dir.join(".config").display().to_string(),
            ),
        ];
        if let Some(url) = server {
            env.push(("GOOGLE_GEMINI_BASE_URL".to_owned(), url.to_owned()));
        }
        env.extend(extra_env.iter().cloned());
        let run = Run {
            program: &self.binary,
            args: args.to_vec(),
            env,
            dir,
            cleared: &CLEARED_ENV,
        };
        let (usage, output) = measured(&self.xtask, &run)?;
        if usage.code != Some(0) {
            bail!(
                "`agent-fork {}` exited with {:?}: {}",
                args.join(" "),
                usage.code,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        Ok((usage, json))
    }

    fn startup(&self, figures: &mut Vec<Figure>) -> Result<()> {
        say("bench: start-up");
        let dir = self.folder("startup")?;
        let runs = self.runs.max(20);
        for (name, args) in [("help", vec!["--help"]), ("config", vec!["config"])] {
            let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
            // One warm-up run, so the binary is in the page cache.
            self.agent_fork(&dir, None, &args, &[])?;
            let mut samples = Vec::new();
            for _ in 0..runs {
                samples.push(self.agent_fork(&dir, None, &args, &[])?.0.wall_s * 1e3);
            }
            figures.push(figure(
                &format!("startup.{name}_ms"),
                &format!("start-up: `agent-fork {}`", args.join(" ")),
                "ms",
                &samples,
            ));
        }
        Ok(())
    }

    /// Runs one swarm and checks it did exactly the work asked for.
    fn swarm_once(
        &self,
        tasks: usize,
        concurrency: usize,
        latency_ms: u64,
        jsonl: bool,
        runs_dir: Option<&Path>,
    ) -> Result<Usage> {
        let cassette = scenarios::swarm_cassette(self.work.path(), latency_ms)?;
        let file = scenarios::tasks_file(self.work.path(), tasks)?;
        let server = BenchServer::start(&self.xtask, &[cassette])?;
        let dir = self.folder("swarm")?;
        let mut args: Vec<String> = ["--json", "swarm", "--type", "creative", "--tasks-file"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.push(file.display().to_string());
        args.extend(["--concurrency".to_owned(), concurrency.to_string()]);
        let results = dir.join("results.jsonl");
        if jsonl {
            args.extend(["--results-jsonl".to_owned(), results.display().to_string()]);
        }
        let env: Vec<(String, String)> = runs_dir
            .map(|runs| ("AGENT_FORK_RUNS_DIR".to_owned(), runs.display().to_string()))
            .into_iter()
            .collect();
        let (usage, json) = self.agent_fork(&dir, Some(server.url()), &args, &env)?;
        let stats = server.finish()?;
        let completed = json["tasks"]["succeeded"].as_u64().unwrap_or(0);
        if completed != tasks as u64 || json["consolidated_summary"].is_null() {
            bail!("the swarm completed {completed} of {tasks} forks or did not consolidate");
        }
        if stats.total_requests != tasks as u64 + 1 || stats.unmatched_requests != 0 {
            bail!(
                "the server saw {} requests for {tasks} forks and a consolidation: retries happened, the figures would not be comparable",
                stats.total_requests
            );
        }
        if stats.max_in_flight > concurrency + 1 {
            bail!(
                "{} requests were in flight at once, above the concurrency {concurrency}",
                stats.max_in_flight
            );
        }
        if jsonl {
            let lines = std::fs::read_to_string(&results)?.lines().count();
            if lines != tasks {
                bail!("--results-jsonl holds {lines} lines for {tasks} forks");
            }
        }
        Ok(usage)
    }

    /// A swarm's figures; with `runs_dir`, the run folder goes there (a
    /// tmpfs, to show what the journal's disk syncs cost).
    fn swarm(
        &self,
        figures: &mut Vec<Figure>,
        (tasks, concurrency, latency_ms): (usize, usize, u64),
        runs_dir: Option<&Path>,
    ) -> Result<()> {
        say(&format!(
            "bench: swarm of {tasks} at concurrency {concurrency}, {latency_ms} ms latency"
        ));
        let mut usages = Vec::new();
        for _ in 0..self.runs {
            usages.push(self.swarm_once(tasks, concurrency, latency_ms, false, runs_dir)?);
        }
        let (mut key, mut what) = (
            format!("swarm_1k_c{concurrency}_{latency_ms}ms"),
            format!("swarm {tasks} forks, c{concurrency}, {latency_ms} ms"),
        );
        if runs_dir.is_some() {
            key.push_str("_tmpfs");
            what.push_str(", run folder on tmpfs");
        }
        let per = |f: &dyn Fn(&Usage) -> f64| usages.iter().map(f).collect::<Vec<f64>>();
        figures.push(figure(
            &format!("{key}.wall_s"),
            &format!("{what}: wall time"),
            "s",
            &per(&|u| u.wall_s),
        ));
        figures.push(figure(
            &format!("{key}.forks_per_s"),
            &format!("{what}: forks per second"),
            "forks/s",
            &per(&|u| tasks as f64 / u.wall_s),
        ));
        figures.push(figure(
            &format!("{key}.cpu_per_1000_s"),
            &format!("{what}: client CPU per 1,000 forks"),
            "CPU-s",
            &per(&|u| u.cpu_s() / tasks as f64 * 1_000.0),
        ));
        figures.push(figure(
            &format!("{key}.rss_mib"),
            &format!("{what}: peak RSS"),
            "MiB",
            &per(&|u| u.rss_mib()),
        ));
        if latency_ms > 0 {
            let waves = tasks.div_ceil(concurrency) as f64;
            let ideal = (waves + 1.0) * latency_ms as f64 / 1e3;
            figures.push(figure(
                &format!("{key}.efficiency"),
                &format!("{what}: makespan efficiency (ideal {ideal:.1} s)"),
                "ratio",
                &per(&|u| ideal / u.wall_s),
            ));
        }
        Ok(())
    }

    /// Peak RSS of swarms whose results go to a JSON-lines file, for growing N.
    fn streamed_rss(&self, figures: &mut Vec<Figure>) -> Result<()> {
        let mut medians = Vec::new();
        for tasks in [1_000, 3_000, 10_000] {
            say(&format!(
                "bench: swarm of {tasks} at concurrency 500, results to a JSON-lines file"
            ));
            let mut usages = Vec::new();
            for _ in 0..self.runs {
                usages.push(self.swarm_once(tasks, 500, 200, true, None)?);
            }
            let rss: Vec<f64> = usages.iter().map(Usage::rss_mib).collect();
            let label = format!("swarm {tasks} forks, c500, 200 ms, --results-jsonl");
            let key = format!("rss_jsonl.n{tasks}");
            figures.push(figure(
                &format!("{key}.rss_mib"),
                &format!("{label}: peak RSS"),
                "MiB",
                &rss,
            ));
            figures.push(figure(
                &format!("{key}.cpu_per_1000_s"),
                &format!("{label}: client CPU per 1,000 forks"),
                "CPU-s",
                &usages
                    .iter()
                    .map(|u| u.cpu_s() / tasks as f64 * 1e3)
                    .collect::<Vec<_>>(),
            ));
            figures.push(figure(
                &format!("{key}.wall_s"),
                &format!("{label}: wall time"),
                "s",
                &usages.iter().map(|u| u.wall_s).collect::<Vec<_>>(),
            ));
            medians.push(Spread::of(&rss).median);
        }
        if let (Some(first), Some(last)) = (medians.first(), medians.last()) {
            figures.push(figure(
                "rss_jsonl.growth_10k_over_1k",
                "peak RSS at 10k tasks ÷ peak RSS at 1k (results streamed)",
                "ratio",
                &[last / first],
            ));
        }
        Ok(())
    }

    fn plan(&self, figures: &mut Vec<Figure>, dag: &Dag) -> Result<()> {
        say(&format!("bench: plan-and-execute, {}", dag.label));
        let cassette = dag.cassette(self.work.path())?;
        let steps = dag.steps.len();
        let ideal = dag.ideal_ms() as f64 / 1e3;
        let mut walls = Vec::new();
        for _ in 0..self.runs {
            let server = BenchServer::start(&self.xtask, std::slice::from_ref(&cassette))?;
            let dir = self.folder("plan")?;
            let args: Vec<String> = [
                "--json",
                "--no-tools",
                "plan",
                "--goal",
                "Benchmark the scheduler.",
                "--max-steps",
                &steps.to_string(),
                "--concurrency",
                &steps.to_string(),
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            let (usage, json) = self.agent_fork(&dir, Some(server.url()), &args, &[])?;
            let stats = server.finish()?;
            if json["status"] != "completed" {
                bail!("the plan {} ended {}", dag.key, json["status"]);
            }
            if stats.total_requests != steps as u64 + 2 {
                bail!(
                    "the plan {} sent {} requests for {steps} steps, planning and consolidation",
                    dag.key,
                    stats.total_requests
                );
            }
            walls.push(usage.wall_s);
        }
        let key = format!("plan_{}", dag.key);
        figures.push(figure(
            &format!("{key}.wall_s"),
            &format!("plan, {}: wall time", dag.label),
            "s",
            &walls,
        ));
        figures.push(figure(
            &format!("{key}.efficiency"),
            &format!(
                "plan, {}: makespan efficiency (ideal {ideal:.2} s)",
                dag.label
            ),
            "ratio",
            &walls.iter().map(|wall| ideal / wall).collect::<Vec<_>>(),
        ));
        Ok(())
    }

    fn streaming(&self, figures: &mut Vec<Figure>) -> Result<()> {
        say("bench: streaming delay");
        let dir = self.folder("stream")?;
        let delays = stream::delays(&self.binary, &dir, self.runs.max(5))?;
        let p95 = Spread::of(&delays).quantile(0.95);
        let label = format!(
            "streaming: server write → `text_delta` line ({} chunks, {} ms apart)",
            delays.len(),
            stream::GAP_MS
        );
        figures.push(figure("stream.delay_ms", &label, "ms", &delays));
        figures.push(figure(
            "stream.delay_p95_ms",
            "streaming: 95th percentile delay",
            "ms",
            &[p95],
        ));
        Ok(())
    }
}
