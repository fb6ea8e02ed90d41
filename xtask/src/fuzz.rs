//! `cargo xtask fuzz-smoke`: the proptest decoder fuzzers (SSE framing,
//! responses, error bodies, plans, journals, cassettes, conversation files)
//! with many more cases than `cargo test` gives them, under a wall-clock
//! cap. Part of `cargo xtask ci`.
//!
//! The seed is fixed unless `--seed N` (or `FUZZ_SEED`) says otherwise, so
//! a CI failure reproduces; a failing case is printed by proptest, shrunk.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::say;

/// `(package, test target)` of every fuzzer.
const FUZZERS: [(&str, &str); 4] = [
    ("genai-client", "fuzz_decoders"),
    ("cassette", "fuzz_cassettes"),
    ("planner", "fuzz_plans"),
    ("agent-core", "fuzz_files"),
];

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut cases: u32 = 10_000;
    let mut seed = std::env::var("FUZZ_SEED").ok();
    let mut cap = Duration::from_secs(240);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| {
            rest.next()
                .with_context(|| format!("{flag} needs a number"))
                .cloned()
        };
        match arg.as_str() {
            "--cases" => {
                cases = value("--cases")?
                    .parse()
                    .context("--cases takes a number")?
            }
            "--seed" => seed = Some(value("--seed")?),
            "--max-seconds" => {
                let seconds = value("--max-seconds")?;
                cap = Duration::from_secs(seconds.parse().context("--max-seconds takes a number")?);
            }
            other => {
                bail!("unknown fuzz-smoke option {other}; use --cases N, --seed N, --max-seconds N")
            }
        }
    }
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    say(&format!(
        "fuzz-smoke: {} with {cases} cases per property, at most {} s",
        FUZZERS
            .map(|(package, test)| format!("{package}/{test}"))
            .join(", "),
        cap.as_secs()
    ));
    // `--workspace`, like `cargo xtask ci`'s test run, so nothing is rebuilt.
    let mut command = Command::new(&cargo);
    command.args(["test", "--quiet", "--workspace", "--locked"]);
    for (_, test) in FUZZERS {
        command.args(["--test", test]);
    }
    command.env("FUZZ_CASES", cases.to_string());
    if let Some(seed) = &seed {
        command.env("FUZZ_SEED", seed);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("could not start `{cargo}`"))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() >= cap {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "fuzz-smoke took longer than {} s; lower --cases or raise --max-seconds",
                cap.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if !status.success() {
        bail!("fuzz-smoke found a failing input (proptest printed it above, shrunk)");
    }
    say(&format!(
        "fuzz-smoke: no panic in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
