//! Test-only hooks (feature `test-hooks`): a callback run between a path's
//! check and its open, so tests can swap a checked file for a link
//! deterministically. Not part of the supported API.

use std::path::Path;
use std::sync::Mutex;

/// A callback given the canonical path about to be opened.
pub type Hook = Box<dyn Fn(&Path) + Send + Sync>;

static BEFORE_OPEN: Mutex<Option<Hook>> = Mutex::new(None);

/// Sets (or clears, with `None`) the callback run just before an existing
/// file is opened, after the sandbox checked its path.
pub fn set_before_open(hook: Option<Hook>) {
    *BEFORE_OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = hook;
}

/// Runs the callback, if any.
pub(crate) fn before_open(path: &Path) {
    if let Some(hook) = BEFORE_OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
    {
        hook(path);
    }
}
