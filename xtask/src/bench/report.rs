//! The benchmark report: `bench/latest.json` for tools and
//! `bench/latest.md` for people (medians with ranges, targets, machine,
//! commit, date, how to reproduce).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use serde::Serialize;

use super::measure::Spread;

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Figure {
    /// Stable key, e.g. `swarm_1k_c100_200ms.wall_s`.
    pub(crate) key: String,
    /// What it is.
    pub(crate) label: String,
    /// Its unit.
    pub(crate) unit: String,
    /// The samples and their spread.
    #[serde(flatten)]
    pub(crate) spread: Spread,
}

/// Which way a target goes.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Bound {
    /// The figure must be at most the limit.
    AtMost,
    /// The figure must be at least the limit.
    AtLeast,
}

/// A target from the issue, checked against a figure's median.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Target {
    /// What is promised.
    pub(crate) what: String,
    /// The figure it is checked against.
    pub(crate) figure: String,
    /// The bound.
    pub(crate) bound: Bound,
    /// The limit.
    pub(crate) limit: f64,
    /// The figure's median.
    pub(crate) value: f64,
    /// Whether the median is within the limit.
    pub(crate) met: bool,
}

/// Where the figures were taken.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) memory_gib: f64,
    pub(crate) kernel: String,
    pub(crate) rustc: String,
}

/// Everything written.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub(crate) commit: String,
    pub(crate) date: String,
    pub(crate) machine: Machine,
    pub(crate) repeats: usize,
    pub(crate) command: String,
    pub(crate) figures: Vec<Figure>,
    pub(crate) targets: Vec<Target>,
}

impl Report {
    /// A figure's median, by key.
    pub(crate) fn median(&self, key: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|figure| figure.key == key)
            .map(|figure| figure.spread.median)
    }

    /// Adds a target checked against the median of `figure` (skipped when
    /// that figure was not measured).
    pub(crate) fn target(&mut self, what: &str, figure: &str, bound: Bound, limit: f64) {
        let Some(value) = self.median(figure) else {
            return;
        };
        let met = match bound {
            Bound::AtMost => value <= limit,
            Bound::AtLeast => value >= limit,
        };
        self.targets.push(Target {
            what: what.to_owned(),
            figure: figure.to_owned(),
            bound,
            limit,
            value,
            met,
        });
    }

    /// Writes `latest.json` and `latest.md` into `dir`.
    pub(crate) fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut json = serde_json::to_string_pretty(self)?;
        json.push('\n');
        std::fs::write(dir.join("latest.json"), json)?;
        std::fs::write(dir.join("latest.md"), self.markdown())?;
        Ok(())
    }

    /// The markdown report.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# agent-fork benchmarks\n");
        let _ = writeln!(
            out,
            "Written by `{}` on {} at commit `{}`.\n",
            self.command, self.date, self.commit
        );
        let m = &self.machine;
        let _ = writeln!(
            out,
            "Machine: {} ({} cores), {:.1} GiB memory, Linux {}, {}.\n",
            m.cpu, m.cores, m.memory_gib, m.kernel, m.rustc
        );
        let _ = writeln!(
            out,
            "Each figure is the median of {} runs or more, with the range (min–max) of the runs. \
             The client is the release `agent-fork` binary; Gemini is a loopback fixture server \
             in a process of its own replaying generated cassettes; no run was retried.\n",
            self.repeats
        );
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| target | limit | median | met |");
        let _ = writeln!(out, "|---|---|---|---|");
        for target in &self.targets {
            let bound = match target.bound {
                Bound::AtMost => "≤",
                Bound::AtLeast => "≥",
            };
            let _ = writeln!(
                out,
                "| {} | {bound} {} | {} | {} |",
                target.what,
                number(target.limit),
                number(target.value),
                if target.met { "yes" } else { "**no**" }
            );
        }
        let _ = writeln!(out, "\n## Figures\n");
        let _ = writeln!(out, "| figure | median | range | unit | runs |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for figure in &self.figures {
            let spread = &figure.spread;
            let _ = writeln!(
                out,
                "| {} | {} | {} – {} | {} | {} |",
                figure.label,
                number(spread.median),
                number(spread.min),
                number(spread.max),
                figure.unit,
                spread.samples.len()
            );
        }
        let _ = writeln!(
            out,
            "\n## Reading the figures\n\n\
             * Makespan efficiency is the ideal time divided by the measured wall time of the \
               whole `agent-fork` process (start-up, run folder and journal included). For a \
               swarm the ideal is ceil(N / concurrency) × latency + the consolidation's latency; \
               for a plan it is the planning call + the critical path + the consolidation call.\n\
             * CPU is user + system time of the client process only (`getrusage`), divided by \
               the number of forks; peak RSS is its maximum resident set size.\n\
             * Streaming delay is the time from the server starting to write an SSE chunk to \
               the chunk's text arriving as a `text_delta` line on `agent-fork --jsonl`'s \
               standard output (both instants from one monotonic clock).\n\
             * Where a target is missed, `bench/profile.md` explains the gap with profiles.\n\n\
             Reproduce with `cargo xtask bench` (`--repeat N` for more runs)."
        );
        out
    }
}

/// A number with sensible precision for a table.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// This machine.
pub(crate) fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or_else(
            || "unknown CPU".to_owned(),
            |(_, name)| name.trim().to_owned(),
        );
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: f64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0.0);
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        memory_gib: memory_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        rustc: command_line("rustc", &["--version"]).unwrap_or_else(|| "rustc".to_owned()),
    }
}

/// `git describe --always --dirty` of the repository at `root`.
pub(crate) fn commit(root: &Path) -> String {
    let root = root.to_string_lossy();
    command_line(
        "git",
        &[
            "-C",
            &root,
            "describe",
            "--always",
            "--dirty",
            "--abbrev=12",
        ],
    )
    .unwrap_or_else(|| "unknown".to_owned())
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
