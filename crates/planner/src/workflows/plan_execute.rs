//! Plan-and-execute: a planning call asks for a JSON plan under a response
//! schema; the plan is validated (one repair turn on failure) and run as a
//! DAG, every step as soon as its dependencies are done; a last call turns
//! the step results into the deliverable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use agent_core::{ForkId, ForkRequest, ForkResult, ForkStatus};
use genai_client::{Content, CostTotal, Role, Usage};
use tokio_util::sync::CancellationToken;

use super::prompts::{self, StepSummary};
use super::{Orchestrator, WorkflowError, WorkflowEvent, WorkflowStatus, total_usage};
use crate::graph::ValidPlan;
use crate::parse::parse_plan;
use crate::plan::{Plan, StepId, plan_response_schema};
use crate::schedule::{
    DEFAULT_CONTEXT_CAP, ScheduleOptions, ScheduleReport, ScheduleStatus, StepFailure, StepInput,
    StepOutput, StepStatus, dependency_context, run_dag,
};
use crate::validate::{PlanError, ValidationRules, validate};

/// How a plan is made and run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanExecuteOptions {
    /// The goal.
    pub goal: String,
    /// Context given with the goal.
    pub context: Option<String>,
    /// Most steps a plan may have.
    pub max_steps: usize,
    /// Most steps running at once.
    pub concurrency: usize,
    /// Run steps one at a time in plan order, each given all earlier results.
    pub sequential: bool,
    /// Extra attempts for a failing step.
    pub retries_per_step: u32,
    /// Each dependency result is cut to this many characters in a step's prompt.
    pub dependency_cap: usize,
    /// Each step result is cut to this many characters in the final prompt.
    pub consolidation_cap: usize,
    /// Most tool-loop turns per step.
    pub max_turns: u32,
    /// Results of steps completed by an earlier run (resume): not run again.
    pub already_completed: HashMap<StepId, StepOutput>,
}

impl PlanExecuteOptions {
    /// Defaults for `goal`: 10 steps, 4 at once, no retries, 4,000-character
    /// dependency results, 20,000-character results in the final prompt.
    pub fn new(goal: impl Into<String>) -> Self {
        Self {
            goal: goal.into(),
            context: None,
            max_steps: 10,
            concurrency: 4,
            sequential: false,
            retries_per_step: 0,
            dependency_cap: DEFAULT_CONTEXT_CAP,
            consolidation_cap: 20_000,
            max_turns: 10,
            already_completed: HashMap::new(),
        }
    }
}

/// One step of a finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// The step's id.
    pub id: StepId,
    /// Its name.
    pub name: String,
    /// How it ended.
    pub status: StepStatus,
    /// Its fork's result, when it ran (now or in an earlier run).
    pub fork: Option<ForkResult>,
    /// True when the result came from an earlier run.
    pub reused: bool,
}

/// The outcome of plan-and-execute.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRun {
    /// The plan that ran.
    pub plan: Plan,
    /// Every step in plan order.
    pub steps: Vec<StepRecord>,
    /// The scheduler's report.
    pub report: ScheduleReport,
    /// The final deliverable's fork, when consolidation ran.
    pub consolidation: Option<ForkResult>,
    /// Tokens spent by this run (planning, steps run now, consolidation).
    pub usage: Usage,
    /// Cost of the steps run now and the consolidation (each step's own
    /// cost is its fork's `cost`). The planning call is charged to the
    /// forker's budget, whose `spent_cost` is the whole run's.
    pub cost: CostTotal,
    /// How it ended.
    pub status: WorkflowStatus,
}

