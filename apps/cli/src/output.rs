//! All terminal output goes through [`Output`], so panels, `--json`,
//! `--jsonl` and colour settings cannot drift apart. Nothing else in the
//! binary prints.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use render::Theme;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

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
    /// Set once a top-level document went to stdout (shared by clones).
    document_written: Arc<AtomicBool>,
}

impl Output {
    pub(crate) fn new(format: Format, theme: Theme, terminal: bool) -> Self {
        Self {
            format,
            theme,
            terminal,
            document_written: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Under `--json`/`--jsonl`, writes the error document for a command
    /// that failed before it wrote its result document (the rule of
    /// `docs/json.md`: stdout holds exactly one document). Does nothing
    /// for people's output or when a result was already written.
    pub(crate) fn json_error(&self, error: &crate::json::CommandError) -> Result<()> {
        if !self.json() || self.document_written.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.json_value(&crate::json::ErrorDocument {
            error: error.clone(),
        })
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

    /// Writes one top-level JSON document to stdout (pretty for `--json`,
    /// one line for `--jsonl`), with its `schema_version` first
    /// ([`crate::json::Document`]). The document is streamed, never held
    /// whole; a closed pipe is not an error. Strings are escaped for
    /// terminals too ([`TerminalSafe`]).
    pub(crate) fn json_value(&self, value: &impl Serialize) -> Result<()> {
        let value = crate::json::Document::new(value);
        self.document_written.store(true, Ordering::SeqCst);
        let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
        let written = match self.format {
            Format::Jsonl => write_json(&mut out, &value, CompactFormatter),
            _ => write_json(&mut out, &value, PrettyFormatter::new()),
        };
        match written {
            Err(error) if !error.is_io() => return Err(error.into()),
            _ => {}
        }
        let _ = out.write_all(b"\n").and_then(|()| out.flush());
        Ok(())
    }

    /// Writes one `--jsonl` event line to stdout, escaped like [`Output::json_value`].
    pub(crate) fn json_line(&self, value: &impl Serialize) {
        let mut line = Vec::with_capacity(256);
        if write_json(&mut line, value, CompactFormatter).is_ok() {
            line.push(b'\n');
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&line).and_then(|()| stdout.flush());
        }
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

/// Whether a person can be asked a question: stdin and stderr are both a
/// terminal (the question goes to stderr, the answer comes from stdin).
pub(crate) fn can_ask() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Writes a line to stderr for the operator, where no [`Output`] is at hand
/// (a Ctrl-C handler, arguments that failed to parse).
pub(crate) fn eprint_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn write_json<W: Write>(
    out: W,
    value: &impl Serialize,
    formatter: impl Formatter,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, TerminalSafe(formatter));
    value.serialize(&mut serializer)
}

/// A JSON formatter that also writes the C1 controls (U+0080 to U+009F) and
/// the bidirectional overrides as `\uXXXX` escapes. serde_json escapes only
/// U+0000 to U+001F; a terminal reading UTF-8 may act on a raw U+009B (CSI)
/// or U+009D (OSC), so `--json` shown on a terminal could clear it or write
/// the clipboard. The escapes decode to the same strings: the data is
/// unchanged.
struct TerminalSafe<F>(F);

fn needs_escape(ch: char) -> bool {
    matches!(ch, '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

impl<F: Formatter> Formatter for TerminalSafe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, ch) in fragment.char_indices() {
            if needs_escape(ch) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", u32::from(ch))?;
                start = at + ch.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_c1_controls_and_keeps_the_data() {
        let value = serde_json::json!({"text": "a\u{9b}2J\u{9d}52;c;x\u{9c}b\u{1b}[8m\u{202e}é🔀", "n": [1, 2]});
        for formatter in [true, false] {
            let mut out = Vec::new();
            if formatter {
                write_json(&mut out, &value, PrettyFormatter::new()).unwrap();
            } else {
                write_json(&mut out, &value, CompactFormatter).unwrap();
            }
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.chars().any(|ch| ch.is_control() && ch != '\n'),
                "{text:?}"
            );
            assert!(text.contains("\\u009b") && text.contains("é🔀"), "{text}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
    }
}
