//! Research then code: a research agent (with Google Search) finds out how
//! rate limiting is best done in FastAPI; a code agent, given the findings
//! as its context, writes the middleware into its workspace.
//!
//! Run with `cargo run --example research_then_code`. With `GEMINI_API_KEY`
//! set it calls Gemini; without, it replays
//! `fixtures/sessions/research_then_code.json`.

mod common;

use std::sync::Arc;

use agent_core::{AgentCatalog, AgentOverrides};
use planner::{Orchestrator, WorkflowEvent};
use render::{Panel, key_value, rule};
use tokio_util::sync::CancellationToken;

const RESEARCH: &str =
    "What is the recommended way to implement rate limiting in FastAPI applications?";
const TASK: &str = "Implement a rate limiting middleware for a FastAPI application, following the approach the research recommends.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("research_then_code", "Research Then Code").await?;
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
        key_value("Research", RESEARCH, &demo.theme),
        key_value("Task", TASK, &demo.theme),
    ]
    .join("\n");
    demo.show(
        &Panel::new(body)
            .title("📚→💻 Research Then Code")
            .render(&demo.theme),
    );

    let started = std::time::Instant::now();
    let outcome = orchestrator
        .research_then_code(RESEARCH, TASK, None, None, &CancellationToken::new())
        .await?;
    demo.show(&rule("Research findings", &demo.theme));
    demo.show(&views::fork_result(
        &outcome.research,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    if let Some(code) = &outcome.code {
        demo.show(&rule("Code", &demo.theme));
        for file in &code.files_created {
            let written = std::fs::read_to_string(demo.workspace().join(file))?;
            demo.show(&key_value(
                "Wrote",
                &format!("{file} ({} lines)", written.lines().count()),
                &demo.theme,
            ));
        }
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
    demo.show(&views::usage(
        &outcome.usage,
        started.elapsed(),
        &demo.theme,
    ));
    demo.finish().await
}
