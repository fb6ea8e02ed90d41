//! Reading run folders back: journals, run listings and resume state.
//!
//! Reading never fails because of what a crash leaves behind. A last line
//! without its newline was cut off mid-write; it is ignored (the event's
//! append never returned, so nobody relied on it). A damaged line elsewhere
//! is skipped with a warning and reading goes on, so no completed work
//! recorded after it is lost.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use super::event::{FinishStatus, JournalEvent, JournalRecord};
use super::meta::{RunId, RunKind, RunMeta};
use super::{JOURNAL_FILE, JournalError, PLAN_FILE};
use crate::plan::{Plan, StepId};
use crate::schedule::StepOutput;

/// What a journal file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    /// Every whole, readable event, in file order.
    pub records: Vec<JournalRecord>,
    /// One line per damaged line that was skipped, naming its line number.
    pub warnings: Vec<String>,
    /// Whether the file ended in a line cut off mid-write (ignored).
    pub truncated_tail: bool,
    /// Bytes up to the end of the last whole line.
    pub(crate) whole_len: u64,
}

impl JournalContents {
    /// The run's metadata, from its first [`JournalEvent::RunStarted`].
    pub fn meta(&self) -> Option<&RunMeta> {
        self.records.iter().find_map(|record| match &record.event {
            JournalEvent::RunStarted { meta } => Some(meta),
            _ => None,
        })
    }

    /// Where the run stands according to its last lifecycle event.
    pub fn state(&self) -> RunState {
        let mut state = RunState::Unfinished;
        for record in &self.records {
            match record.event {
                JournalEvent::RunFinished {
                    status: FinishStatus::Completed,
                } => state = RunState::Completed,
                JournalEvent::RunFinished {
                    status: FinishStatus::Failed,
                } => state = RunState::Failed,
                JournalEvent::RunInterrupted => state = RunState::Interrupted,
                JournalEvent::RunResumed => state = RunState::Unfinished,
                _ => {}
            }
        }
        state
    }

    pub(crate) fn meta_or_error(&self, path: &Path) -> Result<&RunMeta, JournalError> {
        self.meta().ok_or_else(|| JournalError::NoStart {
            path: path.to_owned(),
        })
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// No end was recorded: still running, or the process died.
    Unfinished,
    /// It was stopped on purpose before the end.
    Interrupted,
    /// It ended with everything done.
    Completed,
    /// It ended with some work failed.
    Failed,
}

impl RunState {
    /// Whether the run stopped before its end and can be picked up again.
    pub fn is_unfinished(self) -> bool {
        matches!(self, Self::Unfinished | Self::Interrupted)
    }
}

/// One run, as listed by [`list_runs`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The run's id.
    pub id: RunId,
    /// What kind of work it does.
    pub kind: RunKind,
    /// When it was created, RFC 3339 in UTC.
    pub created: String,
    /// What it was asked to do.
    pub summary: String,
    /// Where it stands.
    pub state: RunState,
    /// Its folder.
    pub dir: PathBuf,
}

/// What a stopped run had already achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeState {
    /// What the run is.
    pub meta: RunMeta,
    /// Where it stands.
    pub state: RunState,
    /// The plan, if one was made.
    pub plan: Option<Plan>,
    /// Steps that completed, with their outputs (pass these as
    /// [`crate::ScheduleOptions::already_completed`]).
    pub completed_steps: HashMap<StepId, StepOutput>,
    /// Batch items that completed, by position.
    pub completed_items: BTreeMap<usize, serde_json::Value>,
    /// Damaged journal lines that were skipped.
    pub warnings: Vec<String>,
}

/// Reads a journal up to its last whole line.
pub fn read_journal(path: &Path) -> Result<JournalContents, JournalError> {
    let bytes = fs::read(path).map_err(|source| JournalError::Read {
        path: path.to_owned(),
        source,
    })?;
    let whole_len = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |last| last + 1);
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for (number, line) in bytes[..whole_len].split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<JournalRecord>(line) {
            Ok(record) => records.push(record),
            Err(error) => warnings.push(format!(
                "line {} of {} is not a journal event ({error}); it was skipped",
                number + 1,
                path.display()
            )),
        }
    }
    Ok(JournalContents {
        records,
        warnings,
        truncated_tail: whole_len < bytes.len(),
        whole_len: whole_len as u64,
    })
}

/// Every run under `base`, newest first. A missing `base` has no runs;
/// folders without a readable journal are not runs and are left out.
pub fn list_runs(base: &Path) -> Result<Vec<RunSummary>, JournalError> {
    let entries = match fs::read_dir(base) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(JournalError::Read {
                path: base.to_owned(),
                source,
            });
        }
    };
    let mut runs = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(contents) = read_journal(&dir.join(JOURNAL_FILE)) else {
            continue;
        };
        let Some(meta) = contents.meta() else {
            continue;
        };
        runs.push(RunSummary {
            id: meta.id.clone(),
            kind: meta.kind.clone(),
            created: meta.created.clone(),
            summary: meta.summary.clone(),
            state: contents.state(),
            dir,
        });
    }
    runs.sort_by(|a, b| (&b.created, &b.id).cmp(&(&a.created, &a.id)));
    Ok(runs)
}

/// The newest run under `base` that stopped before its end.
pub fn latest_unfinished(base: &Path) -> Result<Option<RunSummary>, JournalError> {
    Ok(list_runs(base)?
        .into_iter()
        .find(|run| run.state.is_unfinished()))
}

/// Collects what a run already achieved, to continue it without paying twice.
///
/// The plan comes from the journal's last [`JournalEvent::PlanReady`], or
/// from `plan.json` when the journal has none.
pub fn load_resume_state(run_dir: &Path) -> Result<ResumeState, JournalError> {
    let path = run_dir.join(JOURNAL_FILE);
    if !path.is_file() {
        return Err(JournalError::NotARun {
            path: run_dir.to_owned(),
        });
    }
    let contents = read_journal(&path)?;
    let meta = contents.meta_or_error(&path)?.clone();
    let mut plan = None;
    let mut completed_steps = HashMap::new();
    let mut completed_items = BTreeMap::new();
    for record in &contents.records {
        match &record.event {
            JournalEvent::PlanReady { plan: ready } => plan = Some(ready.clone()),
            JournalEvent::StepCompleted { id, output } => {
                completed_steps.insert(id.clone(), output.clone());
            }
            JournalEvent::ItemCompleted { index, result } => {
                completed_items.insert(*index, result.clone());
            }
            _ => {}
        }
    }
    if plan.is_none() {
        plan = Plan::from_file(&run_dir.join(PLAN_FILE)).ok();
    }
    Ok(ResumeState {
        meta,
        state: contents.state(),
        plan,
        completed_steps,
        completed_items,
        warnings: contents.warnings,
    })
}
