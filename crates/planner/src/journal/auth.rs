//! What makes a run folder trustworthy: the per-user key that signs every
//! journal line, opening run files without following links or blocking on
//! FIFOs, and the lock that keeps one process on a run at a time.
//!
//! # The MAC chain
//!
//! Every journal line ends in `"mac":"<64 hex digits>"`: HMAC-SHA256, under
//! the user's [`JournalKey`], of
//!
//! ```text
//! "agent-fork journal v1\n" ‖ run id ‖ "\n" ‖ MAC of the previous line (32 zero bytes for the first) ‖ line
//! ```
//!
//! where `line` is the line's JSON object without its `mac` member (the
//! exact bytes written, so nothing is re-serialised to check it). Chaining
//! the previous MAC means lines cannot be dropped from the middle, reordered
//! or repeated; the run id means they cannot be spliced in from another run.
//! Whoever lacks the key (a model writing files, another user) cannot write
//! a line that verifies.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

use super::JournalError;

type HmacSha256 = Hmac<Sha256>;

/// The secret key that signs a user's journals: 32 random bytes, kept by
/// the caller somewhere only that user can read (never in a run folder or a
/// workspace). The planner never chooses where.
#[derive(Clone, PartialEq, Eq)]
pub struct JournalKey([u8; 32]);

impl JournalKey {
    /// The key made of these bytes (use 32 random bytes).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's bytes, e.g. to store it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The MAC of one journal line (see the module docs).
    pub(crate) fn line_mac(&self, run_id: &str, previous: &[u8; 32], line: &[u8]) -> [u8; 32] {
        self.prepared(run_id, previous, line)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `mac` is the MAC of `line`, compared in constant time.
    pub(crate) fn verify_line(
        &self,
        run_id: &str,
        previous: &[u8; 32],
        line: &[u8],
        mac: &[u8; 32],
    ) -> bool {
        self.prepared(run_id, previous, line)
            .verify_slice(mac)
            .is_ok()
    }

    fn prepared(&self, run_id: &str, previous: &[u8; 32], line: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"agent-fork journal v1\n");
        mac.update(run_id.as_bytes());
        mac.update(b"\n");
        mac.update(previous);
        mac.update(line);
        mac
    }
}

impl std::fmt::Debug for JournalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JournalKey([redacted])")
    }
}

/// The MAC of a line before the first.
pub(crate) const CHAIN_START: [u8; 32] = [0; 32];

/// What ends every journal line: `,"mac":"` + 64 hex digits + `"}`.
const MAC_PREFIX: &[u8] = b",\"mac\":\"";
/// Length of the `mac` member and the closing brace at the end of a line.
pub(crate) const MAC_SUFFIX_LEN: usize = MAC_PREFIX.len() + 64 + 2;

/// Appends `,"mac":"<hex>"}` to a line whose closing `}` was just removed.
pub(crate) fn push_mac(out: &mut Vec<u8>, mac: &[u8; 32]) {
    out.extend_from_slice(MAC_PREFIX);
    out.extend_from_slice(hex(mac).as_bytes());
    out.extend_from_slice(b"\"}");
}

/// Splits a journal line into the object it signs (its `mac` member removed,
/// its closing brace kept) and the MAC; `None` when it carries no MAC.
pub(crate) fn split_mac(line: &[u8]) -> Option<(Vec<u8>, [u8; 32])> {
    let start = line.len().checked_sub(MAC_SUFFIX_LEN)?;
    let (body, suffix) = line.split_at(start);
    let digits = suffix.strip_prefix(MAC_PREFIX)?.strip_suffix(b"\"}")?;
    let mac = unhex(digits)?;
    let mut signed = body.to_vec();
    signed.push(b'}');
    Some((signed, mac))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn unhex(digits: &[u8]) -> Option<[u8; 32]> {
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (slot, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// SHA-256 of `bytes`, as hex (for files the journal vouches for).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Opens `path` for reading only if it is a regular file: a symbolic link
/// is not followed and a FIFO or device does not block the open (and is
/// refused once opened).
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    no_follow(&mut options);
    let file = options.open(path)?;
    ensure_regular(&file)?;
    Ok(file)
}

/// Opens a run file for appending, as [`open_regular`] checks it.
pub(crate) fn open_regular_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true);
    no_follow(&mut options);
    let file = options.open(path)?;
    ensure_regular(&file)?;
    Ok(file)
}

fn ensure_regular(file: &File) -> io::Result<()> {
    if file.metadata()?.is_file() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device or folder is never a run file)",
        ))
    }
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt as _;
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
}

#[cfg(not(unix))]
fn no_follow(_options: &mut OpenOptions) {}

/// The name of the lock file in a run folder.
const LOCK_FILE: &str = ".lock";

/// An exclusive claim on a run folder, held while one process writes or
/// resumes the run.
///
/// It is an operating-system advisory lock (`flock(LOCK_EX | LOCK_NB)` on
/// Unix, through `nix`) on the run's `.lock` file, taken without waiting: a
/// second process that tries gets [`JournalError::Locked`] at once. The
/// lock belongs to the open file, so it ends when the process does, however
/// it ends; a `.lock` file left by a crash does not block anyone. (Elsewhere
/// than Unix no lock is taken.)
#[derive(Debug)]
pub struct RunLock {
    dir: PathBuf,
    _held: Held,
}

#[cfg(unix)]
type Held = nix::fcntl::Flock<File>;
#[cfg(not(unix))]
type Held = File;

impl RunLock {
    /// Takes the lock of the run in `run_dir`, or fails at once when another
    /// process holds it.
    pub fn acquire(run_dir: &Path) -> Result<Self, JournalError> {
        let path = run_dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        no_follow(&mut options);
        let file = options
            .open(&path)
            .and_then(|file| ensure_regular(&file).map(|()| file))
            .map_err(|source| JournalError::Read {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            dir: run_dir.to_owned(),
            _held: hold(file, run_dir, &path)?,
        })
    }

    /// The run folder this lock holds.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(unix)]
fn hold(file: File, run_dir: &Path, path: &Path) -> Result<Held, JournalError> {
    use nix::errno::Errno;
    use nix::fcntl::{Flock, FlockArg};
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(held) => Ok(held),
        Err((_, Errno::EWOULDBLOCK)) => Err(JournalError::Locked {
            path: run_dir.to_owned(),
        }),
        Err((_, errno)) => Err(JournalError::Read {
            path: path.to_owned(),
            source: errno.into(),
        }),
    }
}

#[cfg(not(unix))]
fn hold(file: File, _run_dir: &Path, _path: &Path) -> Result<Held, JournalError> {
    Ok(file)
}
