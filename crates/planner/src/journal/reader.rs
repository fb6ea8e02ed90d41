//! Reading run folders back: journals, run listings and resume state.
//!
//! Reading never fails because of what a crash leaves behind: a last line
//! without its newline was cut off mid-write; it is ignored (the event's
//! append never returned, so nobody relied on it). Every whole line must
//! carry a MAC that checks out under the reader's key, chained to the line
//! before (see `auth`): a journal with a line that does not is refused
//! whole as [`JournalError::Untrusted`]. A line whose MAC checks out but
//! whose event this version cannot read (written by a newer agent-fork) is
//! skipped with a warning.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::auth::{self, CHAIN_START, JournalKey};
use super::event::{JournalEvent, JournalRecord};
use super::meta::{RunId, RunKind, RunMeta};
use super::{JOURNAL_FILE, JournalError, RESULT_FILE};
use crate::plan::{Plan, StepId};
use crate::schedule::StepOutput;
use crate::workflows::WorkflowStatus;

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
    /// The MAC of the last whole line (the chain goes on from it).
    pub(crate) last_mac: [u8; 32],
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
                    status: WorkflowStatus::Completed,
                } => state = RunState::Completed,
                JournalEvent::RunFinished {
                    status: WorkflowStatus::Failed,
                } => state = RunState::Failed,
                // `JournalEvent::ending` never writes a cancelled finish,
                // but one read from disk means the same as an interruption.
                JournalEvent::RunFinished {
                    status: WorkflowStatus::Cancelled,
                }
                | JournalEvent::RunInterrupted => state = RunState::Interrupted,
                JournalEvent::RunFinished {
                    status: WorkflowStatus::BudgetExhausted,
                } => state = RunState::BudgetExhausted,
                JournalEvent::RunResumed => state = RunState::Unfinished,
                _ => {}
            }
        }
        state
    }

    /// What the run spent over all its sessions: the sum of its
    /// [`JournalEvent::Spent`] lines (cost and tokens).
    pub fn spent(&self) -> (genai_client::CostTotal, u64) {
        self.records.iter().fold(
            (genai_client::CostTotal::default(), 0),
            |(cost, tokens), record| match &record.event {
                JournalEvent::Spent {
                    cost: more,
                    tokens: more_tokens,
                } => (cost + *more, tokens + more_tokens),
                _ => (cost, tokens),
            },
        )
    }

    /// The run's Batch API job, from its batch events.
    pub fn batch(&self) -> Option<BatchRecord> {
        let mut record: Option<BatchRecord> = None;
        for entry in &self.records {
            match &entry.event {
                JournalEvent::BatchSubmitting {
                    display_name,
                    model,
                    requests,
                } => {
                    record = Some(BatchRecord {
                        display_name: display_name.clone(),
                        model: model.clone(),
                        requests: *requests,
                        name: None,
                        adopted: false,
                        last_seen: None,
                        collected: None,
                    });
                }
                JournalEvent::BatchSubmitted { name, adopted } => {
                    if let Some(record) = &mut record {
                        record.name = Some(name.clone());
                        record.adopted = *adopted;
                    }
                }
                JournalEvent::BatchPolled {
                    state,
                    succeeded,
                    failed,
                    pending,
                } => {
                    if let Some(record) = &mut record {
                        record.last_seen = Some(BatchSeen {
                            state: state.clone(),
                            succeeded: *succeeded,
                            failed: *failed,
                            pending: *pending,
                            at: entry.at.clone(),
                        });
                    }
                }
                JournalEvent::BatchCollected { state } => {
                    if let Some(record) = &mut record {
                        record.collected = Some(state.clone());
                    }
                }
                _ => {}
            }
        }
        record
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
    /// Its spending budget stopped it; it can be resumed with a larger one.
    BudgetExhausted,
}

impl RunState {
    /// Whether the run stopped before its end and can be picked up again.
    pub fn is_unfinished(self) -> bool {
        matches!(
            self,
            Self::Unfinished | Self::Interrupted | Self::BudgetExhausted
        )
    }
}

/// The runs under a folder, as [`list_runs`] finds them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunListing {
    /// Runs whose journal checks out, newest first.
    pub runs: Vec<RunSummary>,
    /// Folders holding a `journal.jsonl` that does not check out (planted,
    /// edited, written under another key, or not a regular file), by folder
    /// name; nothing in them is used.
    pub untrusted: Vec<UntrustedRun>,
}

