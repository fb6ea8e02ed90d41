//! Property test: on random DAGs with random failing steps, exactly the
//! descendants of failing steps are skipped, everything else finishes, every
//! step starts after its dependencies, and the concurrency cap holds.

mod common;

use std::collections::BTreeSet;

use common::{Recorder, assert_dependencies_respected, plan_of};
use planner::{ScheduleOptions, ScheduleStatus, StepStatus, run_dag};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// A random DAG: node `i` may depend on any `j < i`, plus latencies, the
/// failing set and the concurrency limit.
#[derive(Debug, Clone)]
struct Case {
    deps: Vec<Vec<usize>>,
    latency_ms: Vec<u64>,
    failing: BTreeSet<usize>,
    concurrency: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (1_usize..=20).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| proptest::collection::btree_set(0..i.max(1), 0..=i.min(4)))
            .collect::<Vec<_>>();
        (
            deps,
            proptest::collection::vec(1_u64..=20, n),
            proptest::collection::btree_set(0..n, 0..=n.min(4)),
            1_usize..=5,
        )
            .prop_map(move |(deps, latency_ms, failing, concurrency)| Case {
                // Node 0 has no j < 0; drop the placeholder range's values.
                deps: deps
                    .into_iter()
                    .enumerate()
                    .map(|(i, set)| set.into_iter().filter(|&j| j < i).collect())
                    .collect(),
                latency_ms,
                failing,
                concurrency,
            })
    })
}

/// Everything reachable from `start` through dependents (not `start` itself).
fn descendants(deps: &[Vec<usize>], start: usize) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    let mut queue = vec![start];
    while let Some(at) = queue.pop() {
        for (i, d) in deps.iter().enumerate() {
            if d.contains(&at) && found.insert(i) {
                queue.push(i);
            }
        }
    }
    found
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let names: Vec<String> = (0..case.deps.len()).map(|i| format!("n{i}")).collect();
    let dep_names: Vec<Vec<&str>> = case
        .deps
        .iter()
        .map(|d| d.iter().map(|&j| names[j].as_str()).collect())
        .collect();
    let steps: Vec<(&str, &[&str])> = names
        .iter()
        .zip(&dep_names)
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let plan = plan_of(&steps);
    let latencies: Vec<(&str, u64)> = names
        .iter()
        .zip(&case.latency_ms)
        .map(|(n, &ms)| (n.as_str(), ms))
        .collect();
    let mut recorder = Recorder::new(&latencies);
    for &i in &case.failing {
        recorder = recorder.failing(&names[i], u32::MAX);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let options = ScheduleOptions {
        concurrency: case.concurrency,
        ..ScheduleOptions::default()
    };
    let report = runtime.block_on(run_dag(&plan, options, recorder.executor(), |_| {}));

    let expected_skipped: BTreeSet<usize> = case
        .failing
        .iter()
        .flat_map(|&f| descendants(&case.deps, f))
        .collect();
    let expected_failed: BTreeSet<usize> = case
        .failing
        .difference(&expected_skipped)
        .copied()
        .collect();
    for (i, (id, status)) in report.steps.iter().enumerate() {
        prop_assert_eq!(id.as_str(), names[i].as_str());
        match status {
            StepStatus::Skipped(_) => prop_assert!(expected_skipped.contains(&i), "{id} skipped"),
            StepStatus::Failed(_) => prop_assert!(expected_failed.contains(&i), "{id} failed"),
            StepStatus::Completed(_) => prop_assert!(
                !expected_skipped.contains(&i) && !expected_failed.contains(&i),
                "{id} completed"
            ),
            StepStatus::Cancelled => prop_assert!(false, "{id} cancelled without a cancel"),
        }
    }
    let expected_status = if case.failing.is_empty() {
        ScheduleStatus::Completed
    } else {
        ScheduleStatus::Failed
    };
    prop_assert_eq!(report.status, expected_status);

    let calls = recorder.calls();
    let mut ran: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    ran.sort_unstable();
    let mut expected_ran: Vec<&str> = (0..names.len())
        .filter(|i| !expected_skipped.contains(i))
        .map(|i| names[i].as_str())
        .collect();
    expected_ran.sort_unstable();
    prop_assert_eq!(ran, expected_ran, "each runnable step runs exactly once");
    prop_assert!(recorder.max_running() <= case.concurrency);
    assert_dependencies_respected(&plan, &calls);
    Ok(())
}

proptest! {
    #![proptest_config(Config {
        cases: 200,
        rng_seed: RngSeed::Fixed(0x05ee_dda9),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn failures_skip_exactly_their_descendants(case in case()) {
        check(&case)?;
    }
}
