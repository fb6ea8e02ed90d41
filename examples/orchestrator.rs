//! Orchestrator: plan-and-execute. A planning call turns a goal into a DAG
//! of at most four steps; each step runs as soon as the steps it needs are
//! done, and a last call turns the step results into the deliverable.
//!
//! Run with `cargo run --example orchestrator`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/orchestrator.json`.
//! The goal is the `orchestrator` row of the scenario table (`src/lib.rs`).

mod common;

use std::sync::Arc;

use agent_core::{AgentCatalog, AgentOverrides};
use agent_fork_examples::Work;
use planner::{Orchestrator, PlanExecuteOptions, ScheduleEvent, WorkflowEvent};
use render::{Status, status_line};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("orchestrator").await?;
    let Work::Plan {
        goal,
        context,
        max_steps,
    } = work
    else {
        anyhow::bail!("orchestrator is a plan in the scenario table");
    };
    let max_steps = max_steps as usize;
    let forker = demo.forker()?;
    // Each step finishing is shown as it happens (steps run in parallel
    // when the plan allows it, so the order may vary on a live run).
    let theme = demo.theme;
    let observer: planner::WorkflowObserver = Arc::new(move |event: &WorkflowEvent| {
        if let WorkflowEvent::Step(ScheduleEvent::StepCompleted { id, .. }) = event {
            common::say(&status_line(Status::Ok, &format!("{id} done"), &theme));
        }
    });
    let orchestrator =
        Orchestrator::new(forker, AgentCatalog::default(), AgentOverrides::default())
            .with_observer(observer);
    demo.show(&views::plan_header(
        "orchestrator",
        goal,
        Some(context),
        Some(max_steps),
        &demo.theme,
    ));

    let cancel = CancellationToken::new();
    let started = std::time::Instant::now();
    let (plan, planning_usage) = orchestrator
        .make_plan(goal, Some(context), max_steps, &cancel)
        .await?;
    demo.show(&views::plan_tree("orchestrator", plan.plan(), &demo.theme));
    let options = PlanExecuteOptions {
        context: Some(context.to_owned()),
        max_steps,
        ..PlanExecuteOptions::new(goal)
    };
    let mut run = orchestrator.run_plan(&plan, &options, &cancel).await;
    run.usage += planning_usage;
    demo.show(&views::plan_result(&run, started.elapsed(), &demo.theme));
    demo.finish().await
}
