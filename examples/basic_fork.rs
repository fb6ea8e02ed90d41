//! Basic fork: one general agent answers a question, streaming its answer.
//!
//! Run with `cargo run --example basic_fork`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/basic_fork.json`.
//! The task is the `basic_fork` row of the scenario table (`src/lib.rs`).

mod common;

use agent_fork_examples::Work;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("basic_fork").await?;
    let Work::Fork {
        agent, task, tools, ..
    } = work
    else {
        anyhow::bail!("basic_fork is a fork in the scenario table");
    };
    let result = demo.fork(task, agent.profile(), tools).await?;
    demo.show(&views::fork_result(
        &result,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    demo.finish().await
}
