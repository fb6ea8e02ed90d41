//! `agent-fork runs list|show` and `agent-fork resume [RUN]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agent_core::ForkResult;
use anyhow::Result;
use planner::{Iteration, RunId, RunState, list_runs, load_resume_state, read_journal};
use render::{Panel, key_value};
use serde_json::json;

use crate::commands::common::AgentFlags;
use crate::commands::{fork, plan, swarm, workflow};
use crate::exit::{Exit, Failure};
use crate::output::Output;
use crate::runs::{RunArgs, RunRecorder};
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
}

/// Arguments of `resume`.
#[derive(Debug, clap::Args)]
pub(crate) struct ResumeArgs {
    /// The run to resume; without one, the most recent unfinished run.
    pub(crate) id: Option<String>,
}

fn runs_dir(flags: &AgentFlags) -> Result<PathBuf> {
    Ok(Settings::resolve(flags.layer())?.runs_dir.value)
}

fn run_dir(base: &Path, id: &str) -> Result<PathBuf> {
    let id: RunId = id
        .parse()
        .map_err(|error| Failure::usage(format!("{error}")))?;
    let dir = base.join(id.as_str());
    if !dir.join("journal.jsonl").is_file() {
        return Err(Failure::usage(format!(
            "no run {id} in {}; see `agent-fork runs list`",
            base.display()
        ))
        .into());
    }
    Ok(dir)
}

fn state_word(state: RunState) -> &'static str {
    match state {
        RunState::Unfinished => "unfinished",
        RunState::Interrupted => "interrupted",
        RunState::Completed => "completed",
        RunState::Failed => "failed",
    }
}

/// Runs `runs list` / `runs show`.
pub(crate) fn runs(command: &RunsCommand, flags: &AgentFlags, output: &Output) -> Result<Exit> {
    let base = runs_dir(flags)?;
    match command {
        RunsCommand::List => {
            let runs = if base.is_dir() {
                list_runs(&base).map_err(|error| Failure::usage(error.to_string()))?
            } else {
                Vec::new()
            };
            if output.json() {
                let list: Vec<_> = runs
                    .iter()
                    .map(|run| json!({"run_id": run.id.as_str(), "kind": run.kind.to_string(), "created": run.created, "state": state_word(run.state), "summary": run.summary}))
                    .collect();
                output.json_value(&json!({ "runs_dir": base, "runs": list }))?;
            } else if runs.is_empty() {
                output.line(&format!("No runs in {}.", base.display()));
            } else {
                for run in &runs {
                    output.line(&format!(
                        "{}  {:<11} {:<24} {}",
                        run.id,
                        state_word(run.state),
                        run.kind.to_string(),
                        crate::views::preview(&run.summary, 60)
                    ));
                }
            }
        }
        RunsCommand::Show { id } => {
            let dir = run_dir(&base, id)?;
            let contents = read_journal(&dir.join("journal.jsonl"))
                .map_err(|error| Failure::usage(error.to_string()))?;
            let state = state_word(contents.state());
            let meta = contents
                .meta()
                .ok_or_else(|| Failure::usage(format!("the journal of {id} has no start event")))?;
            if output.json() {
                let result = std::fs::read_to_string(dir.join("result.json"))
                    .ok()
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
                output.json_value(&json!({
                    "run_id": meta.id.as_str(), "kind": meta.kind.to_string(), "created": meta.created,
                    "summary": meta.summary, "state": state, "dir": dir, "events": contents.records.len(),
                    "warnings": contents.warnings, "truncated_tail": contents.truncated_tail, "result": result,
                }))?;
            } else {
                let theme = output.theme();
                let mut lines = vec![
                    key_value("Kind", &meta.kind.to_string(), theme),
                    key_value("Created", &meta.created, theme),
                    key_value("State", state, theme),
                    key_value("Asked", &meta.summary, theme),
                    key_value("Folder", &dir.display().to_string(), theme),
                    key_value("Events", &contents.records.len().to_string(), theme),
                ];
                if contents.truncated_tail {
                    lines.push("The journal ended in a half-written line (ignored).".to_owned());
                }
                for warning in &contents.warnings {
                    lines.push(format!("warning: {warning}"));
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
                    output.line(&format!(
                        "{:>4}  {}  {kind} {detail}",
                        record.seq, record.at
                    ));
                }
            }
        }
    }
    Ok(Exit::Success)
}

