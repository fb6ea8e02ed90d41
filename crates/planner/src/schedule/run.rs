//! The scheduling loop behind [`run_dag`].
//!
//! Steps in flight are polled together in one `FuturesUnordered`, so the
//! executor's futures need not be `'static` and no task is spawned. After
//! each finished attempt the loop starts every step that became ready, up to
//! the concurrency limit.

use std::future::Future;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt as _, StreamExt as _};

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
    let concurrency = if options.sequential {
        1
    } else {
        options.concurrency.max(1)
    };
    let mut state = State::new(plan, &options, &mut observer);
    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < concurrency && !options.cancel.is_cancelled() {
            let Some(index) = state.take_ready() else {
                break;
            };
            let input = state.start(index, 1, &mut observer);
            in_flight.push(attempt_step(&executor, index, input));
        }
        let Some(first) = in_flight.next().await else {
            break;
        };
        // Take every attempt that finished at the same moment, so the steps
        // they release compete for free slots together, by priority.
        let mut finished = vec![first];
        while let Some(Some(more)) = in_flight.next().now_or_never() {
            finished.push(more);
        }
        for (index, attempt, result) in finished {
            if let Some(retry) = state.settle(index, attempt, result, &mut observer) {
                in_flight.push(attempt_step(&executor, index, retry));
            }
        }
    }
    state.finish()
}

/// The scheduler's bookkeeping, apart from the futures in flight.
struct State<'a> {
    plan: &'a ValidPlan,
    options: &'a ScheduleOptions,
    slots: Vec<Slot>,
    /// Per step, how many of its dependencies have not completed.
    waiting_on: Vec<usize>,
    /// Pending steps whose dependencies have all completed.
    ready: Vec<usize>,
    /// Per step, the key choosing what starts first (highest wins).
    priority: Vec<(u64, usize)>,
    /// Completed steps (reused ones first) in the order their results arrived.
    finished_order: Vec<usize>,
    /// Steps completed in this run, in order.
    completion_order: Vec<StepId>,
}

impl<'a> State<'a> {
    fn new(
        plan: &'a ValidPlan,
        options: &'a ScheduleOptions,
        observer: &mut impl FnMut(ScheduleEvent),
    ) -> Self {
        let count = plan.steps().len();
        let priority = if options.sequential {
            // Topological order: earlier rank first.
            let mut priority = vec![(0, 0); count];
            for (rank, &i) in plan.topological_indices().iter().enumerate() {
                priority[i] = (0, usize::MAX - rank);
            }
            priority
        } else {
            // Longest remaining critical path, then plan order.
            let paths = plan.remaining_paths(&options.estimated_weights);
            (0..count).map(|i| (paths[i], usize::MAX - i)).collect()
        };
        let mut slots = vec![Slot::Pending; count];
        let mut finished_order = Vec::new();
        for (i, step) in plan.steps().iter().enumerate() {
            if let Some(output) = options.already_completed.get(&step.id) {
                slots[i] = Slot::Done(StepStatus::Completed(output.clone()));
                finished_order.push(i);
                observer(ScheduleEvent::StepReused {
                    id: step.id.clone(),
                });
            }
        }
        let waiting_on: Vec<usize> = (0..count)
            .map(|i| {
                plan.dependency_indices(i)
                    .into_iter()
                    .filter(|&d| !is_completed(&slots[d]))
                    .count()
            })
            .collect();
        let ready = (0..count)
            .filter(|&i| matches!(slots[i], Slot::Pending) && waiting_on[i] == 0)
            .collect();
        Self {
            plan,
            options,
            slots,
            waiting_on,
            ready,
            priority,
            finished_order,
            completion_order: Vec::new(),
        }
    }

    /// Removes and returns the ready step that should start next.
    fn take_ready(&mut self) -> Option<usize> {
        let best = (0..self.ready.len()).max_by_key(|&at| self.priority[self.ready[at]])?;
        Some(self.ready.swap_remove(best))
    }

