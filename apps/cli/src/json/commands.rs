//! The documents of the commands that run work (swarm, plan, the three
//! workflows, summarize) and of `runs` and `config`.

use std::path::PathBuf;

use planner::{PlanRun, RunState, StepStatus};
use serde::Serialize;

use super::{CostJson, Counts, ForkJson, RunStatus, Status, UsageJson};

/// `swarm --json` (and `fork --swarm`).
#[derive(Debug, Serialize)]
pub(crate) struct SwarmJson {
    pub(crate) run_id: String,
    pub(crate) swarm_id: String,
    pub(crate) agent_type: String,
    /// How the swarm ended.
    pub(crate) status: RunStatus,
    /// Each task's outcome, against every task given.
    pub(crate) tasks: Counts,
    /// The results in task order (empty with `--results-jsonl`).
    pub(crate) results: Vec<ForkJson>,
    pub(crate) consolidated_summary: Option<String>,
    pub(crate) consolidation: Option<ForkJson>,
    pub(crate) usage: UsageJson,
    /// Every task's and the consolidation's cost.
    pub(crate) cost: CostJson,
    pub(crate) elapsed_ms: u64,
}

/// One `--results-jsonl` line: the task's index, then the fork's fields.
#[derive(Debug, Serialize)]
pub(crate) struct ResultLine {
    pub(crate) index: usize,
    #[serde(flatten)]
    pub(crate) fork: ForkJson,
}

/// A plan as the planner wrote it (and `--plan FILE` reads it).
#[derive(Debug, Serialize)]
pub(crate) struct PlanJson {
    pub(crate) analysis: String,
    pub(crate) steps: Vec<PlanStepJson>,
}

/// One planned step.
#[derive(Debug, Serialize)]
pub(crate) struct PlanStepJson {
    pub(crate) step_id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) agent_type: String,
    pub(crate) task: String,
    pub(crate) depends_on: Vec<String>,
}

impl From<&planner::Plan> for PlanJson {
    fn from(plan: &planner::Plan) -> Self {
        Self {
            analysis: plan.analysis.clone(),
            steps: plan
                .steps
                .iter()
                .map(|step| PlanStepJson {
                    step_id: step.id.to_string(),
                    name: step.name.clone(),
                    description: step.description.clone(),
                    agent_type: step.agent_type.clone(),
                    task: step.task.clone(),
                    depends_on: step.depends_on.iter().map(ToString::to_string).collect(),
                })
                .collect(),
        }
    }
}

/// `plan --dry-run --json`: the plan, saved and not run.
#[derive(Debug, Serialize)]
pub(crate) struct PlanDryRunJson {
    pub(crate) run_id: String,
    pub(crate) plan: PlanJson,
    /// Where it was saved (run it with `--plan FILE`).
    pub(crate) plan_file: PathBuf,
}

/// The run folder's record of a plan that could not be made.
#[derive(Debug, Serialize)]
pub(crate) struct PlanFailedJson {
    pub(crate) run_id: String,
    pub(crate) status: RunStatus,
    pub(crate) error: String,
}

/// `plan --json`: a plan run.
#[derive(Debug, Serialize)]
pub(crate) struct PlanRunJson {
    pub(crate) run_id: String,
    pub(crate) goal: String,
    pub(crate) status: RunStatus,
    pub(crate) analysis: String,
    /// Each step's outcome, against every step of the plan.
    pub(crate) step_counts: Counts,
    pub(crate) steps: Vec<StepJson>,
    pub(crate) final_result: Option<String>,
    pub(crate) consolidation: Option<ForkJson>,
    pub(crate) usage: UsageJson,
    /// The whole run's cost: the planning call, every step of every
    /// session (a resumed run's earlier ones included) and the consolidation.
    pub(crate) cost: CostJson,
    pub(crate) elapsed_ms: u64,
}

