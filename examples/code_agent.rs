//! Code agent: a code agent with a higher thinking level writes a retry
//! decorator into its workspace with the file tools, then explains it.
//!
//! Run with `cargo run --example code_agent`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/code_agent.json`.
//! The task and thinking setting are the `code_agent` row of the scenario
//! table (`src/lib.rs`).

mod common;

use agent_core::AgentOverrides;
use agent_fork_examples::Work;
use render::{humanize, key_value};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("code_agent").await?;
    let Work::Fork {
        agent,
        task,
        thinking,
        tools,
    } = work
    else {
        anyhow::bail!("code_agent is a fork in the scenario table");
    };
    // Every default of an agent type can be changed per call.
    let overrides = AgentOverrides {
        thinking,
        ..AgentOverrides::default()
    };
    let profile = agent.profile().with(&overrides);
    let result = demo.fork(task, profile, tools).await?;
    demo.show(&key_value(
        "Thinking tokens",
        &humanize::count(result.thinking_tokens()),
        &demo.theme,
    ));
    demo.show_written(&result)?;
    demo.show(&views::fork_result(
        &result,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    demo.finish().await
}
