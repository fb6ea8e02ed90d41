//! Progress of many units of work (plan steps, swarm tasks), drawn two ways:
//!
//! - live: [`ProgressBoard::frame`] is a block of at most
//!   [`MAX_FRAME_LINES`] lines, redrawn in place on a terminal with
//!   [`redraw`];
//! - plain: one line per event ([`plain_event_line`], [`retry_line`]) for
//!   pipes, logs and CI.
//!
//! Nothing here reads the clock: callers pass elapsed times, so output is
//! a pure function of its inputs.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

use crate::humanize;
use crate::lines::Status;
use crate::text;
use crate::theme::{Accent, Theme};

/// Most lines a [`ProgressBoard::frame`] takes.
pub const MAX_FRAME_LINES: usize = 10;
/// Most finished items a frame lists (the newest ones).
const MAX_FINISHED_SHOWN: usize = 3;
/// Columns of the bar in the header.
const BAR_WIDTH: usize = 20;

/// One unit of work as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressItem {
    /// Stable id, e.g. `step_2`; updates with the same id replace each other.
    pub id: String,
    /// Human name, e.g. `Implement Login Endpoint`.
    pub name: String,
    /// Current state.
    pub status: Status,
    /// Time spent so far (running) or in total (finished), if known.
    pub elapsed: Option<Duration>,
}

impl ProgressItem {
    /// An item without a known elapsed time.
    pub fn new(id: impl Into<String>, name: impl Into<String>, status: Status) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            status,
            elapsed: None,
        }
    }

    /// Sets the elapsed time.
    #[must_use]
    pub fn with_elapsed(mut self, elapsed: Duration) -> Self {
        self.elapsed = Some(elapsed);
        self
    }
}

/// How many items are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgressCounts {
    /// Finished successfully.
    pub done: usize,
    /// Finished with an error.
    pub failed: usize,
    /// Not run.
    pub skipped: usize,
    /// Stopped.
    pub cancelled: usize,
    /// In progress.
    pub running: usize,
    /// Not started (including items the board has not been told about yet).
    pub pending: usize,
    /// All items.
    pub total: usize,
}

impl ProgressCounts {
    /// Items that will not change state again.
    pub fn finished(&self) -> usize {
        self.done + self.failed + self.skipped + self.cancelled
    }
}

/// The live state of a run: a title, the expected number of items and the
/// latest state of each item the caller reported.
///
/// ```
/// use std::time::Duration;
/// use render::{ProgressBoard, ProgressItem, Status, Theme};
/// let mut board = ProgressBoard::new("Plan wf_1", 2);
/// board.update(ProgressItem::new("step_1", "Setup", Status::Ok).with_elapsed(Duration::from_millis(1_400)));
/// let frame = board.frame(Duration::from_secs(3), &Theme::plain(60));
/// assert_eq!(frame.lines().count(), 3);
/// assert!(frame.contains("✓ step_1 Setup  1.4 s"));
/// ```
///
/// The board holds only what a frame can show: the items not yet finished,
/// the newest finished ones, and counts. A swarm of 10,000 tasks costs the
/// same memory as one of ten, and an update costs the number of running
/// items, not the number of tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressBoard {
    title: String,
    total: usize,
    /// Latest state of each item not finished yet, least recently updated first.
    active: Vec<ProgressItem>,
    /// The newest finished items, oldest first, at most [`MAX_FINISHED_SHOWN`].
    recent: VecDeque<ProgressItem>,
    /// Every finished item counted by state (`running` and `pending` unused).
    finished: ProgressCounts,
}

impl ProgressBoard {
    /// An empty board expecting `total` items.
    pub fn new(title: impl Into<String>, total: usize) -> Self {
        Self {
            title: title.into(),
            total,
            active: Vec::new(),
            recent: VecDeque::new(),
            finished: ProgressCounts::default(),
        }
    }

    /// Expects `total` items from now on (a plan's steps, known only once
    /// the plan is made); more items than that still raise it.
    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    /// Records the latest state of an item, replacing any earlier state
    /// with the same id; the item becomes the most recently updated.
    ///
    /// A finished state is final: once a finished item is no longer among
    /// the newest few, a later update with its id counts as a new item.
    pub fn update(&mut self, item: ProgressItem) {
        if let Some(at) = self.active.iter().position(|known| known.id == item.id) {
            self.active.remove(at);
        } else if let Some(at) = self.recent.iter().position(|known| known.id == item.id) {
            if let Some(earlier) = self.recent.remove(at) {
                *slot(&mut self.finished, earlier.status) -= 1;
            }
        }
        if item.status.is_finished() {
            *slot(&mut self.finished, item.status) += 1;
            self.recent.push_back(item);
            if self.recent.len() > MAX_FINISHED_SHOWN {
                self.recent.pop_front();
            }
        } else {
            self.active.push(item);
        }
    }

