//! Research agent: a research agent answers with Google Search grounding and
//! lists its sources.
//!
//! Run with `cargo run --example research_agent`. With `GEMINI_API_KEY` set
//! it calls Gemini; without, it replays `fixtures/sessions/research_agent.json`.

mod common;

use agent_core::BuiltinAgent;

const TASK: &str =
    "What are the key new features in the Google GenAI Python SDK? Focus on recent additions.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("research_agent", "Research Agent with Google Search").await?;
    // Research agents have Google Search on and no file tools by default.
    let result = demo
        .fork(TASK, BuiltinAgent::Research.profile(), "Google Search")
        .await?;
    demo.show(&views::fork_result(
        &result,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    demo.finish().await
}
