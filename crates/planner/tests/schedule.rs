//! Scheduler behaviour in virtual time: readiness, concurrency, critical
//! paths, failures, retries, cancellation, sequential mode and resume.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Recorder, assert_dependencies_respected, plan_of};
use planner::{
    ScheduleEvent, ScheduleOptions, ScheduleStatus, StepFailure, StepId, StepInput, StepOutput,
    StepStatus, ValidPlan, run_dag,
};
use tokio::time::Instant;

fn options(concurrency: usize) -> ScheduleOptions {
    ScheduleOptions {
        concurrency,
        ..ScheduleOptions::default()
    }
}

fn weights(latencies: &[(&str, u64)]) -> HashMap<StepId, u64> {
    latencies
        .iter()
        .map(|(id, ms)| (StepId::from(*id), *ms))
        .collect()
}

/// The makespan of the original's wave execution: each wave is every step
/// whose dependencies finished in earlier waves, and lasts as long as its
/// slowest step.
fn wave_makespan(plan: &ValidPlan, latencies: &[(&str, u64)]) -> u64 {
    let latency: HashMap<&str, u64> = latencies.iter().copied().collect();
    let mut done: Vec<StepId> = Vec::new();
    let mut total = 0;
    while done.len() < plan.steps().len() {
        let wave: Vec<&StepId> = plan
            .steps()
            .iter()
            .map(|s| &s.id)
            .filter(|id| !done.contains(id))
            .filter(|id| plan.dependencies(id).iter().all(|d| done.contains(d)))
            .collect();
        total += wave
            .iter()
            .map(|id| latency[id.as_str()])
            .max()
            .unwrap_or(0);
        done.extend(wave.into_iter().cloned());
    }
    total
}

fn ms_since(start: Instant, at: Instant) -> u64 {
    u64::try_from((at - start).as_millis()).expect("small durations")
}

#[tokio::test(start_paused = true)]
async fn irregular_dag_finishes_at_its_critical_path_and_beats_waves() {
    // Two chains alternating slow and fast steps, joined at the end.
    let plan = plan_of(&[
        ("x1", &[]),
        ("x2", &["x1"]),
        ("x3", &["x2"]),
        ("x4", &["x3"]),
        ("y1", &[]),
        ("y2", &["y1"]),
        ("y3", &["y2"]),
        ("y4", &["y3"]),
        ("join", &["x4", "y4"]),
    ]);
    let latencies = [
        ("x1", 100),
        ("x2", 10),
        ("x3", 100),
        ("x4", 10),
        ("y1", 10),
        ("y2", 100),
        ("y3", 10),
        ("y4", 100),
        ("join", 10),
    ];
    let recorder = Recorder::new(&latencies);
    let start = Instant::now();
    let report = run_dag(&plan, options(8), recorder.executor(), |_| {}).await;
    let makespan = ms_since(start, Instant::now());

    assert_eq!(report.status, ScheduleStatus::Completed);
    let calls = recorder.calls();
    assert_eq!(calls.len(), 9, "each step runs exactly once");
    assert_dependencies_respected(&plan, &calls);
    let critical = plan.critical_path_len(&weights(&latencies));
    assert_eq!(critical, 230);
    assert_eq!(makespan, critical);
    let waves = wave_makespan(&plan, &latencies);
    assert_eq!(waves, 410);
    assert!(
        waves as f64 / makespan as f64 >= 1.5,
        "waves {waves} vs ours {makespan}"
    );
}

#[tokio::test(start_paused = true)]
async fn steps_start_the_moment_their_own_dependencies_end() {
    let plan = plan_of(&[("slow", &[]), ("fast", &[]), ("after_fast", &["fast"])]);
    let recorder = Recorder::new(&[("slow", 500), ("fast", 10), ("after_fast", 10)]);
    let start = Instant::now();
    run_dag(&plan, options(4), recorder.executor(), |_| {}).await;
    let calls = recorder.calls();
    let after_fast = calls.iter().find(|c| c.id == "after_fast").expect("ran");
    assert_eq!(ms_since(start, after_fast.start), 10);
    assert_eq!(after_fast.dependency_ids, ["fast"]);
    assert_eq!(after_fast.dependency_texts, ["out:fast"]);
}

