//! `agent-fork swarm --batch` and `map-reduce --batch`: the forks as one
//! Gemini Batch API job (half price, results within a day), journalled so
//! a run survives restarts and is never paid for twice (`planner::batch`),
//! then the live consolidation (or reduce). `runs cancel` cancels a run's
//! job.
//!
//! Each task becomes the request its fork would send on its first turn
//! (`Forker::batch_request`); an agent that needs a tool loop is refused
//! before anything is sent. Results land where a live swarm's do: the run
//! journal (items), `--results-jsonl`, the swarm view and `--json`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use agent_core::{ForkId, ForkRequest, ForkResult, Forker, Swarm, batch_fork_result};
use anyhow::Result;
use planner::batch::{self, BatchOptions, Waited};
use render::strip_controls_line;

use crate::commands::swarm::{self, SwarmArgs};
use crate::commands::workflow::MapReduceArgs;
use crate::context::{Run, Wiring};
use crate::exit::{Exit, Failure};
use crate::finish::{Outcome, finish};
use crate::json::{BatchSubmittedJson, Counts};
use crate::live::Scope;
use crate::output::Output;
use crate::run_record::journal_key;
use crate::session::{Session, Traffic};

/// The tasks of a run by index: the command-line ones in memory, the
/// tasks file's by byte offset (8 bytes a task, not the task itself).
struct TaskTable {
    given: Vec<String>,
    file: Option<(File, Vec<u64>)>,
}

impl TaskTable {
    /// The run's tasks: the command line's, then those of the run folder's
    /// copy of the tasks file (refused unless it is the copy the run made).
    fn open(args: &SwarmArgs, dir: &Path) -> Result<Self> {
        if let (Some(_), Some(sha256)) = (args.file_tasks, &args.tasks_sha256) {
            swarm::check_tasks_copy(&dir.join(swarm::TASKS_FILE), sha256)?;
        }
        let file = match args.file_tasks {
            Some(_) => {
                let path = dir.join(swarm::TASKS_FILE);
                let mut reader = swarm::open_tasks(&path, "the tasks file")?;
                let mut offsets = Vec::new();
                let mut offset = 0u64;
                let mut line = String::new();
                loop {
                    line.clear();
                    let read = reader.read_line(&mut line)?;
                    if read == 0 {
                        break;
                    }
                    if swarm::task_line(&line).is_some() {
                        offsets.push(offset);
                    }
                    offset += read as u64;
                }
                Some((reader.into_inner(), offsets))
            }
            None => None,
        };
        Ok(Self {
            given: args.tasks.clone(),
            file,
        })
    }

    /// The map tasks of `map-reduce --batch`: the template, once per item.
    fn map_tasks(args: &MapReduceArgs) -> Self {
        Self {
            given: args
                .items
                .iter()
                .map(|item| args.map_template.replace("{item}", item))
                .collect(),
            file: None,
        }
    }

    fn len(&self) -> usize {
        self.given.len() + self.file.as_ref().map_or(0, |(_, offsets)| offsets.len())
    }

    fn get(&mut self, index: usize) -> Result<String> {
        if let Some(task) = self.given.get(index) {
            return Ok(task.clone());
        }
        let Some((file, offsets)) = &mut self.file else {
            anyhow::bail!("no task {index}");
        };
        let offset = offsets[index - self.given.len()];
        file.seek(SeekFrom::Start(offset))?;
        let mut line = String::new();
        BufReader::new(Read::by_ref(file)).read_line(&mut line)?;
        Ok(swarm::task_line(&line).unwrap_or_default().to_owned())
    }

    fn iter(&mut self) -> impl Iterator<Item = (usize, String)> + '_ {
        (0..self.len()).map_while(|index| self.get(index).ok().map(|task| (index, task)))
    }
}

/// What a batch job run by [`run_job`] needs from its command.
struct Job<'a> {
    output: &'a Output,
    run: &'a Run<'a>,
    forker: &'a Forker,
    model: String,
    /// The fork request of a task (profile, context, turn limit).
    fork_request: &'a dyn Fn(String) -> ForkRequest,
    /// Wait for the job (else return once it is submitted).
    wait: bool,
    /// `swarm` or `map-reduce`, for messages.
    command: &'static str,
    /// Where the Ctrl-C notice goes (above any live board).
    reporter: Arc<crate::live::Reporter>,
}

