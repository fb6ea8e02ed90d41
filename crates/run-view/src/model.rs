//! A run as the report shows it, built from planner's journal reader types.
//!
//! Everything here comes from the signed journal (`JournalContents`): the
//! plan from its `plan_ready` event, each step's attempts from its
//! `step_*` events and their times, each batch item's fork from its
//! `item_*` event. The clock is the journal's: a step still running is
//! drawn up to the journal's last event, never up to "now", so the same
//! journal always gives the same page.

use std::collections::HashMap;

use agent_core::ForkResult;
use chrono::{DateTime, Utc};
use planner::journal::{JournalContents, JournalRecord};
use planner::{JournalEvent, Plan, RunKind, RunState, StepId};

/// A moment of the run (UTC).
pub type Instant = DateTime<Utc>;

/// How one step or batch item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitStatus {
    /// Not started (dependencies unfinished, or never reached).
    Waiting,
    /// An attempt is under way.
    Running,
    /// An attempt failed; another will follow.
    Retrying,
    /// Done.
    Completed,
    /// Failed for good.
    Failed,
    /// Not run because a step it needs failed.
    Skipped,
    /// It was under way when the run was stopped.
    Interrupted,
}

impl UnitStatus {
    /// The status as one lower-case word (also the CSS class).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    /// Still under way (or the run stopped while it was).
    Open,
    /// It failed and the step was tried again.
    Retried(String),
    /// It succeeded.
    Completed,
    /// It failed for good.
    Failed(String),
}

/// One attempt at a step (items have exactly one).
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// 1 for the first try.
    pub number: u32,
    /// When it started.
    pub start: Instant,
    /// When it ended; `None` while open.
    pub end: Option<Instant>,
    /// How it ended.
    pub outcome: AttemptEnd,
}

/// One step of a plan or one item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The step id, or `item N` (as written by whoever made the plan:
    /// hostile text, escaped when shown).
    pub label: String,
    /// The step's short name (empty for items).
    pub name: String,
    /// The agent type, from the plan or the fork.
    pub agent_type: String,
    /// The task, from the plan or the fork.
    pub task: String,
    /// Where it stands.
    pub status: UnitStatus,
    /// When it could have started (its dependencies done), if known.
    pub ready: Option<Instant>,
    /// Its attempts, in order.
    pub attempts: Vec<Attempt>,
    /// The fork that did the work, when the journal holds it.
    pub fork: Option<ForkResult>,
    /// The last error, if any.
    pub error: Option<String>,
}

impl Unit {
    fn new(label: String) -> Self {
        Self {
            label,
            name: String::new(),
            agent_type: String::new(),
            task: String::new(),
            status: UnitStatus::Waiting,
            ready: None,
            attempts: Vec::new(),
            fork: None,
            error: None,
        }
    }

    /// When it ended (its last attempt's end).
    pub fn end(&self) -> Option<Instant> {
        self.attempts.last().and_then(|attempt| attempt.end)
    }

    /// How long its attempts took, in milliseconds (open attempts up to `until`).
    pub fn busy_ms(&self, until: Instant) -> i64 {
        self.attempts
            .iter()
            .map(|attempt| (attempt.end.unwrap_or(until) - attempt.start).num_milliseconds())
            .sum()
    }
}

/// A run's Gemini Batch API job, from its `batch_*` journal lines.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchJob {
    /// The job's display name (ours: `agent-fork-<run id>`).
    pub display_name: String,
    /// The model every request went to.
    pub model: String,
    /// How many requests the job holds.
    pub requests: usize,
    /// `batches/...`; `None` while the create answer is not journalled.
    pub name: Option<String>,
    /// Found by display name after a create whose answer was lost.
    pub adopted: bool,
    /// The state the last poll saw (or the job ended in, once collected).
    pub state: Option<genai_client::BatchState>,
    /// Requests answered, as last polled.
    pub succeeded: u64,
    /// Requests failed, as last polled.
    pub failed: u64,
    /// Requests pending, as last polled.
    pub pending: u64,
    /// When the create request was about to go out.
    pub submitting: Option<Instant>,
    /// When the job's name was journalled.
    pub submitted: Option<Instant>,
    /// When its state last changed, as polled.
    pub polled: Option<Instant>,
    /// When its results were collected.
    pub collected: Option<Instant>,
}

