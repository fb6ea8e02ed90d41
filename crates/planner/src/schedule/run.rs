//! The scheduling loop behind [`run_dag`].
//!
//! Steps in flight are polled together in one `FuturesUnordered`, so the
//! executor's futures need not be `'static` and no task is spawned. After
//! each finished attempt the loop starts every step that became ready, up to
//! the concurrency limit.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::{
    DependencyResult, ScheduleEvent, ScheduleOptions, ScheduleReport, ScheduleStatus, StepExecutor,
    StepFailure, StepInput, StepOutput, StepStatus,
};
use crate::graph::ValidPlan;
use crate::plan::StepId;

/// Where one step stands while the plan runs.
#[derive(Debug, Clone)]
enum Slot {
    /// Waiting for dependencies, or ready and waiting for a free slot.
    Pending,
    /// An attempt is in flight.
    Running,
    /// Finished one way or another.
    Done(StepStatus),
}

/// Runs a validated plan; see the [module docs](crate::schedule) for the rules.
///
/// `observer` sees every [`ScheduleEvent`] as it happens (for progress lines
/// and the run journal). The returned report lists every step's final status.
///
/// ```
/// use planner::{parse_plan, run_dag, validate, ScheduleOptions, StepInput, StepOutput,
///     StepFailure, ScheduleStatus, ValidationRules};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let plan = parse_plan(r#"[{"step_id": "a", "agent_type": "x", "task": "say hi"},
///     {"step_id": "b", "agent_type": "x", "task": "shout", "depends_on": "a"}]"#).unwrap();
/// let plan = validate(&plan, &ValidationRules { known_agent_types: vec![], max_steps: 5 }).unwrap();
/// let executor = |input: StepInput| async move {
///     let before: String = input.dependency_results.iter().map(|r| r.text.clone()).collect();
///     Ok::<_, StepFailure>(StepOutput::text(format!("{before}{}!", input.step.task)))
/// };
/// let report = run_dag(&plan, ScheduleOptions::default(), executor, |_| {}).await;
/// assert_eq!(report.status, ScheduleStatus::Completed);
/// assert_eq!(report.output(&"b".into()).unwrap().text, "say hi!shout!");
/// # });
/// ```
pub async fn run_dag<E: StepExecutor>(
    plan: &ValidPlan,
    options: ScheduleOptions,
    executor: E,
    mut observer: impl FnMut(ScheduleEvent),
) -> ScheduleReport {
    let count = plan.steps().len();
    let concurrency = if options.sequential {
        1
    } else {
        options.concurrency.max(1)
    };
    let priority = plan.remaining_paths(&options.estimated_weights);
    let mut topo_rank = vec![0; count];
    for (rank, &i) in plan.topological_indices().iter().enumerate() {
        topo_rank[i] = rank;
    }

    let mut slots = vec![Slot::Pending; count];
    // Completed steps in the order their results became available.
    let mut finished_order: Vec<usize> = Vec::new();
    let mut completion_order = Vec::new();
    for (i, step) in plan.steps().iter().enumerate() {
        if let Some(output) = options.already_completed.get(&step.id) {
            slots[i] = Slot::Done(StepStatus::Completed(output.clone()));
            finished_order.push(i);
            observer(ScheduleEvent::StepReused {
                id: step.id.clone(),
            });
        }
    }
    let mut waiting_on: Vec<usize> = (0..count)
        .map(|i| {
            plan.dependency_indices(i)
                .into_iter()
                .filter(|&d| !is_completed(&slots[d]))
                .count()
        })
        .collect();
    let mut ready: Vec<usize> = (0..count)
        .filter(|&i| matches!(slots[i], Slot::Pending) && waiting_on[i] == 0)
        .collect();

    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < concurrency && !options.cancel.is_cancelled() {
            let Some(next) = take_next(&mut ready, |i| {
                if options.sequential {
                    (0, usize::MAX - topo_rank[i])
                } else {
                    (priority[i], usize::MAX - i)
                }
            }) else {
                break;
            };
            let input = step_input(plan, &options, &slots, &finished_order, next, 1);
            slots[next] = Slot::Running;
            observer(ScheduleEvent::StepStarted {
                id: plan.id(next).clone(),
                attempt: 1,
            });
            in_flight.push(attempt_step(&executor, next, input));
        }

        let Some((index, attempt, result)) = in_flight.next().await else {
            break;
        };
        let id = plan.id(index).clone();
        match result {
            Ok(output) => {
                observer(ScheduleEvent::StepCompleted {
                    id: id.clone(),
                    output: output.clone(),
                });
                slots[index] = Slot::Done(StepStatus::Completed(output));
                finished_order.push(index);
                completion_order.push(id);
                for dependent in plan.dependent_indices(index) {
                    waiting_on[dependent] -= 1;
                    if waiting_on[dependent] == 0 && matches!(slots[dependent], Slot::Pending) {
                        ready.push(dependent);
                    }
                }
            }
            Err(_) if options.cancel.is_cancelled() => {
                // Most likely the executor stopped because of the token.
                slots[index] = Slot::Done(StepStatus::Cancelled);
            }
            Err(failure) if failure.retryable && attempt <= options.retries_per_step => {
                observer(ScheduleEvent::StepRetrying {
                    id: id.clone(),
                    attempt,
                    error: failure.message,
                });
                let input = step_input(plan, &options, &slots, &finished_order, index, attempt + 1);
                observer(ScheduleEvent::StepStarted {
                    id,
                    attempt: attempt + 1,
                });
                in_flight.push(attempt_step(&executor, index, input));
            }
            Err(failure) => {
                let reason = format!("dependency {id} failed: {}", failure.message);
                observer(ScheduleEvent::StepFailed {
                    id,
                    error: failure.message.clone(),
                });
                slots[index] = Slot::Done(StepStatus::Failed(failure.message));
                for skipped in unreachable_after(plan, &slots, index) {
                    observer(ScheduleEvent::StepSkipped {
                        id: plan.id(skipped).clone(),
                        reason: reason.clone(),
                    });
                    slots[skipped] = Slot::Done(StepStatus::Skipped(reason.clone()));
                }
            }
        }
    }

    finish(plan, slots, completion_order)
}

