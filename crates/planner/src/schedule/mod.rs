//! Running a validated plan: every step starts as soon as its own
//! dependencies are done.
//!
//! The original ran steps in waves, so one slow step held back the whole next
//! wave; it also counted a failed step as done and ran its dependents. Here:
//!
//! * a step starts the moment all of its dependencies have completed, with at
//!   most `concurrency` steps running at once;
//! * when slots are scarce, the ready step with the longest remaining critical
//!   path goes first (ties go to the step earlier in the plan);
//! * a step that still fails after its retries makes every step that needs it,
//!   directly or not, [`StepStatus::Skipped`], while independent branches go on;
//! * on cancellation no new step starts; steps in flight see the token in
//!   [`StepInput::cancel`] and the rest are reported [`StepStatus::Cancelled`];
//! * steps in [`ScheduleOptions::already_completed`] (a resumed run) are not
//!   run again; their results feed their dependents.
//!
//! The scheduler knows nothing about agents: a [`StepExecutor`] runs a step.

mod context;
mod run;

use std::collections::HashMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::plan::{Step, StepId};

pub use context::{DEFAULT_CONTEXT_CAP, DependencyResult, dependency_context};
pub use run::run_dag;

/// What a step's executor is given.
#[derive(Debug, Clone)]
pub struct StepInput {
    /// The step to run.
    pub step: Step,
    /// Results of the step's dependencies in plan order; in sequential mode,
    /// every result completed so far, in the order they completed.
    pub dependency_results: Vec<DependencyResult>,
    /// 1 for the first try, 2 for the first retry, and so on.
    pub attempt: u32,
    /// Cancelled when the run is stopped; the executor should give up soon.
    pub cancel: CancellationToken,
}

/// What a step produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutput {
    /// The step's result text, handed to the steps that depend on it.
    pub text: String,
    /// Anything else the executor wants kept (usage, model, files), opaque here.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

impl StepOutput {
    /// An output with text only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            extra: serde_json::Value::Null,
        }
    }
}

/// Why one attempt at a step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepFailure {
    /// One line saying what went wrong.
    pub message: String,
    /// Whether another attempt could succeed. Permanent failures (a bad
    /// request, a missing key) are not retried.
    pub retryable: bool,
}

impl StepFailure {
    /// A failure that another attempt may fix.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

/// Runs one step. Implemented for any `Fn(StepInput) -> impl Future`.
pub trait StepExecutor {
    /// Runs one attempt at a step.
    fn execute(
        &self,
        input: StepInput,
    ) -> impl Future<Output = Result<StepOutput, StepFailure>> + Send;
}

impl<F, Fut> StepExecutor for F
where
    F: Fn(StepInput) -> Fut,
    Fut: Future<Output = Result<StepOutput, StepFailure>> + Send,
{
    fn execute(
        &self,
        input: StepInput,
    ) -> impl Future<Output = Result<StepOutput, StepFailure>> + Send {
        self(input)
    }
}

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct ScheduleOptions {
    /// Most steps running at once; 0 is treated as 1.
    pub concurrency: usize,
    /// Extra attempts for a step whose failure is retryable.
    pub retries_per_step: u32,
    /// Run one step at a time in topological order, giving each step every
    /// result completed so far (the original's sequential mode).
    pub sequential: bool,
    /// Results kept from an earlier run of the same plan; these steps are not
    /// run again.
    pub already_completed: HashMap<StepId, StepOutput>,
    /// Estimated cost of each step for choosing what starts first when slots
    /// are scarce; missing steps weigh 1.
    pub estimated_weights: HashMap<StepId, u64>,
    /// Stops the run: no new step starts once it is cancelled.
    pub cancel: CancellationToken,
}

impl Default for ScheduleOptions {
    /// Four at once, no retries, nothing completed yet, a fresh token.
    fn default() -> Self {
        Self {
            concurrency: 4,
            retries_per_step: 0,
            sequential: false,
            already_completed: HashMap::new(),
            estimated_weights: HashMap::new(),
            cancel: CancellationToken::new(),
        }
    }
}

/// Something that happened while a plan ran, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleEvent {
    /// A step was taken from an earlier run instead of being run.
    StepReused {
        /// The step.
        id: StepId,
    },
    /// An attempt at a step started.
    StepStarted {
        /// The step.
        id: StepId,
        /// 1 for the first try.
        attempt: u32,
    },
    /// An attempt failed and the step will be tried again.
    StepRetrying {
        /// The step.
        id: StepId,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        error: String,
    },
    /// A step completed.
    StepCompleted {
        /// The step.
        id: StepId,
        /// What it produced.
        output: StepOutput,
    },
    /// A step failed for good.
    StepFailed {
        /// The step.
        id: StepId,
        /// Why its last attempt failed.
        error: String,
    },
    /// A step will not run because a step it needs failed.
    StepSkipped {
        /// The step.
        id: StepId,
        /// Which dependency failed and why.
        reason: String,
    },
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StepStatus {
    /// It completed (now or in an earlier run).
    Completed(StepOutput),
    /// It failed after all its attempts; the last error.
    Failed(String),
    /// It did not run because a step it needs failed; the reason.
    Skipped(String),
    /// It did not run, or was stopped, because the run was cancelled.
    Cancelled,
}

/// How the whole run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleStatus {
    /// Every step completed.
    Completed,
    /// Some step failed or was skipped, and the run was not cancelled.
    Failed,
    /// The run was cancelled before every step completed.
    Cancelled,
}

/// The outcome of [`run_dag`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleReport {
    /// Every step with its final status, in plan order.
    pub steps: Vec<(StepId, StepStatus)>,
    /// Steps completed in this run, in the order they completed (steps
    /// reused from an earlier run are not listed).
    pub completion_order: Vec<StepId>,
    /// Completed only if every step completed.
    pub status: ScheduleStatus,
}

impl ScheduleReport {
    /// The final status of one step.
    pub fn status_of(&self, id: &StepId) -> Option<&StepStatus> {
        self.steps
            .iter()
            .find(|(step, _)| step == id)
            .map(|(_, status)| status)
    }

    /// The output of a completed step.
    pub fn output(&self, id: &StepId) -> Option<&StepOutput> {
        match self.status_of(id) {
            Some(StepStatus::Completed(output)) => Some(output),
            _ => None,
        }
    }
}
