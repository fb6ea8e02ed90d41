//! Swarm: three analysis agents work in parallel and their results are
//! consolidated into one summary.
//!
//! Run with `cargo run --example swarm`. With `GEMINI_API_KEY` set it calls
//! Gemini; without, it replays `fixtures/sessions/swarm.json`.

mod common;

use agent_core::{BuiltinAgent, Swarm, SwarmOptions};
use tokio_util::sync::CancellationToken;

const TASKS: [&str; 3] = [
    "List 3 key advantages of a microservices architecture.",
    "List 3 major challenges of a microservices architecture.",
    "List 3 best practices for communication between microservices.",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("swarm", "Parallel Agent Swarm").await?;
    let forker = demo.forker()?;
    let options = SwarmOptions {
        concurrency: 3,
        ..SwarmOptions::new(BuiltinAgent::Analysis.profile())
    };
    demo.show(&views::swarm_header(
        TASKS.len(),
        &options.profile.name,
        options.concurrency,
        &demo.theme,
    ));
    let started = std::time::Instant::now();
    let tasks = TASKS.iter().map(|task| (*task).to_owned()).enumerate();
    let outcome = Swarm::new(&forker, options)
        .run(
            tasks,
            Some(TASKS.len()),
            &CancellationToken::new(),
            |_, _| {},
        )
        .await;
    demo.show(&views::swarm_result(
        &outcome,
        started.elapsed(),
        &demo.theme,
    ));
    demo.finish().await
}
