//! Writing a run folder: the journal, the plan and the result.
//!
//! The journal is written by a thread of its own and synced to disk in
//! groups; [`Journal`] states exactly what is on disk when.
//!
//! Whole files (`plan.json`, `result.json`) are written to a temporary file
//! and renamed into place, so a reader sees either the old file or the new
//! one, never half of one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::auth::{self, CHAIN_START, JournalKey, RunLock};
use super::event::{JournalEvent, JournalRecord};
use super::meta::{RunId, RunMeta, now_rfc3339};
use super::reader::read_journal;
use super::{JOURNAL_FILE, JournalError, PLAN_FILE, RESULT_FILE};
use crate::plan::Plan;
use crate::schedule::ScheduleEvent;

/// The longest a written journal event waits before it is synced to disk;
/// also the shortest time between two syncs (see [`Journal`] for the whole
/// guarantee).
pub const GROUP_COMMIT_INTERVAL: Duration = Duration::from_millis(20);

/// Events queued for the writer thread before [`Journal::append`] waits for
/// it to catch up: room for the burst of results that finish while a sync
/// runs, and a bound on memory when the disk is slower than the work.
const QUEUE_CAPACITY: usize = 512;

/// Bytes gathered before a `write` call is made (a line is never split);
/// small, since the buffer keeps its size for the journal's life.
const BATCH_BYTES: usize = 64 << 10;

/// An open run journal, appending to `<run folder>/journal.jsonl`.
///
/// The journal keeps only the run's id, not its [`RunMeta`]: the metadata
/// is written once, in the opening event, and dropped.
///
/// # Durability
///
/// A [`Journal`] writes its file from a thread of its own, so the caller
/// (often the one async task that drives a whole swarm) never waits for
/// serialisation or for the disk:
///
/// * [`Journal::append`] gives the event its sequence number and queues it.
///   The writer thread serialises it as one line and writes it to the file
///   as soon as it runs, together with every other event waiting at that
///   moment (one `write` call per batch). Once written, an event survives
///   the process being killed: it is in the operating system's cache. An
///   event still queued when the process dies is lost, as a fork that ended
///   just before it would be; a resumed run does that work again.
/// * Written events are synced to disk (`fdatasync`) in groups (group
///   commit): at once when the last sync is older than
///   [`GROUP_COMMIT_INTERVAL`], otherwise when that interval has passed.
///   A power cut or kernel crash can therefore lose the events of the last
///   interval, never more; a resumed run simply does that work again.
/// * [`Journal::flush`] returns once every event appended before it is
///   written, [`Journal::sync`] once it is also on disk. [`Journal::close`]
///   (and dropping the journal) writes and syncs everything still queued
///   and stops the thread. [`Journal::create`] and [`Journal::reopen`]
///   return with their opening event on disk.
/// * Events are written whole and in order. A crash mid-write leaves at
///   most a last line cut off, which [`crate::read_journal`] ignores and
///   [`Journal::reopen`] removes.
///
/// # Authentication and locking
///
/// Every line is signed with the [`JournalKey`] given to
/// [`Journal::create`] or [`Journal::reopen`], chained to the line before
/// (see the `journal` module). A journal holds its run's [`RunLock`] for
/// its whole life, so no other process can resume the run meanwhile.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    path: PathBuf,
    id: RunId,
    // The next sequence number and the queue, behind one lock so that
    // events reach the writer in the order of their numbers even when
    // several threads append at once. Held only while a message is sent.
    queue: Mutex<Sequencer>,
    writer: Option<JoinHandle<()>>,
    failure: Arc<FirstFailure>,
    // Released when the journal is dropped (after the writer has stopped).
    _lock: RunLock,
}