/// One step of a plan run.
#[derive(Debug, Serialize)]
pub(crate) struct StepJson {
    pub(crate) step_id: String,
    pub(crate) name: String,
    pub(crate) agent_type: Option<String>,
    pub(crate) depends_on: Option<Vec<String>>,
    pub(crate) status: Status,
    /// True when its result came from an earlier, interrupted run.
    pub(crate) reused: bool,
    pub(crate) result: Option<String>,
    /// Why it failed, or why it did not start.
    pub(crate) error: Option<String>,
    pub(crate) fork: Option<ForkJson>,
}

impl PlanRunJson {
    /// The document of `run`, which took `elapsed`.
    pub(crate) fn new(
        run_id: &str,
        goal: &str,
        run: &PlanRun,
        elapsed: std::time::Duration,
    ) -> Self {
        let steps: Vec<StepJson> = run.steps.iter().map(|step| step_json(run, step)).collect();
        Self {
            run_id: run_id.to_owned(),
            goal: goal.to_owned(),
            status: run.status.into(),
            analysis: run.plan.analysis.clone(),
            step_counts: Counts::of(run.plan.steps.len(), steps.iter().map(|step| step.status)),
            steps,
            final_result: run.consolidation.as_ref().map(|result| result.text.clone()),
            consolidation: run.consolidation.as_ref().map(ForkJson::from),
            usage: UsageJson::from(&run.usage),
            cost: CostJson::from(&run.cost),
            elapsed_ms: super::millis(elapsed),
        }
    }
}

fn step_json(run: &PlanRun, step: &planner::StepRecord) -> StepJson {
    let (status, result, error) = match &step.status {
        StepStatus::Completed(output) => (Status::Succeeded, Some(output.text.clone()), None),
        StepStatus::Failed(error) => (Status::Failed, None, Some(error.clone())),
        StepStatus::Skipped(reason) => (Status::NotStarted, None, Some(reason.clone())),
        StepStatus::Cancelled if step.fork.is_some() => (Status::Cancelled, None, None),
        StepStatus::Cancelled => (Status::NotStarted, None, None),
    };
    let plan_step = run
        .plan
        .steps
        .iter()
        .find(|candidate| candidate.id == step.id);
    StepJson {
        step_id: step.id.to_string(),
        name: step.name.clone(),
        agent_type: plan_step.map(|step| step.agent_type.clone()),
        depends_on: plan_step.map(|step| step.depends_on.iter().map(ToString::to_string).collect()),
        status,
        reused: step.reused,
        result,
        error,
        fork: step.fork.as_ref().map(ForkJson::from),
    }
}

/// `research-then-code --json`.
#[derive(Debug, Serialize)]
pub(crate) struct ResearchThenCodeJson {
    pub(crate) run_id: String,
    pub(crate) status: RunStatus,
    pub(crate) research: ForkJson,
    /// The code phase (`null` when research failed and it never ran).
    pub(crate) code: Option<ForkJson>,
    pub(crate) usage: UsageJson,
    /// Both phases' cost (the CLI gives the whole run's: every session).
    pub(crate) cost: CostJson,
    pub(crate) elapsed_ms: u64,
}

impl ResearchThenCodeJson {
    /// The document of `result`, which took `elapsed`.
    pub(crate) fn new(
        run_id: &str,
        result: &planner::ResearchThenCode,
        elapsed: std::time::Duration,
    ) -> Self {
        let forks = std::iter::once(&result.research).chain(&result.code);
        Self {
            run_id: run_id.to_owned(),
            status: result.status.into(),
            research: ForkJson::from(&result.research),
            code: result.code.as_ref().map(ForkJson::from),
            usage: UsageJson::from(&result.usage),
            cost: CostJson::from(&forks.map(|fork| fork.cost).sum()),
            elapsed_ms: super::millis(elapsed),
        }
    }
}