/// Runs `resume`: picks up a stopped run where it stopped.
pub(crate) async fn resume(
    args: &ResumeArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let base = runs_dir(flags)?;
    let dir = match &args.id {
        Some(id) => run_dir(&base, id)?,
        None => {
            let latest = if base.is_dir() {
                planner::latest_unfinished(&base)
                    .map_err(|error| Failure::usage(error.to_string()))?
            } else {
                None
            };
            latest
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "no unfinished run in {}; see `agent-fork runs list`",
                        base.display()
                    ))
                })?
                .dir
        }
    };
    let state = load_resume_state(&dir).map_err(|error| Failure::usage(error.to_string()))?;
    if matches!(state.state, RunState::Completed) {
        return Err(Failure::usage(format!(
            "run {} already completed; see `agent-fork runs show {}`",
            state.meta.id, state.meta.id
        ))
        .into());
    }
    let record: RunArgs = serde_json::from_value(state.meta.args.clone()).map_err(|error| {
        Failure::usage(format!(
            "run {} cannot be resumed: its arguments are unreadable ({error})",
            state.meta.id
        ))
    })?;
    let params = record.params.clone();
    let bad = |error: serde_json::Error| {
        Failure::usage(format!("run {} cannot be resumed: {error}", state.meta.id))
    };
    let items: BTreeMap<usize, ForkResult> = state
        .completed_items
        .iter()
        .filter_map(|(index, value)| {
            serde_json::from_value(value.clone())
                .ok()
                .map(|result| (*index, result))
        })
        .collect();
    if !output.json() {
        output.line(&format!(
            "Resuming run {} ({}).",
            state.meta.id, state.meta.kind
        ));
    }
    let recorder = RunRecorder::resume(&dir)?;
    let flags = &record.flags;
    match record.command.as_str() {
        "fork" => {
            let args: fork::ForkArgs = serde_json::from_value(params).map_err(bad)?;
            fork::execute(
                &args,
                flags,
                traffic,
                output,
                &recorder,
                items.get(&0).cloned(),
            )
            .await
        }
        "swarm" => {
            let args: swarm::SwarmArgs = serde_json::from_value(params).map_err(bad)?;
            swarm::execute(&args, flags, traffic, output, &recorder, items).await
        }
        "plan" => {
            let mut args: plan::PlanArgs = serde_json::from_value(params).map_err(bad)?;
            args.plan_file = None;
            plan::execute(
                &args,
                flags,
                traffic,
                output,
                &recorder,
                state.plan.clone(),
                state.completed_steps.clone(),
            )
            .await
        }
        "research-then-code" => {
            let args: workflow::ResearchThenCodeArgs =
                serde_json::from_value(params).map_err(bad)?;
            workflow::execute_research_then_code(&args, flags, traffic, output, &recorder, items)
                .await
        }
        "map-reduce" => {
            let args: workflow::MapReduceArgs = serde_json::from_value(params).map_err(bad)?;
            workflow::execute_map_reduce(&args, flags, traffic, output, &recorder, items).await
        }
        "refine" => {
            let args: workflow::RefineArgs = serde_json::from_value(params).map_err(bad)?;
            // The reviewed attempts, in order from the first, up to a gap.
            let previous = (0..)
                .map_while(|index| {
                    let value = state.completed_items.get(&index)?;
                    serde_json::from_value::<Iteration>(value.clone()).ok()
                })
                .collect();
            workflow::execute_refine(&args, flags, traffic, output, &recorder, previous).await
        }
        other => Err(Failure::usage(format!(
            "run {} was made by `{other}`, which cannot be resumed",
            state.meta.id
        ))
        .into()),
    }
}