    /// The items' states counted.
    pub fn counts(&self) -> ProgressCounts {
        let running = self
            .active
            .iter()
            .filter(|item| item.status == Status::Running)
            .count();
        let known = self.finished.finished() + self.active.len();
        let total = self.total.max(known);
        ProgressCounts {
            running,
            pending: total - self.finished.finished() - running,
            total,
            ..self.finished
        }
    }

    /// A block of at most [`MAX_FRAME_LINES`] lines: a header (title, bar,
    /// finished/total, elapsed clock), the counts, the running items and
    /// the newest finished ones. Each line is narrower than the theme width
    /// so the terminal never wraps it, which keeps [`redraw`] exact.
    pub fn frame(&self, elapsed: Duration, theme: &Theme) -> String {
        let room = theme.width() - 1;
        let counts = self.counts();
        let mut lines = vec![self.header(&counts, elapsed, theme, room)];
        lines.push(text::truncate(&counts_line(&counts, theme), room));

        let budget = MAX_FRAME_LINES - lines.len();
        let running: Vec<&ProgressItem> = self
            .active
            .iter()
            .filter(|item| item.status == Status::Running)
            .collect();
        // Keep a line for the newest finished item, if there is one.
        let any_finished = !self.recent.is_empty();
        let budget = budget - usize::from(any_finished);
        let shown_running = if running.len() > budget {
            budget - 1
        } else {
            running.len()
        };
        let spinner = spinner(elapsed);
        for item in &running[..shown_running] {
            lines.push(item_line(item, Some(spinner), theme, room));
        }
        if shown_running < running.len() {
            let more = format!("  … and {} more running", running.len() - shown_running);
            lines.push(theme.dim(&more));
        }
        let finished_room = (MAX_FRAME_LINES - lines.len()).min(MAX_FINISHED_SHOWN);
        for item in self.recent.iter().rev().take(finished_room) {
            lines.push(item_line(item, None, theme, room));
        }
        lines.join("\n")
    }

    fn header(
        &self,
        counts: &ProgressCounts,
        elapsed: Duration,
        theme: &Theme,
        room: usize,
    ) -> String {
        let bar_width = BAR_WIDTH.min(room / 3);
        let filled = (counts.finished() * bar_width)
            .checked_div(counts.total)
            .unwrap_or(0);
        let bar = format!(
            "{}{}",
            theme.paint(&"━".repeat(filled), Accent::Green.style()),
            theme.dim(&"─".repeat(bar_width - filled))
        );
        let tail = format!(
            "  {bar}  {}/{}  {}",
            counts.finished(),
            counts.total,
            theme.dim(&humanize::clock(elapsed))
        );
        let title = text::single_line(&self.title);
        let title_room = room.saturating_sub(text::display_width(&tail));
        let title = theme.bold(&text::truncate(&title, title_room));
        text::truncate(&format!("{title}{tail}"), room)
    }
}

/// The count a finished `status` adds to (`running` and `pending` for the rest).
fn slot(counts: &mut ProgressCounts, status: Status) -> &mut usize {
    match status {
        Status::Ok => &mut counts.done,
        Status::Failed => &mut counts.failed,
        Status::Skipped => &mut counts.skipped,
        Status::Cancelled => &mut counts.cancelled,
        Status::Running => &mut counts.running,
        Status::Pending => &mut counts.pending,
    }
}

fn counts_line(counts: &ProgressCounts, theme: &Theme) -> String {
    let parts = [
        (Status::Ok, counts.done, "done"),
        (Status::Failed, counts.failed, "failed"),
        (Status::Skipped, counts.skipped, "skipped"),
        (Status::Cancelled, counts.cancelled, "cancelled"),
        (Status::Running, counts.running, "running"),
        (Status::Pending, counts.pending, "pending"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(status, count, _)| *count > 0 || *status == Status::Ok)
        .map(|(status, count, label)| format!("{} {count} {label}", status.painted_symbol(theme)))
        .collect();
    shown.join(&theme.dim(" · "))
}

/// Frames of the spinner shown on running rows.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner's frame at `elapsed` (a new one every 100 ms): redrawn at a
/// steady rate, running rows show that the run is alive even when no
/// event arrives.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(render::spinner(Duration::ZERO), "⠋");
/// assert_eq!(render::spinner(Duration::from_millis(250)), "⠹");
/// ```
pub fn spinner(elapsed: Duration) -> &'static str {
    let step = usize::try_from(elapsed.as_millis() / 100).unwrap_or(0);
    SPINNER[step % SPINNER.len()]
}