/// `map-reduce --json`.
#[derive(Debug, Serialize)]
pub(crate) struct MapReduceJson {
    pub(crate) run_id: String,
    pub(crate) status: RunStatus,
    /// Each item's outcome, against every item given.
    pub(crate) items: Counts,
    pub(crate) map: Vec<MappedJson>,
    pub(crate) reduce: Option<ForkJson>,
    pub(crate) result: Option<String>,
    pub(crate) usage: UsageJson,
    /// Every map and the reduce call's cost (the CLI gives the whole
    /// run's: every session).
    pub(crate) cost: CostJson,
    pub(crate) elapsed_ms: u64,
}

impl MapReduceJson {
    /// The document of `result` over `items`, which took `elapsed`.
    pub(crate) fn new(
        run_id: &str,
        items: &[String],
        result: &planner::MapReduce,
        elapsed: std::time::Duration,
    ) -> Self {
        let statuses = result.mapped.values().map(|fork| Status::from(fork.status));
        let forks = result.mapped.values().chain(&result.reduced);
        Self {
            run_id: run_id.to_owned(),
            status: result.status.into(),
            items: Counts::of(items.len(), statuses),
            map: result
                .mapped
                .iter()
                .map(|(index, fork)| MappedJson {
                    index: *index,
                    item: items[*index].clone(),
                    fork: ForkJson::from(fork),
                })
                .collect(),
            reduce: result.reduced.as_ref().map(ForkJson::from),
            result: result.reduced.as_ref().map(|fork| fork.text.clone()),
            usage: UsageJson::from(&result.usage),
            cost: CostJson::from(&forks.map(|fork| fork.cost).sum()),
            elapsed_ms: super::millis(elapsed),
        }
    }
}

/// One mapped item.
#[derive(Debug, Serialize)]
pub(crate) struct MappedJson {
    pub(crate) index: usize,
    pub(crate) item: String,
    pub(crate) fork: ForkJson,
}

/// `refine --json`.
#[derive(Debug, Serialize)]
pub(crate) struct RefineJson {
    pub(crate) run_id: String,
    pub(crate) status: RunStatus,
    pub(crate) iterations: Vec<IterationJson>,
    pub(crate) result: Option<String>,
    pub(crate) usage: UsageJson,
    /// The whole run's cost: every attempt and review, of every session.
    pub(crate) cost: CostJson,
    pub(crate) elapsed_ms: u64,
}

impl RefineJson {
    /// The document of `result`, which cost `cost` and took `elapsed`.
    pub(crate) fn new(
        run_id: &str,
        result: &planner::Refinement,
        cost: &genai_client::CostTotal,
        elapsed: std::time::Duration,
    ) -> Self {
        Self {
            run_id: run_id.to_owned(),
            status: result.status.into(),
            iterations: result.iterations.iter().map(IterationJson::from).collect(),
            result: result.final_text().map(str::to_owned),
            usage: UsageJson::from(&result.usage),
            cost: CostJson::from(cost),
            elapsed_ms: super::millis(elapsed),
        }
    }
}

/// One attempt and its review.
#[derive(Debug, Serialize)]
pub(crate) struct IterationJson {
    /// The attempt (its `cost` is the attempt's; the review is not priced).
    pub(crate) output: ForkJson,
    pub(crate) verdict: Option<VerdictJson>,
}

/// A reviewer's verdict.
#[derive(Debug, Serialize)]
pub(crate) struct VerdictJson {
    pub(crate) satisfactory: bool,
    pub(crate) issues: Vec<String>,
    pub(crate) summary: String,
}

impl From<&planner::Iteration> for IterationJson {
    fn from(iteration: &planner::Iteration) -> Self {
        Self {
            output: ForkJson::from(&iteration.output),
            verdict: iteration.verdict.as_ref().map(|verdict| VerdictJson {
                satisfactory: verdict.satisfactory,
                issues: verdict.issues.clone(),
                summary: verdict.summary.clone(),
            }),
        }
    }
}

