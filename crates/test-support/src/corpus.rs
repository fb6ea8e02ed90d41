//! Where the recorded Gemini wire corpus is, for the suites that read it.
//!
//! The corpus stays in `../shared/fixtures/gemini-wire` beside the
//! workspace and is never copied into the repository; `GEMINI_WIRE_CORPUS`
//! points elsewhere. A suite that needs it skips (saying so once) when the
//! folder is missing, unless `CI=true`, where a missing corpus fails it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The variable that overrides the corpus location.
pub const CORPUS_VAR: &str = "GEMINI_WIRE_CORPUS";

/// The corpus folder: `GEMINI_WIRE_CORPUS`, else
/// `../shared/fixtures/gemini-wire` beside the workspace.
pub fn location() -> PathBuf {
    match std::env::var_os(CORPUS_VAR) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/gemini-wire"),
    }
}

/// The corpus folder (canonical), or `None` after saying on stderr that
/// `suite` skips.
///
/// # Panics
/// When the folder is missing and `CI=true`.
pub fn root_or_skip(suite: &str) -> Option<PathBuf> {
    let root = location();
    if root.is_dir() {
        return Some(std::fs::canonicalize(&root).unwrap_or(root));
    }
    let missing = format!("corpus not found at {} (set {CORPUS_VAR})", root.display());
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{suite}: {missing}; with CI=true the corpus is required"
    );
    // Said once per test binary, past the harness's capture so it is seen.
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{suite}: skipped: {missing}");
    });
    None
}
