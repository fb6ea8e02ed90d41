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

/// How much is said besides the result (`-q`, `-v`, `-vv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    /// `-q`: the answer only on stdout; stderr only for warnings and errors.
    Quiet,
    /// The default: results on stdout, headings and progress beside them.
    Normal,
    /// `-v`: also one line per request to Gemini (stderr).
    Requests,
    /// `-vv`: also an HTTP debug log (stderr, the key redacted).
    Debug,
}

impl Verbosity {
    /// From the counts of `-q` and `-v`.
    pub(crate) fn from_flags(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Self::Quiet,
            (false, 0) => Self::Normal,
            (false, 1) => Self::Requests,
            (false, _) => Self::Debug,
        }
    }
}

/// Where and how the command writes.
///
/// The stream rule: stdout holds the result (exactly the JSON document
/// under `--json`, JSON lines under `--jsonl`, the answer and results for
/// people otherwise); headings, progress, retries, notices, warnings and
/// errors go to stderr, except that a live display on a terminal draws its
/// headings and board on stdout (the terminal) as it goes.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    format: Format,
    theme: Theme,
    terminal: bool,
    verbosity: Verbosity,
    /// Set once a top-level document went to stdout (shared by clones).
    document_written: Arc<AtomicBool>,
    /// Tests: what would go to stdout and stderr, in one buffer as a
    /// terminal shows both ([`Output::captured`]).
    #[cfg(test)]
    captured: Option<Arc<std::sync::Mutex<Vec<u8>>>>,
}

impl Output {
    pub(crate) fn new(format: Format, theme: Theme, terminal: bool) -> Self {
        Self {
            format,
            theme,
            terminal,
            verbosity: Verbosity::Normal,
            document_written: Arc::new(AtomicBool::new(false)),
            #[cfg(test)]
            captured: None,
        }
    }

    /// Tests: an output whose lines and raw text (stdout and stderr alike)
    /// go to the returned buffer instead of the process's streams.
    #[cfg(test)]
    pub(crate) fn captured(
        format: Format,
        theme: Theme,
        terminal: bool,
    ) -> (Self, Arc<std::sync::Mutex<Vec<u8>>>) {
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut output = Self::new(format, theme, terminal);
        output.captured = Some(buffer.clone());
        (output, buffer)
    }

    /// Writes `bytes` to stderr (`to_stderr`) or stdout, flushed. A closed
    /// pipe is not an error.
    fn emit(&self, to_stderr: bool, bytes: &[u8]) {
        #[cfg(test)]
        if let Some(buffer) = &self.captured {
            buffer
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .extend_from_slice(bytes);
            return;
        }
        if to_stderr {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(bytes).and_then(|()| stderr.flush());
        } else {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
        }
    }

    /// The same output with `verbosity`.
    pub(crate) fn with_verbosity(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
        self
    }

    /// How much is said besides the result.
    pub(crate) fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// True for `-q`: stdout holds only the answer.
    pub(crate) fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// A heading for people (a panel that opens a run): on the terminal
    /// when stdout is one, else on stderr; nothing under `--json`,
    /// `--jsonl` or `-q`.
    pub(crate) fn heading(&self, text: &str) {
        if self.json() || self.quiet() {
            return;
        }
        if self.terminal {
            self.line(text);
        } else {
            self.error_line(text);
        }
    }

    /// A notice (what agent-fork is doing, e.g. replaying a bundled
    /// session): always on stderr, nothing under `-q`.
    pub(crate) fn notice(&self, text: &str) {
        if !self.quiet() {
            self.error_line(text);
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
        self.terminal && self.format == Format::Human && !self.quiet()
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
            // The last line of --jsonl is an event too: `result`.
            Format::Jsonl => write_json(
                &mut out,
                &ResultLine {
                    event: "result",
                    ts: timestamp(),
                    result: &value,
                },
                CompactFormatter,
            ),
            _ => write_json(&mut out, &value, PrettyFormatter::new()),
        };
        match written {
            Err(error) if !error.is_io() => return Err(error.into()),
            _ => {}
        }
        let _ = out.write_all(b"\n").and_then(|()| out.flush());
        Ok(())
    }

    /// Writes one `--jsonl` event line to stdout, escaped like
    /// [`Output::json_value`]. Every line gets `ts` (RFC 3339, UTC, ms) and
    /// `run_id` (the run being recorded, or null) after its `event`.
    pub(crate) fn json_line(&self, value: &impl Serialize) {
        let value = EventEnvelope {
            line: value,
            ts: timestamp(),
            run_id: current_run(),
        };
        let value = &value;
        let mut line = Vec::with_capacity(256);
        if write_json(&mut line, value, CompactFormatter).is_ok() {
            line.push(b'\n');
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&line).and_then(|()| stdout.flush());
        }
    }

    /// Writes text and a newline to stdout. A closed pipe is not an error.
    pub(crate) fn line(&self, text: &str) {
        self.emit(false, format!("{text}\n").as_bytes());
    }

    /// Writes text to stdout as is, and flushes (live streaming).
    pub(crate) fn raw(&self, text: &str) {
        self.emit(false, text.as_bytes());
    }

    /// Writes one line to stderr (errors and notices).
    pub(crate) fn error_line(&self, text: &str) {
        self.emit(true, format!("{text}\n").as_bytes());
    }
}

/// Whether a person can be asked a question: stdin and stderr are both a
/// terminal (the question goes to stderr, the answer comes from stdin).
pub(crate) fn can_ask() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The run whose events `--jsonl` is writing (set when a run is opened).
static CURRENT_RUN: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Names the run that `--jsonl` lines belong to from now on.
pub(crate) fn set_current_run(id: &str) {
    if let Ok(mut current) = CURRENT_RUN.lock() {
        *current = Some(id.to_owned());
    }
}

fn current_run() -> Option<String> {
    CURRENT_RUN.lock().ok().and_then(|current| current.clone())
}

/// Now, RFC 3339 in UTC with milliseconds (the `ts` of `--jsonl` lines).
fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A `--jsonl` event line with its time and run (the line's own `event`
/// key comes first).
#[derive(Serialize)]
struct EventEnvelope<'a, T: Serialize> {
    #[serde(flatten)]
    line: &'a T,
    ts: String,
    run_id: Option<String>,
}

/// The last `--jsonl` line: `{"event":"result","ts":...,` then the
/// result's own fields (which carry `run_id` where a run was opened).
#[derive(Serialize)]
struct ResultLine<'a, T: Serialize> {
    event: &'static str,
    ts: String,
    #[serde(flatten)]
    result: &'a T,
}

/// Writes bytes to stdout as they are (a completion script, the manual
/// page). A closed pipe is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
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
