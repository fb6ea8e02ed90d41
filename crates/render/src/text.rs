//! Text measuring, cleaning and wrapping shared by every renderer.
//!
//! Widths are terminal columns, measured per character with unicode-width
//! (an emoji such as 🔀 takes two columns) and ignoring ANSI escape
//! sequences. Wrapping keeps colour intact: a styled run split over two lines
//! is closed at the end of the first and reopened at the start of the next,
//! so borders drawn around a line never inherit its colour.

use std::borrow::Cow;

use textwrap::{Options, WordSeparator, WordSplitter, WrapAlgorithm};

const ESC: char = '\u{1b}';
const TAB_STOP: usize = 4;

/// Columns `text` takes in a terminal, ignoring ANSI escape sequences.
///
/// ```
/// assert_eq!(render::display_width("🔀 Fork"), 7);
/// assert_eq!(render::display_width("\u{1b}[1mbold\u{1b}[0m"), 4);
/// ```
pub fn display_width(text: &str) -> usize {
    textwrap::core::display_width(text)
}

/// What to do with ANSI "select graphic rendition" sequences (colours) found
/// in input text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sgr {
    /// Keep `ESC [ … m` sequences (text coloured by this crate).
    Keep,
    /// Drop them (colour is off).
    Strip,
}

/// Makes untrusted text safe and measurable: tabs become spaces (stops every
/// four columns), carriage returns go, and every escape sequence or other
/// control character (see [`strip_controls`]) becomes one `�`, so no model
/// output can move the cursor. Newlines are kept.
pub(crate) fn sanitize(text: &str) -> String {
    clean(text, None)
}

/// Like [`sanitize`], but colour sequences are kept or stripped as asked.
/// Used for text that may already carry this crate's own colours.
pub(crate) fn sanitize_styled(text: &str, sgr: Sgr) -> String {
    clean(text, Some(sgr))
}

/// [`sanitize`] plus newlines turned into spaces, for one-line labels.
pub(crate) fn single_line(text: &str) -> String {
    sanitize(text.trim()).replace('\n', " ")
}

fn clean(text: &str, sgr: Option<Sgr>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut controls = ControlStripper::new();
    let mut column = 0;
    let mut rest = text;
    while let Some(ch) = rest.chars().next() {
        if ch == ESC
            && controls.is_idle()
            && let Some(sgr) = sgr
            && let Some(len) = sgr_len(rest)
        {
            if sgr == Sgr::Keep {
                out.push_str(&rest[..len]);
            }
            rest = &rest[len..];
            continue;
        }
        rest = &rest[ch.len_utf8()..];
        if controls.is_idle() {
            match ch {
                '\n' => {
                    out.push('\n');
                    column = 0;
                    continue;
                }
                '\t' => {
                    let spaces = TAB_STOP - column % TAB_STOP;
                    out.extend(std::iter::repeat_n(' ', spaces));
                    column += spaces;
                    continue;
                }
                '\r' => continue,
                _ => {}
            }
        }
        let before = out.len();
        controls.step(ch, &mut out);
        column += out[before..].chars().map(char_width).sum::<usize>();
    }
    out
}

/// Removes terminal control from text someone else wrote (a journal, a
/// file name, a model's reply) before it is printed or styled: every
/// escape sequence (CSI such as `ESC [ 2 J` or the colour `ESC [ 8 m`, OSC
/// such as the `ESC ] 52` clipboard write, DCS/APC/PM/SOS strings, and
/// their one-byte C1 forms) is dropped whole and replaced by one `�`, as is
/// every other control character and bidirectional override; newlines and
/// tabs are kept.
///
/// This is the one sanitizer of the crate: panels, markdown and the
/// one-line renderers clean their input with the same rules, and
/// [`ControlStripper`] applies them to text that arrives in pieces.
///
/// ```
/// assert_eq!(render::strip_controls("a\u{1b}]52;c;aGk=\u{7}b"), "a\u{fffd}b");
/// assert_eq!(render::strip_controls("x\u{1b}[2Jy\n"), "x\u{fffd}y\n");
/// ```
pub fn strip_controls(text: &str) -> String {
    ControlStripper::new().push(text)
}

/// [`strip_controls`], then newlines and tabs as spaces: for one line of a
/// listing.
pub fn strip_controls_line(text: &str) -> String {
    strip_controls(text).replace(['\n', '\t'], " ")
}

