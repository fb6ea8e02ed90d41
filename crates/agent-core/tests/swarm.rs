//! Swarms against authored cassettes: the concurrency bound (read from the
//! fixture server's in-flight counter), a faulted fork failing alone, and
//! what the consolidation prompt is given.

mod support;

use std::sync::{Arc, Mutex};

use agent_core::{
    BuiltinAgent, ConsolidationOptions, ForkStatus, Forker, Swarm, SwarmOptions, SwarmOutcome,
};
use cassette::{FixtureServer, Interaction, RequestSpec, ResponseSpec, ServerOptions};
use serde_json::json;
use support::*;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-3.8-flash";

fn creative() -> SwarmOptions {
    SwarmOptions::new(BuiltinAgent::Creative.profile())
}

/// [`creative`] with `concurrency` forks at once and no consolidation.
fn unconsolidated(concurrency: usize) -> SwarmOptions {
    SwarmOptions {
        concurrency,
        consolidate: false,
        ..creative()
    }
}

/// Runs `count` tasks, all the swarm has, with nothing cancelled or watched.
async fn run_all(forker: &Forker, options: SwarmOptions, count: usize) -> SwarmOutcome {
    Swarm::new(forker, options)
        .run(
            tasks(count),
            Some(count),
            &CancellationToken::new(),
            |_, _| {},
        )
        .await
}

fn task_text(index: usize) -> String {
    format!("Idea number {index}.")
}

fn slow_reply(index: usize) -> Interaction {
    let mut interaction = unary(
        MODEL,
        task(&task_text(index)),
        text_reply(&format!("Answer {index}.")),
    );
    interaction.response.latency_ms = Some(1_000 + 100 * u64::try_from(index).unwrap());
    interaction
}

fn tasks(count: usize) -> Vec<(usize, String)> {
    (0..count).map(|index| (index, task_text(index))).collect()
}