impl Journal {
    /// Creates the folder `<base>/<meta.id>/` and starts its journal with a
    /// [`JournalEvent::RunStarted`] event, synced to disk before this returns.
    ///
    /// ```
    /// use planner::{Journal, JournalKey, RunKind, RunMeta, read_journal};
    /// let base = tempfile::tempdir()?;
    /// let key = JournalKey::from_bytes([7; 32]);
    /// let meta = RunMeta::new(RunKind::Fork, "explain async", serde_json::json!({}));
    /// let journal = Journal::create(base.path(), meta, &key)?;
    /// let contents = read_journal(&journal.dir().join("journal.jsonl"), &key)?;
    /// assert_eq!(contents.records.len(), 1);
    /// assert_eq!(journal.event_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(base: &Path, meta: RunMeta, key: &JournalKey) -> Result<Self, JournalError> {
        let dir = base.join(meta.id.as_str());
        fs::create_dir_all(base)
            .and_then(|()| fs::create_dir(&dir))
            .map_err(|source| JournalError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        let lock = RunLock::acquire(&dir)?;
        let path = dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| JournalError::CreateDir {
                path: path.clone(),
                source,
            })?;
        let id = meta.id.clone();
        let chain = Chain {
            key: key.clone(),
            run_id: id.to_string(),
            previous: CHAIN_START,
        };
        let journal = Self::start(lock, path, id, file, 0, chain)?;
        journal.append(JournalEvent::RunStarted { meta })?;
        journal.sync()?;
        Ok(journal)
    }

    /// Opens an existing run folder to continue its journal, and records a
    /// [`JournalEvent::RunResumed`] event, synced to disk before this returns.
    /// Takes the run's lock first; see [`Journal::reopen_locked`].
    pub fn reopen(run_dir: &Path, key: &JournalKey) -> Result<Self, JournalError> {
        if fs::symlink_metadata(run_dir.join(JOURNAL_FILE)).is_err() {
            return Err(JournalError::NotARun {
                path: run_dir.to_owned(),
            });
        }
        Self::reopen_locked(RunLock::acquire(run_dir)?, key)
    }

    /// Continues the journal of the run whose lock is `lock` (take the lock
    /// before reading the run's state, so nothing changes in between), and
    /// records a [`JournalEvent::RunResumed`] event, synced to disk before
    /// this returns.
    ///
    /// The journal must check out under `key` ([`JournalError::Untrusted`]
    /// otherwise). A last line cut off mid-write is removed first, so new
    /// events start on a line of their own.
    pub fn reopen_locked(lock: RunLock, key: &JournalKey) -> Result<Self, JournalError> {
        let run_dir = lock.dir().to_owned();
        let path = run_dir.join(JOURNAL_FILE);
        if fs::symlink_metadata(&path).is_err() {
            return Err(JournalError::NotARun { path: run_dir });
        }
        let contents = read_journal(&path, key)?;
        let id = contents.meta_or_error(&path)?.id.clone();
        let file = auth::open_regular_append(&path).map_err(|source| JournalError::Write {
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
        let chain = Chain {
            key: key.clone(),
            run_id: id.to_string(),
            previous: contents.last_mac,
        };
        drop(contents);
        let journal = Self::start(lock, path, id, file, next_seq, chain)?;
        journal.append(JournalEvent::RunResumed)?;
        journal.sync()?;
        Ok(journal)
    }

    /// Starts the writer thread for `file`.
    fn start(
        lock: RunLock,
        path: PathBuf,
        id: RunId,
        file: File,
        next_seq: u64,
        chain: Chain,
    ) -> Result<Self, JournalError> {
        let failure = Arc::new(FirstFailure::default());
        let (queue, inbox) = mpsc::sync_channel(QUEUE_CAPACITY);
        let writer = Writer {
            file,
            chain,
            failure: failure.clone(),
            batch: Vec::new(),
            unsynced: false,
            last_sync: None,
        };
        let handle = std::thread::Builder::new()
            .name("journal-writer".to_owned())
            .spawn(move || writer.run(&inbox))
            .map_err(|source| JournalError::Write {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            dir: lock.dir().to_owned(),
            path,
            id,
            queue: Mutex::new(Sequencer {
                next_seq,
                sender: Some(queue),
            }),
            writer: Some(handle),
            failure,
            _lock: lock,
        })
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run's id.
    pub fn id(&self) -> &RunId {
        &self.id
    }

    /// How many events the journal holds, counting those still queued: 1
    /// for a run just created (its opening event), more once anything
    /// happened or the run was resumed.
    pub fn event_count(&self) -> u64 {
        self.sequencer().next_seq
    }

    /// Queues one event for the writer thread; returns its sequence number.
    ///
    /// The event is written to the file as soon as the writer thread runs
    /// and synced to disk within [`GROUP_COMMIT_INTERVAL`]; this call waits
    /// for neither (only, briefly, for room in the queue when the thread is
    /// far behind).
    ///
    /// # Errors
    ///
    /// [`JournalError::Write`] when the writer thread is gone, or when an
    /// earlier event could not be written: the journal is then incomplete.
    /// The first such error is returned by this and every later call; the
    /// event is queued all the same.
    pub fn append(&self, event: JournalEvent) -> Result<u64, JournalError> {
        self.queue(|seq| Message::Event { seq, event })
    }

    /// Queues a [`JournalEvent::ItemCompleted`] event whose result is
    /// serialised by the writer thread, straight into the journal line.
    ///
    /// It reads back exactly as
    /// `JournalEvent::ItemCompleted { index, result: serde_json::to_value(&result)? }`
    /// would, without building that value on the caller's thread.
    ///
    /// # Errors
    ///
    /// As for [`Journal::append`]; a result that cannot be serialised as JSON
    /// is reported like a failed write.
    pub fn append_item<T>(&self, index: usize, result: T) -> Result<u64, JournalError>
    where
        T: Serialize + Send + 'static,
    {
        self.queue(|seq| Message::Item {
            seq,
            index,
            result: Box::new(result),
        })
    }

    /// Appends the journal form of a scheduler event (nothing for reused steps).
    pub fn record(&self, event: &ScheduleEvent) -> Result<(), JournalError> {
        match JournalEvent::from_schedule(event) {
            Some(event) => self.append(event).map(drop),
            None => Ok(()),
        }
    }

    /// Saves the plan as `plan.json` and records [`JournalEvent::PlanReady`].
    pub fn save_plan(&self, plan: &Plan) -> Result<(), JournalError> {
        write_json_atomic(&self.dir.join(PLAN_FILE), plan)?;
        self.append(JournalEvent::PlanReady { plan: plan.clone() })
            .map(drop)
    }

    /// Saves the final result as `result.json`, atomically, and records its
    /// SHA-256 in a [`JournalEvent::ResultSaved`] event, so
    /// [`crate::read_result`] can tell it is the file this run wrote.
    pub fn save_result(&self, result: &impl Serialize) -> Result<(), JournalError> {
        let sha256 = write_json_hashed(&self.dir.join(RESULT_FILE), result)?;
        self.append(JournalEvent::ResultSaved { sha256 }).map(drop)
    }

    /// Waits until every event appended so far is written to the file (not
    /// necessarily synced to disk), so that reading the journal shows them.
    ///
    /// # Errors
    ///
    /// The first write error so far, as for [`Journal::append`].
    pub fn flush(&self) -> Result<(), JournalError> {
        self.barrier(false)
    }

    /// Waits until every event appended so far is written and synced to
    /// disk.
    ///
    /// # Errors
    ///
    /// The first write or sync error so far, as for [`Journal::append`].
    pub fn sync(&self) -> Result<(), JournalError> {
        self.barrier(true)
    }

    /// Writes and syncs every queued event, then stops the writer thread.
    /// Dropping the journal does the same but cannot report an error.
    ///
    /// # Errors
    ///
    /// The first write or sync error of the journal's life.
    pub fn close(mut self) -> Result<(), JournalError> {
        self.stop();
        self.failure.check(&self.path)
    }

    fn sequencer(&self) -> std::sync::MutexGuard<'_, Sequencer> {
        // The lock guards no invariant a panic could break halfway.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn queue(&self, message: impl FnOnce(u64) -> Message) -> Result<u64, JournalError> {
        let seq = {
            let mut sequencer = self.sequencer();
            let seq = sequencer.next_seq;
            let sent = sequencer
                .sender
                .as_ref()
                .is_some_and(|queue| queue.send(message(seq)).is_ok());
            if !sent {
                return Err(writer_gone(&self.path));
            }
            sequencer.next_seq += 1;
            seq
        };
        self.failure.check(&self.path)?;
        Ok(seq)
    }

    fn barrier(&self, sync: bool) -> Result<(), JournalError> {
        let (done, finished) = mpsc::channel();
        let sent = self
            .sequencer()
            .sender
            .as_ref()
            .is_some_and(|queue| queue.send(Message::Barrier { sync, done }).is_ok());
        if !sent || finished.recv().is_err() {
            return Err(writer_gone(&self.path));
        }
        self.failure.check(&self.path)
    }

    fn stop(&mut self) {
        // Closing the queue makes the writer write and sync what is left and end.
        drop(self.sequencer().sender.take());
        if let Some(writer) = self.writer.take() {
            // A writer that panicked has nothing more to write.
            let _ = writer.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.stop();
    }
}

fn writer_gone(path: &Path) -> JournalError {
    JournalError::Write {
        path: path.to_owned(),
        source: io::Error::other("the journal's writer thread has stopped"),
    }
}

/// The sending side of the writer's queue with the number of the next event.
#[derive(Debug)]
struct Sequencer {
    next_seq: u64,
    sender: Option<SyncSender<Message>>,
}

/// What the caller hands the writer thread.
enum Message {
    /// An event to write.
    Event { seq: u64, event: JournalEvent },
    /// An `item_completed` event whose result the writer serialises.
    Item {
        seq: u64,
        index: usize,
        result: Box<dyn Payload>,
    },
    /// Answer on `done` once everything before is written (and synced).
    Barrier { sync: bool, done: mpsc::Sender<()> },
}

/// A value the writer thread can serialise as JSON.
trait Payload: Send {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl<T: Serialize + Send> Payload for T {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// The first error the writer thread met, kept for the caller.
#[derive(Debug, Default)]
struct FirstFailure(Mutex<Option<(io::ErrorKind, String)>>);

impl FirstFailure {
    fn set(&self, error: &io::Error) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert_with(|| (error.kind(), error.to_string()));
    }

    fn check(&self, path: &Path) -> Result<(), JournalError> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            None => Ok(()),
            Some((kind, message)) => Err(JournalError::Write {
                path: path.to_owned(),
                source: io::Error::new(*kind, message.clone()),
            }),
        }
    }
}

/// What signs each line: the key, the run id and the last line's MAC.
struct Chain {
    key: JournalKey,
    run_id: String,
    previous: [u8; 32],
}

impl Chain {
    /// Replaces the closing `}` of the line in `line` (one JSON object,
    /// nothing after it) with its `mac` member and the brace, then a newline.
    fn sign(&mut self, line: &mut Vec<u8>, start: usize) {
        let mac = self
            .key
            .line_mac(&self.run_id, &self.previous, &line[start..]);
        line.pop();
        auth::push_mac(line, &mac);
        line.push(b'\n');
        self.previous = mac;
    }
}

/// The writer thread's side of a journal.
struct Writer {
    file: File,
    chain: Chain,
    failure: Arc<FirstFailure>,
    /// Lines serialised but not yet written.
    batch: Vec<u8>,
    /// Whether something was written since the last sync.
    unsynced: bool,
    last_sync: Option<Instant>,
}

impl Writer {
    fn run(mut self, inbox: &Receiver<Message>) {
        loop {
            let first = match self.sync_due() {
                // Nothing to sync: sleep until the next event.
                None => match inbox.recv() {
                    Ok(message) => message,
                    Err(_) => break,
                },
                Some(wait) => match inbox.recv_timeout(wait) {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) => {
                        self.sync();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            // Take every event already waiting, so they share one write.
            let mut waiting = Vec::new();
            let mut sync_now = false;
            let mut next = Some(first);
            while let Some(message) = next {
                match message {
                    Message::Event { seq, event } => self.encode_event(seq, event),
                    Message::Item { seq, index, result } => {
                        self.encode_item(seq, index, result.as_ref());
                    }
                    Message::Barrier { sync, done } => {
                        sync_now |= sync;
                        waiting.push(done);
                    }
                }
                next = if self.batch.len() < BATCH_BYTES {
                    inbox.try_recv().ok()
                } else {
                    None
                };
            }
            self.write();
            if sync_now || self.sync_due() == Some(Duration::ZERO) {
                self.sync();
            }
            for done in waiting {
                // The caller may have stopped waiting; nothing to do then.
                let _ = done.send(());
            }
        }
        self.write();
        self.sync();
    }

    /// `None` when nothing waits to be synced, otherwise how long until the
    /// sync is due (zero: now).
    fn sync_due(&self) -> Option<Duration> {
        if !self.unsynced {
            return None;
        }
        Some(self.last_sync.map_or(Duration::ZERO, |last| {
            GROUP_COMMIT_INTERVAL.saturating_sub(last.elapsed())
        }))
    }

    fn encode_event(&mut self, seq: u64, event: JournalEvent) {
        let record = JournalRecord {
            seq,
            at: now_rfc3339(),
            event,
        };
        let start = self.batch.len();
        match serde_json::to_writer(&mut self.batch, &record) {
            Ok(()) => self.chain.sign(&mut self.batch, start),
            Err(error) => {
                self.batch.truncate(start);
                self.failure.set(&error.into());
            }
        }
    }

    /// Writes the same line as [`Writer::encode_event`] would for
    /// `ItemCompleted { index, result }`, serialising `result` only once.
    fn encode_item(&mut self, seq: u64, index: usize, result: &dyn Payload) {
        let start = self.batch.len();
        // An RFC 3339 time needs no escaping inside a JSON string.
        let at = now_rfc3339();
        let encoded = write!(
            self.batch,
            "{{\"seq\":{seq},\"at\":\"{at}\",\"event\":{{\"type\":\"item_completed\",\"index\":{index},\"result\":"
        )
        .map_err(serde_json::Error::io)
        .and_then(|()| result.write_json(&mut self.batch));
        match encoded {
            Ok(()) => {
                self.batch.extend_from_slice(b"}}");
                self.chain.sign(&mut self.batch, start);
            }
            Err(error) => {
                self.batch.truncate(start);
                self.failure.set(&error.into());
            }
        }
    }

    fn write(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        if let Err(error) = self.file.write_all(&self.batch) {
            self.failure.set(&error);
        }
        self.batch.clear();
        if self.batch.capacity() > BATCH_BYTES {
            self.batch.shrink_to(BATCH_BYTES);
        }
        self.unsynced = true;
    }

    fn sync(&mut self) {
        if !self.unsynced {
            return;
        }
        if let Err(error) = self.file.sync_data() {
            self.failure.set(&error);
        }
        self.unsynced = false;
        self.last_sync = Some(Instant::now());
    }
}

/// Writes `value` as indented JSON to `path` through a temporary file in the
/// same folder and a rename, then syncs the folder so the rename is durable.
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> Result<(), JournalError> {
    write_json_hashed(path, value).map(drop)
}

/// [`write_json_atomic`], returning the SHA-256 of the bytes written (hex).
fn write_json_hashed(path: &Path, value: &impl Serialize) -> Result<String, JournalError> {
    let write_error = |source| JournalError::Write {
        path: path.to_owned(),
        source,
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp"));
    // Streamed: a large result is never held as one string.
    let written = File::create(&temp).and_then(|file| {
        let mut out = io::BufWriter::new(HashingWriter::new(file));
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.into_inner().map_err(io::IntoInnerError::into_error))
            .and_then(HashingWriter::finish)
            .and_then(|(file, sha256)| file.sync_all().map(|()| sha256))
    });
    let sha256 = match written {
        Ok(sha256) => sha256,
        Err(error) => {
            // Best effort: a leftover temporary file is only clutter.
            let _ = fs::remove_file(&temp);
            return Err(write_error(error));
        }
    };
    fs::rename(&temp, path).map_err(write_error)?;
    if let Some(parent) = path.parent() {
        // Best effort: not every platform can open a folder to sync it.
        if let Ok(folder) = File::open(parent) {
            let _ = folder.sync_all();
        }
    }
    Ok(sha256)
}

/// A writer that hashes (SHA-256) what passes through it: how a file of a
/// run folder (`plan.json`, `result.json`, or a caller's own, such as a
/// copy of its input) gets the hash a run records to know it later.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Hashes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Flushes, and hands back the inner writer with the SHA-256 (hex) of
    /// everything written.
    ///
    /// # Errors
    ///
    /// When the inner writer cannot be flushed.
    pub fn finish(mut self) -> io::Result<(W, String)> {
        self.inner.flush()?;
        Ok((self.inner, auth::hex(&self.hasher.finalize())))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