/// How [`run_job`] ended.
enum JobEnd {
    /// Every item was handed over.
    Collected,
    /// Submitted without waiting, or detached: the run stays resumable.
    Returned(Exit),
}

/// Submits (or adopts, or attaches to) the run's job, waits when asked,
/// and hands every item's fork result to `on_result` (items in `earlier`
/// excepted), which journals it.
async fn run_job(
    job: &Job<'_>,
    tasks: &mut TaskTable,
    earlier: &BTreeMap<usize, ForkResult>,
    on_result: impl FnMut(usize, ForkResult),
) -> Result<JobEnd> {
    let submitted = submit(job, tasks).await?;
    if !job.wait && !submitted.attaching {
        announce(job, &submitted.name, tasks.len())?;
        return Ok(JobEnd::Returned(Exit::Success));
    }
    let Some(operation) = wait_for(job, &submitted).await? else {
        return Ok(JobEnd::Returned(Exit::Interrupted));
    };
    if let Some(error) = &operation.error {
        job.output.error_line(&strip_controls_line(&format!(
            "batch job {} of {} ended {}: {error}",
            submitted.name,
            job.command,
            operation.state().word()
        )));
    }
    collect_items(job, &submitted, &operation, tasks, earlier, on_result).await?;
    Ok(JobEnd::Collected)
}

/// The run's job once it exists on Gemini's side.
struct Submitted {
    client: genai_client::Client,
    name: genai_client::BatchName,
    options: BatchOptions,
    /// The journal already named the job (a resumed run attaches to it).
    attaching: bool,
}

/// Refuses items a batch cannot carry, then submits the run's job (or
/// adopts the one a lost answer created, or finds the journalled one).
async fn submit(job: &Job<'_>, tasks: &mut TaskTable) -> Result<Submitted> {
    let Job { run, forker, .. } = *job;
    let recorder = &run.recorder;
    // Every item is the same kind of request: refuse before anything is sent.
    forker
        .batch_request(&(job.fork_request)(String::new()))
        .map_err(|refusal| {
            Failure::usage(format!(
                "{refusal} (live: run without --batch; models: --model, `agent-fork models`)"
            ))
        })?;
    let client = forker.client().clone();
    let key = journal_key()?;
    let record = planner::read_journal(&recorder.dir().join("journal.jsonl"), &key)
        .ok()
        .and_then(|contents| contents.batch());
    let attaching = record.as_ref().is_some_and(|record| record.name.is_some());
    let options = BatchOptions::new(job.model.clone(), format!("agent-fork-{}", recorder.id()));
    let input = recorder.dir().join(batch::BATCH_INPUT_FILE);
    let requests = tasks.iter().filter_map(|(index, task)| {
        let request = forker.batch_request(&(job.fork_request)(task)).ok()?;
        Some((index, request))
    });
    let name = batch::submit_or_adopt(
        &client,
        recorder.journal(),
        &options,
        record.as_ref(),
        &input,
        || requests,
    )
    .await
    .map_err(batch_failure)?;
    Ok(Submitted {
        client,
        name,
        options,
        attaching,
    })
}

/// Says that the job was submitted (its JSON document under `--json`) and
/// how to see and collect it.
fn announce(job: &Job<'_>, name: &genai_client::BatchName, total: usize) -> Result<()> {
    let (output, recorder) = (job.output, &job.run.recorder);
    if output.json() {
        output.json_value(&BatchSubmittedJson {
            run_id: recorder.id().to_string(),
            batch: name.to_string(),
            requests: total,
            state: "submitted",
        })?;
    } else {
        output.line(&format!("Submitted {total} tasks as batch job {name}."));
    }
    output.error_line(&format!(
        "the job runs on Gemini's side (usually within 24 h, at half price); see it with `agent-fork runs show {id}`, collect it with `agent-fork resume {id}`",
        id = recorder.id()
    ));
    Ok(())
}

