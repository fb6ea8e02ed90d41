//! `agent-fork swarm TASK...`: many forks of one agent type at once, with
//! live counts, and a consolidated summary.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use agent_core::{ForkResult, Forker, Swarm, SwarmOptions};
use anyhow::Result;
use planner::RunKind;
use serde::{Deserialize, Serialize};

use crate::commands::common::{self, AgentFlags};
use crate::exit::{Exit, Failure};
use crate::json::{ForkJson, UsageJson};
use crate::live::{Reporter, Scope};
use crate::output::Output;
use crate::runs::{RunOutcome, RunRecorder, resume_hint};
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
    /// In a run's recorded arguments: the tasks file was copied into the
    /// run folder as `tasks.txt` and holds this many tasks (they come after
    /// `tasks`), counted once when the run started.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file_tasks: Option<usize>,
}

/// The run folder's copy of `--tasks-file`: a resume needs neither the
/// original file nor the list of tasks in the journal.
const TASKS_FILE: &str = "tasks.txt";

/// One line of `--results-jsonl`: the task's index, then the fork's fields.
#[derive(Serialize)]
struct ResultLine {
    index: usize,
    #[serde(flatten)]
    fork: ForkJson,
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
///
/// The tasks file is read lazily, never held whole: it is checked and
/// counted here, copied into the run folder (so a resume does not depend on
/// it), and its tasks are read from the copy as the swarm pulls them.
pub(crate) async fn run(
    args: &SwarmArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let mut args = args.clone();
    args.tasks = args
        .tasks
        .iter()
        .map(|task| common::non_empty(task, "a task"))
        .collect::<Result<_>>()?;
    let tasks_file = args.tasks_file.take();
    args.file_tasks = match &tasks_file {
        Some(path) => Some(count_file_tasks(path, "--tasks-file")?),
        None => None,
    };
    let total = args.tasks.len() + args.file_tasks.unwrap_or(0);
    if total == 0 {
        return Err(Failure::usage(
            "no tasks given: agent-fork swarm \"task one\" \"task two\" or --tasks-file FILE",
        )
        .into());
    }
    let settings = settings(&args, flags)?;
    let summary = format!("{total} {} tasks", args.agent_type);
    let runs = &settings.runs_dir.value;
    let recorder = RunRecorder::start(runs, RunKind::Swarm, &summary, "swarm", flags, &args)?;
    let copied = match &tasks_file {
        Some(path) => std::fs::copy(path, recorder.dir().join(TASKS_FILE))
            .map(drop)
            .map_err(|error| {
                Failure::usage(format!(
                    "cannot read --tasks-file {}: {error}",
                    path.display()
                ))
                .into()
            }),
        None => Ok(()),
    };
    let result = match copied {
        Ok(()) => execute(&args, flags, traffic, output, &recorder, BTreeMap::new()).await,
        Err(error) => Err(error),
    };
    recorder.settle(result)
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
    let tasks_file = args
        .file_tasks
        .is_some()
        .then(|| recorder.dir().join(TASKS_FILE));
    let total = args.tasks.len() + args.file_tasks.unwrap_or(0);
    let settings = settings(args, flags)?;
    let catalog = common::catalog(&settings)?;
    let profile = common::profile(&catalog, &args.agent_type, &settings, false, false)?;
    let (consolidator, consolidator_thinking) = agent_core::role_default("swarm_consolidator");
    common::preflight(
        [
            (profile.model.as_str(), profile.thinking),
            (consolidator.as_str(), consolidator_thinking),
        ],
        common::today(),
        output,
    )?;
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
    let reused: BTreeSet<usize> = earlier.keys().copied().collect();
    let mut write_error = None;
    if let Some(file) = &mut sink {
        // The file holds every result of the run, the reused ones first.
        for (index, result) in &earlier {
            if let Err(error) = write_result_line(file, *index, result) {
                write_error.get_or_insert(error);
            }
        }
    }
    let mut options = SwarmOptions::new(profile);
    options.concurrency = settings.concurrency.value;
    options.max_turns = settings.max_turns.value;
    options.consolidate = !args.no_consolidate;
    options.consolidation.per_result_cap = args.consolidation_cap.max(1);
    options.context = args.context.clone();
    options.keep_results = sink.is_none();
    options.previous_results = earlier.into_iter().collect();
    if !output.json() {
        output.line(&views::swarm_header(
            total,
            &options.profile.name,
            options.concurrency,
            output.theme(),
        ));
        if !reused.is_empty() {
            output.line(&format!(
                "Resuming: {} of {total} results are reused from the interrupted run.",
                reused.len()
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
    // Tasks are read as the swarm pulls them, one line at a time.
    let read_error = OnceLock::new();
    let file_tasks = match &tasks_file {
        Some(path) => Some(open_tasks(path, "the tasks file")?),
        None => None,
    };
    let remaining = args
        .tasks
        .iter()
        .cloned()
        .chain(
            file_tasks
                .into_iter()
                .flat_map(BufRead::lines)
                .map_while(|line| line.map_err(|error| read_error.set(error)).ok())
                .filter_map(|line| task_line(&line).map(str::to_owned)),
        )
        .enumerate()
        .filter(|(index, _)| !reused.contains(index));
    let outcome = swarm
        .run(
            remaining,
            Some(total),
            &cancel,
            |index, result: &ForkResult| {
                recorder.item(index, result);
                if let Some(file) = &mut sink {
                    if let Err(error) = write_result_line(file, index, result) {
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
    if let Some(error) = read_error.get() {
        return Err(Failure::usage(format!("could not read the tasks file: {error}")).into());
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

/// Writes one `--results-jsonl` line.
fn write_result_line(file: &mut impl Write, index: usize, result: &ForkResult) -> io::Result<()> {
    let line = ResultLine {
        index,
        fork: ForkJson::from(result),
    };
    serde_json::to_writer(&mut *file, &line)?;
    file.write_all(b"\n")
}

/// The task on a line of a tasks file: trimmed; `None` for blank lines and
/// lines starting with `#`.
fn task_line(line: &str) -> Option<&str> {
    let task = line.trim();
    (!task.is_empty() && !task.starts_with('#')).then_some(task)
}

fn open_tasks(path: &Path, what: &str) -> Result<BufReader<File>> {
    let file = File::open(path).map_err(|error| {
        Failure::usage(format!("cannot read {what} {}: {error}", path.display()))
    })?;
    Ok(BufReader::new(file))
}

/// How many tasks a tasks file holds, reading it line by line.
fn count_file_tasks(path: &Path, what: &str) -> Result<usize> {
    let mut count = 0;
    for line in open_tasks(path, what)?.lines() {
        let line = line.map_err(|error| {
            Failure::usage(format!("cannot read {what} {}: {error}", path.display()))
        })?;
        count += usize::from(task_line(&line).is_some());
    }
    Ok(count)
}
