//! `agent-fork swarm TASK...`: many forks of one agent type at once, with
//! live counts, and a consolidated summary.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use agent_core::{AgentProfile, ForkResult, Swarm, SwarmOptions};
use anyhow::Result;
use planner::WorkflowStatus;
use planner::journal::HashingWriter;
use serde::{Deserialize, Serialize};

use crate::commands::common::{self, AgentFlags};
use crate::context::{Context, Run, Wiring};
use crate::exit::{Exit, Failure};
use crate::finish::{Outcome, finish};
use crate::json::{
    CostJson, Counts, ForkJson, ResultLine, RunStatus, Status, SwarmJson, UsageJson,
};
use crate::live::Scope;
use crate::output::Output;
use crate::run_record::{CommandArgs, RunRecorder};
use crate::session::Traffic;
use crate::settings::Layer;

/// Arguments of `swarm`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct SwarmArgs {
    /// The tasks, one agent each.
    #[arg(value_name = "TASK")]
    pub(crate) tasks: Vec<String>,
    /// Read more tasks from a file, one per line (blank lines and lines starting with # are skipped); `-` reads them from stdin (a pipe works).
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
    /// (results are then not kept in memory: for very large swarms). A
    /// resume rewrites it only if it is still a regular file (not a link).
    #[arg(long, value_name = "FILE")]
    pub(crate) results_jsonl: Option<PathBuf>,
    /// Send the tasks as one Gemini Batch API job (half price, results
    /// within a day, durable across restarts) instead of live calls; each
    /// task is one model call (agents that need a tool loop are refused).
    /// Without --wait it returns once the job is submitted; collect it with
    /// `agent-fork resume RUN`.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) batch: bool,
    /// With --batch: wait for the job (a progress line on stderr; Ctrl-C
    /// detaches, the job keeps running), then collect and consolidate.
    #[arg(long, requires = "batch")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) wait: bool,
    /// Cut each result to this many characters in the consolidation prompt.
    #[arg(long, value_name = "CHARS", default_value_t = 2000)]
    pub(crate) consolidation_cap: usize,
    /// In a run's recorded arguments: the tasks file was copied into the
    /// run folder as `tasks.txt` and holds this many tasks (they come after
    /// `tasks`), counted once when the run started.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file_tasks: Option<usize>,
    /// In a run's recorded arguments: the SHA-256 (hex) of `tasks.txt`, so a
    /// resume uses the copy only if it is the one the run made.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tasks_sha256: Option<String>,
    /// Set by `resume`: output paths from the journal are checked again.
    #[arg(skip)]
    #[serde(skip)]
    pub(crate) resuming: bool,
}

/// The run folder's copy of `--tasks-file`: a resume needs neither the
/// original file nor the list of tasks in the journal.
pub(crate) const TASKS_FILE: &str = "tasks.txt";

/// Runs `swarm`: validates the input, opens a run, runs the swarm.
///
/// The tasks file (or stdin, for `-`) is read once, streamed, never held
/// whole: it is copied line by line into a temporary file beside the runs
/// (counting and hashing its tasks on the way), the copy becomes the run
/// folder's `tasks.txt` (so a resume depends on neither the original nor
/// the journal), and the swarm reads its tasks from the copy as it pulls
/// them.
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
    args.resuming = false;
    let context = Context::resolve(layer(&args, flags), traffic, output)?;
    let tasks_file = args.tasks_file.take();
    let copy = match &tasks_file {
        Some(path) => Some(copy_tasks(path, &context.settings.runs_dir.value)?),
        None => None,
    };
    args.file_tasks = copy.as_ref().map(|copy| copy.count);
    args.tasks_sha256 = copy.as_ref().map(|copy| copy.sha256.clone());
    let total = args.tasks.len() + args.file_tasks.unwrap_or(0);
    if total == 0 {
        return Err(Failure::usage(
            "no tasks given: agent-fork swarm \"task one\" \"task two\" or --tasks-file FILE",
        )
        .into());
    }
    // Recorded absolute, so a resume from another folder writes the same file.
    if let Some(path) = &args.results_jsonl {
        args.results_jsonl = Some(std::path::absolute(path).unwrap_or_else(|_| path.clone()));
    }
    let summary = format!("{total} {} tasks", args.agent_type);
    let command = CommandArgs::Swarm(args.clone());
    let run = context.open_run(&summary, command, flags)?;
    let recorder = &run.recorder;
    let copied = match copy {
        Some(copy) => copy
            .file
            .persist(recorder.dir().join(TASKS_FILE))
            .map(drop)
            .map_err(|error| {
                Failure::usage(format!("cannot keep the tasks in the run folder: {error}")).into()
            }),
        None => Ok(()),
    };
    let result = match copied {
        Ok(()) => execute(&args, &run, BTreeMap::new()).await,
        Err(error) => Err(error),
    };
    recorder.delete_if_never_started(result)
}

