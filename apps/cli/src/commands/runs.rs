//! `agent-fork runs list|show` and `agent-fork resume [RUN]`.
//!
//! A run folder is data, never authority: journals are checked against the
//! user's journal key (a planted or edited one is refused, and listed as
//! untrusted), everything shown from a run passes through
//! [`render::strip_controls`], and `resume` runs with the settings and flags
//! it is given now, stopping when they differ from the run's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent_core::ForkResult;
use anyhow::Result;
use planner::{
    Iteration, JournalError, RunId, RunLock, RunState, list_runs, load_resume_state, read_journal,
    read_result,
};
use render::{Panel, key_value, strip_controls_line};
use serde_json::json;

use crate::commands::common::AgentFlags;
use crate::commands::{fork, plan, swarm, workflow};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::Output;
use crate::run_record::{CommandArgs, RecordedSettings, RunArgs, RunRecorder, journal_key};
use crate::session::Traffic;
use crate::settings::Settings;

/// `runs` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RunsCommand {
    /// List runs, newest first, with their state.
    List,
    /// Show one run: what it was, where it stands, its journal's events.
    Show {
        /// The run's id (as `runs list` shows it).
        id: String,
    },
    /// Cancel a `swarm --batch` run's job on Gemini's side (answers already
    /// made are kept; collect them with `agent-fork resume ID`).
    Cancel {
        /// The run's id.
        id: String,
    },
}

/// Arguments of `resume`.
#[derive(Debug, clap::Args)]
pub(crate) struct ResumeArgs {
    /// The run to resume; without one, the most recent unfinished run.
    pub(crate) id: Option<String>,
    /// Resume even when the settings now (workspace, --allow-shell,
    /// --no-tools, --model, --thinking) differ from those the run was
    /// started with. The run always uses the settings now; without this
    /// flag a difference is listed and nothing runs.
    #[arg(long)]
    pub(crate) accept_changed_settings: bool,
}

pub(crate) fn run_dir(base: &Path, id: &str) -> Result<PathBuf> {
    let id: RunId = id
        .parse()
        .map_err(|error| Failure::usage(strip_controls_line(&format!("{error}"))))?;
    let dir = base.join(id.as_str());
    if std::fs::symlink_metadata(dir.join("journal.jsonl")).is_err() {
        return Err(Failure::usage(format!(
            "no run {id} in {}; see `agent-fork runs list`",
            base.display()
        ))
        .into());
    }
    Ok(dir)
}

/// A journal error as one line a terminal can show safely.
fn journal_failure(error: &JournalError) -> anyhow::Error {
    Failure::usage(strip_controls_line(&error.to_string())).into()
}

fn state_word(state: RunState) -> &'static str {
    match state {
        RunState::Unfinished => "unfinished",
        RunState::Interrupted => "interrupted",
        RunState::Completed => "completed",
        RunState::Failed => "failed",
    }
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|name| strip_controls_line(&name.to_string_lossy()))
        .unwrap_or_default()
}

