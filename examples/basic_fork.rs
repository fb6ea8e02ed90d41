//! Basic fork: one general agent answers a question, streaming its answer.
//!
//! Run with `cargo run --example basic_fork`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/basic_fork.json`.

mod common;

use agent_core::BuiltinAgent;

const TASK: &str = "Explain the difference between async and threading in Python in 3 sentences.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("basic_fork", "Basic Agent Fork").await?;
    let result = demo
        .fork(
            TASK,
            BuiltinAgent::General.profile(),
            "workspace (temporary)",
        )
        .await?;
    demo.show(&views::fork_result(
        &result,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    demo.finish().await
}
