//! The workflows against authored cassettes on loopback, in paused time:
//! plan-and-execute's makespan is planning + critical path + consolidation
//! (where waves would take far longer), the repair turn is sent once, and
//! research-then-code, map-reduce and refine send what they should.

use std::time::Duration;

use agent_core::{AgentCatalog, AgentOverrides, Forker};
use cassette::{
    BodyMatcher, Cassette, FixtureServer, Interaction, KeyFields, RequestSpec, ResponseSpec,
    ServerOptions,
};
use genai_client::{Client, ClientConfig, RetryPolicy, Timeouts};
use planner::{
    Iteration, MapReduceRequest, Orchestrator, PlanExecuteOptions, RefineRequest, WorkflowError,
    WorkflowStatus,
};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn reply(text: &str) -> Value {
    test_support::gemini::Reply::text(text)
        .usage(100, 10, 0)
        .model_version("gemini-3.1-pro-preview")
        .response_id("authored-workflow-test")
        .json()
}

fn matcher(fields: KeyFields) -> BodyMatcher {
    BodyMatcher::KeyFields(fields)
}

fn contains(text: &str) -> BodyMatcher {
    matcher(KeyFields {
        last_user_text_contains: Some(text.to_owned()),
        ..KeyFields::default()
    })
}

fn planning() -> BodyMatcher {
    matcher(KeyFields {
        system_contains: Some("You plan work for a team of specialised AI agents".to_owned()),
        ..KeyFields::default()
    })
}

fn call(model: &str, body: BodyMatcher, reply_json: Value, latency_ms: u64) -> Interaction {
    let mut interaction = Interaction::new(
        RequestSpec::post(format!("/v1beta/models/{model}:generateContent")).with_body(body),
        ResponseSpec::json(reply_json),
    );
    interaction.response.latency_ms = Some(latency_ms);
    interaction
}

async fn orchestrator(interactions: Vec<Interaction>) -> (Orchestrator, FixtureServer) {
    let mut cassette = Cassette::authored("workflow", "built in code by planner's workflow tests");
    cassette.interactions = interactions;
    let server = FixtureServer::start(vec![cassette], ServerOptions::default())
        .await
        .unwrap();
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            jitter_seed: Some(3),
            ..RetryPolicy::default()
        })
        .with_base_url(&server.base_url());
    let forker = Forker::new(Client::new(config).unwrap());
    (
        Orchestrator::new(forker, AgentCatalog::default(), AgentOverrides::default()),
        server,
    )
}

fn plan_json(steps: &[(&str, &[&str])]) -> String {
    let steps: Vec<Value> = steps
        .iter()
        .map(|(id, depends)| {
            json!({"step_id": id, "name": format!("Step {id}"), "description": "d", "agent_type": "creative",
                   "task": format!("Do task {id}."), "depends_on": depends})
        })
        .collect();
    json!({"analysis": "A test plan.", "steps": steps}).to_string()
}

/// An irregular DAG: a long chain a→b→c beside short steps whose dependents
/// would, in waves, wait for the slowest step of the previous wave.
const IRREGULAR: [(&str, &[&str], u64); 6] = [
    ("a", &[], 1_000),
    ("b", &["a"], 1_000),
    ("c", &["b"], 1_000),
    ("x", &[], 3_000),
    ("y", &["a"], 200),
    ("z", &["y"], 200),
];