fn is_bidi_control(ch: char) -> bool {
    matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// [`strip_controls`] for text that arrives in pieces (a streamed answer):
/// an escape sequence split over two pieces is still dropped whole. The
/// state between pieces is a few bytes, whatever the input.
///
/// ```
/// let mut stripper = render::ControlStripper::new();
/// let mut shown = stripper.push("one \u{1b}]52;c;");
/// shown += &stripper.push("aGk=\u{7} two\n\u{1b}");
/// shown += &stripper.push("[8mthree");
/// assert_eq!(shown, "one \u{fffd} two\n\u{fffd}three");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ControlStripper {
    state: Scan,
}

/// Where the stripper is in the escape grammar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Scan {
    /// Plain text.
    #[default]
    Ground,
    /// After `ESC`.
    Escape,
    /// Inside a CSI (`ESC [` or `0x9b`), before its final byte.
    Csi,
    /// Inside an OSC, DCS, SOS, PM or APC string, before its terminator.
    Str,
    /// After `ESC` inside such a string (`ESC \\` ends it).
    StrEscape,
}

impl ControlStripper {
    /// A stripper at the start of a text.
    pub fn new() -> Self {
        Self::default()
    }

    /// The printable part of `piece`: what [`strip_controls`] would make of
    /// it, given everything pushed before. A sequence still open at the end
    /// of `piece` is held back (and dropped) until it ends.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::with_capacity(piece.len());
        for ch in piece.chars() {
            self.step(ch, &mut out);
        }
        out
    }

    /// True outside any escape sequence.
    fn is_idle(&self) -> bool {
        self.state == Scan::Ground
    }

    /// Feeds one character, writing what may be shown to `out`.
    fn step(&mut self, ch: char, out: &mut String) {
        match self.state {
            Scan::Ground => match ch {
                '\n' | '\t' => out.push(ch),
                ESC => self.begin(Scan::Escape, out),
                '\u{9b}' => self.begin(Scan::Csi, out),
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => self.begin(Scan::Str, out),
                ch if ch.is_control() || is_bidi_control(ch) => out.push(REPLACEMENT),
                ch => out.push(ch),
            },
            Scan::Escape => match ch {
                '[' => self.state = Scan::Csi,
                ']' | 'P' | 'X' | '^' | '_' => self.state = Scan::Str,
                // ESC and one more character (ESC c, ESC 7, ...).
                ch if !ch.is_control() => self.state = Scan::Ground,
                ch => self.restart(ch, out),
            },
            Scan::Csi => match ch {
                '\x40'..='\x7e' => self.state = Scan::Ground,
                '\x20'..='\x3f' => {}
                // A CSI cut short by anything else ends before it.
                ch => self.restart(ch, out),
            },
            Scan::Str => match ch {
                '\u{7}' | '\u{9c}' => self.state = Scan::Ground,
                ESC => self.state = Scan::StrEscape,
                _ => {}
            },
            Scan::StrEscape => match ch {
                '\\' => self.state = Scan::Ground,
                // The ESC starts a sequence of its own.
                ch => {
                    self.begin(Scan::Escape, out);
                    self.step(ch, out);
                }
            },
        }
    }

    /// A sequence starts: it shows as one `�`.
    fn begin(&mut self, state: Scan, out: &mut String) {
        out.push(REPLACEMENT);
        self.state = state;
    }

    /// The sequence ended before `ch`, which is read as plain text again.
    fn restart(&mut self, ch: char, out: &mut String) {
        self.state = Scan::Ground;
        self.step(ch, out);
    }
}

const REPLACEMENT: char = '\u{fffd}';

/// Byte length of the `ESC [ params m` sequence `text` starts with, if any.
fn sgr_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\u{1b}[")?;
    let end = body.find(|ch: char| !(ch.is_ascii_digit() || ch == ';'))?;
    (body[end..].starts_with('m')).then_some(2 + end + 1)
}

/// Byte length of the CSI sequence `text` starts with (`ESC [` … final
/// byte), if any. Only well-formed sequences count.
fn csi_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\u{1b}[")?;
    let end = body.find(|ch: char| ('\x40'..='\x7e').contains(&ch))?;
    Some(2 + end + 1)
}

fn char_width(ch: char) -> usize {
    unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0)
}

/// Wraps `text` to `width` columns at spaces (words longer than a line,
/// and runs of text without spaces, are broken), honouring `\n`. Colour runs are rebalanced per line.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_indented(text, width, "", "")
}