#[tokio::test(start_paused = true)]
async fn scarce_slots_go_to_the_longest_remaining_critical_path() {
    // Plan order lists the short independent steps first; taking them first
    // would end at 120. Longest-path-first reaches the optimum, 90.
    let plan = plan_of(&[
        ("b", &[]),
        ("c", &[]),
        ("d", &[]),
        ("a1", &[]),
        ("a2", &["a1"]),
        ("a3", &["a2"]),
    ]);
    let latencies = [
        ("a1", 30),
        ("a2", 30),
        ("a3", 30),
        ("b", 30),
        ("c", 30),
        ("d", 30),
    ];
    let recorder = Recorder::new(&latencies);
    let opts = ScheduleOptions {
        estimated_weights: weights(&latencies),
        ..options(2)
    };
    let start = Instant::now();
    let mut started = Vec::new();
    let report = run_dag(&plan, opts, recorder.executor(), |event| {
        if let ScheduleEvent::StepStarted { id, .. } = event {
            started.push(id.to_string());
        }
    })
    .await;
    assert_eq!(report.status, ScheduleStatus::Completed);
    assert_eq!(ms_since(start, Instant::now()), 90);
    assert_eq!(recorder.max_running(), 2);
    // Ties among equal paths go to plan order: b before c, and at 60 ms d
    // (plan position 3) before a3 (position 6), both with 30 ms left.
    assert_eq!(started, ["a1", "b", "a2", "c", "d", "a3"]);
    assert_dependencies_respected(&plan, &recorder.calls());
}

#[tokio::test(start_paused = true)]
async fn steps_finishing_together_release_their_dependents_together() {
    // q and p end at the same instant. q (estimated heavy, so it starts
    // first) releases nothing; p releases two long steps; the short step s
    // was ready all along. Both free slots must go to the long steps, whichever
    // of p and q is noticed first.
    let plan = plan_of(&[
        ("s", &[]),
        ("q", &[]),
        ("p", &[]),
        ("long1", &["p"]),
        ("long2", &["p"]),
    ]);
    let latencies = [("p", 10), ("q", 10), ("s", 5), ("long1", 50), ("long2", 50)];
    let recorder = Recorder::new(&latencies);
    let mut estimates = weights(&latencies);
    estimates.insert("q".into(), 1000);
    let opts = ScheduleOptions {
        estimated_weights: estimates,
        ..options(2)
    };
    let mut started = Vec::new();
    run_dag(&plan, opts, recorder.executor(), |event| {
        if let ScheduleEvent::StepStarted { id, .. } = event {
            started.push(id.to_string());
        }
    })
    .await;
    assert_eq!(started, ["q", "p", "long1", "long2", "s"]);
}

