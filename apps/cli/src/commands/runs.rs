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
    Iteration, JournalError, JournalEvent, RunId, RunLock, RunState, list_runs, load_resume_state,
    read_journal, read_result,
};
use render::{Panel, key_value, strip_controls_line};

use crate::commands::common::AgentFlags;
use crate::commands::{batch, fork, plan, report, swarm, workflow};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::json::{
    ApprovalJson, BatchJobJson, CostJson, RunListed, RunShowJson, RunStateJson, RunsListJson,
    UntrustedJson,
};
use crate::output::Output;
use crate::run_record::{CommandArgs, RecordedSettings, RunArgs, RunRecorder, journal_key};
use crate::session::Traffic;
use crate::settings::{Layer, Settings};

/// `runs` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RunsCommand {
    /// List runs, newest first, with their state.
    List(ListArgs),
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
    /// Write one self-contained HTML report of a run: its plan as a graph,
    /// a timeline, every step or fork with its cost and result.
    Report(report::ReportArgs),
    /// Serve a read-only live web view of every run on loopback (prints
    /// an address with an access token; Ctrl-C stops).
    Serve(report::ServeArgs),
}

/// Arguments of `runs list`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ListArgs {
    /// Show at most this many runs (the newest).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) limit: u32,
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
pub(crate) fn journal_failure(error: &JournalError) -> anyhow::Error {
    Failure::usage(strip_controls_line(&error.to_string())).into()
}

fn state_word(state: RunState) -> &'static str {
    RunStateJson::from(state).as_str()
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|name| strip_controls_line(&name.to_string_lossy()))
        .unwrap_or_default()
}

/// The runs as a table: a header, one line per run (newest first), the
/// summary cut to the width; untrusted folders after them.
fn runs_table(listing: &planner::RunListing, width: usize) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "RUN".into(),
        "STATE".into(),
        "KIND".into(),
        "CREATED (UTC)".into(),
        "COST".into(),
        "SUMMARY".into(),
    ]];
    for run in &listing.runs {
        // 2026-11-29T22:17:38Z -> 2026-11-29 22:17
        let created = run.created.replace('T', " ");
        let created = created.get(..16).unwrap_or(&created).to_owned();
        rows.push([
            run.id.to_string(),
            state_word(run.state).to_owned(),
            run.kind.to_string(),
            created,
            run.cost.to_string(),
            strip_controls_line(&run.summary),
        ]);
    }
    for run in &listing.untrusted {
        rows.push([
            render::humanize::truncate(&folder_name(&run.dir), 40),
            "untrusted".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            strip_controls_line(&run.reason),
        ]);
    }
    render::columns(&rows, Some(width))
}

/// Runs `runs list` / `runs show` / `runs report` / `runs serve`.
pub(crate) async fn runs(
    command: &RunsCommand,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let settings = Settings::resolve(flags.layer())?;
    let base = settings.runs_dir.value.clone();
    let key = journal_key()?;
    match command {
        RunsCommand::List(args) => list(base, args, &key, output)?,
        RunsCommand::Show { id } => {
            let dir = run_dir(&base, id)?;
            let contents = read_journal(&dir.join("journal.jsonl"), &key)
                .map_err(|error| journal_failure(&error))?;
            let live = match contents.batch() {
                Some(batch) => batch::live_state(&batch, &settings, traffic, output).await,
                None => None,
            };
            show(id, dir, &contents, live.as_ref(), output)?;
        }
        RunsCommand::Report(args) => return report::report(args, &base, &key, output),
        RunsCommand::Serve(args) => return report::serve(args, base, key, output).await,
        RunsCommand::Cancel { .. } => {
            // Needs the network: main dispatches it to `batch::cancel`.
            return Err(Failure::usage("runs cancel is handled elsewhere").into());
        }
    }
    Ok(Exit::Success)
}

