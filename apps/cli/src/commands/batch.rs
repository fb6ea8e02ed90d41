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
use planner::batch::{self, BatchOptions, PollPolicy, Waited};
use render::strip_controls_line;

use crate::commands::swarm::{self, SwarmArgs};
use crate::commands::workflow::MapReduceArgs;
use crate::context::{Run, Spending, Wiring};
use crate::exit::{Exit, Failure};
use crate::finish::{Outcome, finish};
use crate::json::{BatchSubmittedJson, Counts};
use crate::live::Scope;
use crate::output::Output;
use crate::run_record::{RunRecorder, journal_key};
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
    /// Replaying a cassette: polls follow each other without waiting (the
    /// recorded answers are already there).
    replay: bool,
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
    if record.is_none() {
        // Nothing submitted yet: the job must fit the budget first.
        check_budget(job, tasks)?;
    }
    let mut options = BatchOptions::new(job.model.clone(), format!("agent-fork-{}", recorder.id()));
    if job.replay {
        options.poll = PollPolicy {
            first: std::time::Duration::ZERO,
            factor: 1.0,
            max: std::time::Duration::ZERO,
        };
    }
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

/// Refuses a job whose estimate would cross the run's budget (with
/// `--budget-usd`/`--budget-tokens`; without, nothing is estimated): each
/// request as the reservation its live call would make, at the catalog's
/// batch price (`Budget::estimate_batch`). A refusal is a usage error
/// (exit 2): nothing was sent, and a run that had done nothing yet leaves
/// no folder behind.
fn check_budget(job: &Job<'_>, tasks: &mut TaskTable) -> Result<()> {
    let Some(budget) = job
        .forker
        .budget()
        .filter(|budget| !budget.limits().is_unlimited())
    else {
        return Ok(());
    };
    let requests = tasks
        .iter()
        .filter_map(|(_, task)| job.forker.batch_request(&(job.fork_request)(task)).ok());
    let estimate = budget.estimate_batch(&job.model, requests);
    let Err(refused) = budget.admit_batch(&estimate) else {
        return Ok(());
    };
    if let Some(model) = refused.unpriced_model {
        return Err(Failure::usage(format!(
            "the batch job cannot be kept within --budget-usd: the model catalog has no price for {model}; nothing was submitted: use --budget-tokens, or a priced model"
        ))
        .into());
    }
    let limits = budget.limits();
    let mut allowed = Vec::new();
    if let Some(usd) = limits.usd {
        allowed.push(format!("--budget-usd {}", usd.dollars()));
    }
    if let Some(tokens) = limits.tokens {
        allowed.push(format!("--budget-tokens {tokens}"));
    }
    let (spent_usd, spent_tokens) = budget.spent();
    let spent = if spent_tokens > 0 {
        format!(", {spent_usd} and {spent_tokens} tokens already spent")
    } else {
        String::new()
    };
    Err(Failure::usage(format!(
        "the batch job would cross the budget ({}{spent}): its {} requests are estimated at {} and {} tokens at the batch price; nothing was submitted: raise the budget or send fewer tasks",
        allowed.join(", "),
        estimate.requests,
        estimate.usd,
        render::humanize::count(estimate.tokens),
    ))
    .into())
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
            // Paid now: the item's real usage at the batch price.
            if let Some(budget) = job.forker.budget() {
                for turn in &result.turns {
                    budget.charge(&job.model, &turn.usage, turn.cost.as_ref());
                }
            }
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
    let mut wiring = context
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
        replay: is_replay(context.traffic),
    };
    let mut collector = swarm_run.collector();
    let end = run_job(&job, &mut tasks, &earlier, |index, result| {
        collector.add(index, result, 0, Some(total), &mut |index, result| {
            sink.record(index, result);
        });
    })
    .await;
    match end {
        // The collected items' cost, journalled before the live consolidation.
        Ok(JobEnd::Collected) => journal_session(recorder, &mut wiring.session),
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

/// What the map phase of `map-reduce --batch` hands the reduce.
pub(crate) struct Mapped {
    /// Every item's result (earlier ones included).
    pub(crate) results: BTreeMap<usize, ForkResult>,
    /// What the run spent up to the end of the map phase (earlier
    /// sessions and the collected job, journalled): the reduce's budget
    /// starts from it.
    pub(crate) spent: (genai_client::CostTotal, u64),
    /// The map phase's session, still open: the reduce goes on in it, so
    /// `--record` holds the whole run and `--replay` plays it.
    pub(crate) session: Session,
}

/// The map phase of `map-reduce --batch`: every item's map task as one
/// batch job, within the run's budget (estimated before submitting,
/// charged and journalled when collected). `Continue` holds what the live
/// reduce needs; `Break` is the exit when the command returned before the
/// job ended (submitted without --wait, or detached).
pub(crate) async fn map_phase(
    args: &MapReduceArgs,
    run: &Run<'_>,
    earlier: BTreeMap<usize, ForkResult>,
    resuming: bool,
) -> Result<ControlFlow<Exit, Mapped>> {
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let profile = context.profile(&args.agent_type, false, false)?;
    let (session, budget) = map_session(context).await?;
    let forker = Forker::new(session.client.clone()).with_budget(budget.clone());
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
        replay: is_replay(context.traffic),
    };
    let mut mapped = earlier.clone();
    let end = run_job(&job, &mut tasks, &earlier, |index, result| {
        recorder.item(index, &result);
        mapped.insert(index, result);
    })
    .await;
    match end {
        Ok(JobEnd::Returned(exit)) => {
            if let Some(notice) = session.finish("map-reduce").await? {
                output.error_line(&notice);
            }
            Ok(ControlFlow::Break(exit))
        }
        Ok(JobEnd::Collected) => {
            let mut session = session;
            journal_session(recorder, &mut session);
            Ok(ControlFlow::Continue(Mapped {
                results: mapped,
                spent: (budget.spent_cost(), budget.spent().1),
                session,
            }))
        }
        Err(error) => {
            let _ = session.finish("map-reduce").await;
            Err(error)
        }
    }
}

