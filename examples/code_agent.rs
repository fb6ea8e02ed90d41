//! Code agent: a code agent with a larger thinking budget writes a retry
//! decorator into its workspace with the file tools, then explains it.
//!
//! Run with `cargo run --example code_agent`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/code_agent.json`.

mod common;

use agent_core::{AgentOverrides, BuiltinAgent};
use genai_client::ThinkingLevel;
use genai_client::catalog::ThinkingSetting;
use render::{humanize, key_value};

const TASK: &str = "Write a Python decorator that:
1. Retries a function up to 3 times on exception
2. Uses exponential backoff (1s, 2s, 4s)
3. Logs each retry attempt
4. Preserves the original function's metadata

Include type hints and a docstring.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("code_agent", "Code Agent").await?;
    // Every default of an agent type can be changed per call.
    let overrides = AgentOverrides {
        thinking: Some(ThinkingSetting::Level(ThinkingLevel::High)),
        ..AgentOverrides::default()
    };
    let profile = BuiltinAgent::Code.profile().with(&overrides);
    let result = demo.fork(TASK, profile, "workspace (temporary)").await?;
    demo.show(&key_value(
        "Thinking tokens",
        &humanize::count(result.thinking_tokens()),
        &demo.theme,
    ));
    for file in &result.files_created {
        let written = std::fs::read_to_string(demo.workspace().join(file))?;
        demo.show(&key_value(
            "Wrote",
            &format!("{file} ({} lines)", written.lines().count()),
            &demo.theme,
        ));
    }
    demo.show(&views::fork_result(
        &result,
        common::TURN_LIMIT_HINT,
        &demo.theme,
    ));
    demo.finish().await
}