/// A run, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    /// The run's id (letters, digits, `_`, `-` only).
    pub id: String,
    /// What kind of work it did.
    pub kind: RunKind,
    /// When it was created (as journalled).
    pub created: String,
    /// What it was asked.
    pub summary: String,
    /// Where it stands.
    pub state: RunState,
    /// The plan's analysis, for plan runs.
    pub analysis: Option<String>,
    /// Steps (plan order) or batch items (by position).
    pub units: Vec<Unit>,
    /// Dependencies as (needed, dependent) positions in `units`.
    pub edges: Vec<(usize, usize)>,
    /// The settings it was started with, as name and value (no secrets:
    /// see [`RunView::from_journal`]).
    pub settings: Vec<(String, String)>,
    /// The concurrency limit it was started with, when recorded.
    pub concurrency: Option<u64>,
    /// The first event's time.
    pub start: Option<Instant>,
    /// The last event's time (the page's "now").
    pub last: Option<Instant>,
    /// How many events the journal holds.
    pub events: usize,
    /// The last event's sequence number.
    pub last_seq: Option<u64>,
    /// Damaged lines skipped by the reader.
    pub warnings: Vec<String>,
    /// The run's Batch API job (`swarm --batch`, `map-reduce --batch`).
    pub batch_job: Option<BatchJob>,
    /// A batch's tasks as recorded in the run's arguments (`params.tasks`),
    /// with their agent type, so items that failed or never ran still show
    /// what they were.
    batch: Vec<String>,
    batch_agent: String,
    /// The journalled approval decisions, in journal order (every call's:
    /// a person's, `--yes`, and the policy's allows and denials).
    pub approvals: Vec<ApprovalEntry>,
}

/// One journalled approval decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalEntry {
    /// When it was journalled, as written (RFC 3339).
    pub at: String,
    /// The decision: tool, fork, agent, approved, by whom.
    pub record: agent_core::ApprovalRecord,
}

/// Setting names never shown, whatever a future version records.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "auth",
        "credential",
        "cookie",
    ]
    .iter()
    .any(|word| name.contains(word))
}

fn parse_time(at: &str) -> Option<Instant> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Null => Some("(default)".to_owned()),
        _ => None,
    }
}

/// A batch item's journalled result as a fork: a fork result itself, or a
/// refine attempt holding one as `output`.
fn fork_of(value: &serde_json::Value) -> Option<ForkResult> {
    serde_json::from_value(value.clone()).ok().or_else(|| {
        value
            .get("output")
            .and_then(|output| serde_json::from_value(output.clone()).ok())
    })
}

impl RunView {
    /// The run in `contents` (a journal read with `planner::read_journal`).
    ///
    /// Settings come from the `settings` object the CLI records in the run's
    /// arguments (scalars only; a name that looks like a key, token,
    /// secret or password is left out), with the command's name and its
    /// concurrency limit when one was given.
    pub fn from_journal(contents: &JournalContents) -> Self {
        Self::from_records(&contents.records, contents.state(), &contents.warnings)
    }

