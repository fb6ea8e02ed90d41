//! Inline markdown (emphasis, code, links) collected as styled spans and
//! turned into one string per block.
//!
//! Each span is painted on its own, so nested styles never leak: owo-colors
//! closes every styled run with a full reset, which would otherwise end an
//! outer style early.

use owo_colors::Style;

use crate::theme::Theme;

/// Styles active on a run of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpanStyle {
    pub(crate) strong: bool,
    pub(crate) emphasis: bool,
    pub(crate) strike: bool,
    pub(crate) code: bool,
    pub(crate) link: bool,
    pub(crate) dim: bool,
    pub(crate) underline: bool,
}

impl SpanStyle {
    /// A style with only bold set.
    pub(crate) fn strong() -> Self {
        Self {
            strong: true,
            ..Self::default()
        }
    }

    /// Every effect set in either style.
    fn union(self, other: Self) -> Self {
        Self {
            strong: self.strong || other.strong,
            emphasis: self.emphasis || other.emphasis,
            strike: self.strike || other.strike,
            code: self.code || other.code,
            link: self.link || other.link,
            dim: self.dim || other.dim,
            underline: self.underline || other.underline,
        }
    }

    fn owo(self) -> Style {
        let mut style = Style::new();
        if self.strong {
            style = style.bold();
        }
        if self.emphasis {
            style = style.italic();
        }
        if self.strike {
            style = style.strikethrough();
        }
        if self.link {
            style = style.blue().underline();
        }
        if self.code {
            style = style.cyan();
        }
        if self.dim {
            style = style.dimmed();
        }
        if self.underline {
            style = style.underline();
        }
        style
    }
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) text: String,
    pub(crate) style: SpanStyle,
}

/// The inline content of the block being read.
#[derive(Debug, Default)]
pub(crate) struct Inline {
    spans: Vec<Span>,
}

impl Inline {
    pub(crate) fn push(&mut self, text: impl Into<String>, style: SpanStyle) {
        let text = text.into();
        if !text.is_empty() {
            self.spans.push(Span { text, style });
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Plain text of the spans from `start` on (for comparing a link's text
    /// with its address).
    pub(crate) fn plain_from(&self, start: usize) -> String {
        self.spans
            .get(start..)
            .unwrap_or_default()
            .iter()
            .map(|span| span.text.as_str())
            .collect()
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.spans.iter().all(|span| span.text.trim().is_empty())
    }

    /// Takes the spans, leaving the buffer empty.
    pub(crate) fn take(&mut self) -> Vec<Span> {
        std::mem::take(&mut self.spans)
    }
}

/// Paints spans into one string, adding `base` (a heading's bold, say) to
/// every span. Without colour, inline code keeps its backticks so it stays
/// visible; other styles become plain text.
pub(crate) fn paint_spans(spans: &[Span], theme: &Theme, base: SpanStyle) -> String {
    let mut out = String::new();
    for span in spans {
        // A line break must never sit inside a styled run.
        if span.text == "\n" {
            out.push('\n');
            continue;
        }
        if span.style.code && !theme.color() {
            out.push('`');
            out.push_str(&span.text);
            out.push('`');
            continue;
        }
        out.push_str(&theme.paint(&span.text, span.style.union(base).owo()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, style: SpanStyle) -> Span {
        Span {
            text: text.to_owned(),
            style,
        }
    }

    #[test]
    fn code_keeps_backticks_without_colour() {
        let code = SpanStyle {
            code: true,
            ..SpanStyle::default()
        };
        let spans = [span("run ", SpanStyle::default()), span("cargo", code)];
        assert_eq!(
            paint_spans(&spans, &Theme::plain(80), SpanStyle::default()),
            "run `cargo`"
        );
        let colored = paint_spans(&spans, &Theme::new(true, 80), SpanStyle::default());
        assert!(colored.contains("\u{1b}[36mcargo\u{1b}[0m"));
    }

    #[test]
    fn nested_styles_are_painted_per_span() {
        let strong = SpanStyle {
            strong: true,
            ..SpanStyle::default()
        };
        let both = SpanStyle {
            emphasis: true,
            ..strong
        };
        let spans = [span("a", strong), span("b", both), span("c", strong)];
        let colored = paint_spans(&spans, &Theme::new(true, 80), SpanStyle::default());
        assert_eq!(
            colored,
            "\u{1b}[1ma\u{1b}[0m\u{1b}[1;3mb\u{1b}[0m\u{1b}[1mc\u{1b}[0m"
        );
    }
}
