//! Durable runs from the CLI's side: every fork, swarm, plan and workflow
//! gets a run folder with an append-only journal written as events happen,
//! and its final result. A run that stops (Ctrl-C, a crash, a power cut)
//! can be resumed from its journal without paying for finished work again.
//!
//! Recording an event only queues it: planner's journal writes it from a
//! thread of its own at once and syncs to disk in groups (see
//! [`planner::Journal`]), so a swarm's task never waits for the disk. The
//! end of a run ([`RunRecorder::finish`]) waits until everything is on disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use planner::journal::FinishStatus;
use planner::{Journal, JournalError, JournalEvent, Plan, RunId, RunKind, RunMeta, ScheduleEvent};
use serde::{Deserialize, Serialize};

use crate::commands::common::AgentFlags;
use crate::exit::{Exit, Failure, classify};

/// What is needed to run a command again: the command, the agent flags and
/// the command's own parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunArgs {
    /// `fork`, `swarm`, `plan`, `research-then-code`, `map-reduce` or `refine`.
    pub(crate) command: String,
    /// The agent flags the run was started with.
    pub(crate) flags: AgentFlags,
    /// The command's parameters.
    pub(crate) params: serde_json::Value,
}

/// The open journal of the current run. Journal write errors do not stop
/// the work; the first one is reported when the run ends.
pub(crate) struct RunRecorder {
    journal: Mutex<Journal>,
    id: RunId,
    dir: PathBuf,
    write_error: Mutex<Option<String>>,
}

impl RunRecorder {
    /// Starts a new run under `base`.
    ///
    /// The journal's opening event holds what is needed to run `command`
    /// again: the agent flags and the command's own `params`.
    pub(crate) fn start(
        base: &Path,
        kind: RunKind,
        summary: &str,
        command: &str,
        flags: &AgentFlags,
        params: &impl Serialize,
    ) -> Result<Arc<RunRecorder>> {
        let args = serde_json::to_value(RunArgs {
            command: command.to_owned(),
            flags: flags.clone(),
            params: serde_json::to_value(params)?,
        })?;
        let meta = RunMeta::new(kind, summary, args);
        let journal = Journal::create(base, meta).map_err(|error| {
            Failure::usage(format!(
                "{error}; choose a writable folder with AGENT_FORK_RUNS_DIR or [defaults] runs_dir"
            ))
        })?;
        Ok(Self::wrap(journal))
    }

    /// Reopens a stopped run to continue it.
    pub(crate) fn resume(dir: &Path) -> Result<Arc<RunRecorder>> {
        let journal = Journal::reopen(dir).map_err(|error| Failure::usage(error.to_string()))?;
        Ok(Self::wrap(journal))
    }

    fn wrap(journal: Journal) -> Arc<RunRecorder> {
        let (id, dir) = (journal.id().clone(), journal.dir().to_path_buf());
        Arc::new(RunRecorder {
            journal: Mutex::new(journal),
            id,
            dir,
            write_error: Mutex::new(None),
        })
    }

    /// The run's id.
    pub(crate) fn id(&self) -> &RunId {
        &self.id
    }

    /// The run's folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Passes `result` through; when it is a usage error (bad input found
    /// after the run was opened: an unknown agent type, an unreadable
    /// cassette) and nothing was journalled yet, the run's folder is removed
    /// so `resume` never picks up a run that never started.
    pub(crate) fn settle(&self, result: Result<Exit>) -> Result<Exit> {
        if let Err(error) = &result {
            // Only the opening event: nothing was done (a resumed run has more).
            let untouched = self
                .journal
                .lock()
                .is_ok_and(|journal| journal.event_count() == 1);
            if classify(error).0 == Exit::Usage && untouched {
                // Best effort: a folder left behind is only clutter.
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
        result
    }

    /// Appends an event (queued; the journal's writer thread writes it at
    /// once and syncs it within the group-commit interval).
    pub(crate) fn append(&self, event: JournalEvent) {
        self.with_journal(|journal| journal.append(event).map(drop));
    }

    /// Runs `write` on the journal, remembering the first error.
    fn with_journal(&self, write: impl FnOnce(&mut Journal) -> Result<(), JournalError>) {
        let result = self
            .journal
            .lock()
            .map_err(|_| "journal lock poisoned".to_owned())
            .and_then(|mut journal| write(&mut journal).map_err(|error| error.to_string()));
        self.remember(result);
    }

    /// Journals a scheduler event.
    pub(crate) fn record(&self, event: &ScheduleEvent) {
        if let Some(event) = JournalEvent::from_schedule(event) {
            self.append(event);
        }
    }

    /// Journals the plan and saves it as `plan.json`.
    pub(crate) fn plan(&self, plan: &Plan) {
        self.with_journal(|journal| journal.save_plan(plan));
    }

    /// Journals a finished batch item (a fork of a swarm or workflow). A
    /// success is serialised once, by the journal's writer thread.
    pub(crate) fn item(&self, index: usize, result: &agent_core::ForkResult) {
        if result.is_success() {
            let result = result.clone();
            self.with_journal(|journal| journal.append_item(index, result).map(drop));
        } else {
            let error = result.error.as_ref().map_or_else(
                || result.status.as_str().to_owned(),
                |error| error.message.clone(),
            );
            self.append(JournalEvent::ItemFailed { index, error });
        }
    }

    /// Journals a finished item that is more than one fork (a refine
    /// attempt with its verdict), as the JSON of `result`.
    pub(crate) fn item_value(&self, index: usize, result: &impl Serialize) {
        match serde_json::to_value(result) {
            Ok(result) => self.append(JournalEvent::ItemCompleted { index, result }),
            Err(error) => self.remember(Err(error.to_string())),
        }
    }

    /// Ends the run: the final result is written to `result.json`, then the
    /// last event, and waits until the whole journal is on disk. An
    /// interrupted run stays resumable.
    pub(crate) fn finish(&self, outcome: RunOutcome, result: &impl Serialize) -> Option<String> {
        if let Ok(journal) = self.journal.lock() {
            if let Err(error) = journal.save_result(result) {
                self.remember(Err(error.to_string()));
            }
        }
        let event = match outcome {
            RunOutcome::Completed => JournalEvent::RunFinished {
                status: FinishStatus::Completed,
            },
            RunOutcome::Failed => JournalEvent::RunFinished {
                status: FinishStatus::Failed,
            },
            RunOutcome::Interrupted => JournalEvent::RunInterrupted,
        };
        self.append(event);
        self.with_journal(|journal| journal.sync());
        self.write_error
            .lock()
            .ok()
            .and_then(|error| error.clone())
            .map(|error| {
                format!(
                    "warning: the run journal in {} could not be fully written: {error}",
                    self.dir.display()
                )
            })
    }

    fn remember(&self, result: Result<(), String>) {
        if let (Err(error), Ok(mut slot)) = (result, self.write_error.lock()) {
            slot.get_or_insert(error);
        }
    }
}

/// How a run ended, for its journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunOutcome {
    Completed,
    Failed,
    Interrupted,
}

/// The line telling how to resume an interrupted run.
pub(crate) fn resume_hint(id: &RunId) -> String {
    format!("interrupted: finished work is saved; continue with `agent-fork resume {id}`")
}