/// A run folder whose journal is not trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct UntrustedRun {
    /// Its folder.
    pub dir: PathBuf,
    /// Why it is not trusted (one line; it may quote the folder name, which
    /// anyone who could write the folder chose).
    pub reason: String,
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
    /// What it spent over all its sessions.
    pub cost: genai_client::CostTotal,
    /// Its folder.
    pub dir: PathBuf,
}

/// What a run's journal says about its Batch API job.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// The job's display name.
    pub display_name: String,
    /// The model.
    pub model: String,
    /// How many requests.
    pub requests: usize,
    /// The job's name, once the create answer (or an adopted job) was seen;
    /// `None` means a create may or may not have happened.
    pub name: Option<genai_client::BatchName>,
    /// The job was found by display name after a lost create answer.
    pub adopted: bool,
    /// The last state a poll saw.
    pub last_seen: Option<BatchSeen>,
    /// The state the job ended in, once its results were collected.
    pub collected: Option<genai_client::BatchState>,
}

/// One poll of a job, as journalled.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSeen {
    /// Its state.
    pub state: genai_client::BatchState,
    /// Requests answered.
    pub succeeded: u64,
    /// Requests failed.
    pub failed: u64,
    /// Requests pending.
    pub pending: u64,
    /// When (RFC 3339).
    pub at: String,
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
    /// The run's Batch API job, when it has one.
    pub batch: Option<BatchRecord>,
    /// Approval decisions made by a person (or for want of one), to hand
    /// back to the gate ([`agent_core::Approvals::with_earlier`]) so a call
    /// approved before is not asked again and one denied stays denied.
    pub approvals: Vec<agent_core::ApprovalRecord>,
    /// Damaged journal lines that were skipped.
    pub warnings: Vec<String>,
    /// What the run spent in its earlier sessions: cost and tokens (a
    /// resumed run's budget counts them).
    pub spent: (genai_client::CostTotal, u64),
}

/// Reads a journal up to its last whole line, checking every line's MAC
/// under `key` (see the module docs).
///
/// The run id the MACs are bound to is the name of the journal's folder,
/// and the first line must be the [`JournalEvent::RunStarted`] of that id.
///
/// # Errors
///
/// [`JournalError::Untrusted`] when a line's MAC does not check out or the
/// run is not the folder's; [`JournalError::Read`] when the file cannot be
/// read or is not a regular file (a FIFO named `journal.jsonl` is refused
/// at once, never waited on).
pub fn read_journal(path: &Path, key: &JournalKey) -> Result<JournalContents, JournalError> {
    let read_error = |source| JournalError::Read {
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    auth::open_regular(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(read_error)?;
    let untrusted = |reason: String| JournalError::Untrusted {
        path: path.to_owned(),
        reason,
    };
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let whole_len = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |last| last + 1);
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let mut previous = CHAIN_START;
    let mut rest = &bytes[..whole_len];
    let mut line_no = 0;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..end];
        rest = &rest[end + 1..];
        line_no += 1;
        let Some((signed, mac)) = auth::split_mac(line) else {
            return Err(untrusted(format!("line {line_no} carries no MAC")));
        };
        if !key.verify_line(&folder, &previous, &signed, &mac) {
            return Err(untrusted(format!(
                "the MAC of line {line_no} does not match"
            )));
        }
        previous = mac;
        match serde_json::from_slice::<JournalRecord>(&signed) {
            Ok(record) => {
                if records.is_empty() {
                    let opens_this_run = matches!(
                        &record.event,
                        JournalEvent::RunStarted { meta } if meta.id.as_str() == folder
                    );
                    if !opens_this_run {
                        return Err(untrusted(
                            "its first line is not the start of this run".to_owned(),
                        ));
                    }
                }
                records.push(record);
            }
            Err(error) => warnings.push(format!(
                "line {line_no} of {} is not an event this version knows ({error}); it was skipped",
                path.display()
            )),
        }
    }
    Ok(JournalContents {
        records,
        warnings,
        truncated_tail: whole_len < bytes.len(),
        whole_len: whole_len as u64,
        last_mac: previous,
    })
}

