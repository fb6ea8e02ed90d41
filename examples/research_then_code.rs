//! Research then code: a research agent (with Google Search) finds out how
//! rate limiting is best done in FastAPI; a code agent, given the findings
//! as its context, writes the middleware into its workspace.
//!
//! Run with `cargo run --example research_then_code`. With `GEMINI_API_KEY`
//! set it calls Gemini; without, it replays
//! `fixtures/sessions/research_then_code.json`. The question and task are
//! the `research_then_code` row of the scenario table (`src/lib.rs`).

mod common;

use std::sync::Arc;

use agent_core::{AgentCatalog, AgentOverrides};
use agent_fork_examples::Work;
use planner::{Orchestrator, WorkflowEvent};
use render::{Panel, key_value, rule};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("research_then_code").await?;
    let Work::ResearchThenCode { research, task } = work else {
        anyhow::bail!("research_then_code is a workflow in the scenario table");
    };
    let forker = demo.forker()?;
    // Each phase is announced as it starts.
    let observer: planner::WorkflowObserver = Arc::new(|event: &WorkflowEvent| {
        if let WorkflowEvent::PhaseStarted { name } = event {
            common::say(&format!("▸ {name}"));
        }
    });
    let orchestrator =
        Orchestrator::new(forker, AgentCatalog::default(), AgentOverrides::default())
            .with_observer(observer);
    let body = [
        key_value("Research", research, &demo.theme),
        key_value("Task", task, &demo.theme),
    ]
    .join("\n");
    demo.show(
        &Panel::new(body)
            .title("📚→💻 Research Then Code")
            .render(&demo.theme),
    );

    let started = std::time::Instant::now();
    let outcome = orchestrator
        .research_then_code(research, task, None, None, &CancellationToken::new())
        .await?;
    demo.show(&rule("Research findings", &demo.theme));
    demo.show(&views::fork_result(
        &outcome.research,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    if let Some(code) = &outcome.code {
        demo.show(&rule("Code", &demo.theme));
        demo.show_written(code)?;
        demo.show(&views::fork_result(
            code,
            common::TURN_LIMIT_HINT,
            &demo.theme,
        ));
    }
    demo.show(&key_value(
        "Workflow Status",
        outcome.status.as_str(),
        &demo.theme,
    ));
    let cost = outcome.research.cost
        + outcome
            .code
            .as_ref()
            .map(|code| code.cost)
            .unwrap_or_default();
    demo.show(&views::usage(
        &outcome.usage,
        Some(&cost),
        started.elapsed(),
        &demo.theme,
    ));
    demo.finish().await
}