/// Waits for the job to end, a progress line on stderr when its state or
/// counts change; `None` when Ctrl-C detached (the job keeps running).
async fn wait_for(
    job: &Job<'_>,
    submitted: &Submitted,
) -> Result<Option<Box<genai_client::Operation>>> {
    let (output, recorder) = (job.output, &job.run.recorder);
    // Ctrl-C detaches only while the job is waited for.
    let detach = job.run.detach_on_ctrl_c(&job.reporter);
    let mut last_line = String::new();
    let waited = batch::wait(
        &submitted.client,
        recorder.journal(),
        &submitted.name,
        &submitted.options.poll,
        &detach.token,
        |operation| {
            let line = batch::progress_line(operation);
            if line != last_line {
                output.error_line(&strip_controls_line(&line));
                last_line = line;
            }
        },
    )
    .await
    .map_err(batch_failure)?;
    match waited {
        Waited::Ended(operation) => Ok(Some(operation)),
        Waited::Detached => {
            output.error_line(&format!(
                "detached: batch job {} keeps running; attach with `agent-fork resume {id}`, cancel it with `agent-fork runs cancel {id}`",
                submitted.name,
                id = recorder.id()
            ));
            Ok(None)
        }
    }
}

/// Reads the ended job's results and hands each item's fork result to
/// `on_result` (items in `earlier` excepted); the journal then says the
/// job was collected.
async fn collect_items(
    job: &Job<'_>,
    submitted: &Submitted,
    operation: &genai_client::Operation,
    tasks: &mut TaskTable,
    earlier: &BTreeMap<usize, ForkResult>,
    mut on_result: impl FnMut(usize, ForkResult),
) -> Result<()> {
    let mut task_error = None;
    batch::collect(
        &submitted.client,
        operation,
        tasks.len(),
        &|index| earlier.contains_key(&index),
        |index, reply| {
            let task = match tasks.get(index) {
                Ok(task) => task,
                Err(error) => {
                    task_error.get_or_insert(error);
                    return;
                }
            };
            let result = batch_fork_result(&(job.fork_request)(task), ForkId::generate(), reply);
            on_result(index, result);
        },
    )
    .await
    .map_err(batch_failure)?;
    if let Err(error) = batch::mark_collected(job.run.recorder.journal(), operation) {
        job.output.error_line(&format!("warning: {error}"));
    }
    if let Some(error) = task_error {
        return Err(Failure::usage(format!("could not read the tasks: {error}")).into());
    }
    Ok(())
}

/// Runs (or, resumed, continues) a swarm as a batch job.
pub(crate) async fn execute_swarm(
    args: &SwarmArgs,
    run: &Run<'_>,
    earlier: BTreeMap<usize, ForkResult>,
) -> Result<Exit> {
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let profile = swarm::checked_profile(args, context)?;
    let mut tasks = TaskTable::open(args, recorder.dir())?;
    let total = tasks.len();
    let workspace = context.workspace(profile.file_tools)?;
    let title = format!("🐝 {total} {} agents, as one batch job", profile.name);
    let wiring = context
        .wire(workspace, Scope::Many { title, total })
        .await?;
    let mut sink = swarm::ResultsSink::open(args, recorder, &earlier)?;
    let model = profile.model.clone();
    let options =
        swarm::swarm_options(args, context, profile, sink.file.is_none(), earlier.clone());
    let swarm_run = Swarm::new(&wiring.forker, options);
    let fork_request = |task: String| swarm_run.fork_request(task);
    let job = Job {
        output,
        run,
        forker: &wiring.forker,
        model,
        fork_request: &fork_request,
        wait: args.wait || args.resuming,
        command: "swarm",
        reporter: wiring.reporter.clone(),
    };
    let mut collector = swarm_run.collector();
    let end = run_job(&job, &mut tasks, &earlier, |index, result| {
        collector.add(index, result, 0, Some(total), &mut |index, result| {
            sink.record(index, result);
        });
    })
    .await;
    match end {
        Ok(JobEnd::Collected) => {}
        Ok(JobEnd::Returned(exit)) => {
            if let Some(notice) = wiring.close().await.finish("swarm").await? {
                output.error_line(&notice);
            }
            return Ok(exit);
        }
        Err(error) => {
            let _ = wiring.close().await.finish("swarm").await;
            return Err(error);
        }
    }
    let counts = sink.close()?.against(total);
    let outcome = collector
        .finish(&tokio_util::sync::CancellationToken::new())
        .await;
    conclude_swarm(args, run, wiring, &outcome, counts, total).await
}

