//! `agent-fork plan --goal GOAL`: plan a goal into a DAG of steps and run
//! it, each step as soon as its own dependencies are done; or run an edited
//! plan with `--plan FILE`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use planner::{
    Orchestrator, Plan, PlanExecuteOptions, PlanRun, StepId, StepOutput, WorkflowError,
    WorkflowEvent, WorkflowStatus,
};
use serde::{Deserialize, Serialize};

use crate::commands::common::{self, AgentFlags};
use crate::context::{Context, Run, Wiring};
use crate::exit::{Exit, Failure};
use crate::finish::{Outcome, finish};
use crate::json::{PlanDryRunJson, PlanFailedJson, PlanJson, PlanRunJson, RunStatus};
use crate::live::{Reporter, Scope};
use crate::output::Output;
use crate::run_record::{CommandArgs, RunRecorder};
use crate::session::{Session, Traffic};
use crate::settings::Layer;

/// Arguments of `plan`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct PlanArgs {
    /// The goal to plan and carry out.
    #[arg(long, short = 'g', value_name = "GOAL")]
    pub(crate) goal: Option<String>,
    /// Context given with the goal (stack, constraints, ...).
    #[arg(long, value_name = "TEXT")]
    pub(crate) context: Option<String>,
    /// Most steps the plan may have.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub(crate) max_steps: u32,
    /// Run this plan (JSON, as saved in a run folder's plan.json) instead of planning.
    #[arg(long = "plan", value_name = "FILE")]
    pub(crate) plan_file: Option<PathBuf>,
    /// Only make the plan: show it and save it (edit it, then run it with --plan).
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Run the steps one at a time in plan order, each given all earlier results.
    #[arg(long)]
    pub(crate) sequential: bool,
    /// Most steps running at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(crate) concurrency: Option<u32>,
    /// Extra attempts for a failing step.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=5))]
    pub(crate) retries: u32,
    /// Cut each dependency's result to this many characters in a step's prompt.
    #[arg(long, default_value_t = planner::DEFAULT_CONTEXT_CAP)]
    pub(crate) dependency_cap: usize,
}

/// Runs `plan`.
pub(crate) async fn run(
    args: &PlanArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let plan = match &args.plan_file {
        Some(path) => {
            Some(Plan::from_file(path).map_err(|error| Failure::usage(error.to_string()))?)
        }
        None => None,
    };
    let goal = goal_of(args, plan.as_ref())?;
    let context = Context::resolve(layer(args, flags), traffic, output)?;
    let command = CommandArgs::Plan(args.clone());
    let run = context.open_run(&goal, command, flags)?;
    let result = execute(args, &run, plan, HashMap::new()).await;
    run.recorder.delete_if_never_started(result)
}

fn goal_of(args: &PlanArgs, plan: Option<&Plan>) -> Result<String> {
    match (&args.goal, plan) {
        (Some(goal), _) => common::non_empty(goal, "the goal"),
        (None, Some(plan)) if !plan.analysis.trim().is_empty() => Ok(plan.analysis.clone()),
        (None, Some(_)) => Ok("carry out the plan".to_owned()),
        (None, None) => Err(Failure::usage(
            "no goal given: agent-fork plan --goal \"what to achieve\" (or --plan FILE)",
        )
        .into()),
    }
}

/// The settings layer of `plan`'s flags.
pub(crate) fn layer(args: &PlanArgs, flags: &AgentFlags) -> Layer {
    flags.layer_with_concurrency(args.concurrency)
}

