//! All terminal output goes through [`Output`], so panels, `--json` and
//! colour settings cannot drift apart. Nothing else in the binary prints.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// Where and how the command writes.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    json: bool,
    #[expect(dead_code, reason = "used once render draws panels")]
    color: bool,
    #[expect(dead_code, reason = "used once render draws panels")]
    width: usize,
}

impl Output {
    pub(crate) fn new(json: bool, color: bool, width: usize) -> Self {
        Self { json, color, width }
    }

    /// True when `--json` was given.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// Writes one JSON document to stdout.
    pub(crate) fn json_value(&self, value: &impl Serialize) -> Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        self.line(&text);
        Ok(())
    }

    /// Writes text and a newline to stdout. A closed pipe is not an error.
    pub(crate) fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// Writes one line to stderr (errors and notices).
    pub(crate) fn error_line(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }

    pub(crate) fn heading(&self, text: &str) -> String {
        text.to_owned()
    }

    pub(crate) fn key_value(&self, key: &str, value: &str) -> String {
        format!("{key}: {value}")
    }

    pub(crate) fn panel(&self, title: &str, body: &str) -> String {
        format!("── {title} ──\n{body}")
    }
}