/// The tasks of `--tasks-file`, copied once.
struct TasksCopy {
    file: tempfile::NamedTempFile,
    count: usize,
    sha256: String,
}

/// Copies the tasks file (`-`: stdin) into a temporary file in `runs`,
/// reading it once, line by line, counting its tasks and hashing the copy.
fn copy_tasks(path: &Path, runs: &Path) -> Result<TasksCopy> {
    let what = if path == Path::new("-") {
        "stdin".to_owned()
    } else {
        format!("--tasks-file {}", path.display())
    };
    let source: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(open_tasks(path, "--tasks-file")?)
    };
    std::fs::create_dir_all(runs).map_err(|error| {
        Failure::usage(format!(
            "cannot create the runs folder {}: {error}; choose a writable folder with AGENT_FORK_RUNS_DIR or [defaults] runs_dir",
            runs.display()
        ))
    })?;
    let file = tempfile::Builder::new()
        .prefix(".tasks-")
        .tempfile_in(runs)
        .map_err(|error| Failure::usage(format!("cannot copy the tasks: {error}")))?;
    let mut out = HashingWriter::new(BufWriter::new(file.as_file()));
    let mut count = 0;
    for line in source.lines() {
        let line = line.map_err(|error| Failure::usage(format!("cannot read {what}: {error}")))?;
        count += usize::from(task_line(&line).is_some());
        out.write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|error| Failure::usage(format!("cannot copy the tasks: {error}")))?;
    }
    let (_, sha256) = out
        .finish()
        .map_err(|error| Failure::usage(format!("cannot copy the tasks: {error}")))?;
    Ok(TasksCopy {
        file,
        count,
        sha256,
    })
}

/// Checks that `tasks.txt` in the run folder is the copy the run made.
pub(crate) fn check_tasks_copy(path: &Path, expected: &str) -> Result<()> {
    let mismatch = || {
        Failure::usage(format!(
            "{} is not the tasks file this run saved; the run cannot be resumed",
            path.display()
        ))
    };
    let meta = std::fs::symlink_metadata(path).map_err(|_| mismatch())?;
    if !meta.is_file() {
        return Err(mismatch().into());
    }
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut File::open(path).map_err(|_| mismatch())?, &mut hashing)
        .map_err(|_| mismatch())?;
    if hashing.finish().map_err(|_| mismatch())?.1 == expected {
        Ok(())
    } else {
        Err(mismatch().into())
    }
}