/// One item's row; a running row shows `spinner` instead of its symbol.
fn item_line(item: &ProgressItem, spinner: Option<&str>, theme: &Theme, room: usize) -> String {
    let id = text::single_line(&item.id);
    let elapsed = item.elapsed.map(humanize::duration).unwrap_or_default();
    // "  ✓ " + id + " " + name + "  " + elapsed
    let fixed = 4
        + text::display_width(&id)
        + 1
        + if elapsed.is_empty() {
            0
        } else {
            2 + elapsed.len()
        };
    let name = text::truncate(&text::single_line(&item.name), room.saturating_sub(fixed));
    let symbol = match spinner {
        Some(frame) => theme.paint(frame, Status::Running.accent().style()),
        None => item.status.painted_symbol(theme),
    };
    let mut line = format!("  {symbol} {} {name}", theme.dim(&id));
    if !elapsed.is_empty() {
        let _ = write!(line, "  {}", theme.dim(&elapsed));
    }
    text::truncate(line.trim_end(), room)
}

/// Lines a frame takes on screen once written with a trailing newline.
///
/// ```
/// assert_eq!(render::frame_height("a\nb"), 2);
/// assert_eq!(render::frame_height(""), 1);
/// ```
pub fn frame_height(frame: &str) -> usize {
    frame.split('\n').count()
}

/// Escape codes that move the cursor up over the previous frame
/// (`previous_frame_lines` lines, see [`frame_height`]) and clear from there
/// to the end of the screen, followed by `new_frame`.
///
/// For terminals only: the result always contains escape codes, whatever
/// the theme. Write it followed by a newline.
///
/// ```
/// assert_eq!(render::redraw(2, "x"), "\u{1b}[2A\r\u{1b}[Jx");
/// assert_eq!(render::redraw(0, "x"), "\r\u{1b}[Jx");
/// ```
pub fn redraw(previous_frame_lines: usize, new_frame: &str) -> String {
    let mut out = String::with_capacity(new_frame.len() + 12);
    if previous_frame_lines > 0 {
        let _ = write!(out, "\u{1b}[{previous_frame_lines}A");
    }
    out.push_str("\r\u{1b}[J");
    out.push_str(new_frame);
    out
}

/// One line for an event in plain (non-terminal) output:
/// `[00:03.2] ✓ step_2 Implement Login Endpoint (1.4 s)`. `at` is the time
/// since the run started.
///
/// ```
/// use std::time::Duration;
/// use render::{plain_event_line, ProgressItem, Status, Theme};
/// let item = ProgressItem::new("step_2", "Implement Login Endpoint", Status::Ok)
///     .with_elapsed(Duration::from_millis(1_400));
/// assert_eq!(
///     plain_event_line(Duration::from_millis(3_200), &item, &Theme::plain(80)),
///     "[00:03.2] ✓ step_2 Implement Login Endpoint (1.4 s)"
/// );
/// ```
pub fn plain_event_line(at: Duration, item: &ProgressItem, theme: &Theme) -> String {
    let mut line = format!(
        "{} {} {} {}",
        theme.dim(&format!("[{}]", humanize::clock(at))),
        item.status.painted_symbol(theme),
        text::single_line(&item.id),
        text::single_line(&item.name),
    );
    if let Some(elapsed) = item.elapsed {
        let _ = write!(
            line,
            " {}",
            theme.dim(&format!("({})", humanize::duration(elapsed)))
        );
    }
    line.trim_end().to_owned()
}

/// `↻ retrying in 13 s (attempt 2): 429 RESOURCE_EXHAUSTED`. `attempt` is
/// the number of the attempt about to be made (the first retry is 2).
///
/// ```
/// use std::time::Duration;
/// use render::{retry_line, Theme};
/// assert_eq!(
///     retry_line(2, Duration::from_secs(13), "429 RESOURCE_EXHAUSTED", &Theme::plain(80)),
///     "↻ retrying in 13 s (attempt 2): 429 RESOURCE_EXHAUSTED"
/// );
/// ```
pub fn retry_line(attempt: u32, delay: Duration, reason: &str, theme: &Theme) -> String {
    format!(
        "{} retrying in {} (attempt {attempt}): {}",
        theme.paint("↻", Accent::Yellow.style()),
        humanize::duration(delay),
        text::single_line(reason)
    )
}