/// `summarize --json`.
#[derive(Debug, Serialize)]
pub(crate) struct SummaryJson {
    pub(crate) summary: String,
    pub(crate) key_decisions: Vec<String>,
    pub(crate) artifacts: Vec<ArtifactJson>,
    pub(crate) current_task: String,
    pub(crate) open_questions: Vec<String>,
    pub(crate) original_tokens: u64,
    pub(crate) summary_tokens: u64,
    pub(crate) compression_ratio: f64,
    /// `estimate` or `count_tokens_api`.
    pub(crate) token_counting: &'static str,
    pub(crate) style: &'static str,
    pub(crate) timestamp: String,
    pub(crate) usage: UsageJson,
    /// What the summary's calls cost.
    pub(crate) cost: CostJson,
    /// The prompt that hands the summary to the next agent (`--next-request`).
    pub(crate) fork_prompt: Option<String>,
    pub(crate) warnings: Vec<String>,
}

/// An artifact a summary names.
#[derive(Debug, Serialize)]
pub(crate) struct ArtifactJson {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) status: String,
}

/// `runs list --json`.
#[derive(Debug, Serialize)]
pub(crate) struct RunsListJson {
    pub(crate) runs_dir: PathBuf,
    pub(crate) runs: Vec<RunListed>,
    /// Run folders whose journal did not verify.
    pub(crate) untrusted: Vec<UntrustedJson>,
}

/// One run of `runs list`.
#[derive(Debug, Serialize)]
pub(crate) struct RunListed {
    pub(crate) run_id: String,
    pub(crate) kind: String,
    pub(crate) created: String,
    pub(crate) state: RunStateJson,
    pub(crate) summary: String,
    /// What the run spent, all its sessions together.
    pub(crate) cost: CostJson,
}

/// A run folder that is not trusted.
#[derive(Debug, Serialize)]
pub(crate) struct UntrustedJson {
    pub(crate) dir: PathBuf,
    /// Always `untrusted`.
    pub(crate) state: &'static str,
    pub(crate) reason: String,
}

impl From<&planner::RunSummary> for RunListed {
    fn from(run: &planner::RunSummary) -> Self {
        Self {
            run_id: run.id.to_string(),
            kind: run.kind.to_string(),
            created: run.created.clone(),
            state: run.state.into(),
            summary: run.summary.clone(),
            cost: CostJson::from(&run.cost),
        }
    }
}

impl From<&planner::UntrustedRun> for UntrustedJson {
    fn from(run: &planner::UntrustedRun) -> Self {
        Self {
            dir: run.dir.clone(),
            state: "untrusted",
            reason: run.reason.clone(),
        }
    }
}

/// A journalled run's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunStateJson {
    /// No end recorded (running, or the process died).
    Unfinished,
    /// Stopped on purpose before the end.
    Interrupted,
    /// Ended with everything done.
    Completed,
    /// Ended with some work failed.
    Failed,
    /// Stopped by its spending budget; resumable with a larger one.
    BudgetExhausted,
}

impl From<RunState> for RunStateJson {
    fn from(state: RunState) -> Self {
        match state {
            RunState::Unfinished => Self::Unfinished,
            RunState::Interrupted => Self::Interrupted,
            RunState::Completed => Self::Completed,
            RunState::Failed => Self::Failed,
            RunState::BudgetExhausted => Self::BudgetExhausted,
        }
    }
}

impl RunStateJson {
    /// The state as its word.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Unfinished => "unfinished",
            Self::Interrupted => "interrupted",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::BudgetExhausted => "budget_exhausted",
        }
    }
}

/// `runs show RUN --json`.
#[derive(Debug, Serialize)]
pub(crate) struct RunShowJson {
    pub(crate) run_id: String,
    pub(crate) kind: String,
    pub(crate) created: String,
    pub(crate) summary: String,
    pub(crate) state: RunStateJson,
    pub(crate) dir: PathBuf,
    /// Journal lines.
    pub(crate) events: usize,
    pub(crate) warnings: Vec<String>,
    /// True when the journal ended in a half-written line (ignored).
    pub(crate) truncated_tail: bool,
    /// What the run spent, all its sessions together (the sum of its
    /// journal's `spent` lines).
    pub(crate) cost: CostJson,
    /// The tokens it used, all its sessions together.
    pub(crate) tokens: u64,
    /// The run's `--json` document as it was saved when the run ended
    /// (its `schema_version` first; a run that ended before saved
    /// documents carried one has none), or `null`.
    pub(crate) result: Option<serde_json::Value>,
    /// The run's Batch API job as last journalled (`swarm --batch`,
    /// `map-reduce --batch`), or `null`.
    pub(crate) batch: Option<BatchJobJson>,
    /// The run's journalled approval decisions, in order (every call's:
    /// those the policy simply allowed too).
    pub(crate) approvals: Vec<ApprovalJson>,
}