#[tokio::test(start_paused = true)]
async fn plan_and_execute_takes_planning_plus_critical_path_plus_consolidation() {
    let shape: Vec<(&str, &[&str])> = IRREGULAR
        .iter()
        .map(|(id, depends, _)| (*id, *depends))
        .collect();
    let mut interactions = vec![call(
        "gemini-3.1-pro-preview",
        planning(),
        reply(&plan_json(&shape)),
        200,
    )];
    for (id, _, latency) in IRREGULAR {
        interactions.push(call(
            "gemini-3.8-flash",
            contains(&format!("Do task {id}.")),
            reply(&format!("Result {id}.")),
            latency,
        ));
    }
    interactions.push(call(
        "gemini-3.8-flash",
        contains("Every step of the plan has finished."),
        reply("Deliverable."),
        200,
    ));
    let (orchestrator, server) = orchestrator(interactions).await;
    let options = PlanExecuteOptions {
        concurrency: 6,
        max_steps: 6,
        ..PlanExecuteOptions::new("Test the scheduler.")
    };
    let started = Instant::now();
    let run = orchestrator
        .plan_and_execute(&options, &CancellationToken::new())
        .await
        .unwrap();
    let makespan = started.elapsed();
    server.assert_clean();
    assert_eq!(run.status, WorkflowStatus::Completed);

    // Critical path: max(a+b+c, x, a+y+z) = 3,000 ms.
    let critical = Duration::from_millis(200 + 3_000 + 200);
    // Timer resolution adds at most a millisecond per sequential call.
    assert!(
        makespan >= critical && makespan <= critical + Duration::from_millis(10),
        "{makespan:?}"
    );
    // In waves: {a, x} 3,000; {b, y} 1,000; {c, z} 1,000.
    let waves = Duration::from_millis(200 + 3_000 + 1_000 + 1_000 + 200);
    assert!(
        waves.as_secs_f64() / makespan.as_secs_f64() >= 1.5,
        "waves {waves:?} vs {makespan:?}"
    );
    // Each step ran once and the consolidation saw every result.
    assert_eq!(server.stats().total_requests, 1 + 6 + 1);
    let last = server.requests().pop().unwrap().body.unwrap();
    let prompt = last["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    for id in ["a", "b", "c", "x", "y", "z"] {
        assert!(prompt.contains(&format!("Result {id}.")), "{prompt}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_step_gets_its_dependencies_results() {
    let plan = plan_json(&[("s1", &[]), ("s2", &["s1"])]);
    let interactions = vec![
        call("gemini-3.1-pro-preview", planning(), reply(&plan), 0),
        call(
            "gemini-3.8-flash",
            contains("Do task s1."),
            reply("The answer is 42."),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Do task s2."),
            reply("Used it."),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Every step of the plan has finished."),
            reply("Done."),
            0,
        ),
    ];
    let (orchestrator, server) = orchestrator(interactions).await;
    let run = orchestrator
        .plan_and_execute(&PlanExecuteOptions::new("Goal."), &CancellationToken::new())
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(run.status, WorkflowStatus::Completed);
    let second = server
        .requests()
        .into_iter()
        .find(|request| {
            request
                .body
                .as_ref()
                .is_some_and(|body| body.to_string().contains("Do task s2."))
        })
        .unwrap();
    let text = second.body.unwrap()["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("The answer is 42."), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_bad_plan_goes_back_once_then_runs() {
    let cyclic = plan_json(&[("p", &["q"]), ("q", &["p"])]);
    let fixed = plan_json(&[("p", &[]), ("q", &["p"])]);
    let interactions = vec![
        call("gemini-3.1-pro-preview", planning(), reply(&cyclic), 0),
        call(
            "gemini-3.1-pro-preview",
            contains("That plan cannot be used"),
            reply(&fixed),
            0,
        ),
        call("gemini-3.8-flash", contains("Do task p."), reply("P."), 0),
        call("gemini-3.8-flash", contains("Do task q."), reply("Q."), 0),
        call(
            "gemini-3.8-flash",
            contains("Every step of the plan has finished."),
            reply("Done."),
            0,
        ),
    ];
    let (orchestrator, server) = orchestrator(interactions).await;
    let run = orchestrator
        .plan_and_execute(&PlanExecuteOptions::new("Goal."), &CancellationToken::new())
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(run.status, WorkflowStatus::Completed);
    let repair = server.requests()[1].body.clone().unwrap();
    let text = repair["contents"][2]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("p → q → p"), "the cycle is named: {text}");
    assert_eq!(
        repair["contents"][1]["role"], "model",
        "the bad plan is shown back to the planner"
    );
}

#[tokio::test(start_paused = true)]
async fn a_plan_still_bad_after_the_repair_fails_with_its_message() {
    let unknown = json!({"analysis": "x", "steps": [{"step_id": "s", "name": "S", "agent_type": "wizard", "task": "Cast.", "depends_on": []}]}).to_string();
    let interactions = vec![
        call("gemini-3.1-pro-preview", planning(), reply(&unknown), 0),
        call(
            "gemini-3.1-pro-preview",
            contains("That plan cannot be used"),
            reply("no json at all"),
            0,
        ),
    ];
    let (orchestrator, server) = orchestrator(interactions).await;
    let error = orchestrator
        .plan_and_execute(&PlanExecuteOptions::new("Goal."), &CancellationToken::new())
        .await
        .unwrap_err();
    server.assert_clean();
    assert!(matches!(error, WorkflowError::BadPlan(_)));
    assert!(
        error.to_string().contains("holds no JSON plan") || error.to_string().contains("no JSON"),
        "{error}"
    );
    assert_eq!(server.stats().total_requests, 2, "exactly one repair turn");
    let first = server.requests()[1].body.clone().unwrap();
    assert!(
        first["contents"][2]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("wizard")
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_step_skips_its_dependents_and_independent_steps_go_on() {
    let plan = plan_json(&[
        ("ok", &[]),
        ("bad", &[]),
        ("after_bad", &["bad"]),
        ("after_ok", &["ok"]),
    ]);
    let denied = json!({"error": {"code": 400, "message": "Nope.", "status": "INVALID_ARGUMENT"}});
    let mut bad = call("gemini-3.8-flash", contains("Do task bad."), denied, 0);
    bad.response.status = 400;
    let interactions = vec![
        call("gemini-3.1-pro-preview", planning(), reply(&plan), 0),
        call(
            "gemini-3.8-flash",
            contains("Do task ok."),
            reply("fine"),
            0,
        ),
        bad,
        call(
            "gemini-3.8-flash",
            contains("Do task after_ok."),
            reply("fine too"),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Every step of the plan has finished."),
            reply("Partial deliverable."),
            0,
        ),
    ];
    let (orchestrator, server) = orchestrator(interactions).await;
    let run = orchestrator
        .plan_and_execute(&PlanExecuteOptions::new("Goal."), &CancellationToken::new())
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(run.status, WorkflowStatus::Failed);
    let status = |id: &str| {
        run.steps
            .iter()
            .find(|step| step.id.as_str() == id)
            .unwrap()
            .status
            .clone()
    };
    assert!(
        matches!(status("after_bad"), planner::StepStatus::Skipped(reason) if reason.contains("bad"))
    );
    assert!(matches!(
        status("after_ok"),
        planner::StepStatus::Completed(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn research_findings_reach_the_code_agent() {
    let interactions = vec![
        call(
            "gemini-3.8-flash",
            contains("How to rate limit?"),
            reply("Use a token bucket."),
            0,
        ),
        call(
            "gemini-3.1-pro-preview",
            contains("Write the limiter."),
            reply("Here it is."),
            0,
        ),
    ];
    let (orchestrator, server) = orchestrator(interactions).await;
    let result = orchestrator
        .research_then_code(
            "How to rate limit?",
            "Write the limiter.",
            None,
            None,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(result.status, WorkflowStatus::Completed);
    let requests = server.requests();
    assert!(
        requests[0].body.as_ref().unwrap()["tools"]
            .to_string()
            .contains("googleSearch")
    );
    let system = requests[1].body.as_ref().unwrap()["systemInstruction"].to_string();
    assert!(system.contains("Use a token bucket."), "{system}");
}

#[tokio::test(start_paused = true)]
async fn map_reduce_maps_each_item_and_reduces_the_results() {
    let interactions = vec![
        call(
            "gemini-3.1-pro-preview",
            contains("Review apples."),
            reply("Apples: crisp."),
            0,
        ),
        call(
            "gemini-3.1-pro-preview",
            contains("Review pears."),
            reply("Pears: soft."),
            0,
        ),
        call(
            "gemini-3.1-pro-preview",
            contains("Pick the best fruit."),
            reply("Apples."),
            0,
        ),
    ];
    let (orchestrator, server) = orchestrator(interactions).await;
    let request = MapReduceRequest {
        items: vec!["apples".into(), "pears".into()],
        map_template: "Review {item}.".into(),
        reduce_task: "Pick the best fruit.".into(),
        map_agent_type: "analysis".into(),
        reduce_agent_type: "analysis".into(),
        concurrency: 2,
        reduce_budget: 10_000,
        already_mapped: Default::default(),
    };
    let result = orchestrator
        .map_reduce(&request, &CancellationToken::new(), |_, _| {})
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(result.status, WorkflowStatus::Completed);
    let reduce = server.requests().pop().unwrap().body.unwrap().to_string();
    assert!(
        reduce.contains("Apples: crisp.")
            && reduce.contains("Pears: soft.")
            && reduce.contains("---")
    );
    let no_item = MapReduceRequest {
        map_template: "Review it.".into(),
        ..request
    };
    assert!(matches!(
        orchestrator
            .map_reduce(&no_item, &CancellationToken::new(), |_, _| {})
            .await,
        Err(WorkflowError::Invalid(_))
    ));
}

/// A resumed map-reduce reports the whole run's usage: the items mapped
/// before (in an earlier session, or by a Batch API job) count as well.
#[tokio::test(start_paused = true)]
async fn a_resumed_map_reduce_counts_the_earlier_items_usage() {
    let map = |item: &str, answer: &str| {
        call(
            "gemini-3.1-pro-preview",
            contains(&format!("Review {item}.")),
            reply(answer),
            0,
        )
    };
    let reduce = || {
        call(
            "gemini-3.1-pro-preview",
            contains("Pick the best fruit."),
            reply("Apples."),
            0,
        )
    };
    let request = MapReduceRequest {
        items: vec!["apples".into(), "pears".into()],
        map_template: "Review {item}.".into(),
        reduce_task: "Pick the best fruit.".into(),
        map_agent_type: "analysis".into(),
        reduce_agent_type: "analysis".into(),
        concurrency: 1,
        reduce_budget: 10_000,
        already_mapped: Default::default(),
    };
    let (whole, _server) = orchestrator(vec![
        map("apples", "Apples: crisp."),
        map("pears", "Pears: soft."),
        reduce(),
    ])
    .await;
    let whole = whole
        .map_reduce(&request, &CancellationToken::new(), |_, _| {})
        .await
        .unwrap();
    assert!(whole.usage.total > 0);

    let (resumed, server) = orchestrator(vec![map("pears", "Pears: soft."), reduce()]).await;
    let earlier = MapReduceRequest {
        already_mapped: [(0, whole.mapped[&0].clone())].into_iter().collect(),
        ..request
    };
    let resumed = resumed
        .map_reduce(&earlier, &CancellationToken::new(), |_, _| {})
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(resumed.status, WorkflowStatus::Completed);
    assert_eq!(resumed.usage, whole.usage);
}

/// The first attempt at "Write a haiku." and a review that finds it too long.
fn a_long_poem_judged_too_long() -> Vec<Interaction> {
    vec![
        call(
            "gemini-3.8-flash",
            contains("Write a haiku."),
            reply("A long poem."),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Review this output against the criteria."),
            verdict(false),
            0,
        ),
    ]
}

/// A reviewer's reply: satisfactory, or not with the issue "too long".
fn verdict(ok: bool) -> Value {
    let issues = if ok { json!([]) } else { json!(["too long"]) };
    reply(&json!({"satisfactory": ok, "issues": issues, "summary": "s"}).to_string())
}

#[tokio::test(start_paused = true)]
async fn refine_stops_on_a_satisfactory_verdict() {
    let mut interactions = a_long_poem_judged_too_long();
    interactions.extend([
        call(
            "gemini-3.8-flash",
            contains("Improve your earlier output"),
            reply("Short poem."),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Short poem."),
            verdict(true),
            0,
        ),
    ]);
    let (orchestrator, server) = orchestrator(interactions).await;
    let request = RefineRequest::new("Write a haiku.", "Three lines.", 3, "general");
    let mut reviewed = Vec::new();
    let result = orchestrator
        .refine_with(&request, &CancellationToken::new(), |index, iteration| {
            reviewed.push((index, iteration.clone()));
        })
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(
        reviewed.iter().map(|(index, _)| *index).collect::<Vec<_>>(),
        [0, 1],
        "each attempt is handed over as soon as it has its verdict"
    );
    assert_eq!(result.status, WorkflowStatus::Completed);
    assert_eq!(result.iterations.len(), 2);
    assert_eq!(result.final_text(), Some("Short poem."));
    let improve = server.requests()[2].body.clone().unwrap().to_string();
    assert!(
        improve.contains("too long"),
        "the reviewer's issues reach the agent"
    );
    let review = server.requests()[1].body.clone().unwrap();
    assert_eq!(
        review["generationConfig"]["responseSchema"]["properties"]["satisfactory"]["type"],
        "BOOLEAN"
    );
}

/// A verdict that is not the expected JSON fails the run and says why (the
/// attempt used to end with no verdict and no reason).
#[tokio::test(start_paused = true)]
async fn an_unreadable_verdict_fails_and_says_why() {
    let (orchestrator, server) = orchestrator(vec![
        call(
            "gemini-3.8-flash",
            contains("Write a haiku."),
            reply("A poem."),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Review this output against the criteria."),
            reply("Looks fine to me!"),
            0,
        ),
    ])
    .await;
    let request = RefineRequest::new("Write a haiku.", "Three lines.", 3, "general");
    let result = orchestrator
        .refine_with(&request, &CancellationToken::new(), |_, _| {})
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(result.status, WorkflowStatus::Failed);
    let last = result.iterations.last().unwrap();
    assert!(last.verdict.is_none());
    let why = last.review_error.as_deref().expect("the reason is kept");
    assert!(why.contains("not the expected JSON"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn a_resumed_refine_goes_on_from_its_last_reviewed_attempt() {
    // The first run: one attempt, judged not good enough, then interrupted.
    let (first, first_server) = orchestrator(a_long_poem_judged_too_long()).await;
    let request = RefineRequest::new("Write a haiku.", "Three lines.", 1, "general");
    let mut kept = Vec::new();
    first
        .refine_with(&request, &CancellationToken::new(), |_, iteration| {
            kept.push(iteration.clone());
        })
        .await
        .unwrap();
    first_server.assert_clean();
    // The journal keeps it as JSON; the resumed run reads it back.
    let kept: Vec<Iteration> =
        serde_json::from_value(serde_json::to_value(&kept).unwrap()).unwrap();

    // Only the improvement and its review are asked for: the first attempt
    // and its review are not paid for again.
    let (resumed, server) = orchestrator(vec![
        call(
            "gemini-3.8-flash",
            contains("Improve your earlier output"),
            reply("Short poem."),
            0,
        ),
        call(
            "gemini-3.8-flash",
            contains("Short poem."),
            verdict(true),
            0,
        ),
    ])
    .await;
    let request = RefineRequest {
        max_iterations: 3,
        previous: kept,
        ..request
    };
    let result = resumed
        .refine(&request, &CancellationToken::new())
        .await
        .unwrap();
    server.assert_clean();
    assert_eq!(result.status, WorkflowStatus::Completed);
    assert_eq!(result.iterations.len(), 2);
    assert_eq!(result.iterations[0].output.text, "A long poem.");
    assert_eq!(result.final_text(), Some("Short poem."));
    let improve = server.requests()[0].body.clone().unwrap().to_string();
    assert!(improve.contains("too long") && improve.contains("A long poem."));
}