impl Orchestrator {
    /// Asks the planning model for a plan and validates it; an invalid plan
    /// goes back once with the validation error. Returns the plan and the
    /// tokens the planning took.
    pub async fn make_plan(
        &self,
        goal: &str,
        context: Option<&str>,
        max_steps: usize,
        cancel: &CancellationToken,
    ) -> Result<(ValidPlan, Usage), WorkflowError> {
        self.emit(WorkflowEvent::PlanningStarted {
            goal: goal.to_owned(),
            max_steps,
        });
        let profile = self.helper_profile("planner", "planner", prompts::PLANNER_INSTRUCTION);
        let mut contents = vec![Content::user(prompts::planning_prompt(
            goal,
            context,
            max_steps,
            &self.agent_types(),
        ))];
        let mut usage = Usage::default();
        for turn in 1..=2 {
            let reply = self
                .json_call(&profile, contents.clone(), plan_response_schema(), cancel)
                .await?;
            usage += reply.usage().unwrap_or_default();
            let text = reply.text();
            let checked = parse_plan(&text)
                .map_err(|error| error.to_string())
                .and_then(|plan| {
                    self.validate_plan(&plan, max_steps)
                        .map_err(|error| error.to_string())
                });
            match checked {
                Ok(plan) => {
                    self.emit(WorkflowEvent::PlanReady {
                        plan: plan.plan().clone(),
                    });
                    return Ok((plan, usage));
                }
                Err(error) if turn == 1 => {
                    self.emit(WorkflowEvent::PlanRepair {
                        error: error.clone(),
                    });
                    let mut answer = reply
                        .content()
                        .cloned()
                        .unwrap_or_else(|| Content::model(text));
                    answer.role = Some(Role::Model);
                    contents.push(answer);
                    contents.push(Content::user(prompts::repair_prompt(&error)));
                }
                Err(error) => return Err(WorkflowError::BadPlan(error)),
            }
        }
        Err(WorkflowError::BadPlan(
            "no plan after the repair turn".to_owned(),
        ))
    }

    /// Checks a plan against the known agent types and a step limit.
    pub fn validate_plan(&self, plan: &Plan, max_steps: usize) -> Result<ValidPlan, PlanError> {
        validate(
            plan,
            &ValidationRules {
                known_agent_types: self.agent_types(),
                max_steps,
            },
        )
    }

    /// Makes a plan for `options.goal`, runs it and consolidates it.
    pub async fn plan_and_execute(
        &self,
        options: &PlanExecuteOptions,
        cancel: &CancellationToken,
    ) -> Result<PlanRun, WorkflowError> {
        let (plan, planning) = self
            .make_plan(
                &options.goal,
                options.context.as_deref(),
                options.max_steps,
                cancel,
            )
            .await?;
        let mut run = self.run_plan(&plan, options, cancel).await;
        run.usage += planning;
        Ok(run)
    }

    /// Runs a validated plan (new, from a file, or resumed) and consolidates it.
    pub async fn run_plan(
        &self,
        plan: &ValidPlan,
        options: &PlanExecuteOptions,
        cancel: &CancellationToken,
    ) -> PlanRun {
        let forks: Arc<Mutex<HashMap<StepId, ForkResult>>> = Arc::default();
        let executor = |input: StepInput| {
            let (this, forks) = (self.clone(), forks.clone());
            let (goal, context) = (options.goal.clone(), options.context.clone());
            let (cap, max_turns) = (options.dependency_cap, options.max_turns);
            async move {
                let profile = this
                    .profile(&input.step.agent_type)
                    .map_err(|error| StepFailure::permanent(error.to_string()))?;
                let dependencies = dependency_context(&input.dependency_results, cap);
                let request = ForkRequest {
                    max_turns,
                    ..ForkRequest::new(prompts::step_prompt(&input.step, &dependencies), profile)
                }
                .with_context(prompts::step_context(&goal, context.as_deref()));
                let result = this.fork(request, &input.cancel).await;
                this.emit(WorkflowEvent::StepFork {
                    id: input.step.id.clone(),
                    result: Box::new(result.clone()),
                });
                let outcome = step_outcome(&result);
                if let Ok(mut forks) = forks.lock() {
                    forks.insert(input.step.id.clone(), result);
                }
                outcome
            }
        };
        let schedule = ScheduleOptions {
            concurrency: options.concurrency.max(1),
            retries_per_step: options.retries_per_step,
            sequential: options.sequential,
            already_completed: options.already_completed.clone(),
            cancel: cancel.clone(),
            ..ScheduleOptions::default()
        };
        let report = run_dag(plan, schedule, executor, |event| {
            self.emit(WorkflowEvent::Step(event))
        })
        .await;
        let forks = forks.lock().map(|forks| forks.clone()).unwrap_or_default();
        let steps = step_records(plan, &report, &forks, &options.already_completed);
        let mut usage = total_usage(forks.values());
        let mut cost: CostTotal = forks.values().map(|fork| fork.cost).sum();
        let consolidation = if report.status == ScheduleStatus::Cancelled
            || !steps
                .iter()
                .any(|step| matches!(step.status, StepStatus::Completed(_)))
        {
            None
        } else {
            Some(self.consolidate(options, &steps, cancel).await)
        };
        if let Some(consolidation) = &consolidation {
            usage += consolidation.usage;
            cost += consolidation.cost;
        }
        let status = match report.status {
            ScheduleStatus::Cancelled => WorkflowStatus::Cancelled,
            ScheduleStatus::Failed => WorkflowStatus::Failed,
            ScheduleStatus::Completed => consolidation
                .as_ref()
                .map_or(WorkflowStatus::Failed, |result| result.status.into()),
        }
        .or_budget_exhausted(&self.forker);
        PlanRun {
            plan: plan.plan().clone(),
            steps,
            report,
            consolidation,
            usage,
            cost,
            status,
        }
    }