/// One approval decision in `runs show --json`.
#[derive(Debug, Serialize)]
pub(crate) struct ApprovalJson {
    /// When it was journalled (RFC 3339).
    pub(crate) at: String,
    pub(crate) tool: String,
    /// The fork whose call it was (`null` in journals from before it was kept).
    pub(crate) fork_id: Option<String>,
    pub(crate) agent_type: Option<String>,
    pub(crate) approved: bool,
    /// Approved for every later call of the tool in the run.
    pub(crate) always: bool,
    /// `rule`, `person`, `person_always`, `assume_yes`, `no_terminal`,
    /// `timeout` or `earlier`.
    pub(crate) by: &'static str,
    /// The policy entry that decided when `by` is `rule`: `read`, `write`,
    /// `shell`, `mcp` (a class) or `tools.NAME`; `null` otherwise (and in
    /// journals from before it was kept).
    pub(crate) rule: Option<String>,
}

/// `swarm --batch` / `map-reduce --batch` without `--wait`: the job was
/// submitted and the command returned (collect with `agent-fork resume`).
#[derive(Debug, Serialize)]
pub(crate) struct BatchSubmittedJson {
    pub(crate) run_id: String,
    /// `batches/...`.
    pub(crate) batch: String,
    /// Requests in the job.
    pub(crate) requests: usize,
    /// Always `submitted`.
    pub(crate) state: &'static str,
}

/// `runs cancel RUN`: Gemini was asked to cancel the run's job.
#[derive(Debug, Serialize)]
pub(crate) struct BatchCancelJson {
    pub(crate) run_id: String,
    /// `batches/...`.
    pub(crate) batch: String,
    /// Always `cancel_requested` (the job's own state follows on Gemini's side).
    pub(crate) state: &'static str,
}

/// A run's Batch API job in `runs show --json`: as Gemini reports it now
/// when the job is not collected yet and could be asked (`refreshed`),
/// else as the journal last saw it.
#[derive(Debug, Serialize)]
pub(crate) struct BatchJobJson {
    /// `batches/...`; `null` while the create answer is not journalled.
    pub(crate) name: Option<String>,
    pub(crate) display_name: String,
    pub(crate) model: String,
    pub(crate) requests: usize,
    /// Found by display name after a lost create answer.
    pub(crate) adopted: bool,
    /// The last polled state (`pending`, `running`, `succeeded`, `failed`,
    /// `cancelled`, `expired`), or `null` before the first poll.
    pub(crate) state: Option<String>,
    pub(crate) succeeded: Option<u64>,
    pub(crate) failed: Option<u64>,
    /// When the last poll was journalled (RFC 3339).
    pub(crate) seen_at: Option<String>,
    /// The state it ended in, once its results were collected.
    pub(crate) collected: Option<String>,
    /// `state`, `succeeded`, `failed` and `seen_at` are Gemini's answer
    /// just now (not the journal's).
    pub(crate) refreshed: bool,
    /// Why the job's live state could not be had (the journal's is shown).
    pub(crate) refresh_error: Option<String>,
}