    /// Marks a step running and builds the input for its attempt.
    fn start(
        &mut self,
        index: usize,
        attempt: u32,
        observer: &mut impl FnMut(ScheduleEvent),
    ) -> StepInput {
        self.slots[index] = Slot::Running;
        observer(ScheduleEvent::StepStarted {
            id: self.plan.id(index).clone(),
            attempt,
        });
        self.step_input(index, attempt)
    }

    /// Records a finished attempt; returns the input for a retry if one is due.
    fn settle(
        &mut self,
        index: usize,
        attempt: u32,
        result: Result<StepOutput, StepFailure>,
        observer: &mut impl FnMut(ScheduleEvent),
    ) -> Option<StepInput> {
        let id = self.plan.id(index).clone();
        match result {
            Ok(output) => {
                observer(ScheduleEvent::StepCompleted {
                    id: id.clone(),
                    output: output.clone(),
                });
                self.slots[index] = Slot::Done(StepStatus::Completed(output));
                self.finished_order.push(index);
                self.completion_order.push(id);
                for dependent in self.plan.dependent_indices(index) {
                    self.waiting_on[dependent] -= 1;
                    if self.waiting_on[dependent] == 0
                        && matches!(self.slots[dependent], Slot::Pending)
                    {
                        self.ready.push(dependent);
                    }
                }
                None
            }
            Err(_) if self.options.cancel.is_cancelled() => {
                // Most likely the executor stopped because of the token.
                self.slots[index] = Slot::Done(StepStatus::Cancelled);
                None
            }
            Err(failure) if failure.retryable && attempt <= self.options.retries_per_step => {
                observer(ScheduleEvent::StepRetrying {
                    id,
                    attempt,
                    error: failure.message,
                });
                Some(self.start(index, attempt + 1, observer))
            }
            Err(failure) => {
                let reason = format!("dependency {id} failed: {}", failure.message);
                observer(ScheduleEvent::StepFailed {
                    id,
                    error: failure.message.clone(),
                });
                self.slots[index] = Slot::Done(StepStatus::Failed(failure.message));
                for skipped in self.unreachable_after(index) {
                    observer(ScheduleEvent::StepSkipped {
                        id: self.plan.id(skipped).clone(),
                        reason: reason.clone(),
                    });
                    self.slots[skipped] = Slot::Done(StepStatus::Skipped(reason.clone()));
                }
                None
            }
        }
    }

    /// Builds the input for an attempt at step `index`.
    fn step_input(&self, index: usize, attempt: u32) -> StepInput {
        let sources = if self.options.sequential {
            self.finished_order.clone()
        } else {
            self.plan.dependency_indices(index)
        };
        let dependency_results = sources
            .into_iter()
            .filter_map(|d| match &self.slots[d] {
                Slot::Done(StepStatus::Completed(output)) => {
                    let step = &self.plan.steps()[d];
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
            step: self.plan.steps()[index].clone(),
            dependency_results,
            attempt,
            cancel: self.options.cancel.clone(),
        }
    }

    /// Pending steps that can no longer run because `failed` will never
    /// complete: its dependents, theirs, and so on, stopping at steps that
    /// already completed (in an earlier run) since their results exist.
    fn unreachable_after(&self, failed: usize) -> Vec<usize> {
        let mut found = Vec::new();
        let mut queue = vec![failed];
        while let Some(at) = queue.pop() {
            for dependent in self.plan.dependent_indices(at) {
                if matches!(self.slots[dependent], Slot::Pending) && !found.contains(&dependent) {
                    found.push(dependent);
                    queue.push(dependent);
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// Turns the final slots into the report; anything not finished was cancelled.
    fn finish(self) -> ScheduleReport {
        let plan = self.plan;
        let steps: Vec<_> = self
            .slots
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
            completion_order: self.completion_order,
            status,
        }
    }
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

fn is_completed(slot: &Slot) -> bool {
    matches!(slot, Slot::Done(StepStatus::Completed(_)))
}