    async fn consolidate(
        &self,
        options: &PlanExecuteOptions,
        steps: &[StepRecord],
        cancel: &CancellationToken,
    ) -> ForkResult {
        self.emit(WorkflowEvent::ConsolidationStarted);
        let summaries: Vec<StepSummary<'_>> = steps
            .iter()
            .map(|step| {
                let (outcome, text) = match &step.status {
                    StepStatus::Completed(output) => ("completed".to_owned(), output.text.as_str()),
                    StepStatus::Failed(error) => (format!("failed: {error}"), ""),
                    StepStatus::Skipped(reason) => (format!("skipped: {reason}"), ""),
                    StepStatus::Cancelled => ("cancelled".to_owned(), ""),
                };
                StepSummary {
                    id: step.id.as_str(),
                    name: &step.name,
                    outcome,
                    text,
                }
            })
            .collect();
        let prompt = prompts::consolidation_prompt(
            &options.goal,
            options.context.as_deref(),
            &summaries,
            options.consolidation_cap,
        );
        let profile = self.helper_profile(
            "consolidator",
            "plan_consolidator",
            prompts::CONSOLIDATOR_INSTRUCTION,
        );
        self.fork(
            ForkRequest {
                max_turns: 1,
                ..ForkRequest::new(prompt, profile)
            },
            cancel,
        )
        .await
    }

    /// A retry observer reporting under a pseudo fork id such as `planner`.
    pub(super) fn retry_observer(&self, name: &str) -> genai_client::SharedRetryObserver {
        self.forker
            .events()
            .retry_observer(ForkId::from_string(name))
    }
}

/// A step's fork result as the scheduler sees it.
fn step_outcome(result: &ForkResult) -> Result<StepOutput, StepFailure> {
    match result.status {
        ForkStatus::Success => Ok(StepOutput {
            text: result.text.clone(),
            extra: serde_json::to_value(result).unwrap_or(serde_json::Value::Null),
        }),
        ForkStatus::Partial => Err(StepFailure::new(
            "the agent stopped at the turn limit with tool calls pending".to_owned(),
        )),
        ForkStatus::Cancelled => Err(StepFailure::permanent("cancelled".to_owned())),
        ForkStatus::Error => {
            let error = result.error.as_ref();
            let message = error.map_or_else(
                || "the agent failed".to_owned(),
                |error| error.message.clone(),
            );
            let transient = error.is_some_and(|error| {
                use genai_client::ErrorKind;
                matches!(
                    error.kind.client(),
                    Some(
                        ErrorKind::Transport
                            | ErrorKind::Timeout
                            | ErrorKind::RetriesExhausted
                            | ErrorKind::Decode
                    )
                )
            });
            Err(StepFailure {
                message,
                retryable: transient,
            })
        }
    }
}

fn step_records(
    plan: &ValidPlan,
    report: &ScheduleReport,
    forks: &HashMap<StepId, ForkResult>,
    reused: &HashMap<StepId, StepOutput>,
) -> Vec<StepRecord> {
    plan.steps()
        .iter()
        .map(|step| {
            let status = report
                .status_of(&step.id)
                .cloned()
                .unwrap_or(StepStatus::Cancelled);
            let earlier = reused.get(&step.id);
            let fork = forks.get(&step.id).cloned().or_else(|| {
                earlier.and_then(|output| {
                    serde_json::from_value::<ForkResult>(output.extra.clone()).ok()
                })
            });
            StepRecord {
                id: step.id.clone(),
                name: step.name.clone(),
                status,
                fork,
                reused: earlier.is_some(),
            }
        })
        .collect()
}