impl BatchJobJson {
    /// The journal's record, with the live state when `live` has one.
    pub(crate) fn new(
        batch: &planner::BatchRecord,
        live: Option<&crate::commands::batch::Live>,
    ) -> Self {
        use crate::commands::batch::Live;
        let mut json = Self::from(batch);
        match live {
            Some(Live::Now { operation, at }) => {
                let stats = operation.stats();
                json.state = Some(operation.state().word().to_owned());
                json.succeeded = Some(stats.successful_request_count);
                json.failed = Some(stats.failed_request_count);
                json.seen_at = Some(at.clone());
                json.refreshed = true;
            }
            Some(Live::Failed(reason)) => {
                json.refresh_error = Some(render::strip_controls_line(reason));
            }
            None => {}
        }
        json
    }
}

impl From<&planner::BatchRecord> for BatchJobJson {
    fn from(batch: &planner::BatchRecord) -> Self {
        let seen = batch.last_seen.as_ref();
        Self {
            refreshed: false,
            refresh_error: None,
            name: batch.name.as_ref().map(ToString::to_string),
            display_name: batch.display_name.clone(),
            model: batch.model.clone(),
            requests: batch.requests,
            adopted: batch.adopted,
            state: seen.map(|seen| seen.state.word().to_owned()),
            succeeded: seen.map(|seen| seen.succeeded),
            failed: seen.map(|seen| seen.failed),
            seen_at: seen.map(|seen| seen.at.clone()),
            collected: batch
                .collected
                .as_ref()
                .map(|state| state.word().to_owned()),
        }
    }
}

/// `config --json`: each setting with its typed value and where it came from.
#[derive(Debug, Serialize)]
pub(crate) struct ConfigJson {
    pub(crate) api_key: Setting<bool>,
    pub(crate) base_url: Setting<String>,
    /// `null`: each agent type's default model.
    pub(crate) model: Setting<Option<String>>,
    /// `null`: each agent type's default.
    pub(crate) thinking: Setting<Option<String>>,
    pub(crate) workspace: Setting<PathBuf>,
    pub(crate) allow_shell: Setting<bool>,
    pub(crate) no_tools: Setting<bool>,
    pub(crate) concurrency: Setting<usize>,
    pub(crate) max_turns: Setting<u32>,
    pub(crate) runs_dir: Setting<PathBuf>,
    /// `null`: unlimited.
    pub(crate) requests_per_minute: Setting<Option<u32>>,
    /// `null`: unlimited.
    pub(crate) input_tokens_per_minute: Setting<Option<u64>>,
    /// Requests in a model's first minute before its quota is known;
    /// `null`: off.
    pub(crate) cautious_start: Setting<Option<u32>>,
    /// Whether limits learned from 429s are remembered for later runs.
    pub(crate) remember_limits: Setting<bool>,
    /// A run's dollar limit; `null`: unlimited.
    pub(crate) budget_usd: Setting<Option<f64>>,
    /// A run's token limit; `null`: unlimited.
    pub(crate) budget_tokens: Setting<Option<u64>>,
    pub(crate) project_root: PathBuf,
    pub(crate) project_file: Option<PathBuf>,
    pub(crate) journal_key: Option<PathBuf>,
    /// Where remembered quota limits are kept; `null` without a home.
    pub(crate) quota_limits_file: Option<PathBuf>,
    pub(crate) user_file: Option<PathBuf>,
    pub(crate) user_file_exists: bool,
}

/// One setting: its value and its source (`flag --model`, `default`, ...).
#[derive(Debug, Serialize)]
pub(crate) struct Setting<T> {
    pub(crate) value: T,
    pub(crate) source: String,
}

impl<T: Clone> From<&crate::settings::Setting<T>> for Setting<T> {
    fn from(setting: &crate::settings::Setting<T>) -> Self {
        Self {
            value: setting.value.clone(),
            source: setting.source.to_string(),
        }
    }
}

/// `runs report --json -o FILE`: where the report went.
#[derive(Debug, Serialize)]
pub(crate) struct RunReportJson {
    pub(crate) run_id: String,
    pub(crate) path: PathBuf,
}

/// `runs serve --json`: the address to open (it carries the token).
#[derive(Debug, Serialize)]
pub(crate) struct RunsServeJson {
    pub(crate) url: String,
    pub(crate) runs_dir: PathBuf,
}