    /// The run in `records` (a journal's events, in order), standing at
    /// `state` (see `planner::journal::JournalContents::state`), with the
    /// reader's `warnings`. [`RunView::from_journal`] is this on a journal
    /// read from disk; tests build records with fixed times.
    pub fn from_records(records: &[JournalRecord], state: RunState, warnings: &[String]) -> Self {
        let meta = records.iter().find_map(|record| match &record.event {
            JournalEvent::RunStarted { meta } => Some(meta),
            _ => None,
        });
        let mut view = Self {
            id: meta.map(|meta| meta.id.to_string()).unwrap_or_default(),
            kind: meta.map_or(RunKind::Fork, |meta| meta.kind.clone()),
            created: meta.map(|meta| meta.created.clone()).unwrap_or_default(),
            summary: meta.map(|meta| meta.summary.clone()).unwrap_or_default(),
            state,
            analysis: None,
            units: Vec::new(),
            edges: Vec::new(),
            settings: Vec::new(),
            concurrency: None,
            start: records.first().and_then(|r| parse_time(&r.at)),
            last: records.last().and_then(|r| parse_time(&r.at)),
            events: records.len(),
            last_seq: records.last().map(|record| record.seq),
            warnings: warnings.to_vec(),
            batch_job: None,
            batch: Vec::new(),
            batch_agent: String::new(),
            approvals: Vec::new(),
        };
        if let Some(meta) = meta {
            view.read_settings(&meta.args);
        }
        let mut steps: HashMap<StepId, usize> = HashMap::new();
        let mut items: HashMap<usize, usize> = HashMap::new();
        let mut plan_ready: Option<Instant> = None;
        for record in records {
            let at = parse_time(&record.at).or(view.last).unwrap_or_default();
            match &record.event {
                JournalEvent::PlanReady { plan } => {
                    view.set_plan(plan, &mut steps);
                    plan_ready = Some(at);
                }
                JournalEvent::StepStarted { id, attempt } => {
                    let unit = view.step(id, &mut steps);
                    unit.status = UnitStatus::Running;
                    unit.attempts.push(Attempt {
                        number: *attempt,
                        start: at,
                        end: None,
                        outcome: AttemptEnd::Open,
                    });
                }
                JournalEvent::StepRetrying { id, error, .. } => {
                    let unit = view.step(id, &mut steps);
                    unit.status = UnitStatus::Retrying;
                    unit.error = Some(error.clone());
                    close(unit, at, AttemptEnd::Retried(error.clone()));
                }
                JournalEvent::StepCompleted { id, output } => {
                    let unit = view.step(id, &mut steps);
                    unit.status = UnitStatus::Completed;
                    unit.error = None;
                    unit.fork = serde_json::from_value(output.extra.clone()).ok();
                    if unit.attempts.is_empty() {
                        // Reused from an earlier run: no attempt journalled here.
                        unit.attempts.push(Attempt {
                            number: 1,
                            start: at,
                            end: None,
                            outcome: AttemptEnd::Open,
                        });
                    }
                    close(unit, at, AttemptEnd::Completed);
                }
                JournalEvent::StepFailed { id, error } => {
                    let unit = view.step(id, &mut steps);
                    unit.status = UnitStatus::Failed;
                    unit.error = Some(error.clone());
                    close(unit, at, AttemptEnd::Failed(error.clone()));
                }
                JournalEvent::StepSkipped { id, reason } => {
                    let unit = view.step(id, &mut steps);
                    unit.status = UnitStatus::Skipped;
                    unit.error = Some(reason.clone());
                }
                JournalEvent::ItemCompleted { index, result } => {
                    let fork = fork_of(result);
                    let unit = view.item(*index, &mut items);
                    unit.status = UnitStatus::Completed;
                    unit.error = None;
                    let start = fork
                        .as_ref()
                        .and_then(|fork| parse_time(&fork.started_at))
                        .filter(|start| *start <= at)
                        .unwrap_or(at);
                    if let Some(fork) = &fork {
                        unit.agent_type.clone_from(&fork.agent_type);
                        unit.task.clone_from(&fork.task);
                    }
                    unit.fork = fork;
                    unit.attempts = vec![Attempt {
                        number: 1,
                        start,
                        end: Some(at),
                        outcome: AttemptEnd::Completed,
                    }];
                }
                JournalEvent::ItemFailed { index, error } => {
                    let start = view.start.unwrap_or(at);
                    let unit = view.item(*index, &mut items);
                    // A fork stopped by Ctrl-C is journalled with its status word.
                    let cancelled = error == agent_core::ForkStatus::Cancelled.as_str();
                    unit.status = if cancelled {
                        UnitStatus::Interrupted
                    } else {
                        UnitStatus::Failed
                    };
                    unit.error = Some(error.clone());
                    unit.attempts = vec![Attempt {
                        number: 1,
                        start,
                        end: Some(at),
                        outcome: AttemptEnd::Failed(error.clone()),
                    }];
                }
                JournalEvent::RunResumed | JournalEvent::RunInterrupted => {
                    // Attempts under way when the run stopped end there.
                    for unit in &mut view.units {
                        if matches!(unit.status, UnitStatus::Running) {
                            unit.status = UnitStatus::Interrupted;
                            close(unit, at, AttemptEnd::Failed("interrupted".to_owned()));
                        }
                    }
                }
                // A batch job's own lines; its items arrive as item
                // results like a live swarm's.
                JournalEvent::BatchSubmitting {
                    display_name,
                    model,
                    requests,
                } => {
                    view.batch_job.get_or_insert_with(|| BatchJob {
                        display_name: display_name.clone(),
                        model: model.clone(),
                        requests: *requests,
                        name: None,
                        adopted: false,
                        state: None,
                        succeeded: 0,
                        failed: 0,
                        pending: 0,
                        submitting: Some(at),
                        submitted: None,
                        polled: None,
                        collected: None,
                    });
                }
                JournalEvent::BatchSubmitted { name, adopted } => {
                    if let Some(job) = &mut view.batch_job {
                        job.name = Some(name.to_string());
                        job.adopted = *adopted;
                        job.submitted = Some(at);
                    }
                }
                JournalEvent::BatchPolled {
                    state,
                    succeeded,
                    failed,
                    pending,
                } => {
                    if let Some(job) = &mut view.batch_job {
                        job.state = Some(state.clone());
                        (job.succeeded, job.failed, job.pending) = (*succeeded, *failed, *pending);
                        job.polled = Some(at);
                    }
                }
                JournalEvent::BatchCollected { state } => {
                    if let Some(job) = &mut view.batch_job {
                        job.state = Some(state.clone());
                        job.collected = Some(at);
                    }
                }
                JournalEvent::ToolApproval { record: approval } => {
                    view.approvals.push(ApprovalEntry {
                        at: record.at.clone(),
                        record: approval.clone(),
                    });
                }
                JournalEvent::RunStarted { .. }
                | JournalEvent::ResultSaved { .. }
                | JournalEvent::Spent { .. }
                | JournalEvent::RunFinished { .. } => {}
            }
        }
        view.units_ready(plan_ready);
        view
    }