/// Opens the `--results-jsonl` file of a resumed run: the path comes from
/// the journal, so it is written only if it is absolute and, when it
/// exists, a regular file (not a symbolic link, FIFO or device); a new file
/// is created only where none exists.
fn reopen_results(path: &Path) -> Result<File> {
    let refuse = |why: &str| {
        Failure::usage(format!(
            "the run's --results-jsonl {} {why}; it is not written (start the swarm again to choose another file)",
            path.display()
        ))
    };
    if !path.is_absolute() {
        return Err(refuse("is not an absolute path").into());
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(refuse("is no longer a regular file").into()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(refuse(&format!("cannot be checked ({error})")).into()),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Refuse a link swapped in after the check.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|error| refuse(&format!("cannot be opened ({error})")))?;
    if !file.metadata().is_ok_and(|meta| meta.is_file()) {
        return Err(refuse("is no longer a regular file").into());
    }
    Ok(file)
}

/// The settings layer of `swarm`'s flags.
pub(crate) fn layer(args: &SwarmArgs, flags: &AgentFlags) -> Layer {
    flags.layer_with_concurrency(args.concurrency)
}

/// Runs the swarm's tasks that `earlier` (results of an interrupted run, by
/// task index) does not already hold, and consolidates them all.
pub(crate) async fn execute(
    args: &SwarmArgs,
    run: &Run<'_>,
    earlier: BTreeMap<usize, ForkResult>,
) -> Result<Exit> {
    if args.batch {
        return crate::commands::batch::execute_swarm(args, run, earlier).await;
    }
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let tasks_file = args
        .file_tasks
        .is_some()
        .then(|| recorder.dir().join(TASKS_FILE));
    let total = args.tasks.len() + args.file_tasks.unwrap_or(0);
    let profile = checked_profile(args, context)?;
    let workspace = context.workspace(profile.file_tools)?;
    if let (Some(path), Some(sha256)) = (&tasks_file, &args.tasks_sha256) {
        check_tasks_copy(path, sha256)?;
    }
    let mut sink = ResultsSink::open(args, recorder, &earlier)?;
    let title = format!(
        "🐝 {total} {} agents, {} at once",
        profile.name, context.settings.concurrency.value
    );
    let wiring = context
        .wire(workspace, Scope::Many { title, total })
        .await?;
    let reused: BTreeSet<usize> = earlier.keys().copied().collect();
    let options = swarm_options(args, context, profile, sink.file.is_none(), earlier);
    header(&options, total, reused.len(), output);
    let cancel = run.cancel(&wiring.reporter);
    let swarm = Swarm::new(&wiring.forker, options);
    let read_error = OnceLock::new();
    let file_tasks = match &tasks_file {
        Some(path) => Some(open_tasks(path, "the tasks file")?),
        None => None,
    };
    let remaining = remaining_tasks(args, file_tasks, &reused, &read_error);
    let outcome = swarm
        .run(remaining, Some(total), &cancel, |index, result| {
            sink.record(index, result);
        })
        .await;
    let counts = sink.close()?.against(total);
    if let Some(error) = read_error.get() {
        return Err(Failure::usage(format!("could not read the tasks file: {error}")).into());
    }
    conclude(args, run, wiring, outcome, counts, total).await
}

/// Ends a live swarm: closes the session, shows the result with the whole
/// run's cost and finishes the run.
async fn conclude(
    args: &SwarmArgs,
    run: &Run<'_>,
    wiring: Wiring,
    mut outcome: agent_core::SwarmOutcome,
    counts: Counts,
    total: usize,
) -> Result<Exit> {
    let (recorder, output) = (&run.recorder, run.context.output);
    let reporter = wiring.reporter.clone();
    let elapsed = reporter.elapsed();
    let session = wiring.close().await;
    // The whole run's cost: every session's calls, consolidation included.
    if let Some(spending) = &session.spending {
        outcome.cost = spending.run_cost();
    }
    let status = swarm_status(&outcome);
    let json = swarm_json(args, recorder, &outcome, status, counts, elapsed);
    show(&outcome, &json, total, elapsed, output)?;
    let outcome = end_of(&outcome, status, total, output);
    finish(recorder, Some(session), "swarm", outcome, &json, output).await
}

/// The swarm's result: its JSON document, only the answer (`-q`), or the
/// panel (the retries are said by [`finish`], as for every run).
pub(crate) fn show(
    outcome: &agent_core::SwarmOutcome,
    json: &SwarmJson,
    total: usize,
    elapsed: std::time::Duration,
    output: &Output,
) -> Result<()> {
    if output.json() {
        return output.json_value(json);
    }
    if output.quiet() {
        quiet_answer(outcome, output);
        return Ok(());
    }
    output.line(&views::swarm_result(
        outcome,
        total,
        elapsed,
        output.theme(),
    ));
    Ok(())
}

/// How the run ends: a refused key stopped the swarm at once (an API
/// error, exit 3, said on stderr), else the swarm's status.
fn end_of(
    outcome: &agent_core::SwarmOutcome,
    status: WorkflowStatus,
    total: usize,
    output: &Output,
) -> Outcome {
    match &outcome.auth_error {
        Some(error) => {
            output.error_line(&format!(
                "error: Gemini refused the API key, so the swarm stopped at the first refusal ({} of {total} tasks not started): {}",
                total - outcome.total,
                render::strip_controls_line(&error.message)
            ));
            Outcome::failed(Exit::Api)
        }
        None => Outcome::of(status),
    }
}

/// `-q`: only the answer: the consolidated summary, else each successful
/// result's text.
fn quiet_answer(outcome: &agent_core::SwarmOutcome, output: &Output) {
    let texts: Vec<&str> = match &outcome.consolidated {
        Some(consolidated) => vec![consolidated.text.as_str()],
        None => outcome
            .results
            .iter()
            .filter(|(_, result)| result.is_success())
            .map(|(_, result)| result.text.as_str())
            .collect(),
    };
    for text in texts.into_iter().filter(|text| !text.trim().is_empty()) {
        output.line(&render::strip_controls(text.trim_end()));
    }
}

/// The tasks not in `reused`, by index: the arguments' first, then the
/// tasks file's, read as the swarm pulls them, one line at a time (a read
/// error ends them and is kept in `read_error`).
fn remaining_tasks<'a>(
    args: &'a SwarmArgs,
    file_tasks: Option<BufReader<File>>,
    reused: &'a BTreeSet<usize>,
    read_error: &'a OnceLock<io::Error>,
) -> impl Iterator<Item = (usize, String)> + 'a {
    args.tasks
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
        .filter(|(index, _)| !reused.contains(index))
}

