//! `agent-fork runs report <id> [-o FILE]` and `agent-fork runs serve`: a
//! run seen in a browser, drawn by the run-view crate from the run's signed
//! journal (read under the user's journal key, like `runs show`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use planner::{JournalKey, read_journal};
use render::strip_controls_line;
use run_view::{PageMode, RunView, report_html};

use crate::commands::runs::{journal_failure, run_dir};
use crate::exit::{Exit, Failure};
use crate::json::{RunReportJson, RunsServeJson};
use crate::output::Output;

/// Arguments of `runs report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// The run's id (as `runs list` shows it).
    pub(crate) id: String,
    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

/// Arguments of `runs serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The loopback port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
}

/// Runs `runs report`: one self-contained HTML file (no script, nothing
/// fetched) to `-o FILE`, else to stdout.
pub(crate) fn report(
    args: &ReportArgs,
    base: &Path,
    key: &JournalKey,
    output: &Output,
) -> Result<Exit> {
    if output.json() && args.output.is_none() {
        return Err(Failure::usage(
            "runs report --json needs -o FILE (the report is HTML; --json prints where it went)",
        )
        .into());
    }
    let dir = run_dir(base, &args.id)?;
    let contents =
        read_journal(&dir.join("journal.jsonl"), key).map_err(|error| journal_failure(&error))?;
    if contents.meta().is_none() {
        return Err(Failure::usage(format!(
            "the journal of {} has no start event",
            strip_controls_line(&args.id)
        ))
        .into());
    }
    let view = RunView::from_journal(&contents);
    let html = report_html(&view, &PageMode::Report);
    match &args.output {
        Some(path) => {
            std::fs::write(path, html).map_err(|error| {
                Failure::usage(format!(
                    "cannot write the report to {}: {error}; choose a writable path",
                    path.display()
                ))
            })?;
            if output.json() {
                output.json_value(&RunReportJson {
                    run_id: view.id.clone(),
                    path: path.clone(),
                })?;
            } else {
                output.error_line(&format!(
                    "Wrote the report of run {} to {}.",
                    view.id,
                    path.display()
                ));
            }
        }
        None => output.raw(&html),
    }
    Ok(Exit::Success)
}

/// Runs `runs serve`: the live view of every run, on loopback, until Ctrl-C.
pub(crate) async fn serve(
    args: &ServeArgs,
    base: PathBuf,
    key: JournalKey,
    output: &Output,
) -> Result<Exit> {
    let options = run_view::ServeOptions::default().port(args.port);
    let server = run_view::serve(base.clone(), key, options)
        .await
        .map_err(|error| Failure::usage(error.to_string()))?;
    let url = server.url();
    if output.json() {
        output.json_value(&RunsServeJson {
            url: url.clone(),
            runs_dir: base.clone(),
        })?;
    } else {
        output.line(&url);
        output.error_line(&format!(
            "Serving the runs in {} read-only on loopback; open the address above (it carries the access token). Ctrl-C stops.",
            base.display()
        ));
    }
    // Ctrl-C (or the end of the process) stops the server.
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(Exit::Success)
}
