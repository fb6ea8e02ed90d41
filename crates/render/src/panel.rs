//! Rounded panels: a titled box around wrapped text or rendered markdown.
//!
//! ```text
//! ╭──────── 🔀 Fork fork_095723_001 ────────╮
//! │ Forking to general agent                 │
//! │ Model: gemini-2.5-flash                  │
//! ╰──────────────────────────────────────────╯
//! ```

use crate::markdown::{CodeOverflow, render_lines};
use crate::text::{self, Sgr};
use crate::theme::{Accent, Theme};

/// Columns taken by the left and right borders with their padding (`│ `, ` │`).
const FRAME: usize = 4;

/// A rounded box as wide as the theme, with an optional centred title.
///
/// Every line of a rendered panel has the same display width
/// ([`Theme::width`]). Body lines are wrapped to fit inside; a line that
/// cannot be wrapped (verbatim code in a markdown body) is split over
/// several rows instead of breaking the border.
///
/// ```
/// use render::{Panel, Theme};
/// let panel = Panel::new("Model: gemini-2.5-flash")
///     .title("🔀 Fork fork_1")
///     .render(&Theme::plain(40));
/// assert_eq!(
///     panel,
///     "╭─────────── 🔀 Fork fork_1 ───────────╮\n\
///      │ Model: gemini-2.5-flash              │\n\
///      ╰──────────────────────────────────────╯"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    body: Body,
    title: Option<String>,
    accent: Option<Accent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    /// Plain text; may carry colour produced by this crate.
    Text(String),
    /// Markdown, rendered with [`crate::markdown()`].
    Markdown(String),
}

impl Panel {
    /// A panel around plain text. Newlines are kept, long lines are wrapped.
    /// Colour codes produced by this crate's other renderers are kept when
    /// colour is on and removed when it is off; every other control is
    /// dropped. The panel cannot tell those colours from colours in text
    /// someone else wrote: put such text (a model's, a file's) in the body
    /// only through [`crate::strip_controls`] or a renderer that cleans its
    /// input ([`crate::key_value`], [`crate::status_line`]).
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: Body::Text(body.into()),
            title: None,
            accent: None,
        }
    }

    /// A panel around markdown (a model's answer, for instance).
    pub fn markdown(markdown: impl Into<String>) -> Self {
        Self {
            body: Body::Markdown(markdown.into()),
            title: None,
            accent: None,
        }
    }

    /// Sets the title shown centred in the top border (cut with `…` when it
    /// does not fit).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Colours the border (only when colour is on).
    #[must_use]
    pub fn accent(mut self, accent: Accent) -> Self {
        self.accent = Some(accent);
        self
    }

    /// Draws the panel, lines joined by `\n`, without a trailing newline.
    pub fn render(&self, theme: &Theme) -> String {
        let width = theme.width();
        let inner = width - FRAME;
        let body_lines = match &self.body {
            Body::Text(body) => {
                let sgr = if theme.color() { Sgr::Keep } else { Sgr::Strip };
                text::wrap(&text::sanitize_styled(body, sgr), inner)
            }
            Body::Markdown(markdown) => render_lines(markdown, inner, theme, CodeOverflow::Split),
        };
        let border = |text: &str| match self.accent {
            Some(accent) => theme.paint(text, accent.style()),
            None => text.to_owned(),
        };
        let mut out = self.top_border(width, theme, &border);
        let left = border("│");
        let rows = body_lines
            .iter()
            .flat_map(|line| {
                if text::display_width(line) > inner {
                    text::split_columns(line, inner)
                } else {
                    vec![line.clone()]
                }
            })
            .collect::<Vec<_>>();
        let rows = if rows.is_empty() {
            vec![String::new()]
        } else {
            rows
        };
        for row in rows {
            out.push('\n');
            out.push_str(&left);
            out.push(' ');
            out.push_str(&text::pad(&row, inner));
            out.push(' ');
            out.push_str(&left);
        }
        out.push('\n');
        out.push_str(&border(&format!("╰{}╯", "─".repeat(width - 2))));
        out
    }

    fn top_border(&self, width: usize, theme: &Theme, border: &dyn Fn(&str) -> String) -> String {
        let title = self
            .title
            .as_deref()
            .map(text::single_line)
            .filter(|title| !title.is_empty());
        let Some(title) = title else {
            return border(&format!("╭{}╮", "─".repeat(width - 2)));
        };
        // Corners, one space each side of the title and at least one dash each side.
        let title = text::truncate(&title, width - 6);
        let dashes = width - 4 - text::display_width(&title);
        let left = dashes / 2;
        let right = dashes - left;
        format!(
            "{} {} {}",
            border(&format!("╭{}", "─".repeat(left))),
            theme.bold(&title),
            border(&format!("{}╮", "─".repeat(right))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::display_width;

    fn assert_rectangular(panel: &str, width: usize) {
        for line in panel.lines() {
            assert_eq!(display_width(line), width, "line {line:?}");
        }
    }

    #[test]
    fn wraps_body_and_keeps_borders_aligned() {
        let theme = Theme::plain(40);
        let body = "A long line of text that must wrap inside the panel borders nicely.\n\nSecond.";
        let panel = Panel::new(body)
            .title("🐝 Swarm swarm_103008")
            .render(&theme);
        assert_rectangular(&panel, 40);
        assert_eq!(panel.lines().count(), 6);
    }

    #[test]
    fn long_titles_are_cut() {
        let theme = Theme::plain(40);
        let panel = Panel::new("x").title("t".repeat(100)).render(&theme);
        assert_rectangular(&panel, 40);
        assert!(panel.lines().next().is_some_and(|top| top.contains('…')));
    }

    #[test]
    fn empty_body_gives_one_row() {
        let panel = Panel::new("").render(&Theme::plain(40));
        assert_eq!(panel.lines().count(), 3);
    }

    #[test]
    fn colour_only_when_enabled() {
        let colored_body = Theme::new(true, 40).bold("Model");
        let panel = Panel::new(format!("{colored_body}: x"))
            .title("T")
            .accent(Accent::Cyan);
        let plain = panel.render(&Theme::plain(40));
        assert!(!plain.contains('\u{1b}'));
        assert!(plain.contains("│ Model: x"));
        let colored = panel.render(&Theme::new(true, 40));
        assert!(colored.contains('\u{1b}'));
        assert_rectangular(&colored, 40);
    }

    #[test]
    fn hostile_body_cannot_move_the_cursor() {
        let panel = Panel::new("\u{1b}[2J\u{1b}[1;1Hgotcha\u{7}").render(&Theme::new(true, 40));
        assert!(!panel.contains("\u{1b}[2J"));
        assert!(!panel.contains("\u{1b}[1;1H"));
        assert_rectangular(&panel, 40);
    }
}
