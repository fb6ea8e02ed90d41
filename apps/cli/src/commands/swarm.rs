//! `agent-fork swarm TASK...`: many forks of one agent type at once, with
//! live counts, and a consolidated summary.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use agent_core::{ForkResult, Forker, Swarm, SwarmOptions};
use anyhow::Result;
use planner::RunKind;
use serde::{Deserialize, Serialize};

use crate::commands::common::{self, AgentFlags};
use crate::exit::{Exit, Failure};
use crate::json::{ForkJson, UsageJson};
use crate::live::{Reporter, Scope};
use crate::output::Output;
use crate::runs::{RunArgs, RunOutcome, RunRecorder, resume_hint};
use crate::session::{Session, Traffic};
use crate::settings::Settings;
use crate::views;

/// Arguments of `swarm`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct SwarmArgs {
    /// The tasks, one agent each.
    #[arg(value_name = "TASK")]
    pub(crate) tasks: Vec<String>,
    /// Read more tasks from a file, one per line (blank lines and lines starting with # are skipped).
    #[arg(long, value_name = "FILE")]
    pub(crate) tasks_file: Option<PathBuf>,
    /// Agent type for every task.
    #[arg(
        long = "type",
        short = 't',
        value_name = "TYPE",
        default_value = "general"
    )]
    pub(crate) agent_type: String,
    /// Most agents running at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) concurrency: Option<u32>,
    /// Skip the consolidated summary.
    #[arg(long)]
    pub(crate) no_consolidate: bool,
    /// A context summary given to every agent.
    #[arg(long, value_name = "TEXT")]
    pub(crate) context: Option<String>,
    /// Write each result to this file as one JSON line as soon as it finishes
    /// (results are then not kept in memory: for very large swarms).
    #[arg(long, value_name = "FILE")]
    pub(crate) results_jsonl: Option<PathBuf>,
    /// Cut each result to this many characters in the consolidation prompt.
    #[arg(long, value_name = "CHARS", default_value_t = 2000)]
    pub(crate) consolidation_cap: usize,
}

#[derive(Serialize)]
struct SwarmJson {
    run_id: String,
    swarm_id: String,
    agent_type: String,
    total: usize,
    completed: usize,
    failed: usize,
    results: Vec<ForkJson>,
    consolidated_summary: Option<String>,
    consolidation: Option<ForkJson>,
    usage: UsageJson,
    elapsed_ms: u64,
}

/// Runs `swarm`: validates the input, opens a run, runs the swarm.
pub(crate) async fn run(
    args: &SwarmArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let mut args = args.clone();
    // The run records the tasks themselves, so a resume does not depend on
    // the tasks file still being there.
    args.tasks = gather_tasks(&args)?;
    args.tasks_file = None;
    let settings = settings(&args, flags)?;
    let summary = format!("{} {} tasks", args.tasks.len(), args.agent_type);
    let record = RunArgs {
        command: "swarm".to_owned(),
        flags: flags.clone(),
        params: serde_json::to_value(&args)?,
    };
    let recorder = RunRecorder::start(&settings.runs_dir.value, RunKind::Swarm, &summary, &record)?;
    recorder.settle(execute(&args, flags, traffic, output, &recorder, BTreeMap::new()).await)
}

fn settings(args: &SwarmArgs, flags: &AgentFlags) -> Result<Settings> {
    let mut layer = flags.layer();
    layer.concurrency = args.concurrency.map(|n| n as usize);
    Settings::resolve(layer)
}

