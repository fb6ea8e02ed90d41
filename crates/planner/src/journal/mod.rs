//! Durable runs: every run keeps a folder that survives crashes.
//!
//! A run lives in `<base>/<run-id>/` (base `.agent-fork/runs` by default):
//!
//! * `journal.jsonl`: an append-only journal, one [`JournalRecord`] per line
//!   (`{"seq": 3, "at": "2026-11-28T07:49:02.120Z", "event": {"type": ...}}`),
//!   written as each event happens by a writer thread and synced to disk in
//!   groups, at most [`GROUP_COMMIT_INTERVAL`] after each write (the
//!   guarantee in full is on [`Journal`]);
//! * `plan.json`: the plan, when there is one (editable, runnable again);
//! * `result.json`: the final result, written atomically.
//!
//! A run whose journal has no end event stopped early; [`load_resume_state`]
//! recovers the completed steps and items so a resumed run does not pay for
//! them again. One process writes a run at a time.

mod event;
mod meta;
mod reader;
mod writer;

use std::path::PathBuf;

pub use event::{FinishStatus, JournalEvent, JournalRecord};
pub use meta::{BadRunId, RunId, RunKind, RunMeta};
pub use reader::{
    JournalContents, ResumeState, RunState, RunSummary, latest_unfinished, list_runs,
    load_resume_state, read_journal,
};
pub use writer::{GROUP_COMMIT_INTERVAL, Journal, write_json_atomic};

/// Where runs are kept unless the caller says otherwise.
pub const DEFAULT_RUNS_DIR: &str = ".agent-fork/runs";

pub(crate) const JOURNAL_FILE: &str = "journal.jsonl";
pub(crate) const PLAN_FILE: &str = "plan.json";
pub(crate) const RESULT_FILE: &str = "result.json";

/// A run folder could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The run folder (or its journal) could not be created.
    #[error(
        "cannot create the run folder {path}: {source}; choose a writable runs folder or fix its permissions"
    )]
    CreateDir {
        /// What could not be created.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A run file could not be written.
    #[error(
        "cannot write {path}: {source}; the run is not being saved, free disk space or fix permissions"
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A run file could not be read.
    #[error("cannot read {path}: {source}; check that the run folder exists and is readable")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The folder holds no journal.
    #[error(
        "{path} has no journal.jsonl, so it is not a run folder; pick a folder from the run list"
    )]
    NotARun {
        /// The folder.
        path: PathBuf,
    },
    /// The journal lacks its opening event.
    #[error(
        "{path} does not begin with a run_started event; the journal is damaged and cannot be resumed"
    )]
    NoStart {
        /// The journal.
        path: PathBuf,
    },
}
