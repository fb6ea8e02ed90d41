//! Markdown for the terminal, read with pulldown-cmark.
//!
//! Layout rules:
//! - paragraphs are wrapped to the width by display width;
//! - `#` and `##` headings are centred and underlined with `═` / `─`;
//!   deeper headings are bold, or keep their `###` when colour is off;
//! - bullets are `•`, numbered items `1.`; nested lists indent by three;
//! - fenced and indented code is kept verbatim behind a `│` bar, with the
//!   language above it; code lines are never wrapped or reflowed, so a line
//!   longer than the width overflows it ([`markdown()`]) or, inside a
//!   [`crate::Panel`], continues on the next row behind the same bar;
//! - inline code keeps its backticks when colour is off; bold, italics and
//!   links are ANSI styles when colour is on and plain text when off;
//! - a link whose text differs from its address reads `text (address)`;
//! - block quotes get a `▌` bar, rules span the width, tables go through
//!   comfy-table.
//!
//! Every other line fits the width. Tabs in code become spaces (stops every
//! four columns) and control characters become `�`, so model output can
//! neither break the layout nor move the cursor.

mod inline;
mod layout;
mod table;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use self::inline::{Inline, SpanStyle, paint_spans};
use self::layout::{ContainerKind, Layout};
use self::table::TableBuilder;
use crate::text::{self, display_width};
use crate::theme::{Accent, Theme};

/// Narrowest width [`markdown()`] lays out; smaller widths are raised to it.
pub const MIN_MARKDOWN_WIDTH: usize = 20;
/// Margin and bar in front of each code line.
const CODE_MARGIN: &str = "  ";
const CODE_BAR: &str = "│ ";

/// Renders markdown for a terminal `width` columns wide (at least
/// [`MIN_MARKDOWN_WIDTH`]). Lines are joined by `\n`, no trailing newline.
///
/// No line is wider than `width` except verbatim code lines, which are kept
/// whole. Never panics, whatever the input.
///
/// ```
/// use render::{markdown, Theme};
/// let text = markdown("# Title\n\nSome *text* and `code`.\n\n- one\n- two", 30, &Theme::plain(80));
/// assert_eq!(
///     text,
///     "            Title\n            ═════\n\nSome text and `code`.\n\n • one\n • two"
/// );
/// ```
pub fn markdown(markdown: &str, width: usize, theme: &Theme) -> String {
    render_lines(markdown, width, theme, CodeOverflow::Keep).join("\n")
}

/// What to do with a code line wider than the space left for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeOverflow {
    /// Keep it whole; it overflows the width.
    Keep,
    /// Continue it on the next row, behind the same bar.
    Split,
}

/// Renders markdown into lines (see [`markdown()`]).
pub(crate) fn render_lines(
    markdown: &str,
    width: usize,
    theme: &Theme,
    overflow: CodeOverflow,
) -> Vec<String> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // Cleaned before parsing: the parser splits text at `[` and `]`, which
    // would cut an escape sequence in two pieces that each look harmless.
    let markdown = text::strip_controls(&markdown.replace('\r', ""));
    let events: Vec<Event<'_>> = Parser::new_ext(&markdown, options).collect();
    let mut renderer = Renderer {
        theme,
        layout: Layout::new(width.max(MIN_MARKDOWN_WIDTH)),
        overflow,
        lists: Vec::new(),
        inline: Inline::default(),
        style: SpanStyle::default(),
        links: Vec::new(),
        pending_gap: false,
        code: None,
        table: None,
    };
    for (index, event) in events.iter().enumerate() {
        renderer.event(event, &events[index + 1..]);
    }
    renderer.flush_inline();
    renderer.layout.into_lines()
}

/// A list being read.
#[derive(Debug)]
struct ListState {
    /// Next number for an ordered list.
    next: Option<u64>,
    /// Digits of the largest number, so markers line up.
    digits: usize,
    /// A loose list has blank lines between its items.
    loose: bool,
}

/// A code block being read.
#[derive(Debug)]
struct CodeBlock {
    language: String,
    text: String,
}

struct Renderer<'t> {
    theme: &'t Theme,
    layout: Layout,
    overflow: CodeOverflow,
    lists: Vec<ListState>,
    inline: Inline,
    style: SpanStyle,
    /// Open links: address and the index of their first span.
    links: Vec<(String, usize)>,
    pending_gap: bool,
    code: Option<CodeBlock>,
    table: Option<TableBuilder>,
}

