//! One-line renderers: status marks (`✓ done`), `Key: value` pairs, titled
//! rules and the token usage summary.

use std::time::Duration;

use crate::humanize;
use crate::text;
use crate::theme::{Accent, Theme};

/// The state of a unit of work (a step, a fork, a swarm task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting to start.
    Pending,
    /// Started and not finished.
    Running,
    /// Finished successfully.
    Ok,
    /// Finished with an error.
    Failed,
    /// Not run (a dependency failed, or it was not needed).
    Skipped,
    /// Stopped by the user or a deadline.
    Cancelled,
}

impl Status {
    /// The one-column mark drawn before the text: `○ ● ✓ ✗ ⊘ ⊗`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Pending => "○",
            Self::Running => "●",
            Self::Ok => "✓",
            Self::Failed => "✗",
            Self::Skipped => "⊘",
            Self::Cancelled => "⊗",
        }
    }

    /// True once the work will not change state again.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Ok | Self::Failed | Self::Skipped | Self::Cancelled
        )
    }

    pub(crate) fn accent(self) -> Accent {
        match self {
            Self::Pending => Accent::Dim,
            Self::Running => Accent::Cyan,
            Self::Ok => Accent::Green,
            Self::Failed => Accent::Red,
            Self::Skipped | Self::Cancelled => Accent::Yellow,
        }
    }

    /// The mark, coloured when colour is on.
    pub(crate) fn painted_symbol(self, theme: &Theme) -> String {
        theme.paint(self.symbol(), self.accent().style())
    }
}

/// `✓ text`, `✗ text`, `⊘ text`… with the mark coloured when colour is on.
///
/// ```
/// use render::{status_line, Status, Theme};
/// let theme = Theme::plain(80);
/// assert_eq!(status_line(Status::Ok, "Project Setup", &theme), "✓ Project Setup");
/// assert_eq!(status_line(Status::Failed, "Login", &theme), "✗ Login");
/// ```
pub fn status_line(status: Status, text: &str, theme: &Theme) -> String {
    format!(
        "{} {}",
        status.painted_symbol(theme),
        text::single_line(text)
    )
}

/// `Key: value`, the key in bold when colour is on.
///
/// ```
/// use render::{key_value, Theme};
/// assert_eq!(key_value("Model", "gemini-2.5-flash", &Theme::plain(80)), "Model: gemini-2.5-flash");
/// ```
pub fn key_value(key: &str, value: &str, theme: &Theme) -> String {
    let key = theme.bold(&format!("{}:", text::single_line(key)));
    format!("{key} {}", text::single_line(value))
}

/// A horizontal rule across the theme width with `title` centred in it,
/// or a bare rule when `title` is empty.
///
/// ```
/// use render::{rule, Theme};
/// let line = rule("Running: swarm", &Theme::plain(40));
/// assert_eq!(line, "──────────── Running: swarm ────────────");
/// ```
pub fn rule(title: &str, theme: &Theme) -> String {
    let width = theme.width();
    let title = text::truncate(&text::single_line(title), width - 4);
    if title.is_empty() {
        return theme.dim(&"─".repeat(width));
    }
    let dashes = width - 2 - text::display_width(&title);
    let left = dashes / 2;
    format!(
        "{} {} {}",
        theme.dim(&"─".repeat(left)),
        theme.bold(&title),
        theme.dim(&"─".repeat(dashes - left))
    )
}

/// Token counts, cost and wall time of a model call or a whole run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageLine {
    /// Prompt (input) tokens.
    pub prompt: u64,
    /// Output (candidate) tokens.
    pub output: u64,
    /// Thinking tokens.
    pub thinking: u64,
    /// Prompt tokens served from the cache.
    pub cached: u64,
    /// Tokens of tool-use prompts; left out of the line when zero.
    pub tool_use: u64,
    /// Total tokens as reported by the API.
    pub total: u64,
    /// What it cost, as the caller words it (`$0.0123`, `unknown`); left
    /// out of the line when `None`.
    pub cost: Option<String>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// `tokens: 1,234 prompt · 567 output · 2,492 thinking · 0 cached · 4,293 total · 3.2 s`.