/// Plans (unless `plan` is given) and runs; steps in `done` are reused.
pub(crate) async fn execute(
    args: &PlanArgs,
    run: &Run<'_>,
    plan: Option<Plan>,
    done: HashMap<StepId, StepOutput>,
) -> Result<Exit> {
    let (context, recorder) = (run.context, &run.recorder);
    let (output, settings, catalog) = (context.output, &context.settings, &context.catalog);
    let goal = goal_of(args, plan.as_ref())?;
    let needs_tools = catalog
        .names()
        .any(|name| catalog.get(name).is_ok_and(|profile| profile.file_tools));
    let workspace = context.workspace(needs_tools)?;
    common::preflight_workflow(catalog, &context.overrides, output)?;
    // A given plan that cannot run is refused before anything is shown.
    if let Some(plan) = &plan {
        refuse_unusable(plan, args, catalog)?;
    }
    header(args, &goal, plan.is_none(), done.len(), recorder, output);
    let title = "🎯 Plan".to_owned();
    let wiring = context
        .wire(workspace, Scope::Steps { title, total: 0 })
        .await?;
    let observer = observer(recorder, &wiring.reporter, output);
    let orchestrator = Orchestrator::new(
        wiring.forker.clone(),
        catalog.clone(),
        context.overrides.clone(),
    )
    .with_observer(observer.clone());
    let cancel = run.cancel(&wiring.reporter);
    let options = options(args, settings, &goal, done);
    let planned = match plan {
        Some(plan) => given_plan(&orchestrator, &observer, &plan, options.max_steps)?,
        None => {
            let context = options.context.as_deref();
            (orchestrator.make_plan(&goal, context, options.max_steps, &cancel)).await
        }
    };
    let (valid, planning_usage) = match planned {
        Ok(planned) => planned,
        Err(error) => return planning_failed(&error, recorder, wiring.session, output).await,
    };
    if args.dry_run {
        return dry_run(&valid, recorder, wiring.session, output).await;
    }
    let mut plan_run = orchestrator.run_plan(&valid, &options, &cancel).await;
    plan_run.usage += planning_usage;
    conclude(run, wiring, plan_run, &goal).await
}

/// Ends a plan that ran: closes the session, shows the result with the
/// whole run's cost (planning, every session's steps, consolidation) and
/// finishes the run.
async fn conclude(
    run: &Run<'_>,
    wiring: Wiring,
    mut plan_run: PlanRun,
    goal: &str,
) -> Result<Exit> {
    let (recorder, output) = (&run.recorder, run.context.output);
    let reporter = wiring.reporter.clone();
    let session = wiring.close().await;
    if let Some(spending) = &session.spending {
        plan_run.cost = spending.run_cost();
    }
    let json = PlanRunJson::new(recorder.id().as_str(), goal, &plan_run, reporter.elapsed());
    if output.json() {
        output.json_value(&json)?;
    } else {
        let elapsed = reporter.elapsed();
        output.line(&views::plan_result(&plan_run, elapsed, output.theme()));
    }
    let outcome = Outcome::of(plan_run.status);
    finish(recorder, Some(session), "plan", outcome, &json, output).await
}

/// Refuses a given plan (`--plan`, or a resumed run's) that fails the
/// checks a made plan passes.
fn refuse_unusable(plan: &Plan, args: &PlanArgs, catalog: &agent_core::AgentCatalog) -> Result<()> {
    let rules = planner::ValidationRules {
        known_agent_types: catalog.names().map(str::to_owned).collect(),
        max_steps: (args.max_steps as usize).max(plan.steps.len()),
    };
    planner::validate(plan, &rules)
        .map_err(|error| Failure::usage(format!("the plan is not usable: {error}")))?;
    Ok(())
}

/// The plan run's options from the flags and settings; steps in `done`
/// are reused.
fn options(
    args: &PlanArgs,
    settings: &crate::settings::Settings,
    goal: &str,
    done: HashMap<StepId, StepOutput>,
) -> PlanExecuteOptions {
    PlanExecuteOptions {
        context: args.context.clone(),
        max_steps: args.max_steps as usize,
        concurrency: settings.concurrency.value,
        sequential: args.sequential,
        retries_per_step: args.retries,
        dependency_cap: args.dependency_cap.max(100),
        max_turns: settings.max_turns.value,
        already_completed: done,
        ..PlanExecuteOptions::new(goal.to_owned())
    }
}

/// A plan given with `--plan` (or by a resumed run), validated and shown
/// as ready; it took no planning tokens.
fn given_plan(
    orchestrator: &Orchestrator,
    observer: &planner::WorkflowObserver,
    plan: &Plan,
    max_steps: usize,
) -> Result<Result<(planner::ValidPlan, genai_client::Usage), WorkflowError>> {
    let valid = orchestrator
        .validate_plan(plan, max_steps.max(plan.steps.len()))
        .map_err(|error| Failure::usage(format!("the plan is not usable: {error}")))?;
    observer(&WorkflowEvent::PlanReady { plan: plan.clone() });
    Ok(Ok((valid, genai_client::Usage::default())))
}