/// The swarm's agent profile, checked with its consolidator's against the
/// catalog before any call.
pub(crate) fn checked_profile(args: &SwarmArgs, context: &Context<'_>) -> Result<AgentProfile> {
    let profile = context.profile(&args.agent_type, false, false)?;
    let (consolidator, consolidator_thinking) = agent_core::role_default("swarm_consolidator");
    common::preflight(
        [
            (profile.model.as_str(), profile.thinking),
            (consolidator.as_str(), consolidator_thinking),
        ],
        common::today(),
        context.output,
    )?;
    Ok(profile)
}

/// The swarm's options from the flags and settings; `earlier` results are
/// handed back to it, not run again.
pub(crate) fn swarm_options(
    args: &SwarmArgs,
    context: &Context<'_>,
    profile: AgentProfile,
    keep_results: bool,
    earlier: BTreeMap<usize, ForkResult>,
) -> SwarmOptions {
    let mut options = SwarmOptions::new(profile);
    options.concurrency = context.settings.concurrency.value;
    options.max_turns = context.settings.max_turns.value;
    options.consolidate = !args.no_consolidate;
    options.consolidation.per_result_cap = args.consolidation_cap.max(1);
    options.context = args.context.clone();
    options.keep_results = keep_results;
    options.previous_results = earlier.into_iter().collect();
    options
}

/// Where each finished task goes: the journal, the counts of the `--json`
/// document, and the `--results-jsonl` file when there is one.
pub(crate) struct ResultsSink<'a> {
    recorder: &'a RunRecorder,
    pub(crate) file: Option<BufWriter<File>>,
    counts: Counts,
    write_error: Option<io::Error>,
}

impl<'a> ResultsSink<'a> {
    /// Opens the results file (if any) and counts and writes the `earlier`
    /// results first (the file holds every result of the run).
    pub(crate) fn open(
        args: &SwarmArgs,
        recorder: &'a RunRecorder,
        earlier: &BTreeMap<usize, ForkResult>,
    ) -> Result<Self> {
        let mut sink = Self {
            recorder,
            file: results_sink(args)?,
            counts: Counts::default(),
            write_error: None,
        };
        for (index, result) in earlier {
            sink.counts.add(Status::from(result.status));
            sink.write(*index, result);
        }
        Ok(sink)
    }

