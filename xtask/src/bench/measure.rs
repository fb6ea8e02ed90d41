//! Measuring one process: its wall time, CPU time (user + system) and peak
//! resident set size.
//!
//! The numbers come from `getrusage(RUSAGE_CHILDREN)` in a small helper
//! process (`xtask bench-measure`) whose only child is the measured one, so
//! nothing else the benchmark ran (cargo, the fixture server) is counted.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

/// What one run of a process cost.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Usage {
    /// From spawn to exit, in seconds.
    pub(crate) wall_s: f64,
    /// User CPU time, in seconds.
    pub(crate) user_s: f64,
    /// System CPU time, in seconds.
    pub(crate) sys_s: f64,
    /// Peak resident set size, in KiB.
    pub(crate) max_rss_kib: u64,
    /// The exit code (`None` when killed by a signal).
    pub(crate) code: Option<i32>,
}

impl Usage {
    /// User plus system CPU time.
    pub(crate) fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// Peak RSS in MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }
}

/// `xtask bench-measure OUT -- PROGRAM ARGS...`: runs PROGRAM with this
/// process's stdio and environment, then writes its [`Usage`] as JSON to OUT.
pub(crate) fn helper_main(args: &[String]) -> Result<()> {
    let (out, rest) = args
        .split_first()
        .context("bench-measure needs OUT -- PROGRAM ARGS...")?;
    let Some(("--", command)) = rest.split_first().map(|(dash, cmd)| (dash.as_str(), cmd)) else {
        bail!("bench-measure needs OUT -- PROGRAM ARGS...");
    };
    let (program, program_args) = command.split_first().context("no program to measure")?;
    let started = Instant::now();
    let status = Command::new(program)
        .args(program_args)
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    let wall = started.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage failed")?;
    let seconds = |time: nix::sys::time::TimeVal| {
        time.tv_sec() as f64 + f64::from(u32::try_from(time.tv_usec()).unwrap_or(0)) / 1e6
    };
    let report = Usage {
        wall_s: wall.as_secs_f64(),
        user_s: seconds(usage.user_time()),
        sys_s: seconds(usage.system_time()),
        max_rss_kib: u64::try_from(usage.max_rss()).unwrap_or(0),
        code: status.code(),
    };
    std::fs::write(out, serde_json::to_vec(&report)?)
        .with_context(|| format!("cannot write {out}"))?;
    Ok(())
}

/// A process to run and measure.
pub(crate) struct Run<'a> {
    /// The program.
    pub(crate) program: &'a Path,
    /// Its arguments.
    pub(crate) args: Vec<String>,
    /// Extra environment.
    pub(crate) env: Vec<(String, String)>,
    /// Where it runs.
    pub(crate) dir: &'a Path,
    /// Environment variables removed first.
    pub(crate) cleared: &'a [&'a str],
}

/// Runs `run` under the measuring helper (`helper` is an xtask binary) and
/// returns what it cost with its captured output.
pub(crate) fn measured(helper: &Path, run: &Run<'_>) -> Result<(Usage, Output)> {
    let report = tempfile::NamedTempFile::new()?;
    let mut command = Command::new(helper);
    for name in run.cleared {
        command.env_remove(name);
    }
    let output = command
        .arg("bench-measure")
        .arg(report.path())
        .arg("--")
        .arg(run.program)
        .args(&run.args)
        .envs(run.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(run.dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start the measuring helper {}", helper.display()))?;
    if !output.status.success() {
        bail!(
            "the measuring helper failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let usage: Usage = serde_json::from_slice(&std::fs::read(report.path())?)
        .context("the measuring helper wrote no usage")?;
    Ok((usage, output))
}

/// Median, minimum and maximum of some samples.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) samples: Vec<f64>,
}

impl Spread {
    /// The spread of `samples` (which must not be empty).
    pub(crate) fn of(samples: &[f64]) -> Spread {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Spread {
            median,
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            samples: samples.to_vec(),
        }
    }

    /// The value at quantile `q` (0..=1) of the samples, nearest rank.
    pub(crate) fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = (q * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }
}