/// The panel that opens a plan run (nothing with `--json`).
fn header(
    args: &PlanArgs,
    goal: &str,
    planning: bool,
    reused: usize,
    recorder: &RunRecorder,
    output: &Output,
) {
    if output.json() {
        return;
    }
    let planning = planning.then_some(args.max_steps as usize);
    output.heading(&views::plan_header(
        recorder.id().as_str(),
        goal,
        args.context.as_deref(),
        planning,
        output.theme(),
    ));
    if reused > 0 {
        output.notice(&format!(
            "Resuming: {reused} completed steps are reused from the interrupted run."
        ));
    }
}

/// Journals the plan's progress and shows it.
fn observer(
    recorder: &Arc<RunRecorder>,
    reporter: &Arc<Reporter>,
    output: &Output,
) -> planner::WorkflowObserver {
    let names: Arc<std::sync::Mutex<HashMap<String, String>>> = Arc::default();
    let (recorder, reporter, output) = (recorder.clone(), reporter.clone(), output.clone());
    let label = recorder.id().to_string();
    Arc::new(move |event: &WorkflowEvent| match event {
        WorkflowEvent::PlanReady { plan } => {
            recorder.plan(plan);
            reporter.expect(plan.steps.len());
            if let Ok(mut names) = names.lock() {
                names.extend(
                    plan.steps
                        .iter()
                        .map(|step| (step.id.to_string(), step.name.clone())),
                );
            }
            if !output.json() {
                output.heading(&views::plan_tree(&label, plan, output.theme()));
            }
        }
        WorkflowEvent::PlanRepair { error } => reporter.note(&format!(
            "the plan was invalid ({error}); asking the planner to fix it once"
        )),
        WorkflowEvent::Step(step) => {
            recorder.record(step);
            let name = names
                .lock()
                .ok()
                .and_then(|names| names.get(step_id(step)).cloned())
                .unwrap_or_default();
            reporter.step(step, &name);
        }
        WorkflowEvent::ConsolidationStarted => {
            reporter.note("All steps are done; writing the final result...")
        }
        // Planning is announced by the header, a phase has no meaning in
        // a plan run, and a step's fork is shown by its step event.
        WorkflowEvent::PlanningStarted { .. }
        | WorkflowEvent::PhaseStarted { .. }
        | WorkflowEvent::StepFork { .. } => {}
    })
}

/// Ends a run whose plan could not be made.
async fn planning_failed(
    error: &WorkflowError,
    recorder: &RunRecorder,
    session: Session,
    output: &Output,
) -> Result<Exit> {
    let outcome = match error {
        WorkflowError::Cancelled => Outcome::of(WorkflowStatus::Cancelled),
        WorkflowError::BudgetExhausted(_) => Outcome::of(WorkflowStatus::BudgetExhausted),
        WorkflowError::Planning(_) => Outcome::failed(Exit::Api),
        _ => Outcome::failed(Exit::WorkFailed),
    };
    let result = PlanFailedJson {
        run_id: recorder.id().to_string(),
        status: match outcome.status {
            WorkflowStatus::BudgetExhausted => RunStatus::BudgetExhausted,
            _ => RunStatus::Failed,
        },
        error: error.to_string(),
    };
    let exit = finish(recorder, Some(session), "plan", outcome, &result, output).await?;
    let message =
        common::model_not_found_line(&error.to_string()).unwrap_or_else(|| error.to_string());
    Err(Failure { exit, message }.into())
}

/// Ends a `--dry-run`: the plan is saved, shown and not run.
async fn dry_run(
    valid: &planner::ValidPlan,
    recorder: &RunRecorder,
    session: Session,
    output: &Output,
) -> Result<Exit> {
    let saved = recorder.dir().join("plan.json");
    let result = PlanDryRunJson {
        run_id: recorder.id().to_string(),
        plan: PlanJson::from(valid.plan()),
        plan_file: saved.clone(),
    };
    let outcome = Outcome::of(WorkflowStatus::Completed);
    finish(recorder, Some(session), "plan", outcome, &result, output).await?;
    if output.json() {
        output.json_value(&result)?;
    } else {
        output.line(&format!(
            "Plan saved to {}; edit it and run it with: agent-fork plan --plan {}",
            saved.display(),
            saved.display()
        ));
    }
    Ok(Exit::Success)
}

fn step_id(event: &planner::ScheduleEvent) -> &str {
    use planner::ScheduleEvent as E;
    match event {
        E::StepReused { id }
        | E::StepStarted { id, .. }
        | E::StepRetrying { id, .. }
        | E::StepCompleted { id, .. }
        | E::StepFailed { id, .. }
        | E::StepSkipped { id, .. } => id.as_str(),
    }
}
