//! How a command's run ends, in one place: [`finish`] journals the outcome,
//! ends the session (the replay check or the recording's notice), says how
//! to resume an interrupted run and gives the exit code.
//!
//! Every command that opens a run ends it through [`finish`], so the order
//! of those steps and the exit code of each outcome cannot drift apart
//! between commands.

use anyhow::Result;
use planner::WorkflowStatus;
use serde::Serialize;

use crate::exit::Exit;
use crate::output::Output;
use crate::run_record::{RunRecorder, resume_hint, retry_hint};
use crate::session::Session;

/// How a run ended ([`WorkflowStatus`], the one outcome type) and the exit
/// code it gets if it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Completed, failed or cancelled.
    pub(crate) status: WorkflowStatus,
    /// The exit code of a failure: [`Exit::WorkFailed`], or [`Exit::Api`]
    /// when Gemini refused the work.
    pub(crate) failed_exit: Exit,
}

impl Outcome {
    /// `status`, with the usual exit code for a failure.
    pub(crate) fn of(status: WorkflowStatus) -> Self {
        Self {
            status,
            failed_exit: Exit::WorkFailed,
        }
    }

    /// A failure whose exit code is `exit`.
    pub(crate) fn failed(exit: Exit) -> Self {
        Self {
            status: WorkflowStatus::Failed,
            failed_exit: exit,
        }
    }

    /// The process's exit code for this outcome.
    pub(crate) fn exit(self) -> Exit {
        match self.status {
            WorkflowStatus::Completed => Exit::Success,
            WorkflowStatus::Failed => self.failed_exit,
            WorkflowStatus::BudgetExhausted => Exit::WorkFailed,
            WorkflowStatus::Cancelled => Exit::Interrupted,
        }
    }
}

/// Ends a run: says how many model calls were retried (people's output,
/// when any was), journals what this session spent, saves `result` and the
/// outcome in the journal (a warning on stderr when the journal could not
/// be fully written), ends `session` (`command` names a recorded cassette),
/// prints the resume hint for a cancelled, failed or budget-stopped run,
/// and returns the exit code (1 for `budget_exhausted`).
///
/// # Errors
///
/// When the session's end fails: a replay that did not match its cassette,
/// or a recording that could not be saved.
pub(crate) async fn finish(
    recorder: &RunRecorder,
    session: Option<Session>,
    command: &str,
    outcome: Outcome,
    result: &impl Serialize,
    output: &Output,
) -> Result<Exit> {
    let spending = session
        .as_ref()
        .and_then(|session| session.spending.clone());
    let retries = session.as_ref().map_or(0, Session::retries);
    if let Some(line) = retries_line(retries)
        && !output.json()
    {
        output.notice(&line);
    }
    if let Some(spending) = &spending {
        let (cost, tokens) = spending.this_session();
        recorder.append(planner::JournalEvent::Spent { cost, tokens });
    }
    if let Some(warning) = recorder.finish(outcome.status, result) {
        output.error_line(&warning);
    }
    if let Some(session) = session {
        if let Some(notice) = session.finish(command).await? {
            output.error_line(&notice);
        }
    }
    match outcome.status {
        WorkflowStatus::Cancelled => output.error_line(&resume_hint(recorder.id())),
        WorkflowStatus::Failed => output.error_line(&retry_hint(recorder.id())),
        WorkflowStatus::BudgetExhausted => {
            if let Some(spending) = &spending {
                output.error_line(&spending.exhausted_line(recorder.id()));
            }
        }
        WorkflowStatus::Completed => {}
    }
    Ok(outcome.exit())
}

/// The summary's line for a run whose model calls were retried `retries`
/// times in all (none when no call was).
pub(crate) fn retries_line(retries: u32) -> Option<String> {
    (retries > 0).then(|| {
        let calls = if retries == 1 {
            "call was"
        } else {
            "calls were"
        };
        format!("{retries} model {calls} retried in this run")
    })
}