/// `runs list`: the trusted runs, then the folders that did not verify.
fn list(base: PathBuf, args: &ListArgs, key: &planner::JournalKey, output: &Output) -> Result<()> {
    let mut listing = list_runs(&base, key).map_err(|error| journal_failure(&error))?;
    // Newest first (RFC 3339 in UTC sorts as text), then by id.
    listing
        .runs
        .sort_by(|a, b| (&b.created, b.id.as_str()).cmp(&(&a.created, a.id.as_str())));
    let total = listing.runs.len();
    listing.runs.truncate(args.limit as usize);
    if output.json() {
        return output.json_value(&RunsListJson {
            runs: listing.runs.iter().map(RunListed::from).collect(),
            untrusted: listing.untrusted.iter().map(UntrustedJson::from).collect(),
            runs_dir: base,
        });
    }
    if listing.runs.is_empty() && listing.untrusted.is_empty() {
        output.line(&format!("No runs in {}.", base.display()));
    } else {
        output.line(&runs_table(&listing, output.theme().width()));
    }
    if total > listing.runs.len() {
        output.notice(&format!(
            "{} older runs not shown (--limit {total} to see more)",
            total - listing.runs.len(),
        ));
    }
    Ok(())
}

/// `runs show RUN`: the run's facts, then one line per journal event. A
/// batch job not collected yet is shown as `live` found it (see
/// [`batch::live_state`]).
fn show(
    id: &str,
    dir: PathBuf,
    contents: &planner::journal::JournalContents,
    live: Option<&batch::Live>,
    output: &Output,
) -> Result<()> {
    let meta = contents
        .meta()
        .ok_or_else(|| Failure::usage(format!("the journal of {id} has no start event")))?;
    let (result, result_warning) = match read_result(&dir, contents) {
        Ok(result) => (result, None),
        Err(error) => (None, Some(strip_controls_line(&error.to_string()))),
    };
    if output.json() {
        return output.json_value(&show_json(meta, contents, dir, result, live));
    }
    let theme = output.theme();
    output.line(
        &Panel::new(facts(meta, contents, &dir, result_warning, live, theme).join("\n"))
            .title(format!("Run {}", meta.id))
            .render(theme),
    );
    let approvals = approvals_of(&contents.records);
    if !approvals.is_empty() {
        // Tool names and ids come from the journal: each line cleaned.
        let table = approvals_table(&approvals);
        let lines: Vec<String> = table.lines().map(strip_controls_line).collect();
        output.line(&lines.join("\n"));
    }
    for record in &contents.records {
        output.line(&strip_controls_line(&format!(
            "{:>4}  {}  {}",
            record.seq,
            record.at,
            event_line(&record.event)
        )));
    }
    Ok(())
}

/// `runs show --json`: the run's facts and its result document.
fn show_json(
    meta: &planner::RunMeta,
    contents: &planner::journal::JournalContents,
    dir: PathBuf,
    result: Option<serde_json::Value>,
    live: Option<&batch::Live>,
) -> RunShowJson {
    RunShowJson {
        run_id: meta.id.to_string(),
        kind: meta.kind.to_string(),
        created: meta.created.clone(),
        summary: meta.summary.clone(),
        state: contents.state().into(),
        dir,
        events: contents.records.len(),
        warnings: contents.warnings.clone(),
        truncated_tail: contents.truncated_tail,
        cost: CostJson::from(&contents.spent().0),
        tokens: contents.spent().1,
        result,
        batch: contents
            .batch()
            .as_ref()
            .map(|batch| BatchJobJson::new(batch, live)),
        approvals: approvals_of(&contents.records),
    }
}

/// The lines of `runs show`'s panel: the run's facts, its warnings (and
/// `result_warning`, why its result could not be read) and how to resume it.
fn facts(
    meta: &planner::RunMeta,
    contents: &planner::journal::JournalContents,
    dir: &Path,
    result_warning: Option<String>,
    live: Option<&batch::Live>,
    theme: &render::Theme,
) -> Vec<String> {
    let clean = |text: &str| strip_controls_line(text);
    let mut lines = vec![
        key_value("Kind", &meta.kind.to_string(), theme),
        key_value("Created", &clean(&meta.created), theme),
        key_value("State", state_word(contents.state()), theme),
        key_value("Asked", &clean(&meta.summary), theme),
        key_value("Folder", &clean(&dir.display().to_string()), theme),
        key_value("Events", &contents.records.len().to_string(), theme),
        key_value("Cost", &spent_line(&contents.spent()), theme),
    ];
    if let Some(batch) = contents.batch() {
        lines.extend(batch_facts(&batch, live, theme));
    }
    if contents.truncated_tail {
        lines.push("The journal ended in a half-written line (ignored).".to_owned());
    }
    for warning in contents.warnings.iter().chain(&result_warning) {
        lines.push(format!("warning: {}", clean(warning)));
    }
    if contents.state().is_unfinished() {
        lines.push(format!("Resume with: agent-fork resume {}", meta.id));
    }
    lines
}