///
/// Tool-use tokens appear (before the total) only when non-zero, the cost
/// (after the total, as `cost $0.0123`) only when given. When the
/// line is wider than the theme, it breaks between parts; later lines start
/// with `· ` under the first part. The time counts as its widest form when
/// deciding, so where a line breaks does not depend on how long work took.
///
/// ```
/// use std::time::Duration;
/// use render::{usage_line, Theme, UsageLine};
/// let usage = UsageLine { prompt: 1_234, output: 567, total: 1_801, elapsed: Duration::from_millis(850), ..UsageLine::default() };
/// assert_eq!(
///     usage_line(&usage, &Theme::plain(100)),
///     "tokens: 1,234 prompt · 567 output · 0 thinking · 0 cached · 1,801 total · 850 ms"
/// );
/// ```
pub fn usage_line(usage: &UsageLine, theme: &Theme) -> String {
    /// The widest time `humanize::duration` writes.
    const DURATION_WIDTH: usize = 11;
    const LEAD: &str = "tokens: ";
    let mut parts = vec![
        format!("{} prompt", humanize::count(usage.prompt)),
        format!("{} output", humanize::count(usage.output)),
        format!("{} thinking", humanize::count(usage.thinking)),
        format!("{} cached", humanize::count(usage.cached)),
    ];
    if usage.tool_use > 0 {
        parts.push(format!("{} tool use", humanize::count(usage.tool_use)));
    }
    parts.push(theme.bold(&format!("{} total", humanize::count(usage.total))));
    if let Some(cost) = &usage.cost {
        parts.push(format!("cost {}", crate::strip_controls_line(cost)));
    }
    parts.push(humanize::duration(usage.elapsed));
    let last = parts.len() - 1;

    let separator = theme.dim(" · ");
    let mut out = theme.dim(LEAD.trim_end());
    out.push(' ');
    let mut used = LEAD.len();
    for (index, part) in parts.iter().enumerate() {
        let mut part_width = text::display_width(part);
        // The time is counted at its widest ("59 min 59 s"), so where the
        // line breaks does not depend on how long the work took.
        if index == last {
            part_width = part_width.max(DURATION_WIDTH);
        }
        if index > 0 {
            // Each later part is preceded by " · " (three columns), or, on a
            // new line, by the indent and "· ".
            if used + 3 + part_width > theme.width() {
                out.push('\n');
                out.push_str(&" ".repeat(LEAD.len()));
                out.push_str(&theme.dim("· "));
                used = LEAD.len() + 2;
            } else {
                out.push_str(&separator);
                used += 3;
            }
        }
        out.push_str(part);
        used += part_width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_distinct_one_column_mark() {
        let all = [
            Status::Pending,
            Status::Running,
            Status::Ok,
            Status::Failed,
            Status::Skipped,
            Status::Cancelled,
        ];
        let mut marks: Vec<_> = all.iter().map(|s| s.symbol()).collect();
        assert!(marks.iter().all(|m| text::display_width(m) == 1));
        marks.sort_unstable();
        marks.dedup();
        assert_eq!(marks.len(), all.len());
        assert!(!Status::Running.is_finished());
        assert!(Status::Skipped.is_finished());
    }

    #[test]
    fn rule_fills_the_width() {
        for title in ["", "Running: basic_fork", &"x".repeat(300)] {
            let line = rule(title, &Theme::plain(60));
            assert_eq!(text::display_width(&line), 60, "{line}");
        }
    }

    #[test]
    fn usage_line_shows_tool_use_only_when_used() {
        let mut usage = UsageLine {
            prompt: 1_234,
            output: 567,
            thinking: 2_492,
            cached: 0,
            tool_use: 0,
            total: 4_293,
            cost: None,
            elapsed: Duration::from_millis(3_200),
        };
        let theme = Theme::plain(120);
        assert!(!usage_line(&usage, &theme).contains("tool use"));
        assert!(!usage_line(&usage, &theme).contains("cost"));
        usage.tool_use = 12;
        assert!(usage_line(&usage, &theme).contains("· 12 tool use ·"));
        usage.prompt = 1_048_576;
        for width in 40..=120 {
            let wrapped = usage_line(&usage, &Theme::plain(width));
            for line in wrapped.lines() {
                assert!(text::display_width(line) <= width, "{line:?}");
            }
        }
        assert!(usage_line(&usage, &Theme::plain(40)).lines().count() > 1);
    }

    #[test]
    fn usage_line_shows_the_cost_after_the_total_with_controls_stripped() {
        let usage = UsageLine {
            total: 30,
            cost: Some("$0.0123\x1b[2J".to_owned()),
            ..UsageLine::default()
        };
        let line = usage_line(&usage, &Theme::plain(120));
        assert!(line.contains("30 total · cost $0.0123"), "{line}");
        assert!(!line.contains('\x1b'), "{line:?}");
    }
}
