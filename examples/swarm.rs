//! Swarm: three analysis agents work in parallel and their results are
//! consolidated into one summary.
//!
//! Run with `cargo run --example swarm`. With `GEMINI_API_KEY` set it calls
//! Gemini; without, it replays `fixtures/sessions/swarm.json`. The tasks
//! are the `swarm` row of the scenario table (`src/lib.rs`).

mod common;

use agent_core::{Swarm, SwarmOptions};
use agent_fork_examples::Work;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("swarm").await?;
    let Work::Swarm {
        agent,
        tasks,
        concurrency,
        consolidation_cap,
    } = work
    else {
        anyhow::bail!("swarm is a swarm in the scenario table");
    };
    let forker = demo.forker()?;
    let mut options = SwarmOptions {
        concurrency: concurrency as usize,
        ..SwarmOptions::new(agent.profile())
    };
    options.consolidation.per_result_cap = consolidation_cap;
    demo.show(&views::swarm_header(
        tasks.len(),
        &options.profile.name,
        options.concurrency,
        &demo.theme,
    ));
    let started = std::time::Instant::now();
    let numbered = tasks.iter().map(|task| (*task).to_owned()).enumerate();
    let outcome = Swarm::new(&forker, options)
        .run(
            numbered,
            Some(tasks.len()),
            &CancellationToken::new(),
            |_, _| {},
        )
        .await;
    demo.show(&views::swarm_result(
        &outcome,
        tasks.len(),
        started.elapsed(),
        &demo.theme,
    ));
    demo.finish().await
}