/// One journal event as `runs show` lists it: its kind, then the facts
/// that identify it (`id=`, `index=`, `status=`, `error=`, `reason=`).
fn event_line(event: &JournalEvent) -> String {
    let (kind, facts) = event_facts(event);
    let facts: Vec<String> = facts
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!("{kind} {}", facts.join(" "))
}

/// A journal event's kind and the facts `runs show` lists for it.
fn event_facts(event: &JournalEvent) -> (&'static str, Vec<(&'static str, String)>) {
    use JournalEvent as E;
    match event {
        E::RunStarted { .. } => ("run_started", vec![]),
        E::RunResumed => ("run_resumed", vec![]),
        E::PlanReady { .. } => ("plan_ready", vec![]),
        E::StepStarted { id, .. } => ("step_started", vec![("id", id.to_string())]),
        E::StepRetrying { id, error, .. } => (
            "step_retrying",
            vec![("id", id.to_string()), ("error", error.clone())],
        ),
        E::StepCompleted { id, .. } => ("step_completed", vec![("id", id.to_string())]),
        E::StepFailed { id, error } => (
            "step_failed",
            vec![("id", id.to_string()), ("error", error.clone())],
        ),
        E::StepSkipped { id, reason } => (
            "step_skipped",
            vec![("id", id.to_string()), ("reason", reason.clone())],
        ),
        E::ItemCompleted { index, .. } => ("item_completed", vec![("index", index.to_string())]),
        E::ItemFailed { index, error } => (
            "item_failed",
            vec![("index", index.to_string()), ("error", error.clone())],
        ),
        E::BatchSubmitting { requests, .. } => {
            ("batch_submitting", vec![("requests", requests.to_string())])
        }
        E::BatchSubmitted { name, adopted } => (
            "batch_submitted",
            vec![("name", name.to_string()), ("adopted", adopted.to_string())],
        ),
        E::BatchPolled { state, .. } => ("batch_polled", vec![("state", state.word().to_owned())]),
        E::BatchCollected { state } => {
            ("batch_collected", vec![("state", state.word().to_owned())])
        }
        E::ResultSaved { .. } => ("result_saved", vec![]),
        E::RunFinished { status } => ("run_finished", vec![("status", status.as_str().to_owned())]),
        E::RunInterrupted => ("run_interrupted", vec![]),
        E::Spent { cost, tokens } => (
            "spent",
            vec![("cost", cost.to_string()), ("tokens", tokens.to_string())],
        ),
        E::ToolApproval { record } => ("tool_approval", approval_facts(record)),
    }
}

/// The facts `runs show` lists for a journalled approval decision.
fn approval_facts(record: &agent_core::ApprovalRecord) -> Vec<(&'static str, String)> {
    let fork = record
        .fork_id
        .as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string);
    let mut facts = vec![
        ("tool", record.tool.clone()),
        ("fork", fork),
        ("approved", record.approved.to_string()),
        ("by", record.by.as_str().to_owned()),
    ];
    if let Some(rule) = &record.rule {
        facts.push(("rule", rule.to_string()));
    }
    facts
}

/// The run's journalled approval decisions, in order.
fn approvals_of(records: &[planner::journal::JournalRecord]) -> Vec<ApprovalJson> {
    records
        .iter()
        .filter_map(|record| match &record.event {
            JournalEvent::ToolApproval { record: approval } => Some(ApprovalJson {
                at: record.at.clone(),
                tool: approval.tool.clone(),
                fork_id: approval.fork_id.as_ref().map(ToString::to_string),
                agent_type: approval.agent_type.clone(),
                approved: approval.approved,
                always: approval.always,
                by: approval.by.as_str(),
                rule: approval.rule.as_ref().map(ToString::to_string),
            }),
            _ => None,
        })
        .collect()
}