    fn read_settings(&mut self, args: &serde_json::Value) {
        if let Some(command) = args.get("command").and_then(scalar) {
            self.settings.push(("command".to_owned(), command));
        }
        // The limit given on the command line, else the one the run
        // resolved (recorded with its settings).
        self.concurrency = args
            .get("params")
            .and_then(|params| params.get("concurrency"))
            .and_then(serde_json::Value::as_u64)
            .or_else(|| {
                args.get("settings")
                    .and_then(|settings| settings.get("concurrency"))
                    .and_then(serde_json::Value::as_u64)
            });
        if let Some(limit) = self.concurrency {
            self.settings
                .push(("concurrency".to_owned(), limit.to_string()));
        }
        let params = args.get("params");
        // A swarm's tasks, or a fork's one task.
        self.batch = params
            .and_then(|params| params.get("tasks"))
            .and_then(serde_json::Value::as_array)
            .map(|tasks| {
                tasks
                    .iter()
                    .filter_map(|task| task.as_str().map(str::to_owned))
                    .collect()
            })
            .filter(|tasks: &Vec<String>| !tasks.is_empty())
            .or_else(|| {
                let params = params?;
                let task = ["task_text", "task_flag"]
                    .iter()
                    .find_map(|name| params.get(*name)?.as_str())?;
                Some(vec![task.to_owned()])
            })
            .unwrap_or_default();
        self.batch_agent = params
            .and_then(|params| params.get("agent_type"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(settings) = args.get("settings").and_then(|value| value.as_object()) {
            for (name, value) in settings {
                if is_secret_name(name) || name == "concurrency" {
                    continue;
                }
                if let Some(value) = scalar(value) {
                    self.settings.push((name.clone(), value));
                }
            }
        }
    }

    fn set_plan(&mut self, plan: &Plan, steps: &mut HashMap<StepId, usize>) {
        self.analysis = Some(plan.analysis.clone()).filter(|text| !text.is_empty());
        for step in &plan.steps {
            let index = self.step_index(&step.id, steps);
            let unit = &mut self.units[index];
            unit.name.clone_from(&step.name);
            unit.agent_type.clone_from(&step.agent_type);
            unit.task.clone_from(&step.task);
        }
        self.edges.clear();
        for step in &plan.steps {
            let to = steps[&step.id];
            for dependency in &step.depends_on {
                if let Some(&from) = steps.get(dependency) {
                    self.edges.push((from, to));
                }
            }
        }
    }

    fn step_index(&mut self, id: &StepId, steps: &mut HashMap<StepId, usize>) -> usize {
        *steps.entry(id.clone()).or_insert_with(|| {
            self.units.push(Unit::new(id.to_string()));
            self.units.len() - 1
        })
    }

    fn step(&mut self, id: &StepId, steps: &mut HashMap<StepId, usize>) -> &mut Unit {
        let index = self.step_index(id, steps);
        &mut self.units[index]
    }

    fn item(&mut self, index: usize, items: &mut HashMap<usize, usize>) -> &mut Unit {
        let position = *items.entry(index).or_insert_with(|| {
            self.units.push(Unit::new(format!("item {index}")));
            self.units.len() - 1
        });
        &mut self.units[position]
    }

    /// Each step's ready time: when the plan was ready and its last
    /// dependency completed; items are ready when the run started.
    fn units_ready(&mut self, plan_ready: Option<Instant>) {
        if self.kind != RunKind::Plan && plan_ready.is_none() {
            // Every recorded task of a swarm or fork is an item, run or not.
            if matches!(self.kind, RunKind::Swarm | RunKind::Fork) {
                let mut items: HashMap<usize, usize> = self
                    .units
                    .iter()
                    .enumerate()
                    .filter_map(|(position, unit)| {
                        let index = unit.label.strip_prefix("item ")?.parse().ok()?;
                        Some((index, position))
                    })
                    .collect();
                let (batch, agent) = (self.batch.clone(), self.batch_agent.clone());
                for (index, task) in batch.into_iter().enumerate() {
                    let unit = self.item(index, &mut items);
                    if unit.task.is_empty() {
                        unit.task = task;
                    }
                    if unit.agent_type.is_empty() {
                        unit.agent_type.clone_from(&agent);
                    }
                }
            }
            // Batch items are sorted by position for the page.
            self.units.sort_by_key(|unit| {
                unit.label
                    .strip_prefix("item ")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(usize::MAX)
            });
            for unit in &mut self.units {
                unit.ready = self.start;
            }
            return;
        }
        let ends: Vec<Option<Instant>> = self.units.iter().map(Unit::end).collect();
        for (index, unit) in self.units.iter_mut().enumerate() {
            let mut ready = plan_ready;
            for &(from, to) in &self.edges {
                if to == index {
                    ready = match (ready, ends[from]) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
            unit.ready = ready;
        }
    }

    /// The cost of every fork the journal holds, and whether every call was priced.
    pub fn total_cost(&self) -> genai_client::CostTotal {
        self.units
            .iter()
            .filter_map(|unit| unit.fork.as_ref())
            .fold(genai_client::CostTotal::default(), |sum, fork| {
                sum + fork.cost
            })
    }

    /// Tokens over every fork the journal holds (prompt, output, thinking).
    pub fn total_tokens(&self) -> (u64, u64, u64) {
        self.units
            .iter()
            .filter_map(|unit| unit.fork.as_ref())
            .fold((0, 0, 0), |(p, c, t), fork| {
                (
                    p + fork.usage.prompt,
                    c + fork.usage.candidates,
                    t + fork.usage.thoughts,
                )
            })
    }
}

#[cfg(test)]
impl RunView {
    /// A run with nothing in it, for the drawings' tests.
    pub(crate) fn test_empty() -> Self {
        Self::from_records(&[], RunState::Completed, &[])
    }

    /// A unit named `label`, for the drawings' tests.
    pub(crate) fn test_unit(label: &str) -> Unit {
        Unit::new(label.to_owned())
    }
}

/// Ends `unit`'s open attempt at `at`.
fn close(unit: &mut Unit, at: Instant, outcome: AttemptEnd) {
    if let Some(attempt) = unit
        .attempts
        .last_mut()
        .filter(|attempt| attempt.end.is_none())
    {
        attempt.end = Some(at);
        attempt.outcome = outcome;
    }
}