/// [`wrap`] with a prefix on the first line and another on later lines; the
/// prefixes count towards `width`.
pub(crate) fn wrap_indented(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let options = Options::new(width.max(1))
        .initial_indent(first)
        .subsequent_indent(rest)
        .wrap_algorithm(WrapAlgorithm::FirstFit)
        // Break only at spaces: Unicode rules would split URLs after `/`.
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(true);
    let lines = textwrap::wrap(text, options)
        .into_iter()
        .map(Cow::into_owned)
        .collect();
    carry_sgr(lines)
}

/// Makes every line self-contained: colour open at the end of a line is
/// closed there and reopened at the start of the next line.
pub(crate) fn carry_sgr(lines: Vec<String>) -> Vec<String> {
    if !lines.iter().any(|line| line.contains(ESC)) {
        return lines;
    }
    let mut active = String::new();
    lines
        .into_iter()
        .map(|line| {
            let mut out = String::with_capacity(active.len() + line.len() + 4);
            out.push_str(&active);
            out.push_str(&line);
            let mut rest = line.as_str();
            while let Some(at) = rest.find(ESC) {
                rest = &rest[at..];
                match sgr_len(rest) {
                    Some(len) => {
                        let seq = &rest[..len];
                        if seq == "\u{1b}[0m" || seq == "\u{1b}[m" {
                            active.clear();
                        } else {
                            active.push_str(seq);
                        }
                        rest = &rest[len..];
                    }
                    None => rest = &rest[ESC.len_utf8()..],
                }
            }
            if !active.is_empty() {
                out.push_str("\u{1b}[0m");
            }
            out
        })
        .collect()
}