/// `Approvals (N):` and one line per decision: when, fork (agent), tool,
/// allowed or denied, by whom (a rule: with the policy entry).
fn approvals_table(approvals: &[ApprovalJson]) -> String {
    let mut lines = vec![format!("Approvals ({}):", approvals.len())];
    for approval in approvals {
        let fork = approval.fork_id.as_deref().unwrap_or("-");
        let agent = approval.agent_type.as_deref().unwrap_or("-");
        let decision = match (approval.approved, approval.always) {
            (true, true) => "allowed (always)",
            (true, false) => "allowed",
            (false, _) => "denied",
        };
        let entry = approval
            .rule
            .as_ref()
            .map_or_else(String::new, |rule| format!(" ({rule})"));
        lines.push(format!(
            "  {}  {fork} ({agent})  {}  {decision} by {}{entry}",
            approval.at, approval.tool, approval.by
        ));
    }
    lines.join("\n")
}

/// `$0.0123 (4,096 tokens, all sessions)`.
fn spent_line((cost, tokens): &(genai_client::CostTotal, u64)) -> String {
    format!(
        "{cost} ({} tokens, all sessions)",
        render::humanize::count(*tokens)
    )
}

/// `runs show`'s lines for a run's batch job: as `live` found it, or as
/// last journalled (with why it could not be refreshed).
fn batch_facts(
    batch: &planner::BatchRecord,
    live: Option<&batch::Live>,
    theme: &render::Theme,
) -> Vec<String> {
    let line = match live {
        Some(batch::Live::Now { operation, .. }) => batch::live_line(batch, operation),
        _ => batch_line(batch),
    };
    let mut lines = vec![key_value("Batch job", &strip_controls_line(&line), theme)];
    if let Some(batch::Live::Failed(reason)) = live {
        lines.push(format!(
            "warning: the batch job's state could not be refreshed ({}); shown as last journalled",
            strip_controls_line(reason)
        ));
    }
    lines
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
    crate::approval::set_earlier(state.approvals.clone());
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
        output.notice(&format!(
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

impl<'a> Resumed<'a> {
    /// Continues the run's command where it stopped, reusing its finished
    /// work. The match is exhaustive: a new command that opens runs must be
    /// given a way to continue here.
    async fn continue_with(&self, command: CommandArgs) -> Result<Exit> {
        let (flags, recorder) = (self.flags, self.recorder);
        // The run goes on as `command`, with its Ctrl-C notice.
        let resumed_as = command.clone();
        match command {
            CommandArgs::Fork(mut args) => {
                // The context was journalled as text when the run started.
                args.context_file = None;
                let earlier = self.completed_forks().remove(&0);
                let context = self.context(fork::layer(&args, flags))?;
                let run = context.reopen_run(recorder.clone(), &resumed_as);
                fork::execute(&args, &run, earlier).await
            }
            CommandArgs::Swarm(mut args) => {
                args.resuming = true;
                let context = self.context(swarm::layer(&args, flags))?;
                let run = context.reopen_run(recorder.clone(), &resumed_as);
                swarm::execute(&args, &run, self.completed_forks()).await
            }
            CommandArgs::Plan(mut args) => {
                args.plan_file = None;
                let (plan, done) = (self.state.plan.clone(), self.state.completed_steps.clone());
                let context = self.context(plan::layer(&args, flags))?;
                let run = context.reopen_run(recorder.clone(), &resumed_as);
                plan::execute(&args, &run, plan, done).await
            }
            CommandArgs::ResearchThenCode(args) => {
                let context = self.context(workflow::layer(flags, None))?;
                let run = context.reopen_run(recorder.clone(), &resumed_as);
                workflow::execute_research_then_code(&args, &run, self.completed_forks()).await
            }
            CommandArgs::MapReduce(args) => {
                let context = self.context(workflow::layer(flags, args.concurrency))?;
                let run = context.reopen_run(recorder.clone(), &resumed_as);
                let items = self.completed_forks();
                workflow::execute_map_reduce(&args, &run, items, true).await
            }
            CommandArgs::Refine(args) => {
                let context = self.context(workflow::layer(flags, None))?;
                let run = context.reopen_run(recorder.clone(), &resumed_as);
                workflow::execute_refine(&args, &run, self.reviewed_attempts()).await
            }
        }
    }

    /// The run's context, resolved from `layer`, counting what the run
    /// spent before.
    fn context(&self, layer: Layer) -> Result<Context<'a>> {
        let context = Context::resolve(layer, self.traffic, self.output)?;
        Ok(context.with_spent_before(self.state.spent))
    }

    /// The journalled items that are fork results, by index.
    fn completed_forks(&self) -> BTreeMap<usize, ForkResult> {
        self.state
            .completed_items
            .iter()
            .filter_map(|(index, value)| {
                serde_json::from_value(value.clone())
                    .ok()
                    .map(|result| (*index, result))
            })
            .collect()
    }

    /// A refine run's reviewed attempts, in order from the first, up to a gap.
    fn reviewed_attempts(&self) -> Vec<Iteration> {
        (0..)
            .map_while(|index| {
                let value = self.state.completed_items.get(&index)?;
                serde_json::from_value::<Iteration>(value.clone()).ok()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        seq: u64,
        at: &str,
        approval: agent_core::ApprovalRecord,
    ) -> planner::journal::JournalRecord {
        planner::journal::JournalRecord {
            seq,
            at: at.to_owned(),
            event: JournalEvent::ToolApproval { record: approval },
        }
    }

    fn decision(
        fork: Option<&str>,
        tool: &str,
        approved: bool,
        always: bool,
        by: agent_core::DecidedBy,
    ) -> agent_core::ApprovalRecord {
        agent_core::ApprovalRecord {
            tool: tool.to_owned(),
            fork_id: fork.map(agent_core::ForkId::from_string),
            agent_type: fork.map(|_| "code".to_owned()),
            call: agent_core::call_digest(tool, &serde_json::json!({})),
            approved,
            always,
            // A rule's decision names its policy entry.
            rule: (by == agent_core::DecidedBy::Rule)
                .then_some(agent_core::PolicyEntry::Class(agent_core::ToolClass::Shell)),
            by,
        }
    }

    #[test]
    fn approvals_are_listed_with_when_fork_agent_tool_decision_and_who() {
        use agent_core::DecidedBy as D;
        let records = vec![
            planner::journal::JournalRecord {
                seq: 0,
                at: "2026-11-30T01:00:00.000Z".to_owned(),
                event: JournalEvent::RunResumed,
            },
            record(
                1,
                "2026-11-30T01:00:01.000Z",
                decision(Some("fork_010000_001_ab12"), "bash", true, false, D::Person),
            ),
            record(
                2,
                "2026-11-30T01:00:02.000Z",
                decision(
                    Some("fork_010000_002_cd34"),
                    "docs__search",
                    true,
                    true,
                    D::PersonAlways,
                ),
            ),
            record(
                3,
                "2026-11-30T01:00:03.000Z",
                decision(
                    Some("fork_010000_002_cd34"),
                    "bash",
                    false,
                    false,
                    D::NoTerminal,
                ),
            ),
            record(
                4,
                "2026-11-30T01:00:04.000Z",
                decision(
                    Some("fork_010000_003_ef56"),
                    "git_operations",
                    false,
                    false,
                    D::Rule,
                ),
            ),
            // A journal written before the fork was kept.
            record(
                5,
                "2026-11-30T01:00:05.000Z",
                decision(None, "bash", true, false, D::AssumeYes),
            ),
            // A call the policy simply allowed.
            record(
                6,
                "2026-11-30T01:00:06.000Z",
                agent_core::ApprovalRecord {
                    rule: Some(agent_core::PolicyEntry::Class(agent_core::ToolClass::Read)),
                    ..decision(
                        Some("fork_010000_001_ab12"),
                        "read_file",
                        true,
                        false,
                        D::Rule,
                    )
                },
            ),
        ];
        let approvals = approvals_of(&records);
        assert_eq!(approvals.len(), 6);
        insta::assert_snapshot!(approvals_table(&approvals));
    }
}