/// One attempt at step `index`, tagged so the loop knows which step ended.
fn attempt_step<E: StepExecutor>(
    executor: &E,
    index: usize,
    input: StepInput,
) -> impl Future<Output = (usize, u32, Result<StepOutput, StepFailure>)> + Send + '_ {
    let attempt = input.attempt;
    let running = executor.execute(input);
    async move { (index, attempt, running.await) }
}

/// Removes and returns the ready step with the highest key.
fn take_next(ready: &mut Vec<usize>, key: impl Fn(usize) -> (u64, usize)) -> Option<usize> {
    let best = (0..ready.len()).max_by_key(|&at| key(ready[at]))?;
    Some(ready.swap_remove(best))
}

fn is_completed(slot: &Slot) -> bool {
    matches!(slot, Slot::Done(StepStatus::Completed(_)))
}

/// Builds the input for an attempt at step `index`.
fn step_input(
    plan: &ValidPlan,
    options: &ScheduleOptions,
    slots: &[Slot],
    finished_order: &[usize],
    index: usize,
    attempt: u32,
) -> StepInput {
    let sources = if options.sequential {
        finished_order.to_vec()
    } else {
        plan.dependency_indices(index)
    };
    let dependency_results = sources
        .into_iter()
        .filter_map(|d| match &slots[d] {
            Slot::Done(StepStatus::Completed(output)) => {
                let step = &plan.steps()[d];
                Some(DependencyResult {
                    id: step.id.clone(),
                    name: step.name.clone(),
                    text: output.text.clone(),
                })
            }
            _ => None,
        })
        .collect();
    StepInput {
        step: plan.steps()[index].clone(),
        dependency_results,
        attempt,
        cancel: options.cancel.clone(),
    }
}

/// Pending steps that can no longer run because `failed` will never
/// complete: its dependents, theirs, and so on, stopping at steps that
/// already completed (in an earlier run) since their results exist.
fn unreachable_after(plan: &ValidPlan, slots: &[Slot], failed: usize) -> Vec<usize> {
    let mut found = Vec::new();
    let mut queue = vec![failed];
    while let Some(at) = queue.pop() {
        for dependent in plan.dependent_indices(at) {
            if matches!(slots[dependent], Slot::Pending) && !found.contains(&dependent) {
                found.push(dependent);
                queue.push(dependent);
            }
        }
    }
    found.sort_unstable();
    found
}

/// Turns the final slots into the report; anything not finished was cancelled.
fn finish(plan: &ValidPlan, slots: Vec<Slot>, completion_order: Vec<StepId>) -> ScheduleReport {
    let steps: Vec<_> = slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let status = match slot {
                Slot::Done(status) => status,
                Slot::Pending | Slot::Running => StepStatus::Cancelled,
            };
            (plan.id(i).clone(), status)
        })
        .collect();
    let statuses = || steps.iter().map(|(_, status)| status);
    let status = if statuses().all(|s| matches!(s, StepStatus::Completed(_))) {
        ScheduleStatus::Completed
    } else if statuses().any(|s| matches!(s, StepStatus::Cancelled)) {
        ScheduleStatus::Cancelled
    } else {
        ScheduleStatus::Failed
    };
    ScheduleReport {
        steps,
        completion_order,
        status,
    }
}
