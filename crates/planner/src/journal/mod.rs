//! Durable runs: every run keeps a folder that survives crashes.
//!
//! A run lives in `<base>/<run-id>/` (the caller chooses the base; the CLI
//! keeps it in a per-user data folder, out of every workspace):
//!
//! * `journal.jsonl`: an append-only journal, one [`JournalRecord`] per line
//!   (`{"seq": 3, "at": "2026-11-28T07:49:02.120Z", "event": {"type": ...}, "mac": "..."}`),
//!   written as each event happens by a writer thread and synced to disk in
//!   groups, at most [`GROUP_COMMIT_INTERVAL`] after each write (the
//!   guarantee in full is on [`Journal`]);
//! * `plan.json`: the plan, when there is one (editable, runnable again);
//! * `result.json`: the final result, written atomically; the journal
//!   records its SHA-256, and [`read_result`] returns it only when it matches;
//! * `.lock`: the file a [`RunLock`] locks.
//!
//! **A journal is data, never authority.** Each line carries a MAC under the
//! user's secret [`JournalKey`], chained to the line before and bound to the
//! run id (see `auth`), so a journal written or edited by anyone without
//! the key (a model with file tools, another user) is refused as
//! [`JournalError::Untrusted`]; [`list_runs`] reports such folders apart.
//! Run files are opened only if they are regular files (no symbolic links,
//! no FIFOs). A run whose journal has no end event stopped early;
//! [`load_resume_state`] recovers the completed steps and items so a resumed
//! run does not pay for them again. One process works on a run at a time:
//! [`Journal::create`] and [`RunLock::acquire`] hold the run's lock.

mod auth;
mod event;
mod meta;
mod reader;
mod writer;

use std::path::PathBuf;

pub use auth::{JournalKey, RunLock};
pub use event::{JournalEvent, JournalRecord};
pub use meta::{BadRunId, RunId, RunKind, RunMeta};
pub use reader::{
    BatchRecord, BatchSeen, JournalContents, ResumeState, RunListing, RunState, RunSummary,
    UntrustedRun, latest_unfinished, list_runs, load_resume_state, read_journal, read_result,
};
pub use writer::{GROUP_COMMIT_INTERVAL, HashingWriter, Journal, write_json_atomic};

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
    /// The journal was not written by agent-fork with this user's key, or
    /// was changed since: it is not used.
    #[error(
        "{path} is not a journal agent-fork wrote with your key ({reason}); it was planted or edited, so it is not used"
    )]
    Untrusted {
        /// The journal (or the run file it vouches for).
        path: PathBuf,
        /// What did not check out.
        reason: String,
    },
    /// Another process is working on the run.
    #[error(
        "run {} is in use by another agent-fork process (still running, or being resumed); wait for it to end, then try again",
        path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default()
    )]
    Locked {
        /// The run folder.
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