impl Renderer<'_> {
    fn event(&mut self, event: &Event<'_>, after: &[Event<'_>]) {
        match event {
            Event::Start(tag) => self.start(tag, after),
            Event::End(tag) => self.end(*tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.text.push_str(text),
                None => self.inline.push(text::sanitize(text), self.style),
            },
            Event::Code(code) => {
                let style = SpanStyle {
                    code: true,
                    ..self.style
                };
                self.inline.push(text::single_line(code), style);
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                self.inline.push(text::sanitize(html), self.style);
            }
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                self.inline.push(text::sanitize(math), self.style);
            }
            Event::FootnoteReference(name) => {
                self.inline
                    .push(format!("[^{}]", text::single_line(name)), self.style);
            }
            Event::SoftBreak => self.inline.push(" ", self.style),
            Event::HardBreak => self.inline.push("\n", SpanStyle::default()),
            Event::Rule => {
                self.start_block();
                let rule = "─".repeat(self.layout.content_width());
                let rule = self.theme.dim(&rule);
                self.layout.emit(rule);
                self.pending_gap = true;
            }
            Event::TaskListMarker(done) => {
                self.inline
                    .push(if *done { "[x] " } else { "[ ] " }, self.style);
            }
        }
    }

    fn start(&mut self, tag: &Tag<'_>, after: &[Event<'_>]) {
        match tag {
            Tag::Paragraph => {
                if self.layout.innermost() == Some(ContainerKind::Item)
                    && let Some(list) = self.lists.last_mut()
                {
                    list.loose = true;
                }
                self.start_block();
            }
            Tag::Heading { .. } | Tag::HtmlBlock => self.start_block(),
            Tag::BlockQuote(_) => {
                self.start_block();
                let bar = self.theme.paint("▌", Accent::Dim.style());
                let prefix = format!("{bar} ");
                self.layout
                    .push(ContainerKind::Quote, prefix.clone(), prefix);
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or(""),
                    CodeBlockKind::Indented => "",
                };
                self.code = Some(CodeBlock {
                    language: text::single_line(language),
                    text: String::new(),
                });
            }
            Tag::List(start) => {
                self.start_block();
                let items = count_items(after) as u64;
                let digits = start.map_or(1, |first| {
                    first
                        .saturating_add(items.saturating_sub(1))
                        .to_string()
                        .len()
                });
                self.lists.push(ListState {
                    next: *start,
                    digits,
                    loose: false,
                });
            }
            Tag::Item => self.start_item(),
            Tag::Table(alignments) => {
                self.start_block();
                self.table = Some(TableBuilder::new(alignments.clone()));
            }
            Tag::TableHead | Tag::TableRow | Tag::TableCell => {
                self.inline.take();
            }
            Tag::Emphasis => self.style.emphasis = true,
            Tag::Strong => self.style.strong = true,
            Tag::Strikethrough => {
                self.style.strike = true;
                if !self.theme.color() {
                    self.inline.push("~~", SpanStyle::default());
                }
            }
            Tag::Link { dest_url, .. } => {
                self.links
                    .push((text::single_line(dest_url), self.inline.len()));
                self.style.link = true;
            }
            Tag::Image { dest_url, .. } => {
                self.links
                    .push((text::single_line(dest_url), self.inline.len()));
                self.inline.push("[image: ", self.style);
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock => {
                self.flush_inline();
                self.pending_gap = true;
            }
            TagEnd::Heading(level) => {
                self.heading(level);
                self.pending_gap = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush_inline();
                self.layout.pop();
                self.pending_gap = true;
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.code_block(&code);
                }
                self.pending_gap = true;
            }
            TagEnd::List(_) => {
                self.flush_inline();
                self.lists.pop();
                self.pending_gap = true;
            }
            TagEnd::Item => {
                self.flush_inline();
                if self.layout.first_line_pending() {
                    self.layout.emit(String::new());
                }
                self.layout.pop();
            }
            TagEnd::TableCell => {
                let cell = paint_spans(
                    &self.inline.take(),
                    &self.theme.with_color(false),
                    SpanStyle::default(),
                );
                if let Some(table) = &mut self.table {
                    table.cell(cell.trim().replace('\n', " "));
                }
            }
            TagEnd::TableHead => {
                if let Some(table) = &mut self.table {
                    table.end_header();
                }
            }
            TagEnd::TableRow => {
                if let Some(table) = &mut self.table {
                    table.end_row();
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    for line in table.render(self.layout.content_width(), self.theme) {
                        self.layout.emit(line);
                    }
                }
                self.pending_gap = true;
            }
            TagEnd::Emphasis => self.style.emphasis = false,
            TagEnd::Strong => self.style.strong = false,
            TagEnd::Strikethrough => {
                self.style.strike = false;
                if !self.theme.color() {
                    self.inline.push("~~", SpanStyle::default());
                }
            }
            TagEnd::Link => {
                self.style.link = false;
                self.close_link(false);
            }
            TagEnd::Image => self.close_link(true),
            _ => {}
        }
    }

    /// Appends ` (address)` after a link whose text is not its address.
    fn close_link(&mut self, image: bool) {
        let Some((url, start)) = self.links.pop() else {
            return;
        };
        if image {
            self.inline.push("]", self.style);
        }
        let label = self.inline.plain_from(start);
        let label = label.trim();
        let same = label == url || url.strip_prefix("mailto:") == Some(label);
        if !url.is_empty() && !same {
            let style = SpanStyle {
                dim: true,
                ..SpanStyle::default()
            };
            self.inline.push(format!(" ({url})"), style);
        }
    }

    fn start_item(&mut self) {
        let loose = self.lists.last().is_some_and(|list| list.loose);
        if loose && self.pending_gap {
            self.layout.emit_blank();
        }
        self.pending_gap = false;
        let marker = match self.lists.last_mut() {
            Some(ListState {
                next: Some(number),
                digits,
                ..
            }) => {
                let marker = format!(" {number:>width$}.", width = *digits);
                *number = number.saturating_add(1);
                marker
            }
            _ => " •".to_owned(),
        };
        let rest = " ".repeat(display_width(&marker) + 1);
        let first = format!("{} ", self.theme.paint(&marker, Accent::Cyan.style()));
        self.layout.push(ContainerKind::Item, first, rest);
    }

    /// Called before any block: writes pending inline text and the blank
    /// line that separates blocks.
    fn start_block(&mut self) {
        self.flush_inline();
        if self.pending_gap && !self.layout.is_empty() {
            self.layout.emit_blank();
        }
        self.pending_gap = false;
    }

    fn flush_inline(&mut self) {
        if self.inline.is_blank() {
            self.inline.take();
            return;
        }
        let spans = self.inline.take();
        let painted = paint_spans(&spans, self.theme, SpanStyle::default());
        for line in text::wrap(painted.trim_matches(' '), self.layout.content_width()) {
            self.layout.emit(line);
        }
    }

    fn heading(&mut self, level: HeadingLevel) {
        if self.inline.is_blank() {
            self.inline.take();
            return;
        }
        let spans = self.inline.take();
        let width = self.layout.content_width();
        let centred = matches!(level, HeadingLevel::H1 | HeadingLevel::H2);
        if centred {
            let base = SpanStyle::strong();
            let title = paint_spans(&spans, self.theme, base);
            let lines = text::wrap(title.trim(), width);
            let widest = lines
                .iter()
                .map(|line| display_width(line))
                .max()
                .unwrap_or(0);
            for line in lines {
                self.layout.emit(text::center(&line, width));
            }
            let rule = if level == HeadingLevel::H1 {
                "═"
            } else {
                "─"
            };
            let underline = self.theme.dim(&rule.repeat(widest));
            self.layout.emit(text::center(&underline, width));
            return;
        }
        let base = SpanStyle {
            underline: level == HeadingLevel::H3,
            ..SpanStyle::strong()
        };
        let mut title = paint_spans(&spans, self.theme, base);
        if !self.theme.color() {
            title = format!("{} {}", "#".repeat(level as usize), title.trim());
        }
        for line in text::wrap(title.trim(), width) {
            self.layout.emit(line);
        }
    }

    fn code_block(&mut self, code: &CodeBlock) {
        let bar = format!("{} ", self.theme.dim(CODE_BAR.trim_end()));
        let room = self
            .layout
            .content_width()
            .saturating_sub(display_width(CODE_MARGIN) + display_width(CODE_BAR));
        if !code.language.is_empty() {
            let label = text::truncate(
                &format!("╭─ {}", code.language),
                self.layout.content_width() - display_width(CODE_MARGIN),
            );
            self.layout
                .emit(format!("{CODE_MARGIN}{}", self.theme.dim(&label)));
        }
        let body = text::sanitize(code.text.strip_suffix('\n').unwrap_or(&code.text));
        for line in body.split('\n') {
            let pieces = match self.overflow {
                CodeOverflow::Split if display_width(line) > room => {
                    text::split_columns(line, room)
                }
                _ => vec![line.to_owned()],
            };
            for piece in pieces {
                let row = format!("{CODE_MARGIN}{bar}{piece}");
                self.layout.emit(row.trim_end().to_owned());
            }
        }
    }
}

/// Number of items in the list whose events follow.
fn count_items(after: &[Event<'_>]) -> usize {
    let mut depth = 0usize;
    let mut items = 0;
    for event in after {
        match event {
            Event::Start(Tag::Item) if depth == 0 => items += 1,
            Event::Start(Tag::List(_)) => depth += 1,
            Event::End(TagEnd::List(_)) => match depth.checked_sub(1) {
                Some(outer) => depth = outer,
                None => break,
            },
            _ => {}
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_cut_by_the_parser_are_dropped_whole() {
        let answer = "Here\u{1b}]52;c;cm0g\u{7} is\u{1b}[10;10H the\u{1b}[8m answer\n\n\tcode";
        let shown = markdown(answer, 60, &Theme::new(true, 60));
        for part in ["52;c", "10;10H", "[8m", "\u{7}"] {
            assert!(!shown.contains(part), "{part:?} in {shown:?}");
        }
        assert!(
            shown.contains("answer") && shown.contains("code"),
            "{shown:?}"
        );
    }
}