#[tokio::test(start_paused = true)]
async fn concurrency_reaches_and_never_exceeds_the_limit() {
    let server = server("bounded", (0..12).map(slow_reply).collect()).await;
    let forker = Forker::new(client(&server));
    let options = unconsolidated(4);
    let finished = Arc::new(Mutex::new(Vec::new()));
    let outcome = Swarm::new(&forker, options)
        .run(
            tasks(12),
            Some(12),
            &CancellationToken::new(),
            |index, _| finished.lock().unwrap().push(index),
        )
        .await;
    server.assert_clean();
    assert_eq!((outcome.completed, outcome.failed), (12, 0));
    assert_eq!(server.stats().max_in_flight, 4);
    assert_eq!(finished.lock().unwrap().len(), 12);
    let indices: Vec<usize> = outcome.results.iter().map(|(index, _)| *index).collect();
    assert_eq!(indices, (0..12).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_failing_fork_fails_alone() {
    let mut interactions: Vec<Interaction> = (0..5).map(slow_reply).collect();
    interactions[2] = Interaction::new(
        RequestSpec::post(generate_path(MODEL)).with_body(task(&task_text(2))),
        ResponseSpec::json(
            json!({"error": {"code": 400, "message": "Bad input.", "status": "INVALID_ARGUMENT"}}),
        )
        .with_status(400),
    );
    let server = server("one-fails", interactions).await;
    let forker = Forker::new(client(&server));
    let options = unconsolidated(5);
    let outcome = run_all(&forker, options, 5).await;
    server.assert_clean();
    assert_eq!((outcome.completed, outcome.failed), (4, 1));
    let statuses: Vec<ForkStatus> = outcome
        .results
        .iter()
        .map(|(_, result)| result.status)
        .collect();
    assert_eq!(statuses[2], ForkStatus::Error);
    assert!(
        statuses
            .iter()
            .enumerate()
            .all(|(index, status)| index == 2 || *status == ForkStatus::Success)
    );
}

/// Gemini's answer to a wrong key (the shape of the recorded
/// `unary-failure-api-key` body; authored here).
fn wrong_key(index: usize) -> Interaction {
    Interaction::new(
        RequestSpec::post(generate_path(MODEL)).with_body(task(&task_text(index))),
        ResponseSpec::json(json!({"error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]
        }}))
        .with_status(400),
    )
}

#[tokio::test(start_paused = true)]
async fn a_refused_key_stops_the_swarm_at_the_first_request() {
    let server = server("wrong-key", (0..6).map(wrong_key).collect()).await;
    let forker = Forker::new(client(&server));
    let options = SwarmOptions {
        concurrency: 1,
        ..creative()
    };
    let outcome = run_all(&forker, options, 6).await;
    assert_eq!(
        server.requests().len(),
        1,
        "one request, then the swarm stops"
    );
    let error = outcome
        .auth_error
        .as_ref()
        .expect("the key's refusal is kept");
    assert!(error.auth && error.message.contains("API key not valid"));
    assert_eq!((outcome.total, outcome.failed), (1, 1));
    assert!(outcome.consolidated.is_none() && !outcome.cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_refused_key_cancels_the_running_forks() {
    // Task 0 is refused at once; tasks 1 and 2 are slow and get cancelled.
    let mut interactions: Vec<Interaction> = (0..6).map(slow_reply).collect();
    interactions[0] = wrong_key(0);
    let server = server("wrong-key-running", interactions).await;
    let forker = Forker::new(client(&server));
    let options = unconsolidated(3);
    let outcome = run_all(&forker, options, 6).await;
    assert_eq!(server.requests().len(), 3, "only the first wave went out");
    assert!(outcome.auth_error.is_some());
    let statuses: Vec<ForkStatus> = outcome.results.iter().map(|(_, r)| r.status).collect();
    assert_eq!(
        statuses,
        [
            ForkStatus::Error,
            ForkStatus::Cancelled,
            ForkStatus::Cancelled
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn consolidation_gets_capped_results_and_says_so() {
    let long_answer = "x".repeat(500);
    let mut interactions: Vec<Interaction> = (0..3)
        .map(|index| {
            unary(
                MODEL,
                task(&task_text(index)),
                text_reply(if index == 1 { &long_answer } else { "short" }),
            )
        })
        .collect();
    interactions.push(unary(
        MODEL,
        containing("Several agents worked on related tasks in parallel."),
        text_reply("All three agree."),
    ));
    let server = server("consolidate", interactions).await;
    let forker = Forker::new(client(&server));
    let options = SwarmOptions {
        concurrency: 3,
        consolidation: ConsolidationOptions {
            per_result_cap: 100,
            ..ConsolidationOptions::default()
        },
        ..creative()
    };
    let outcome = run_all(&forker, options, 3).await;
    server.assert_clean();
    let consolidated = outcome.consolidated.expect("consolidation ran");
    assert_eq!(consolidated.text, "All three agree.");
    let prompt = bodies(&server)
        .into_iter()
        .find_map(|body| {
            let text = body["contents"][0]["parts"][0]["text"].as_str()?.to_owned();
            text.starts_with("Several agents").then_some(text)
        })
        .expect("the consolidation request was sent");
    assert!(
        prompt.contains("1 of the results below were cut to their first 100 characters"),
        "{prompt}"
    );
    assert!(prompt.contains("[cut: first 100 of 500 characters]"));
    assert!(prompt.contains(&"x".repeat(100)) && !prompt.contains(&"x".repeat(101)));
    // Results appear in task order whatever order they finished in.
    let first = prompt.find("task: Idea number 0.").unwrap();
    let last = prompt.find("task: Idea number 2.").unwrap();
    assert!(first < last);
    assert_eq!(outcome.usage.total, 4 * 150);
}

#[tokio::test(start_paused = true)]
async fn cancelling_stops_new_forks() {
    let server = FixtureServer::start(
        vec![cassette("cancel", (0..8).map(slow_reply).collect())],
        ServerOptions::lenient(),
    )
    .await
    .unwrap();
    let forker = Forker::new(client(&server));
    let cancel = CancellationToken::new();
    let options = SwarmOptions {
        concurrency: 2,
        consolidate: true,
        ..creative()
    };
    let stopper = cancel.clone();
    let outcome = Swarm::new(&forker, options)
        .run(tasks(8), Some(8), &cancel, move |_, _| stopper.cancel())
        .await;
    assert!(outcome.cancelled);
    assert!(outcome.total < 8, "started {} forks", outcome.total);
    assert!(outcome.consolidated.is_none());
}

#[tokio::test(start_paused = true)]
async fn cost_is_summed_per_fork_and_per_swarm_and_unpriced_calls_are_counted() {
    let mut interactions: Vec<Interaction> = (0..3)
        .map(|index| unary(MODEL, task(&task_text(index)), text_reply("ok")))
        .collect();
    // Fork 1 is answered by a model the catalog does not price.
    interactions[1] = unary(
        MODEL,
        task(&task_text(1)),
        json!({
            "candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"}, "finishReason": "STOP"}],
            "usageMetadata": usage(100, 20, 30),
            "modelVersion": "gemini-0.9-experimental"
        }),
    );
    let server = server("cost", interactions).await;
    let forker = Forker::new(client(&server));
    let options = unconsolidated(3);
    let outcome = run_all(&forker, options, 3).await;
    server.assert_clean();
    // text_reply: gemini-2.5-flash, prompt 100, candidates 20, thoughts 30.
    let per_call = genai_client::cost_of_call(
        &genai_client::Usage {
            prompt: 100,
            candidates: 20,
            thoughts: 30,
            total: 150,
            ..Default::default()
        },
        Some("gemini-2.5-flash"),
        MODEL,
        chrono::Utc::now().date_naive(),
    )
    .expect("2.5 Flash (or what it is routed to) is priced")
    .usd;
    assert!(per_call > genai_client::Usd::ZERO);
    let costs: Vec<_> = outcome.results.iter().map(|(_, r)| r.cost).collect();
    assert_eq!(costs[0].known(), Some(per_call));
    assert_eq!(costs[1].known(), None);
    assert_eq!((costs[1].priced_calls, costs[1].unpriced_calls), (0, 1));
    assert!(outcome.results[0].1.turns[0].cost.is_some());
    assert!(outcome.results[1].1.turns[0].cost.is_none());
    assert_eq!(outcome.cost.usd, per_call + per_call);
    assert_eq!(
        (outcome.cost.priced_calls, outcome.cost.unpriced_calls),
        (2, 1)
    );
    assert_eq!(
        outcome.cost.known(),
        None,
        "a total with an unpriced call is unknown"
    );
}

#[tokio::test(start_paused = true)]
async fn a_budget_stops_new_calls_lets_in_flight_ones_finish_and_is_not_overrun() {
    let server = server(
        "budget",
        (0..12)
            .map(slow_reply)
            .map(Interaction::repeatable)
            .collect(),
    )
    .await;
    let limit = genai_client::Usd::from_dollars(0.01);
    let budget = Arc::new(agent_core::Budget::new(agent_core::BudgetLimits {
        usd: Some(limit),
        tokens: None,
    }));
    let forker = Forker::new(client(&server)).with_budget(budget.clone());
    let options = SwarmOptions {
        concurrency: 4,
        ..creative()
    };
    let outcome = run_all(&forker, options, 12).await;
    assert!(outcome.budget_exhausted);
    assert!(!outcome.cancelled);
    let refused = outcome
        .results
        .iter()
        .filter(|(_, r)| {
            r.error
                .as_ref()
                .is_some_and(|e| e.kind == agent_core::BUDGET_EXHAUSTED)
        })
        .count();
    assert!(refused >= 1);
    let sent = server.stats().total_requests;
    assert!(
        sent < 12,
        "tasks after the refusal were not started ({sent} sent)"
    );
    assert_eq!(
        sent as usize, outcome.completed,
        "every call that started finished; no consolidation after exhaustion"
    );
    let (spent, _) = budget.spent();
    assert!(spent <= limit, "spent {spent} of {limit}");
    assert_eq!(spent, outcome.cost.usd);
}

/// The budget is never overrun beyond the work in flight, even when every
/// call costs far more than its reservation (each reply thinks 3,000
/// tokens; the first reservations expect 1,024 of output): after the last
/// call the budget admitted, what is spent is at most the limit plus what
/// the calls then in flight cost. The order of admissions and ends is read
/// from the forker's events (each fork makes one call, reserved as it
/// starts).
#[tokio::test(start_paused = true)]
async fn a_budget_is_overrun_by_no_more_than_the_calls_in_flight_at_its_last_admission() {
    let interactions = (0..12)
        .map(|index| {
            let mut interaction = unary(
                MODEL,
                task(&task_text(index)),
                test_support::gemini::Reply::text(&format!("Answer {index}."))
                    .usage(100, 20, 3_000)
                    .json(),
            );
            interaction.response.latency_ms = Some(1_000 + 100 * u64::try_from(index).unwrap());
            Interaction::repeatable(interaction)
        })
        .collect();
    let server = server("overrun", interactions).await;
    let limit = 10_000;
    let budget = Arc::new(agent_core::Budget::new(agent_core::BudgetLimits {
        usd: None,
        tokens: Some(limit),
    }));
    let log = Arc::new(Mutex::new(Vec::new()));
    // What was spent and reserved as each fork started (before its own
    // reservation).
    let committed = Arc::new(Mutex::new(Vec::new()));
    let events = {
        let (log, committed, budget) = (log.clone(), committed.clone(), budget.clone());
        agent_core::EventSink::new(move |event| match event {
            agent_core::Event::ForkStarted { fork_id, .. } => {
                let held = budget.spent().1 + budget.reserved().1;
                committed.lock().unwrap().push((fork_id.clone(), held));
                log.lock().unwrap().push((true, fork_id));
            }
            agent_core::Event::ForkFinished { fork_id, .. } => {
                log.lock().unwrap().push((false, fork_id));
            }
            _ => {}
        })
    };
    let forker = Forker::new(client(&server))
        .with_budget(budget.clone())
        .with_events(events);
    let options = SwarmOptions {
        concurrency: 4,
        consolidate: false,
        ..creative()
    };
    let outcome = Swarm::new(&forker, options)
        .run(tasks(12), Some(12), &CancellationToken::new(), |_, _| {})
        .await;
    assert!(outcome.budget_exhausted);
    let results: Vec<&agent_core::ForkResult> =
        outcome.results.iter().map(|(_, result)| result).collect();
    let admitted = |id: &agent_core::ForkId| {
        results.iter().any(|result| {
            &result.fork_id == id
                && result
                    .error
                    .as_ref()
                    .is_none_or(|error| error.kind != agent_core::BUDGET_EXHAUSTED)
        })
    };
    // Every call was admitted only while what was spent and reserved left
    // room for it: the in-flight reservations count against the limit.
    for (id, held) in committed.lock().unwrap().iter() {
        if admitted(id) {
            assert!(
                *held < limit,
                "a call was admitted with {held} of {limit} spent or reserved"
            );
        }
    }
    let log = log.lock().unwrap().clone();
    let last_admission = log
        .iter()
        .rposition(|(started, id)| *started && admitted(id))
        .expect("some call was admitted");
    // In flight then: admitted before (or at) it, finished after it.
    let in_flight: Vec<&agent_core::ForkId> = log[..=last_admission]
        .iter()
        .filter(|(started, id)| *started && admitted(id))
        .map(|(_, id)| id)
        .filter(|id| {
            log[last_admission + 1..]
                .iter()
                .any(|(started, other)| !started && other == *id)
        })
        .collect();
    let in_flight_tokens: u64 = results
        .iter()
        .filter(|result| in_flight.contains(&&result.fork_id))
        .map(|result| result.usage.total)
        .sum();
    let (_, spent) = budget.spent();
    assert_eq!(spent, outcome.usage.total, "every call was charged");
    assert_eq!(server.stats().total_requests as usize, outcome.completed);
    assert!(
        spent > limit,
        "the calls cost more than reserved, so the limit is overrun ({spent} of {limit})"
    );
    assert!(
        spent <= limit + in_flight_tokens,
        "spent {spent}: more than {limit} plus the {in_flight_tokens} tokens of the {} calls in flight at the last admission",
        in_flight.len()
    );
    assert_eq!(budget.reserved(), (genai_client::Usd::ZERO, 0));
}

/// A resumed swarm reports the whole run's tokens: the earlier results'
/// usage is counted with the new ones (it used to report only the new
/// calls, `0 total` when nothing was left to run).
#[tokio::test(start_paused = true)]
async fn a_resumed_swarm_counts_the_earlier_tokens() {
    let first_server = server("first-half", vec![slow_reply(0)]).await;
    let forker = Forker::new(client(&first_server));
    let options = SwarmOptions {
        consolidate: false,
        ..creative()
    };
    let first = Swarm::new(&forker, options)
        .run(tasks(1), Some(2), &CancellationToken::new(), |_, _| {})
        .await;
    let earlier = first.results[0].1.clone();
    assert!(earlier.usage.total > 0);

    let server = server("second-half", vec![slow_reply(1)]).await;
    let forker = Forker::new(client(&server));
    let options = SwarmOptions {
        consolidate: false,
        previous_results: vec![(0, earlier.clone())],
        ..creative()
    };
    let resumed = Swarm::new(&forker, options)
        .run(
            tasks(2).into_iter().skip(1),
            Some(2),
            &CancellationToken::new(),
            |_, _| {},
        )
        .await;
    let new = resumed.results[1].1.usage.total;
    assert_eq!(resumed.usage.total, earlier.usage.total + new);
    assert_eq!((resumed.total, resumed.completed), (2, 2));
}

/// A spent daily quota stops the swarm sending to the model: the first
/// fork's 429 (a per-day `QuotaFailure`) parks the model, every later fork
/// fails at once without a request, and each says when the day resets and
/// that the run can be resumed then (the run ends failed, which resumes).
#[tokio::test(start_paused = true)]
async fn a_spent_daily_quota_stops_sending_and_says_when_it_resets() {
    let daily = ResponseSpec::json(json!({"error": {
        "code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details.\nPlease retry in 20s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                "quotaDimensions": {"location": "global", "model": MODEL},
                "quotaValue": "250"
            }]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"}
        ]
    }}))
    .with_status(429);
    let first = Interaction::new(
        RequestSpec::post(generate_path(MODEL)).with_body(task(&task_text(0))),
        daily,
    );
    let server = server("daily-quota", vec![first]).await;
    let forker = Forker::new(client(&server));
    let options = SwarmOptions {
        concurrency: 1,
        consolidate: false,
        ..creative()
    };
    let outcome = Swarm::new(&forker, options)
        .run(tasks(4), Some(4), &CancellationToken::new(), |_, _| {})
        .await;
    server.assert_clean();
    assert_eq!(
        server.stats().total_requests,
        1,
        "nothing sent after the 429"
    );
    assert_eq!((outcome.completed, outcome.failed), (0, 4));
    for (_, result) in &outcome.results {
        assert_eq!(result.status, ForkStatus::Error);
        let error = result.error.as_ref().expect("an error");
        assert_eq!(
            error.kind,
            agent_core::ForkErrorKind::Client(genai_client::ErrorKind::Quota)
        );
        assert!(
            error.message.contains("daily quota of")
                && error.message.contains("midnight Pacific")
                && error.message.contains("resume the run after that"),
            "{}",
            error.message
        );
    }
}