/// A retry naming whose call it is and how many attempts it may take:
/// `↻ fork_1 Summarise the log: retrying in 2 s (attempt 2/5): 429 RESOURCE_EXHAUSTED`.
/// `attempt` is the number of the attempt about to be made; `who` (a fork
/// or task, maybe model-written) is cleaned like every label.
///
/// ```
/// use std::time::Duration;
/// use render::{retry_line_for, Theme};
/// assert_eq!(
///     retry_line_for("fork_1 Say hi", 2, 5, Duration::from_secs(2), "429 RESOURCE_EXHAUSTED", &Theme::plain(80)),
///     "↻ fork_1 Say hi: retrying in 2 s (attempt 2/5): 429 RESOURCE_EXHAUSTED"
/// );
/// ```
pub fn retry_line_for(
    who: &str,
    attempt: u32,
    max_attempts: u32,
    delay: Duration,
    reason: &str,
    theme: &Theme,
) -> String {
    format!(
        "{} {}: retrying in {} (attempt {attempt}/{max_attempts}): {}",
        theme.paint("↻", Accent::Yellow.style()),
        text::single_line(who),
        humanize::duration(delay),
        text::single_line(reason)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_include_unreported_items_as_pending() {
        let mut board = ProgressBoard::new("t", 5);
        board.update(ProgressItem::new("a", "A", Status::Running));
        board.update(ProgressItem::new("a", "A", Status::Ok));
        board.update(ProgressItem::new("b", "B", Status::Failed));
        board.update(ProgressItem::new("c", "C", Status::Running));
        let counts = board.counts();
        assert_eq!(
            (counts.done, counts.failed, counts.running, counts.pending),
            (1, 1, 1, 2)
        );
        assert_eq!(counts.total, 5);
    }

    #[test]
    fn a_total_set_later_counts_the_items_not_seen_yet_as_pending() {
        let mut board = ProgressBoard::new("Plan", 0);
        board.set_total(3);
        board.update(ProgressItem::new("s1", "First", Status::Ok));
        let counts = board.counts();
        assert_eq!((counts.done, counts.pending, counts.total), (1, 2, 3));
        assert!(
            board
                .frame(Duration::ZERO, &Theme::plain(80))
                .contains("1/3")
        );
    }

    #[test]
    fn total_grows_when_more_items_arrive_than_announced() {
        let mut board = ProgressBoard::new("t", 1);
        board.update(ProgressItem::new("a", "A", Status::Ok));
        board.update(ProgressItem::new("b", "B", Status::Ok));
        assert_eq!(board.counts().total, 2);
        assert_eq!(board.counts().pending, 0);
    }

    #[test]
    fn frames_stay_bounded_and_narrow() {
        let mut board = ProgressBoard::new("A very long title ".repeat(10), 40);
        for index in 0..40 {
            let status = if index % 3 == 0 {
                Status::Ok
            } else {
                Status::Running
            };
            let item = ProgressItem::new(format!("step_{index}"), "name ".repeat(20), status)
                .with_elapsed(Duration::from_secs(index));
            board.update(item);
        }
        for color in [false, true] {
            let theme = Theme::new(color, 40);
            let frame = board.frame(Duration::from_secs(61), &theme);
            assert!(frame.lines().count() <= MAX_FRAME_LINES);
            for line in frame.lines() {
                assert!(text::display_width(line) < 40, "{line:?}");
            }
            assert!(frame.contains("more running"));
        }
    }

    #[test]
    fn zero_total_does_not_divide_by_zero() {
        let frame = ProgressBoard::new("empty", 0).frame(Duration::ZERO, &Theme::plain(40));
        assert!(frame.contains("0/0"));
    }

    #[test]
    fn a_ten_thousand_task_swarm_keeps_only_what_a_frame_shows() {
        let mut board = ProgressBoard::new("swarm", 10_000);
        for index in 0..10_000 {
            let id = format!("fork_{index}");
            board.update(ProgressItem::new(&id, "task", Status::Running));
            // Four at a time are running; each finishes three updates later.
            if index >= 3 {
                let done = format!("fork_{}", index - 3);
                let status = if index % 100 == 0 {
                    Status::Failed
                } else {
                    Status::Ok
                };
                board.update(ProgressItem::new(done, "task", status));
            }
            assert!(board.active.len() <= 4);
            assert!(board.recent.len() <= MAX_FINISHED_SHOWN);
        }
        let counts = board.counts();
        assert_eq!(counts.failed, 99);
        assert_eq!(counts.done, 9_997 - 99);
        assert_eq!(
            (counts.running, counts.pending, counts.total),
            (3, 0, 10_000)
        );
        let frame = board.frame(Duration::from_secs(1), &Theme::plain(60));
        assert!(frame.contains("fork_9996"), "{frame}");
    }

    #[test]
    fn a_finished_item_reported_again_is_counted_once() {
        let mut board = ProgressBoard::new("plan", 2);
        board.update(ProgressItem::new("step_1", "A", Status::Failed));
        board.update(ProgressItem::new("step_1", "A", Status::Ok));
        let counts = board.counts();
        assert_eq!((counts.done, counts.failed, counts.pending), (1, 0, 1));
    }
}