/// Runs the swarm's tasks that `earlier` (results of an interrupted run, by
/// task index) does not already hold, and consolidates them all.
pub(crate) async fn execute(
    args: &SwarmArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
    recorder: &Arc<RunRecorder>,
    earlier: BTreeMap<usize, ForkResult>,
) -> Result<Exit> {
    let tasks = gather_tasks(args)?;
    let settings = settings(args, flags)?;
    let catalog = common::catalog(&settings)?;
    let profile = common::profile(&catalog, &args.agent_type, &settings, false, false)?;
    let workspace = common::workspace(&settings, profile.file_tools)?;
    let mut sink = match &args.results_jsonl {
        Some(path) => Some(BufWriter::new(File::create(path).map_err(|error| {
            Failure::usage(format!(
                "cannot write --results-jsonl {}: {error}",
                path.display()
            ))
        })?)),
        None => None,
    };

    let session = Session::open(traffic, settings.requests_per_minute.value).await?;
    let total = tasks.len();
    let mut options = SwarmOptions::new(profile);
    options.concurrency = settings.concurrency.value;
    options.max_turns = settings.max_turns.value;
    options.consolidate = !args.no_consolidate;
    options.consolidation.per_result_cap = args.consolidation_cap.max(1);
    options.context = args.context.clone();
    options.keep_results = sink.is_none();
    options.previous_results = earlier
        .iter()
        .map(|(index, result)| (*index, result.clone()))
        .collect();
    if !output.json() {
        output.line(&views::swarm_header(
            total,
            &options.profile.name,
            options.concurrency,
            output.theme(),
        ));
        if !earlier.is_empty() {
            output.line(&format!(
                "Resuming: {} of {total} results are reused from the interrupted run.",
                earlier.len()
            ));
        }
    }
    let title = format!(
        "🐝 {total} {} agents, {} at once",
        options.profile.name, options.concurrency
    );
    let reporter = Reporter::new(output, Scope::Many { title, total });
    let mut forker = Forker::new(session.client.clone()).with_events(reporter.sink());
    if let Some(workspace) = &workspace {
        forker = forker.with_workspace(workspace.clone());
    }
    let cancel = common::cancel_on_ctrl_c(
        "stopping: no new agents start, running ones are cancelled (Ctrl-C again quits at once)",
    );
    let swarm = Swarm::new(&forker, options);
    let remaining = tasks
        .into_iter()
        .enumerate()
        .filter(|(index, _)| !earlier.contains_key(index));
    let mut write_error = None;
    let outcome = swarm
        .run(
            remaining,
            Some(total),
            &cancel,
            |index, result: &ForkResult| {
                recorder.item(index, result);
                if let Some(file) = &mut sink {
                    let mut line = serde_json::json!({ "index": index });
                    if let (Some(map), Ok(serde_json::Value::Object(fork))) = (
                        line.as_object_mut(),
                        serde_json::to_value(ForkJson::from(result)),
                    ) {
                        map.extend(fork);
                    }
                    if let Err(error) = writeln!(file, "{line}") {
                        write_error.get_or_insert(error);
                    }
                }
            },
        )
        .await;
    if let Some(file) = &mut sink {
        file.flush()?;
    }
    if let Some(error) = write_error {
        return Err(Failure::usage(format!("could not write the results file: {error}")).into());
    }
    if let Some(workspace) = &workspace {
        workspace.shutdown().await;
    }
    reporter.finish();

    let json = SwarmJson {
        run_id: recorder.id().to_string(),
        swarm_id: outcome.swarm_id.to_string(),
        agent_type: args.agent_type.clone(),
        total: outcome.total,
        completed: outcome.completed,
        failed: outcome.failed,
        results: outcome
            .results
            .iter()
            .map(|(_, result)| ForkJson::from(result))
            .collect(),
        consolidated_summary: outcome
            .consolidated
            .as_ref()
            .map(|result| result.text.clone()),
        consolidation: outcome.consolidated.as_ref().map(ForkJson::from),
        usage: UsageJson::from(&outcome.usage),
        elapsed_ms: u64::try_from(reporter.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    if output.json() {
        output.json_value(&json)?;
    } else {
        output.line(&views::swarm_result(
            &outcome,
            reporter.elapsed(),
            output.theme(),
        ));
    }
    let consolidation_failed = outcome
        .consolidated
        .as_ref()
        .is_some_and(|result| !result.is_success());
    let run_outcome = if outcome.cancelled {
        RunOutcome::Interrupted
    } else if outcome.failed > 0 || consolidation_failed {
        RunOutcome::Failed
    } else {
        RunOutcome::Completed
    };
    if let Some(warning) = recorder.finish(run_outcome, &json) {
        output.error_line(&warning);
    }
    if let Some(notice) = session.finish("swarm").await? {
        output.error_line(&notice);
    }
    Ok(match run_outcome {
        RunOutcome::Interrupted => {
            output.error_line(&resume_hint(recorder.id()));
            Exit::Interrupted
        }
        RunOutcome::Failed => Exit::WorkFailed,
        RunOutcome::Completed => Exit::Success,
    })
}

fn gather_tasks(args: &SwarmArgs) -> Result<Vec<String>> {
    let mut tasks: Vec<String> = Vec::new();
    for task in &args.tasks {
        tasks.push(common::non_empty(task, "a task")?);
    }
    if let Some(path) = &args.tasks_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Failure::usage(format!(
                "cannot read --tasks-file {}: {error}",
                path.display()
            ))
        })?;
        tasks.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned),
        );
    }
    if tasks.is_empty() {
        return Err(Failure::usage(
            "no tasks given: agent-fork swarm \"task one\" \"task two\" or --tasks-file FILE",
        )
        .into());
    }
    Ok(tasks)
}
