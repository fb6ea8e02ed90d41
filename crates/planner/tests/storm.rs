//! A 30-step plan in a seeded fault storm (20% 429 with RetryInfo, 5% 503,
//! 2% resets, 1% cut bodies, 1% malformed JSON) with only two attempts per
//! call, so that some steps fail: completed steps are never asked again,
//! every step that did not run is skipped with a reason naming a failed
//! step it needs, and resuming from the journal once the storm is over
//! finishes the rest without repeating anything. Paused time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use agent_core::{AgentCatalog, AgentOverrides, Forker};
use cassette::{
    Cassette, FaultKind, FixtureServer, Interaction, RandomFaults, RequestSpec, ResponseSpec,
    ServerOptions,
};
use genai_client::{Client, ClientConfig, RetryPolicy, Timeouts};
use planner::{
    Journal, Orchestrator, Plan, PlanExecuteOptions, RunKind, RunMeta, Step, StepId, StepStatus,
    ValidPlan, WorkflowEvent, WorkflowStatus, load_resume_state,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const FINAL: &str = "Every step of the plan has finished.";

/// Ten roots, ten steps on one root each, ten joins of two steps each.
fn plan() -> Plan {
    let step = |n: usize, deps: Vec<usize>| Step {
        id: StepId::from(format!("s{n}").as_str()),
        name: format!("Step {n}"),
        description: String::new(),
        agent_type: "creative".into(),
        task: format!("Do task s{n}."),
        depends_on: deps
            .into_iter()
            .map(|d| StepId::from(format!("s{d}").as_str()))
            .collect(),
    };
    let mut steps: Vec<Step> = (1..=10).map(|n| step(n, vec![])).collect();
    steps.extend((11..=20).map(|n| step(n, vec![n - 10])));
    steps.extend((21..=30).map(|n| step(n, vec![n - 10, n - 20])));
    Plan {
        analysis: "A storm test plan.".into(),
        steps,
    }
}

async fn server(storm: Option<u64>) -> FixtureServer {
    let reply = json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Step done."}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 3, "totalTokenCount": 23},
        "modelVersion": "gemini-3.8-flash",
        "responseId": "authored-storm-reply"
    });
    let mut cassette = Cassette::authored("plan-storm", "built in code by planner's storm test");
    cassette.interactions.push(
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-3.8-flash:generateContent"),
            ResponseSpec::json(reply),
        )
        .repeatable(),
    );
    let random_faults = storm.map(|seed| RandomFaults {
        seed,
        rates: vec![
            (FaultKind::RateLimited, 0.20),
            (FaultKind::Unavailable, 0.05),
            (FaultKind::ResetBeforeResponse, 0.02),
            (FaultKind::CutSse, 0.01),
            (FaultKind::MalformedJson, 0.01),
        ],
    });
    let options = ServerOptions {
        random_faults,
        ..ServerOptions::lenient()
    };
    FixtureServer::start(vec![cassette], options).await.unwrap()
}

/// An orchestrator whose step events go to `journal`.
fn orchestrate(server: &FixtureServer, journal: Arc<Mutex<Journal>>) -> Orchestrator {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            max_attempts: 2,
            jitter_seed: Some(5),
            ..RetryPolicy::default()
        })
        .with_base_url(&server.base_url());
    let forker = Forker::new(Client::new(config).unwrap());
    let observer = Arc::new(move |event: &WorkflowEvent| {
        if let WorkflowEvent::Step(step) = event {
            journal.lock().unwrap().record(step).unwrap();
        }
    });
    Orchestrator::new(forker, AgentCatalog::default(), AgentOverrides::default())
        .with_observer(observer)
}