    /// A task finished now.
    pub(crate) fn record(&mut self, index: usize, result: &ForkResult) {
        self.recorder.item(index, result);
        self.counts.add(Status::from(result.status));
        self.write(index, result);
    }

    fn write(&mut self, index: usize, result: &ForkResult) {
        if let Some(file) = &mut self.file {
            if let Err(error) = write_result_line(file, index, result) {
                self.write_error.get_or_insert(error);
            }
        }
    }

    /// Flushes the file; the counts, or the first write error.
    pub(crate) fn close(mut self) -> Result<Counts> {
        if let Some(file) = &mut self.file {
            file.flush()?;
        }
        if let Some(error) = self.write_error {
            return Err(
                Failure::usage(format!("could not write the results file: {error}")).into(),
            );
        }
        Ok(self.counts)
    }
}

/// How a swarm ended: cancelled, stopped by its budget, failed when a task
/// or the consolidation failed, else completed.
pub(crate) fn swarm_status(outcome: &agent_core::SwarmOutcome) -> WorkflowStatus {
    let consolidation_failed = outcome
        .consolidated
        .as_ref()
        .is_some_and(|result| !result.is_success());
    if outcome.cancelled {
        WorkflowStatus::Cancelled
    } else if outcome.budget_exhausted {
        WorkflowStatus::BudgetExhausted
    } else if outcome.failed > 0 || consolidation_failed {
        WorkflowStatus::Failed
    } else {
        WorkflowStatus::Completed
    }
}

/// Opens the `--results-jsonl` file: anew for a new run, checked for a
/// resumed one.
pub(crate) fn results_sink(args: &SwarmArgs) -> Result<Option<BufWriter<File>>> {
    Ok(match &args.results_jsonl {
        Some(path) if args.resuming => Some(BufWriter::new(reopen_results(path)?)),
        Some(path) => Some(BufWriter::new(File::create(path).map_err(|error| {
            Failure::usage(format!(
                "cannot write --results-jsonl {}: {error}",
                path.display()
            ))
        })?)),
        None => None,
    })
}

/// The panel that opens a swarm (nothing with `--json`).
fn header(options: &SwarmOptions, total: usize, reused: usize, output: &Output) {
    output.heading(&views::swarm_header(
        total,
        &options.profile.name,
        options.concurrency,
        output.theme(),
    ));
    if reused > 0 && !output.json() {
        output.notice(&format!(
            "Resuming: {reused} of {total} results are reused from the interrupted run."
        ));
    }
}

/// The `--json` object of a swarm run.
pub(crate) fn swarm_json(
    args: &SwarmArgs,
    recorder: &RunRecorder,
    outcome: &agent_core::SwarmOutcome,
    status: WorkflowStatus,
    tasks: Counts,
    elapsed: std::time::Duration,
) -> SwarmJson {
    SwarmJson {
        run_id: recorder.id().to_string(),
        swarm_id: outcome.swarm_id.to_string(),
        agent_type: args.agent_type.clone(),
        status: RunStatus::from(status),
        tasks,
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
        cost: CostJson::from(&outcome.cost),
        elapsed_ms: crate::json::millis(elapsed),
    }
}

/// Writes one `--results-jsonl` line.
pub(crate) fn write_result_line(
    file: &mut impl Write,
    index: usize,
    result: &ForkResult,
) -> io::Result<()> {
    let line = ResultLine {
        index,
        fork: ForkJson::from(result),
    };
    serde_json::to_writer(&mut *file, &line)?;
    file.write_all(b"\n")
}

/// The task on a line of a tasks file: trimmed; `None` for blank lines and
/// lines starting with `#`.
pub(crate) fn task_line(line: &str) -> Option<&str> {
    let task = line.trim();
    (!task.is_empty() && !task.starts_with('#')).then_some(task)
}

pub(crate) fn open_tasks(path: &Path, what: &str) -> Result<BufReader<File>> {
    let file = File::open(path).map_err(|error| {
        Failure::usage(format!("cannot read {what} {}: {error}", path.display()))
    })?;
    Ok(BufReader::new(file))
}