/// Splits one line into pieces of at most `width` columns without looking
/// for word boundaries (verbatim text such as code). Colour is rebalanced.
pub(crate) fn split_columns(line: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut used = 0;
    let mut rest = line;
    while let Some(ch) = rest.chars().next() {
        if let Some(len) = csi_len(rest) {
            piece.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let ch_width = char_width(ch);
        if used + ch_width > width && used > 0 {
            pieces.push(std::mem::take(&mut piece));
            used = 0;
        }
        piece.push(ch);
        used += ch_width;
        rest = &rest[ch.len_utf8()..];
    }
    pieces.push(piece);
    carry_sgr(pieces)
}

/// `text` cut to at most `width` columns, ending in `…` when something was
/// cut. Escape sequences are kept whole and colour is closed after the cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    let mut rest = text;
    while let Some(ch) = rest.chars().next() {
        if let Some(len) = csi_len(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let ch_width = char_width(ch);
        if used + ch_width + 1 > width {
            break;
        }
        out.push(ch);
        used += ch_width;
        rest = &rest[ch.len_utf8()..];
    }
    out.push('…');
    if out.contains(ESC) {
        out.push_str("\u{1b}[0m");
    }
    out
}

/// `line` followed by spaces up to `width` columns.
pub(crate) fn pad(line: &str, width: usize) -> String {
    let missing = width.saturating_sub(display_width(line));
    let mut out = String::with_capacity(line.len() + missing);
    out.push_str(line);
    out.extend(std::iter::repeat_n(' ', missing));
    out
}

/// `line` preceded by enough spaces to centre it in `width` columns.
pub(crate) fn center(line: &str, width: usize) -> String {
    let left = width.saturating_sub(display_width(line)) / 2;
    let mut out = " ".repeat(left);
    out.push_str(line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_columns_not_bytes() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("🐝 Swarm"), 8);
        assert_eq!(display_width("日本"), 4);
        assert_eq!(display_width("\u{1b}[31mred\u{1b}[0m"), 3);
    }

    #[test]
    fn strip_controls_drops_whole_escape_sequences() {
        // OSC 52 (clipboard write) ended by BEL, and by ST.
        assert_eq!(
            strip_controls("a\u{1b}]52;c;ZWNobyBoaQ==\u{7}b"),
            "a\u{fffd}b"
        );
        assert_eq!(strip_controls("a\u{1b}]0;title\u{1b}\\b"), "a\u{fffd}b");
        // CSI, its C1 form, a DCS string, a two-byte escape.
        assert_eq!(
            strip_controls("\u{1b}[2J\u{1b}[1;31mred"),
            "\u{fffd}\u{fffd}red"
        );
        assert_eq!(strip_controls("\u{9b}2Jx"), "\u{fffd}x");
        assert_eq!(strip_controls("\u{1b}Pq#0;2;0\u{1b}\\ok"), "\u{fffd}ok");
        assert_eq!(strip_controls("\u{1b}cok"), "\u{fffd}ok");
        // An unterminated OSC swallows the rest; nothing reaches the terminal.
        assert_eq!(strip_controls("x\u{1b}]52;c;AAAA"), "x\u{fffd}");
        // Other controls and bidi overrides; newlines and tabs stay.
        assert_eq!(
            strip_controls("a\rb\u{7}c\u{202e}d\n\te"),
            "a\u{fffd}b\u{fffd}c\u{fffd}d\n\te"
        );
        assert_eq!(strip_controls_line("one\ntwo\tthree"), "one two three");
        assert!(!strip_controls("\u{1b}\u{1b}[\u{1b}]").contains('\u{1b}'));
    }

    #[test]
    fn a_sequence_split_between_pieces_is_dropped_whole() {
        let text = "a\u{1b}]52;c;cm0gLXJm\u{7}b\u{1b}[10;10Hc\u{1b}[8md\u{9b}2Je\u{1b}P1\u{1b}\\f\u{1b}\u{1b}]0;t\u{1b}\\g\n\th";
        let whole = strip_controls(text);
        assert_eq!(
            whole,
            "a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e\u{fffd}f\u{fffd}\u{fffd}g\n\th"
        );
        let cuts: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
        for &first in &cuts {
            for &second in cuts.iter().filter(|&&cut| cut >= first) {
                let mut stripper = ControlStripper::new();
                let mut shown = stripper.push(&text[..first]);
                shown += &stripper.push(&text[first..second]);
                shown += &stripper.push(&text[second..]);
                assert_eq!(shown, whole, "cut at {first} and {second}");
            }
        }
    }

    #[test]
    fn sanitize_neutralises_control_characters() {
        assert_eq!(sanitize("a\tb"), "a   b");
        assert_eq!(sanitize("ab\tc\r\n\td"), "ab  c\n    d");
        assert_eq!(sanitize("\u{1b}[2Jx"), "\u{fffd}x");
        assert_eq!(
            sanitize("a\u{1b}]52;c;aGk=\u{7}\tb"),
            "a\u{fffd}\tb".replace('\t', "  ")
        );
        assert_eq!(single_line(" a\nb "), "a b");
    }

    #[test]
    fn styled_sanitize_keeps_or_strips_colour_only() {
        let text = "\u{1b}[1mk\u{1b}[0m: v\u{1b}[2J";
        assert_eq!(
            sanitize_styled(text, Sgr::Keep),
            "\u{1b}[1mk\u{1b}[0m: v\u{fffd}"
        );
        assert_eq!(sanitize_styled(text, Sgr::Strip), "k: v\u{fffd}");
    }

    #[test]
    fn wrap_respects_width_and_newlines() {
        let lines = wrap("one two three four five six\nseven", 9);
        assert_eq!(lines, ["one two", "three", "four five", "six", "seven"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let lines = wrap_indented("alpha beta gamma", 8, "• ", "  ");
        assert_eq!(lines, ["• alpha", "  beta", "  gamma"]);
    }

    #[test]
    fn wrapped_colour_is_closed_and_reopened_per_line() {
        let text = "\u{1b}[1malpha beta\u{1b}[0m gamma";
        let lines = wrap(text, 6);
        assert_eq!(
            lines,
            ["\u{1b}[1malpha\u{1b}[0m", "\u{1b}[1mbeta\u{1b}[0m", "gamma"]
        );
    }

    #[test]
    fn split_columns_keeps_every_character() {
        assert_eq!(split_columns("abcdef", 4), ["abcd", "ef"]);
        assert_eq!(split_columns("🔀🔀🔀", 5), ["🔀🔀", "🔀"]);
        assert_eq!(split_columns("", 4), [""]);
    }

    #[test]
    fn truncate_adds_ellipsis_within_width() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("🔀🔀🔀", 4), "🔀…");
        assert_eq!(truncate("abc", 0), "");
        let colored = truncate("\u{1b}[1mhello world\u{1b}[0m", 6);
        assert_eq!(display_width(&colored), 6);
        assert!(colored.ends_with("\u{1b}[0m"));
    }

    #[test]
    fn pad_and_center() {
        assert_eq!(pad("🔀", 4), "🔀  ");
        assert_eq!(center("ab", 6), "  ab");
    }
}
