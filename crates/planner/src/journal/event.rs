//! The events a run journal records, one JSON object per line.

use serde::{Deserialize, Serialize};

use super::meta::RunMeta;
use crate::plan::{Plan, StepId};
use crate::schedule::{ScheduleEvent, StepOutput};
use crate::workflows::WorkflowStatus;

/// One line of `journal.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    /// Position in the journal, from 0, never reused (also across resumes).
    pub seq: u64,
    /// When the event was written, RFC 3339 in UTC.
    pub at: String,
    /// What happened.
    pub event: JournalEvent,
}

/// Something that happened in a run. Serialized with a `"type"` tag, e.g.
/// `{"type": "step_started", "id": "step_1", "attempt": 1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JournalEvent {
    /// The run began; always the first event.
    RunStarted {
        /// What the run is.
        meta: RunMeta,
    },
    /// The run was picked up again after it stopped.
    RunResumed,
    /// The plan to run is known (also saved as `plan.json`).
    PlanReady {
        /// The plan.
        plan: Plan,
    },
    /// An attempt at a step started.
    StepStarted {
        /// The step.
        id: StepId,
        /// 1 for the first try.
        attempt: u32,
    },
    /// An attempt at a step failed and it will be tried again.
    StepRetrying {
        /// The step.
        id: StepId,
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        error: String,
    },
    /// A step completed; its output is kept so a resumed run need not pay for it again.
    StepCompleted {
        /// The step.
        id: StepId,
        /// Its result text and extra data (usage and the like).
        output: StepOutput,
    },
    /// A step failed for good.
    StepFailed {
        /// The step.
        id: StepId,
        /// Why.
        error: String,
    },
    /// A step was skipped because one it needs failed.
    StepSkipped {
        /// The step.
        id: StepId,
        /// Why.
        reason: String,
    },
    /// One item of a swarm or fork batch completed.
    ItemCompleted {
        /// The item's position in the batch.
        index: usize,
        /// Its result.
        result: serde_json::Value,
    },
    /// One item of a swarm or fork batch failed.
    ItemFailed {
        /// The item's position in the batch.
        index: usize,
        /// Why.
        error: String,
    },
    /// A Batch API job is about to be created for the run's items (its
    /// input is written): written before the create request, so a crash
    /// before its answer is noticed and the job found by `display_name`
    /// rather than paid for twice.
    BatchSubmitting {
        /// The job's display name (unique to the run).
        display_name: String,
        /// The model.
        model: String,
        /// How many requests.
        requests: usize,
    },
    /// The job exists: its name (`batches/...`), journalled as soon as the
    /// create answer (or the job found after a crash) is seen.
    BatchSubmitted {
        /// `batches/...`.
        name: genai_client::BatchName,
        /// True when found by display name after a create whose answer was lost.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        adopted: bool,
    },
    /// The job's state changed (as seen by a poll).
    BatchPolled {
        /// The state's wire name (`BATCH_STATE_*`).
        state: genai_client::BatchState,
        /// Requests answered.
        succeeded: u64,
        /// Requests failed.
        failed: u64,
        /// Requests pending.
        pending: u64,
    },
    /// The job's results were read and journalled as items.
    BatchCollected {
        /// The state the job ended in.
        state: genai_client::BatchState,
    },
    /// `result.json` was written; its SHA-256 (hex), so a reader can tell
    /// the file is the one this run wrote.
    ResultSaved {
        /// SHA-256 of the file's bytes, in lower-case hex.
        sha256: String,
    },
    /// The run ended. On disk `status` is `completed` or `failed`; a
    /// cancelled run is journalled as [`JournalEvent::RunInterrupted`] (see
    /// [`JournalEvent::ending`]), so journals written before the one
    /// outcome type read the same.
    RunFinished {
        /// How.
        status: WorkflowStatus,
    },
    /// The run was stopped (Ctrl-C, cancellation) before it ended.
    RunInterrupted,
    /// What one session of the run spent (written as it ends; a resumed
    /// run adds a line per session, and the run's cost is their sum).
    Spent {
        /// The cost of the session's calls, with how many were unpriced.
        cost: genai_client::CostTotal,
        /// The tokens they used (prompt, output and thinking).
        tokens: u64,
    },
    /// A tool call whose rule was `ask` was decided: the tool and the
    /// digest of its arguments (never the arguments).
    ToolApproval {
        /// The decision.
        record: agent_core::ApprovalRecord,
    },
}

impl JournalEvent {
    /// The last event of a run that ended with `status`: a cancelled run is
    /// [`JournalEvent::RunInterrupted`] (it stays resumable), any other a
    /// [`JournalEvent::RunFinished`] (`budget_exhausted` included: such a
    /// run stays resumable too).
    pub fn ending(status: WorkflowStatus) -> Self {
        match status {
            WorkflowStatus::Cancelled => Self::RunInterrupted,
            status => Self::RunFinished { status },
        }
    }

    /// The journal event for a scheduler event; `None` for steps reused from
    /// an earlier run, which the journal already holds.
    pub fn from_schedule(event: &ScheduleEvent) -> Option<Self> {
        Some(match event.clone() {
            ScheduleEvent::StepReused { .. } => return None,
            ScheduleEvent::StepStarted { id, attempt } => Self::StepStarted { id, attempt },
            ScheduleEvent::StepRetrying { id, attempt, error } => {
                Self::StepRetrying { id, attempt, error }
            }
            ScheduleEvent::StepCompleted { id, output } => Self::StepCompleted { id, output },
            ScheduleEvent::StepFailed { id, error } => Self::StepFailed { id, error },
            ScheduleEvent::StepSkipped { id, reason } => Self::StepSkipped { id, reason },
        })
    }
}
