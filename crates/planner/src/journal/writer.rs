//! Writing a run folder: the journal, the plan and the result.
//!
//! Each event is written as one line and then flushed and synced to disk
//! before [`Journal::append`] returns, so an event the caller saw succeed
//! survives a crash or power loss. Whole files (`plan.json`, `result.json`)
//! are written to a temporary file and renamed into place, so a reader sees
//! either the old file or the new one, never half of one.
//!
//! Writes use blocking file calls: events are few (a handful per step) and
//! small, and a synchronous API lets a scheduler observer record events inline.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::event::{JournalEvent, JournalRecord};
use super::meta::{RunMeta, now_rfc3339};
use super::reader::read_journal;
use super::{JOURNAL_FILE, JournalError, PLAN_FILE, RESULT_FILE};
use crate::plan::Plan;
use crate::schedule::ScheduleEvent;

/// An open run journal, appending to `<run folder>/journal.jsonl`.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    next_seq: u64,
    meta: RunMeta,
}

impl Journal {
    /// Creates the folder `<base>/<meta.id>/` and starts its journal with a
    /// [`JournalEvent::RunStarted`] event.
    ///
    /// ```
    /// use planner::{Journal, RunKind, RunMeta, read_journal};
    /// let base = tempfile::tempdir()?;
    /// let meta = RunMeta::new(RunKind::Fork, "explain async", serde_json::json!({}));
    /// let journal = Journal::create(base.path(), meta)?;
    /// let contents = read_journal(&journal.dir().join("journal.jsonl"))?;
    /// assert_eq!(contents.records.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(base: &Path, meta: RunMeta) -> Result<Self, JournalError> {
        let dir = base.join(meta.id.as_str());
        fs::create_dir_all(base)
            .and_then(|()| fs::create_dir(&dir))
            .map_err(|source| JournalError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        let path = dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| JournalError::CreateDir {
                path: path.clone(),
                source,
            })?;
        let mut journal = Self {
            dir,
            path,
            file,
            next_seq: 0,
            meta: meta.clone(),
        };
        journal.append(&JournalEvent::RunStarted { meta })?;
        Ok(journal)
    }

    /// Opens an existing run folder to continue its journal, and records a
    /// [`JournalEvent::RunResumed`] event.
    ///
    /// A last line cut off mid-write is removed first, so new events start on
    /// a line of their own.
    pub fn reopen(run_dir: &Path) -> Result<Self, JournalError> {
        let path = run_dir.join(JOURNAL_FILE);
        if !path.is_file() {
            return Err(JournalError::NotARun {
                path: run_dir.to_owned(),
            });
        }
        let contents = read_journal(&path)?;
        let meta = contents.meta_or_error(&path)?.clone();
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|source| JournalError::Write {
                path: path.clone(),
                source,
            })?;
        if contents.truncated_tail {
            file.set_len(contents.whole_len)
                .map_err(|source| JournalError::Write {
                    path: path.clone(),
                    source,
                })?;
        }
        let next_seq = contents.records.last().map_or(0, |record| record.seq + 1);
        let mut journal = Self {
            dir: run_dir.to_owned(),
            path,
            file,
            next_seq,
            meta,
        };
        journal.append(&JournalEvent::RunResumed)?;
        Ok(journal)
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the run is.
    pub fn meta(&self) -> &RunMeta {
        &self.meta
    }

    /// Appends one event and syncs it to disk; returns its sequence number.
    pub fn append(&mut self, event: &JournalEvent) -> Result<u64, JournalError> {
        let seq = self.next_seq;
        let record = JournalRecord {
            seq,
            at: now_rfc3339(),
            event: event.clone(),
        };
        let mut line = serde_json::to_string(&record).expect("journal events are plain data");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .and_then(|()| self.file.sync_data())
            .map_err(|source| JournalError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Appends the journal form of a scheduler event (nothing for reused steps).
    pub fn record(&mut self, event: &ScheduleEvent) -> Result<(), JournalError> {
        match JournalEvent::from_schedule(event) {
            Some(event) => self.append(&event).map(drop),
            None => Ok(()),
        }
    }

    /// Saves the plan as `plan.json` and records [`JournalEvent::PlanReady`].
    pub fn save_plan(&mut self, plan: &Plan) -> Result<(), JournalError> {
        write_json_atomic(&self.dir.join(PLAN_FILE), plan)?;
        self.append(&JournalEvent::PlanReady { plan: plan.clone() })
            .map(drop)
    }

    /// Saves the final result as `result.json`, atomically.
    pub fn save_result(&self, result: &impl Serialize) -> Result<(), JournalError> {
        write_json_atomic(&self.dir.join(RESULT_FILE), result)
    }
}

/// Writes `value` as indented JSON to `path` through a temporary file in the
/// same folder and a rename, then syncs the folder so the rename is durable.
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> Result<(), JournalError> {
    let write_error = |source| JournalError::Write {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_string_pretty(value).map_err(|e| write_error(e.into()))?;
    text.push('\n');
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp"));
    let mut file = File::create(&temp).map_err(write_error)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write_error)?;
    drop(file);
    fs::rename(&temp, path).map_err(write_error)?;
    if let Some(parent) = path.parent() {
        // Best effort: not every platform can open a folder to sync it.
        if let Ok(folder) = File::open(parent) {
            let _ = folder.sync_all();
        }
    }
    Ok(())
}