/// The map phase's session, with the run's budget (its limits, what
/// earlier sessions spent) as its spending.
async fn map_session(
    context: &crate::context::Context<'_>,
) -> Result<(Session, Arc<agent_core::Budget>)> {
    let mut session = Session::open(context.traffic, &context.settings)
        .await?
        .logged(context.output)
        .quota_told(context.output);
    let (cost, tokens) = context.spent_before;
    let budget = Arc::new(
        agent_core::Budget::new(context.settings.budget_limits()).with_spent(cost, tokens),
    );
    session.spending = Some(Spending {
        budget: budget.clone(),
        before: context.spent_before,
    });
    Ok((session, budget))
}

/// [`journal_spent`] for `session`'s spending, if it keeps one.
fn journal_session(recorder: &RunRecorder, session: &mut Session) {
    if let Some(spending) = &mut session.spending {
        journal_spent(recorder, spending);
    }
}

/// Journals what `spending`'s session spent so far (a collected job's
/// items) as a `spent` line, and counts the session's spending anew from
/// here, so the run's end does not journal it twice.
fn journal_spent(recorder: &RunRecorder, spending: &mut Spending) {
    let (cost, tokens) = spending.this_session();
    if cost.priced_calls + cost.unpriced_calls == 0 && tokens == 0 {
        return;
    }
    recorder.append(planner::JournalEvent::Spent { cost, tokens });
    spending.before = (spending.run_cost(), spending.budget.spent().1);
}

/// Whether the traffic is a replayed cassette (`--replay`, a bundled
/// session).
fn is_replay(traffic: &Traffic) -> bool {
    matches!(traffic, Traffic::Replay(_) | Traffic::Bundled { .. })
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

/// A batch job's state as `runs show` found it.
pub(crate) enum Live {
    /// Gemini's answer just now.
    Now {
        /// The job.
        operation: Box<genai_client::Operation>,
        /// When it was asked (RFC 3339).
        at: String,
    },
    /// Asking failed (offline, no key, an API error): why.
    Failed(String),
}

/// How long `runs show` waits for the job's state.
const LIVE_STATE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The job's state now, for `runs show`: `None` when there is nothing to
/// ask (no job name journalled, or its results already collected). Only
/// reads: the journal is not written (a process waiting on the job may be
/// appending to it).
pub(crate) async fn live_state(
    batch: &planner::BatchRecord,
    settings: &crate::settings::Settings,
    traffic: &Traffic,
    output: &Output,
) -> Option<Live> {
    let name = batch.name.as_ref().filter(|_| batch.collected.is_none())?;
    let asked = async {
        let session = Session::open(traffic, settings).await?;
        // One attempt: a status display does not wait out retries.
        let got = tokio::time::timeout(LIVE_STATE_WAIT, session.client.get_batch_once(name)).await;
        if let Ok(Some(notice)) = session.finish("runs-show").await {
            output.error_line(&notice);
        }
        match got {
            Ok(operation) => Ok(operation?),
            Err(_) => Err(anyhow::anyhow!(
                "no answer within {} s",
                LIVE_STATE_WAIT.as_secs()
            )),
        }
    };
    Some(match asked.await {
        Ok(operation) => Live::Now {
            operation: Box::new(operation),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        Err(error) => Live::Failed(strip_controls_line(&error.to_string())),
    })
}

/// A batch job in one line as Gemini reports it now.
pub(crate) fn live_line(
    batch: &planner::BatchRecord,
    operation: &genai_client::Operation,
) -> String {
    let stats = operation.stats();
    let total = if stats.request_count > 0 {
        stats.request_count
    } else {
        batch.requests as u64
    };
    format!(
        "{}: {} ({} of {total} done, {} failed, {} pending, just now from Gemini)",
        batch
            .name
            .as_ref()
            .map_or_else(String::new, ToString::to_string),
        operation.state().word(),
        stats.successful_request_count,
        stats.failed_request_count,
        stats.pending_request_count
    )
}

/// Makes a recorded session replayable by another run: a batch create's
/// body (and an upload start's) carries the display name of the run that
/// recorded it (`agent-fork-<run id>`), which a replaying run cannot
/// repeat, so those bodies are matched as a subset without it (everything
/// else, the requests included, must still be equal).
pub(crate) fn replayable(cassette: &mut cassette::Cassette) {
    for interaction in &mut cassette.interactions {
        let request = &mut interaction.request;
        let holder = if request.path.ends_with(":batchGenerateContent") {
            "/batch"
        } else if request.path.ends_with("/upload/v1beta/files") && request.method == "POST" {
            "/file"
        } else {
            continue;
        };
        let Some(cassette::BodyMatcher::Exact(body)) = &request.body else {
            continue;
        };
        let mut body = body.clone();
        let Some(fields) = body
            .pointer_mut(holder)
            .and_then(serde_json::Value::as_object_mut)
        else {
            continue;
        };
        if fields.remove("displayName").is_some() {
            request.body = Some(cassette::BodyMatcher::Subset(body));
        }
    }
}