#[tokio::test(start_paused = true)]
async fn concurrency_cap_holds_and_is_used() {
    let ids: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let steps: Vec<(&str, &[&str])> = ids.iter().map(|id| (id.as_str(), &[][..])).collect();
    let plan = plan_of(&steps);
    let latencies: Vec<(&str, u64)> = ids.iter().map(|id| (id.as_str(), 10)).collect();
    let recorder = Recorder::new(&latencies);
    let start = Instant::now();
    let report = run_dag(&plan, options(3), recorder.executor(), |_| {}).await;
    assert_eq!(report.status, ScheduleStatus::Completed);
    assert_eq!(recorder.max_running(), 3);
    assert_eq!(
        ms_since(start, Instant::now()),
        40,
        "ceil(10 / 3) rounds of 10 ms"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_skips_its_descendants_and_spares_independent_branches() {
    let plan = plan_of(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("other", &[]),
        ("other_next", &["other"]),
        ("mixed", &["a", "other"]),
    ]);
    let recorder = Recorder::new(&[]).failing("a", u32::MAX);
    let mut events = Vec::new();
    let report = run_dag(&plan, options(4), recorder.executor(), |e| events.push(e)).await;

    assert_eq!(report.status, ScheduleStatus::Failed);
    let reason = "dependency a failed: a broke on attempt 1".to_owned();
    let status = |id: &str| report.status_of(&StepId::from(id)).cloned();
    assert_eq!(
        status("a"),
        Some(StepStatus::Failed("a broke on attempt 1".into()))
    );
    for id in ["b", "c", "mixed"] {
        assert_eq!(
            status(id),
            Some(StepStatus::Skipped(reason.clone())),
            "{id}"
        );
    }
    assert!(matches!(status("other"), Some(StepStatus::Completed(_))));
    assert!(matches!(
        status("other_next"),
        Some(StepStatus::Completed(_))
    ));
    let ran: Vec<String> = recorder.calls().into_iter().map(|c| c.id).collect();
    assert!(
        !ran.iter()
            .any(|id| ["b", "c", "mixed"].contains(&id.as_str()))
    );
    let skipped: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ScheduleEvent::StepSkipped { id, reason: r } => {
                assert_eq!(*r, reason);
                Some(id.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(skipped, ["b", "c", "mixed"]);
}

#[tokio::test(start_paused = true)]
async fn retries_give_a_flaky_step_more_attempts() {
    let plan = plan_of(&[("flaky", &[]), ("next", &["flaky"])]);
    let recorder = Recorder::new(&[]).failing("flaky", 2);
    let opts = ScheduleOptions {
        retries_per_step: 2,
        ..options(2)
    };
    let mut events = Vec::new();
    let report = run_dag(&plan, opts, recorder.executor(), |e| events.push(e)).await;
    assert_eq!(report.status, ScheduleStatus::Completed);
    let attempts: Vec<u32> = recorder
        .calls()
        .iter()
        .filter(|c| c.id == "flaky")
        .map(|c| c.attempt)
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    let retrying: Vec<(u32, String)> = events
        .iter()
        .filter_map(|e| match e {
            ScheduleEvent::StepRetrying { attempt, error, .. } => Some((*attempt, error.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        retrying,
        [
            (1, "flaky broke on attempt 1".to_owned()),
            (2, "flaky broke on attempt 2".to_owned())
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn retries_run_out_and_permanent_failures_are_not_retried() {
    let plan = plan_of(&[("flaky", &[]), ("broken", &[])]);
    let recorder = Recorder::new(&[]).failing("flaky", 5);
    let inner = recorder.executor();
    let executor = move |input: StepInput| {
        let permanent = input.step.id.as_str() == "broken";
        let run = inner(input);
        async move {
            if permanent {
                return Err(StepFailure::permanent("the API key is invalid"));
            }
            run.await
        }
    };
    let opts = ScheduleOptions {
        retries_per_step: 1,
        ..options(2)
    };
    let mut started = Vec::new();
    let report = run_dag(&plan, opts, executor, |e| {
        if let ScheduleEvent::StepStarted { id, attempt } = e {
            started.push((id.to_string(), attempt));
        }
    })
    .await;
    assert_eq!(
        report.status_of(&"flaky".into()),
        Some(&StepStatus::Failed("flaky broke on attempt 2".into()))
    );
    assert_eq!(
        report.status_of(&"broken".into()),
        Some(&StepStatus::Failed("the API key is invalid".into()))
    );
    started.sort();
    assert_eq!(
        started,
        [
            ("broken".into(), 1),
            ("flaky".into(), 1),
            ("flaky".into(), 2)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_new_starts_and_reaches_steps_in_flight() {
    let plan = plan_of(&[
        ("first", &[]),
        ("long", &[]),
        ("second", &["first"]),
        ("third", &[]),
    ]);
    let opts = options(2);
    let token = opts.cancel.clone();
    let executor = move |input: StepInput| {
        let token = token.clone();
        async move {
            match input.step.id.as_str() {
                "first" => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    token.cancel();
                    Ok(StepOutput::text("first done"))
                }
                "long" => {
                    tokio::select! {
                        () = input.cancel.cancelled() => Err(StepFailure::new("stopped")),
                        () = tokio::time::sleep(Duration::from_secs(3600)) => {
                            Ok(StepOutput::text("too late"))
                        }
                    }
                }
                other => panic!("{other} must not start after cancellation"),
            }
        }
    };
    let start = Instant::now();
    let report = run_dag(&plan, opts, executor, |_| {}).await;
    assert_eq!(
        ms_since(start, Instant::now()),
        10,
        "the long step stopped at once"
    );
    assert_eq!(report.status, ScheduleStatus::Cancelled);
    assert!(matches!(
        report.status_of(&"first".into()),
        Some(StepStatus::Completed(_))
    ));
    for id in ["long", "second", "third"] {
        assert_eq!(
            report.status_of(&id.into()),
            Some(&StepStatus::Cancelled),
            "{id}"
        );
    }
    assert_eq!(report.completion_order, [StepId::from("first")]);
}

#[tokio::test(start_paused = true)]
async fn sequential_mode_runs_in_plan_order_with_every_earlier_result() {
    let plan = plan_of(&[("a", &[]), ("b", &[]), ("c", &["a"]), ("d", &["b"])]);
    let recorder = Recorder::new(&[("a", 50), ("b", 5), ("c", 5), ("d", 5)]);
    let opts = ScheduleOptions {
        sequential: true,
        ..options(8)
    };
    let report = run_dag(&plan, opts, recorder.executor(), |_| {}).await;
    assert_eq!(report.status, ScheduleStatus::Completed);
    assert_eq!(recorder.max_running(), 1);
    let calls = recorder.calls();
    let order: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(order, ["a", "b", "c", "d"]);
    assert_eq!(calls[3].dependency_ids, ["a", "b", "c"]);
    assert_eq!(calls[3].dependency_texts, ["out:a", "out:b", "out:c"]);
}

#[tokio::test(start_paused = true)]
async fn resumed_steps_are_not_run_again_and_feed_their_dependents() {
    let plan = plan_of(&[("a", &[]), ("b", &["a"]), ("c", &[])]);
    let recorder = Recorder::new(&[]);
    let mut opts = options(2);
    opts.already_completed
        .insert("a".into(), StepOutput::text("kept from last time"));
    let mut events = Vec::new();
    let report = run_dag(&plan, opts, recorder.executor(), |e| events.push(e)).await;

    assert_eq!(report.status, ScheduleStatus::Completed);
    let calls = recorder.calls();
    assert!(calls.iter().all(|c| c.id != "a"), "a was not run again");
    let b = calls.iter().find(|c| c.id == "b").expect("b ran");
    assert_eq!(b.dependency_texts, ["kept from last time"]);
    assert_eq!(events[0], ScheduleEvent::StepReused { id: "a".into() });
    assert_eq!(
        report.output(&"a".into()),
        Some(&StepOutput::text("kept from last time"))
    );
    let mut order = report.completion_order.clone();
    order.sort();
    assert_eq!(order, [StepId::from("b"), StepId::from("c")]);
}

/// An executor written as a type rather than a closure.
struct Upper;

impl planner::StepExecutor for Upper {
    async fn execute(&self, input: StepInput) -> Result<StepOutput, StepFailure> {
        Ok(StepOutput::text(input.step.task.to_uppercase()))
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[tokio::test]
async fn executors_can_be_types_and_runs_are_send() {
    let plan = plan_of(&[("a", &[])]);
    // The run future can move between threads (e.g. into tokio::spawn).
    let run = assert_send(run_dag(&plan, options(1), Upper, |_| {}));
    let report = run.await;
    assert_eq!(report.output(&"a".into()), Some(&StepOutput::text("DO A")));
}