/// The run's `result.json`, when the journal recorded one and the file is
/// the one it recorded (same SHA-256); `Ok(None)` when the run saved none.
///
/// # Errors
///
/// [`JournalError::Untrusted`] when the file differs from what the journal
/// recorded, [`JournalError::Read`] when it cannot be read.
pub fn read_result(
    run_dir: &Path,
    contents: &JournalContents,
) -> Result<Option<serde_json::Value>, JournalError> {
    let Some(expected) = contents
        .records
        .iter()
        .rev()
        .find_map(|record| match &record.event {
            JournalEvent::ResultSaved { sha256 } => Some(sha256),
            _ => None,
        })
    else {
        return Ok(None);
    };
    let path = run_dir.join(RESULT_FILE);
    let mut bytes = Vec::new();
    auth::open_regular(&path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|source| JournalError::Read {
            path: path.clone(),
            source,
        })?;
    if auth::sha256_hex(&bytes) != *expected {
        return Err(JournalError::Untrusted {
            path,
            reason: "it is not the result the journal recorded".to_owned(),
        });
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| JournalError::Untrusted {
            path,
            reason: error.to_string(),
        })
}

/// Every run under `base`: those whose journal checks out under `key`,
/// newest first, and apart those whose journal does not. A missing `base`
/// has no runs; folders without a `journal.jsonl` are not runs and are
/// left out.
pub fn list_runs(base: &Path, key: &JournalKey) -> Result<RunListing, JournalError> {
    let entries = match fs::read_dir(base) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(RunListing::default());
        }
        Err(source) => {
            return Err(JournalError::Read {
                path: base.to_owned(),
                source,
            });
        }
    };
    let mut listing = RunListing::default();
    for entry in entries.flatten() {
        let dir = entry.path();
        let path = dir.join(JOURNAL_FILE);
        if fs::symlink_metadata(&path).is_err() {
            continue;
        }
        let contents = match read_journal(&path, key) {
            Ok(contents) => contents,
            Err(error) => {
                listing.untrusted.push(UntrustedRun {
                    dir,
                    reason: untrusted_reason(&error),
                });
                continue;
            }
        };
        let Some(meta) = contents.meta() else {
            // An empty journal: a run that died while being created.
            continue;
        };
        listing.runs.push(RunSummary {
            id: meta.id.clone(),
            kind: meta.kind.clone(),
            created: meta.created.clone(),
            summary: meta.summary.clone(),
            state: contents.state(),
            cost: contents.spent().0,
            dir,
        });
    }
    listing
        .runs
        .sort_by(|a, b| (&b.created, &b.id).cmp(&(&a.created, &a.id)));
    listing.untrusted.sort_by(|a, b| b.dir.cmp(&a.dir));
    Ok(listing)
}

fn untrusted_reason(error: &JournalError) -> String {
    match error {
        JournalError::Untrusted { reason, .. } => reason.clone(),
        JournalError::Read { source, .. } => format!("unreadable journal: {source}"),
        other => other.to_string(),
    }
}

/// The newest trusted run under `base` that stopped before its end
/// (untrusted folders are never picked).
pub fn latest_unfinished(
    base: &Path,
    key: &JournalKey,
) -> Result<Option<RunSummary>, JournalError> {
    Ok(list_runs(base, key)?
        .runs
        .into_iter()
        .find(|run| run.state.is_unfinished()))
}

/// Collects what a run already achieved, to continue it without paying twice.
///
/// The plan comes from the journal's last [`JournalEvent::PlanReady`]
/// (never from `plan.json`, which the journal does not vouch for). The
/// journal must check out under `key`.
pub fn load_resume_state(run_dir: &Path, key: &JournalKey) -> Result<ResumeState, JournalError> {
    let path = run_dir.join(JOURNAL_FILE);
    if fs::symlink_metadata(&path).is_err() {
        return Err(JournalError::NotARun {
            path: run_dir.to_owned(),
        });
    }
    let contents = read_journal(&path, key)?;
    let meta = contents.meta_or_error(&path)?.clone();
    let mut plan = None;
    let mut completed_steps = HashMap::new();
    let mut completed_items = BTreeMap::new();
    let mut approvals = Vec::new();
    for record in &contents.records {
        match &record.event {
            JournalEvent::PlanReady { plan: ready } => plan = Some(ready.clone()),
            JournalEvent::StepCompleted { id, output } => {
                completed_steps.insert(id.clone(), output.clone());
            }
            JournalEvent::ItemCompleted { index, result } => {
                completed_items.insert(*index, result.clone());
            }
            JournalEvent::ToolApproval { record } => approvals.push(record.clone()),
            _ => {}
        }
    }
    Ok(ResumeState {
        meta,
        state: contents.state(),
        plan,
        completed_steps,
        completed_items,
        spent: contents.spent(),
        batch: contents.batch(),
        approvals,
        warnings: contents.warnings,
    })
}
