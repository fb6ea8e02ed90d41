//! Research agent: a research agent answers with Google Search grounding and
//! lists its sources.
//!
//! Run with `cargo run --example research_agent`. With `GEMINI_API_KEY` set
//! it calls Gemini; without, it replays `fixtures/sessions/research_agent.json`.
//! The task is the `research_agent` row of the scenario table (`src/lib.rs`).

mod common;

use agent_fork_examples::Work;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("research_agent").await?;
    let Work::Fork {
        agent, task, tools, ..
    } = work
    else {
        anyhow::bail!("research_agent is a fork in the scenario table");
    };
    // Research agents have Google Search on and no file tools by default.
    let result = demo.fork(task, agent.profile(), tools).await?;
    demo.show(&views::fork_result(
        &result,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    demo.finish().await
}