/// Runs `runs list` / `runs show`.
pub(crate) fn runs(command: &RunsCommand, flags: &AgentFlags, output: &Output) -> Result<Exit> {
    let base = Settings::resolve(flags.layer())?.runs_dir.value;
    let key = journal_key()?;
    match command {
        RunsCommand::List => {
            let listing = list_runs(&base, &key).map_err(|error| journal_failure(&error))?;
            if output.json() {
                let list: Vec<_> = listing
                    .runs
                    .iter()
                    .map(|run| json!({"run_id": run.id.as_str(), "kind": run.kind.to_string(), "created": run.created, "state": state_word(run.state), "summary": run.summary}))
                    .collect();
                let untrusted: Vec<_> = listing
                    .untrusted
                    .iter()
                    .map(|run| json!({"dir": run.dir, "state": "untrusted", "reason": run.reason}))
                    .collect();
                output.json_value(
                    &json!({ "runs_dir": base, "runs": list, "untrusted": untrusted }),
                )?;
            } else if listing.runs.is_empty() && listing.untrusted.is_empty() {
                output.line(&format!("No runs in {}.", base.display()));
            } else {
                for run in &listing.runs {
                    output.line(&format!(
                        "{}  {:<11} {:<24} {}",
                        run.id,
                        state_word(run.state),
                        run.kind.to_string(),
                        render::humanize::truncate(&strip_controls_line(&run.summary), 60)
                    ));
                }
                for run in &listing.untrusted {
                    output.line(&format!(
                        "{}  {:<11} {}",
                        render::humanize::truncate(&folder_name(&run.dir), 40),
                        "untrusted",
                        render::humanize::truncate(&strip_controls_line(&run.reason), 80)
                    ));
                }
            }
        }
        RunsCommand::Cancel { .. } => {
            // Needs the network: dispatched to `batch::cancel` by main.
            return Err(Failure::usage("runs cancel is handled elsewhere").into());
        }
        RunsCommand::Show { id } => {
            let dir = run_dir(&base, id)?;
            let contents = read_journal(&dir.join("journal.jsonl"), &key)
                .map_err(|error| journal_failure(&error))?;
            let state = state_word(contents.state());
            let meta = contents
                .meta()
                .ok_or_else(|| Failure::usage(format!("the journal of {id} has no start event")))?;
            let (result, result_warning) = match read_result(&dir, &contents) {
                Ok(result) => (result, None),
                Err(error) => (None, Some(strip_controls_line(&error.to_string()))),
            };
            if output.json() {
                output.json_value(&json!({
                    "run_id": meta.id.as_str(), "kind": meta.kind.to_string(), "created": meta.created,
                    "summary": meta.summary, "state": state, "dir": dir, "events": contents.records.len(),
                    "warnings": contents.warnings, "truncated_tail": contents.truncated_tail, "result": result,
                    "batch": contents.batch().map(|batch| batch_json(&batch)),
                }))?;
            } else {
                let theme = output.theme();
                let clean = |text: &str| strip_controls_line(text);
                let mut lines = vec![
                    key_value("Kind", &meta.kind.to_string(), theme),
                    key_value("Created", &clean(&meta.created), theme),
                    key_value("State", state, theme),
                    key_value("Asked", &clean(&meta.summary), theme),
                    key_value("Folder", &clean(&dir.display().to_string()), theme),
                    key_value("Events", &contents.records.len().to_string(), theme),
                ];
                if let Some(batch) = contents.batch() {
                    lines.push(key_value("Batch job", &clean(&batch_line(&batch)), theme));
                }
                if contents.truncated_tail {
                    lines.push("The journal ended in a half-written line (ignored).".to_owned());
                }
                for warning in contents.warnings.iter().chain(&result_warning) {
                    lines.push(format!("warning: {}", clean(warning)));
                }
                if matches!(
                    contents.state(),
                    RunState::Unfinished | RunState::Interrupted
                ) {
                    lines.push(format!("Resume with: agent-fork resume {}", meta.id));
                }
                output.line(
                    &Panel::new(lines.join("\n"))
                        .title(format!("Run {}", meta.id))
                        .render(theme),
                );
                for record in &contents.records {
                    let event = serde_json::to_value(&record.event).unwrap_or_default();
                    let kind = event
                        .get("type")
                        .and_then(|value| value.as_str())
                        .unwrap_or("event");
                    let detail = ["id", "index", "status", "error", "reason"]
                        .iter()
                        .filter_map(|key| {
                            event.get(*key).map(|value| {
                                format!(
                                    "{key}={}",
                                    value
                                        .as_str()
                                        .map_or_else(|| value.to_string(), str::to_owned)
                                )
                            })
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    output.line(&clean(&format!(
                        "{:>4}  {}  {kind} {detail}",
                        record.seq, record.at
                    )));
                }
            }
        }
    }
    Ok(Exit::Success)
}

/// A run's batch job in one line, as last journalled: name, state,
/// counts, when seen.
fn batch_line(batch: &planner::BatchRecord) -> String {
    let name = batch.name.as_ref().map_or_else(
        || "(create sent, answer not journalled)".to_owned(),
        ToString::to_string,
    );
    let state = match (&batch.collected, &batch.last_seen) {
        (Some(state), _) => format!("{}, collected", state.word()),
        (None, Some(seen)) => format!(
            "{} ({} of {} done, {} failed, as of {})",
            seen.state.word(),
            seen.succeeded,
            batch.requests,
            seen.failed,
            seen.at
        ),
        (None, None) => format!("submitted, {} requests", batch.requests),
    };
    format!("{name}: {state}")
}

/// `runs show --json`'s `batch` object.
fn batch_json(batch: &planner::BatchRecord) -> serde_json::Value {
    json!({
        "name": batch.name.as_ref().map(ToString::to_string),
        "display_name": batch.display_name,
        "model": batch.model,
        "requests": batch.requests,
        "adopted": batch.adopted,
        "state": batch.last_seen.as_ref().map(|seen| seen.state.word().to_owned()),
        "succeeded": batch.last_seen.as_ref().map(|seen| seen.succeeded),
        "failed": batch.last_seen.as_ref().map(|seen| seen.failed),
        "seen_at": batch.last_seen.as_ref().map(|seen| seen.at.clone()),
        "collected": batch.collected.as_ref().map(|state| state.word().to_owned()),
    })
}

/// The run `id` names, or the latest unfinished run in `base`.
fn chosen_run(id: Option<&str>, base: &Path, key: &planner::JournalKey) -> Result<PathBuf> {
    match id {
        Some(id) => run_dir(base, id),
        None => Ok(planner::latest_unfinished(base, key)
            .map_err(|error| journal_failure(&error))?
            .ok_or_else(|| {
                Failure::usage(format!(
                    "no unfinished run in {}; see `agent-fork runs list`",
                    base.display()
                ))
            })?
            .dir),
    }
}

/// The security rule of `resume`: the run goes on with the settings given
/// now; when they differ from the run's, each difference is listed and the
/// resume stops unless `--accept-changed-settings` is given.
fn check_settings(
    record: &RunArgs,
    settings: &Settings,
    args: &ResumeArgs,
    id: &RunId,
    output: &Output,
) -> Result<()> {
    let differences = record.settings.differences(&RecordedSettings::of(settings));
    if differences.is_empty() {
        return Ok(());
    }
    for line in &differences {
        output.error_line(&strip_controls_line(line));
    }
    if !args.accept_changed_settings {
        return Err(Failure::usage(format!(
            "run {id} was started with other settings (listed above); give the same flags again, or pass --accept-changed-settings to resume it with the settings now"
        ))
        .into());
    }
    output.error_line("resuming with the settings now (--accept-changed-settings)");
    Ok(())
}

/// Runs `resume`: picks up a stopped run where it stopped, with the
/// settings and flags given now.
pub(crate) async fn resume(
    args: &ResumeArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let settings = Settings::resolve(flags.layer())?;
    let base = settings.runs_dir.value.clone();
    let key = journal_key()?;
    let dir = chosen_run(args.id.as_deref(), &base, &key)?;
    // The lock first, so nothing changes the run between reading and resuming it.
    let lock = RunLock::acquire(&dir).map_err(|error| journal_failure(&error))?;
    let state = load_resume_state(&dir, &key).map_err(|error| journal_failure(&error))?;
    if matches!(state.state, RunState::Completed) {
        return Err(Failure::usage(format!(
            "run {} already completed; see `agent-fork runs show {}`",
            state.meta.id, state.meta.id
        ))
        .into());
    }
    // A command this version does not know (or one that opens no run) is
    // an unknown variant here; the journal's text is shown stripped.
    let record: RunArgs = serde_json::from_value(state.meta.args.clone()).map_err(|error| {
        Failure::usage(format!(
            "run {} cannot be resumed: its arguments are unreadable ({})",
            state.meta.id,
            strip_controls_line(&error.to_string())
        ))
    })?;
    check_settings(&record, &settings, args, &state.meta.id, output)?;
    if !output.json() {
        output.line(&format!(
            "Resuming run {} ({}).",
            state.meta.id, state.meta.kind
        ));
    }
    let recorder = RunRecorder::resume(lock, &key)?;
    let resumed = Resumed {
        flags,
        traffic,
        output,
        recorder: &recorder,
        state: &state,
    };
    resumed.continue_with(record.command).await
}

/// A stopped run, reopened, with what resuming it needs.
struct Resumed<'a> {
    flags: &'a AgentFlags,
    traffic: &'a Traffic,
    output: &'a Output,
    recorder: &'a Arc<RunRecorder>,
    state: &'a planner::journal::ResumeState,
}

impl Resumed<'_> {
    /// Continues the run's command where it stopped, reusing its finished
    /// work. The match is exhaustive: a new command that opens runs must be
    /// given a way to continue here.
    async fn continue_with(&self, command: CommandArgs) -> Result<Exit> {
        let Self {
            flags,
            traffic,
            output,
            recorder,
            state,
        } = *self;
        let items: BTreeMap<usize, ForkResult> = state
            .completed_items
            .iter()
            .filter_map(|(index, value)| {
                serde_json::from_value(value.clone())
                    .ok()
                    .map(|result| (*index, result))
            })
            .collect();
        match command {
            CommandArgs::Fork(mut args) => {
                // The context was journalled as text when the run started.
                args.context_file = None;
                let earlier = items.get(&0).cloned();
                let context = Context::resolve(fork::layer(&args, flags), traffic, output)?;
                fork::execute(&args, &context, recorder, earlier).await
            }
            CommandArgs::Swarm(mut args) => {
                args.resuming = true;
                let context = Context::resolve(swarm::layer(&args, flags), traffic, output)?;
                swarm::execute(&args, &context, recorder, items).await
            }
            CommandArgs::Plan(mut args) => {
                args.plan_file = None;
                let (plan, done) = (state.plan.clone(), state.completed_steps.clone());
                let context = Context::resolve(plan::layer(&args, flags), traffic, output)?;
                plan::execute(&args, &context, recorder, plan, done).await
            }
            CommandArgs::ResearchThenCode(args) => {
                let context = Context::resolve(workflow::layer(flags, None), traffic, output)?;
                workflow::execute_research_then_code(&args, &context, recorder, items).await
            }
            CommandArgs::MapReduce(args) => {
                let layer = workflow::layer(flags, args.concurrency);
                let context = Context::resolve(layer, traffic, output)?;
                workflow::execute_map_reduce(&args, &context, recorder, items, true).await
            }
            CommandArgs::Refine(args) => {
                // The reviewed attempts, in order from the first, up to a gap.
                let previous = (0..)
                    .map_while(|index| {
                        let value = state.completed_items.get(&index)?;
                        serde_json::from_value::<Iteration>(value.clone()).ok()
                    })
                    .collect();
                let context = Context::resolve(workflow::layer(flags, None), traffic, output)?;
                workflow::execute_refine(&args, &context, recorder, previous).await
            }
        }
    }
}
