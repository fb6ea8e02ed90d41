//! All terminal output goes through [`Output`], so panels, `--json`,
//! `--jsonl` and colour settings cannot drift apart. Nothing else in the
//! binary prints.

use std::io::Write;

use anyhow::Result;
use render::Theme;
use serde::Serialize;

/// What stdout carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Panels and lines for people.
    Human,
    /// One JSON object at the end.
    Json,
    /// One JSON object per event as it happens, then the result object.
    Jsonl,
}

/// Where and how the command writes.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    format: Format,
    theme: Theme,
    terminal: bool,
}

impl Output {
    pub(crate) fn new(format: Format, theme: Theme, terminal: bool) -> Self {
        Self {
            format,
            theme,
            terminal,
        }
    }

    /// True for `--json` and `--jsonl`: stdout is for machines.
    pub(crate) fn json(&self) -> bool {
        self.format != Format::Human
    }

    /// The output format.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// The theme (colour and width) for render.
    pub(crate) fn theme(&self) -> &Theme {
        &self.theme
    }

    /// True when a person watches stdout live: progress may update in place.
    pub(crate) fn live(&self) -> bool {
        self.terminal && self.format == Format::Human
    }

    /// Writes one JSON document to stdout (pretty for `--json`, one line for `--jsonl`).
    /// The document is streamed, never held whole; a closed pipe is not an
    /// error.
    pub(crate) fn json_value(&self, value: &impl Serialize) -> Result<()> {
        let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
        let written = match self.format {
            Format::Jsonl => serde_json::to_writer(&mut out, value),
            _ => serde_json::to_writer_pretty(&mut out, value),
        };
        match written {
            Err(error) if !error.is_io() => return Err(error.into()),
            _ => {}
        }
        let _ = out.write_all(b"\n").and_then(|()| out.flush());
        Ok(())
    }

    /// Writes text and a newline to stdout. A closed pipe is not an error.
    pub(crate) fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// Writes text to stdout as is, and flushes (live streaming).
    pub(crate) fn raw(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Writes one line to stderr (errors and notices).
    pub(crate) fn error_line(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }
}

/// Writes a line to stderr for the operator, where no [`Output`] is at hand
/// (a Ctrl-C handler, arguments that failed to parse).
pub(crate) fn eprint_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
