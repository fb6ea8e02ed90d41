//! Basic fork: one general agent answers a question, streaming its answer.
//!
//! Run with `cargo run --example basic_fork`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/basic_fork.json`.

mod common;

use std::sync::Arc;

use agent_core::workspace::{Workspace, WorkspaceOptions};
use agent_core::{BuiltinAgent, ForkId, ForkRequest, Forker};
use tokio_util::sync::CancellationToken;

const TASK: &str = "Explain the difference between async and threading in Python in 3 sentences.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("basic_fork", "Basic Agent Fork").await?;
    let workspace = Arc::new(Workspace::open(
        demo.workspace(),
        WorkspaceOptions::default(),
    )?);
    let forker = Forker::new(demo.client.clone()).with_workspace(workspace);
    let profile = BuiltinAgent::General.profile();
    let fork_id = ForkId::generate();
    demo.show(&common::views::fork_header(
        fork_id.as_str(),
        &profile.name,
        &profile.model,
        TASK,
        "workspace (temporary)",
        &demo.theme,
    ));
    let request = ForkRequest {
        fork_id: Some(fork_id),
        stream: true,
        ..ForkRequest::new(TASK, profile)
    };
    let result = forker.run(request, &CancellationToken::new()).await;
    demo.show(&common::views::fork_result(&result, &demo.theme));
    demo.finish().await
}