/// The step a request was for (`None` for the consolidation), and whether
/// it got the real reply.
fn step_requests(server: &FixtureServer) -> Vec<(Option<String>, bool)> {
    server
        .requests()
        .into_iter()
        .map(|request| {
            let text = request.body.unwrap()["contents"][0]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned();
            let step = (!text.contains(FINAL)).then(|| {
                (1..=30)
                    .map(|n| format!("s{n}"))
                    .find(|id| text.contains(&format!("Do task {id}.")))
                    .expect("a step prompt names its task")
            });
            (step, request.fault.is_none())
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_plan_in_a_storm_skips_with_reasons_then_resumes_without_repeating() {
    let plan = plan();
    let runs = tempfile::tempdir().unwrap();
    let meta = RunMeta::new(RunKind::Plan, "storm", json!({}));
    let key = planner::JournalKey::from_bytes([5; 32]);
    let journal = Arc::new(Mutex::new(
        Journal::create(runs.path(), meta, &key).unwrap(),
    ));
    let run_dir = journal.lock().unwrap().dir().to_owned();
    let options = PlanExecuteOptions {
        concurrency: 8,
        ..PlanExecuteOptions::new("Weather the storm.")
    };

    // The storm.
    let stormy = server(Some(2_024)).await;
    let orchestrator = orchestrate(&stormy, journal.clone());
    let valid: ValidPlan = orchestrator.validate_plan(&plan, 30).unwrap();
    let first = orchestrator
        .run_plan(&valid, &options, &CancellationToken::new())
        .await;
    assert_eq!(first.status, WorkflowStatus::Failed);
    let status: HashMap<String, StepStatus> = first
        .steps
        .iter()
        .map(|step| (step.id.to_string(), step.status.clone()))
        .collect();
    let count = |pick: fn(&StepStatus) -> bool| status.values().filter(|s| pick(s)).count();
    let failed = count(|s| matches!(s, StepStatus::Failed(_)));
    let skipped = count(|s| matches!(s, StepStatus::Skipped(_)));
    let completed = count(|s| matches!(s, StepStatus::Completed(_)));
    assert!(
        failed > 0 && skipped > 0 && completed > 0,
        "{failed} failed, {skipped} skipped"
    );
    assert_eq!(
        failed + skipped + completed,
        30,
        "no step is left unaccounted for"
    );

    let first_requests = step_requests(&stormy);
    for (id, outcome) in &status {
        let asked: Vec<bool> = first_requests
            .iter()
            .filter(|(step, _)| step.as_deref() == Some(id))
            .map(|(_, delivered)| *delivered)
            .collect();
        match outcome {
            StepStatus::Completed(_) => assert_eq!(
                asked.iter().filter(|d| **d).count(),
                1,
                "{id} got exactly one real reply"
            ),
            StepStatus::Failed(error) => {
                assert!(
                    asked.len() == 2 && asked.iter().all(|d| !d),
                    "{id}: {asked:?}"
                );
                assert!(error.contains("gave up after 2 attempts"), "{id}: {error}");
            }
            StepStatus::Skipped(reason) => {
                assert!(asked.is_empty(), "skipped step {id} was asked");
                let cause = reason
                    .strip_prefix("dependency ")
                    .and_then(|rest| rest.split_once(" failed: "))
                    .map(|(cause, _)| cause)
                    .unwrap_or_else(|| panic!("{id}: reason {reason:?}"));
                assert!(
                    matches!(status[cause], StepStatus::Failed(_)),
                    "{id}: {reason}"
                );
                let ancestors = ancestors(&valid, id);
                assert!(ancestors.contains(cause), "{id} does not need {cause}");
            }
            StepStatus::Cancelled => panic!("{id} was cancelled"),
        }
    }

    // The storm is over: resume from the journal.
    journal.lock().unwrap().flush().unwrap();
    let state = load_resume_state(&run_dir, &key).unwrap();
    assert_eq!(state.completed_steps.len(), completed);
    // The journal (and with it the run's lock) goes with its last holder.
    drop(orchestrator);
    drop(journal);
    let journal = Arc::new(Mutex::new(Journal::reopen(&run_dir, &key).unwrap()));
    let calm = server(None).await;
    let orchestrator = orchestrate(&calm, journal);
    let resumed_options = PlanExecuteOptions {
        already_completed: state.completed_steps.clone(),
        ..options
    };
    let second = orchestrator
        .run_plan(&valid, &resumed_options, &CancellationToken::new())
        .await;
    assert_eq!(second.status, WorkflowStatus::Completed);
    assert!(
        second
            .steps
            .iter()
            .all(|step| matches!(step.status, StepStatus::Completed(_)))
    );
    let mut asked_again = HashSet::new();
    for (step, delivered) in step_requests(&calm) {
        let Some(step) = step else { continue };
        assert!(delivered);
        assert!(
            !state
                .completed_steps
                .contains_key(&StepId::from(step.as_str())),
            "completed step {step} was asked again"
        );
        assert!(asked_again.insert(step.clone()), "{step} asked twice");
    }
    assert_eq!(
        asked_again.len(),
        30 - completed,
        "every other step ran once"
    );
    calm.assert_clean();
}

fn ancestors(plan: &ValidPlan, id: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut todo = vec![StepId::from(id)];
    while let Some(next) = todo.pop() {
        for dep in plan.dependencies(&next) {
            if found.insert(dep.to_string()) {
                todo.push(dep.clone());
            }
        }
    }
    found
}