/// Ends a batch swarm whose results are all in: closes the session, shows
/// the result (as a live swarm's) and finishes the run.
async fn conclude_swarm(
    args: &SwarmArgs,
    run: &Run<'_>,
    wiring: Wiring,
    outcome: &agent_core::SwarmOutcome,
    counts: Counts,
    total: usize,
) -> Result<Exit> {
    let (recorder, output) = (&run.recorder, run.context.output);
    let elapsed = wiring.reporter.elapsed();
    let session = wiring.close().await;
    let status = swarm::swarm_status(outcome);
    let json = swarm::swarm_json(args, recorder, outcome, status, counts, elapsed);
    swarm::show(outcome, &json, total, elapsed, output)?;
    finish(
        recorder,
        Some(session),
        "swarm",
        Outcome::of(status),
        &json,
        output,
    )
    .await
}

/// The map phase of `map-reduce --batch`: every item's map task as one
/// batch job. `Continue` holds every item's result (earlier ones included)
/// for the live reduce; `Break` is the exit when the command returned
/// before the job ended (submitted without --wait, or detached).
pub(crate) async fn map_phase(
    args: &MapReduceArgs,
    run: &Run<'_>,
    earlier: BTreeMap<usize, ForkResult>,
    resuming: bool,
) -> Result<ControlFlow<Exit, BTreeMap<usize, ForkResult>>> {
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let profile = context.profile(&args.agent_type, false, false)?;
    let session = Session::open(context.traffic, &context.settings)
        .await?
        .logged(output);
    let forker = Forker::new(session.client.clone());
    let fork_request = |task: String| ForkRequest {
        max_turns: context.settings.max_turns.value,
        ..ForkRequest::new(task, profile.clone())
    };
    let mut tasks = TaskTable::map_tasks(args);
    let job = Job {
        output,
        run,
        forker: &forker,
        model: profile.model.clone(),
        fork_request: &fork_request,
        wait: args.wait || resuming,
        command: "map-reduce",
        reporter: crate::live::Reporter::new(
            output,
            crate::live::Scope::SingleFork {
                tools: String::new(),
            },
        ),
    };
    let mut mapped = earlier.clone();
    let end = run_job(&job, &mut tasks, &earlier, |index, result| {
        recorder.item(index, &result);
        mapped.insert(index, result);
    })
    .await;
    // The reduce opens its own session.
    let notice = session.finish("map-reduce").await;
    match end? {
        JobEnd::Returned(exit) => {
            if let Some(notice) = notice? {
                output.error_line(&notice);
            }
            Ok(ControlFlow::Break(exit))
        }
        JobEnd::Collected => Ok(ControlFlow::Continue(mapped)),
    }
}

/// A batch step's error as one line: API errors keep their exit code.
fn batch_failure(error: batch::BatchError) -> anyhow::Error {
    match error {
        batch::BatchError::Client(client) => anyhow::Error::new(client),
        other => Failure::work(strip_controls_line(&other.to_string())).into(),
    }
}

/// `agent-fork runs cancel ID`: asks Gemini to cancel the run's batch job.
pub(crate) async fn cancel(
    id: &str,
    settings: &crate::settings::Settings,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let dir = crate::commands::runs::run_dir(&settings.runs_dir.value, id)?;
    let key = journal_key()?;
    let contents = planner::read_journal(&dir.join("journal.jsonl"), &key)
        .map_err(|error| Failure::usage(strip_controls_line(&error.to_string())))?;
    let Some(name) = contents.batch().and_then(|record| record.name) else {
        return Err(Failure::usage(format!(
            "run {id} has no batch job to cancel (only `swarm --batch` runs have one)"
        ))
        .into());
    };
    let session = Session::open(traffic, settings).await?.logged(output);
    session.client.cancel_batch(&name).await?;
    if let Some(notice) = session.finish("runs-cancel").await? {
        output.error_line(&notice);
    }
    if output.json() {
        // stdout under --json is the document alone (docs/json.md).
        output.json_value(&crate::json::BatchCancelJson {
            run_id: id.to_owned(),
            batch: name.to_string(),
            state: "cancel_requested",
        })?;
    } else {
        output.line(&format!(
            "Asked Gemini to cancel batch job {name}; requests already answered are kept: collect them with `agent-fork resume {id}`."
        ));
    }
    Ok(Exit::Success)
}
