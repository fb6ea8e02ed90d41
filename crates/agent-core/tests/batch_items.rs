//! Forks as Batch API items: the request is the one a live fork sends on
//! its first turn (checked against the body the live fork put on the wire),
//! forks that need a tool loop are refused with a message, and the result
//! made from a batch reply is priced at half the standard rate. The swarm's
//! collector consolidates batch results live, as a live swarm does.

mod support;

use std::sync::Arc;

use agent_core::{
    BatchRefusal, BuiltinAgent, ForkId, ForkRequest, ForkStatus, Forker, Swarm, SwarmOptions,
    batch_fork_result,
};
use genai_client::GenerateContentResponse;
use support::*;
use test_support::gemini::Reply;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-2.5-flash-lite";

fn creative() -> agent_core::AgentProfile {
    let mut profile = BuiltinAgent::Creative.profile();
    profile.model = MODEL.to_owned();
    profile
}

#[tokio::test]
async fn a_batch_item_is_the_request_a_live_fork_sends_first() {
    let server = server(
        "batch_item_live",
        vec![unary(MODEL, task("Name a colour."), text_reply("Teal."))],
    )
    .await;
    let forker = Forker::new(client(&server));
    let request = ForkRequest::new("Name a colour.", creative()).with_context("Be brief.");
    let live = forker.run(request.clone(), &CancellationToken::new()).await;
    assert_eq!(live.status, ForkStatus::Success);
    let sent = bodies(&server).pop().unwrap();
    let item = forker.batch_request(&request).unwrap();
    assert_eq!(serde_json::to_value(&item).unwrap(), sent);
}

#[tokio::test]
async fn forks_that_need_a_tool_loop_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = Arc::new(
        agent_core::workspace::Workspace::open(
            dir.path(),
            agent_core::workspace::WorkspaceOptions::default(),
        )
        .unwrap(),
    );
    let server = server("batch_refusals", vec![]).await;
    let forker = Forker::new(client(&server)).with_workspace(workspace);
    let mut general = BuiltinAgent::General.profile();
    general.model = MODEL.to_owned();
    let refused = forker
        .batch_request(&ForkRequest::new("Tidy src/.", general))
        .unwrap_err();
    assert!(matches!(refused, BatchRefusal::ToolLoop { .. }));
    assert!(refused.to_string().contains("multi-turn tool loop"));

    let mut unknown = creative();
    unknown.model = "some-model-the-catalog-does-not-know".to_owned();
    let refused = forker
        .batch_request(&ForkRequest::new("x", unknown))
        .unwrap_err();
    assert!(matches!(refused, BatchRefusal::ModelNotBatchable { .. }));
    // Without file tools the same forker builds the item.
    assert!(
        forker
            .batch_request(&ForkRequest::new("x", creative()))
            .is_ok()
    );
}

#[test]
fn a_batch_result_is_priced_at_half_and_errors_stay_per_item() {
    let request = ForkRequest::new("Name a colour.", creative());
    let reply: GenerateContentResponse = serde_json::from_value(
        Reply::text("Teal.")
            .usage(1_000, 200, 0)
            .model_version(MODEL)
            .json(),
    )
    .unwrap();
    let result = batch_fork_result(&request, ForkId::generate(), Ok(&reply));
    assert_eq!(result.status, ForkStatus::Success);
    assert_eq!(result.text, "Teal.");
    let standard = genai_client::cost_of_call(
        &reply.usage().unwrap(),
        Some(MODEL),
        MODEL,
        chrono::Utc::now().date_naive(),
    )
    .unwrap();
    assert_eq!(
        result.cost.usd.picodollars(),
        standard.usd.picodollars().div_ceil(2)
    );
    assert!(result.turns[0].cost.as_ref().unwrap().batch);

    let failed = batch_fork_result(
        &request,
        ForkId::generate(),
        Err("Internal error. (code 13)".into()),
    );
    assert_eq!(failed.status, ForkStatus::Error);
    assert!(failed.error.unwrap().message.contains("code 13"));
}

#[tokio::test]
async fn the_collector_consolidates_batch_results_live() {
    let server = server(
        "batch_collect",
        vec![unary(
            "gemini-3.8-flash",
            containing("Teal."),
            text_reply("One colour: teal."),
        )],
    )
    .await;
    let forker = Forker::new(client(&server));
    let mut options = SwarmOptions::new(creative());
    options.consolidation.model = "gemini-3.8-flash".to_owned();
    let swarm = Swarm::new(&forker, options);
    let mut collector = swarm.collector();
    let mut seen = Vec::new();
    for (index, text) in [(1, "Teal."), (0, "")] {
        let request = swarm.fork_request(format!("task {index}"));
        let reply = if text.is_empty() {
            Err("Resource exhausted. (code 8)".to_owned())
        } else {
            Ok(serde_json::from_value(Reply::text(text).json()).unwrap())
        };
        let result = batch_fork_result(
            &request,
            ForkId::generate(),
            reply.as_ref().map_err(Clone::clone),
        );
        collector.add(index, result, 0, Some(2), &mut |index, _| seen.push(index));
    }
    let outcome = collector.finish(&CancellationToken::new()).await;
    assert_eq!(seen, [1, 0]);
    assert_eq!(
        (outcome.total, outcome.completed, outcome.failed),
        (2, 1, 1)
    );
    assert_eq!(outcome.results[0].0, 0, "results in task order");
    assert_eq!(outcome.consolidated.unwrap().text, "One colour: teal.");
    server.assert_clean();
}
