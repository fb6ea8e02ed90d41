//! Progress while work runs: agent-core's events drawn for a person (live
//! on a terminal, one line per event otherwise) or streamed as `--jsonl`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use agent_core::{Event, EventSink};
use render::{
    ProgressBoard, ProgressItem, Status, frame_height, plain_event_line, redraw, retry_line_for,
    status_line,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::output::{Format, Output};

/// What the reporter is showing.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// One fork: its header, streamed answer, tool lines.
    SingleFork {
        /// How the tools are described in the header.
        tools: String,
    },
    /// Plan steps: a board of steps; the forks inside them only add tool
    /// and retry lines.
    Steps {
        /// The board's title.
        title: String,
        /// How many steps there are.
        total: usize,
    },
    /// Many forks (a swarm): a board of counts.
    Many {
        /// The board's title.
        title: String,
        /// How many items there are, when known.
        total: usize,
    },
}

/// How often a live display redraws its clock and spinners.
const TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// What the live display's clock reads: the run's elapsed time on tokio's
/// clock (virtual when a test pauses it), or one fixed reading.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clock {
    /// Time since this instant, on tokio's clock.
    Since(Instant),
    /// Always this reading (snapshots of the screen).
    Fixed(std::time::Duration),
}

impl Clock {
    /// The clock of a run starting now: tokio's, unless
    /// `AGENT_FORK_FIXED_CLOCK` holds a reading in seconds (for
    /// reproducible screens, like `AGENT_FORK_TODAY` for dates).
    pub(crate) fn start() -> Self {
        std::env::var("AGENT_FORK_FIXED_CLOCK")
            .ok()
            .and_then(|seconds| seconds.parse::<f64>().ok())
            .and_then(|seconds| std::time::Duration::try_from_secs_f64(seconds).ok())
            .map_or_else(|| Self::Since(Instant::now()), Self::Fixed)
    }

    /// The reading now.
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        match self {
            Self::Since(start) => start.elapsed(),
            Self::Fixed(reading) => *reading,
        }
    }
}

/// Turns events into output. Shared by every thread that emits events.
pub(crate) struct Reporter {
    output: Output,
    scope: Scope,
    /// The display's clock: the board's, the waiting line's, step times.
    clock: Clock,
    state: Mutex<State>,
    /// Stops the live display's clock.
    ticker: CancellationToken,
}

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    /// Part of the display (headings, tool lines, notes): the terminal when
    /// stdout is one, else stderr.
    Display,
    /// Always stderr (retries, the Ctrl-C notice).
    Stderr,
}

#[derive(Default)]
struct State {
    /// Terminal rows taken by answer text streamed since the last line
    /// printed (live single fork): what [`Reporter::finish`] erases.
    streamed_rows: usize,
    /// Display width of the current streamed line.
    streamed_column: usize,
    /// Streamed answer text is model text: its escape sequences are dropped,
    /// even one split over two deltas.
    stream_controls: render::ControlStripper,
    board: Option<ProgressBoard>,
    /// Rows taken by the last board frame drawn (live).
    frame_rows: usize,
    /// Task or step name by fork id, for lines about running forks.
    names: HashMap<String, String>,
    /// When each plan step started, by step id.
    step_started: HashMap<String, std::time::Duration>,
    /// Retries of model calls so far, over every fork.
    retries: u32,
    /// The "waiting for the answer" line is on screen (live single fork),
    /// on the cursor's row, without a newline.
    waiting: Option<std::time::Duration>,
    /// The streamed answer was taller than the terminal: it stays on
    /// screen and the result is drawn without it.
    answer_kept: bool,
    /// An approval question is on screen: the live display is erased and
    /// neither redrawn nor written to until it is answered.
    paused: bool,
    /// Lines that came while paused, printed when the question is answered.
    held: Vec<(String, To)>,
}

/// The reporter drawing now (one at a time in a process), so an approval
/// question can pause its live display ([`pause_display`]).
static CURRENT: Mutex<Option<std::sync::Weak<Reporter>>> = Mutex::new(None);

/// Pauses the live display for an approval question: the board (or the
/// waiting line) is erased and stays off, and progress lines are held,
/// until the returned guard is dropped; then the held lines are printed
/// and the board is drawn again below the question and its answer. Without
/// a live display it does nothing.
pub(crate) fn pause_display() -> DisplayPaused {
    let current = CURRENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .and_then(std::sync::Weak::upgrade);
    if let Some(reporter) = &current {
        reporter.pause();
    }
    DisplayPaused { reporter: current }
}

/// Resumes the live display when dropped (see [`pause_display`]).
pub(crate) struct DisplayPaused {
    reporter: Option<Arc<Reporter>>,
}

impl Drop for DisplayPaused {
    fn drop(&mut self) {
        if let Some(reporter) = &self.reporter {
            reporter.resume();
        }
    }
}

impl Reporter {
    pub(crate) fn new(output: &Output, scope: Scope) -> Arc<Reporter> {
        Self::with_clock(output, scope, Clock::start())
    }

    /// A reporter whose display reads `clock`. Its ticker redraws every
    /// [`TICK`] of tokio's clock, so in paused time it ticks as the test
    /// advances time.
    pub(crate) fn with_clock(output: &Output, scope: Scope, clock: Clock) -> Arc<Reporter> {
        let board = match &scope {
            Scope::Many { title, total } | Scope::Steps { title, total } => {
                Some(ProgressBoard::new(title.clone(), *total))
            }
            Scope::SingleFork { .. } => None,
        };
        let reporter = Arc::new(Reporter {
            output: output.clone(),
            scope,
            clock,
            state: Mutex::new(State {
                board,
                ..State::default()
            }),
            ticker: CancellationToken::new(),
        });
        reporter.start_ticker();
        *CURRENT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::downgrade(&reporter));
        reporter
    }

    /// Erases the live display and holds it (an approval question is
    /// about to be shown).
    fn pause(&self) {
        let mut state = self.state();
        if state.paused {
            return;
        }
        state.paused = true;
        if !self.output.live() {
            return;
        }
        if state.waiting.is_some() {
            self.output.raw("\r\u{1b}[K");
        }
        if state.frame_rows > 0 {
            self.output.raw(&redraw(state.frame_rows, ""));
            state.frame_rows = 0;
        }
        if state.streamed_column > 0 {
            // Streamed text stays; the question starts on a line of its own.
            self.output.raw("\n");
            state.streamed_column = 0;
        }
        state.streamed_rows = 0;
    }

    /// Prints what was held and draws the live display again.
    fn resume(&self) {
        let mut state = self.state();
        if !state.paused {
            return;
        }
        state.paused = false;
        for (text, to) in std::mem::take(&mut state.held) {
            self.print(&mut state, &text, to);
        }
        // After `finish` (the display is gone) nothing is drawn again.
        if self.output.live() && !self.ticker.is_cancelled() {
            if state.frame_rows == 0 {
                self.redraw_board(&mut state);
            }
            self.show_waiting(&mut state);
        }
    }

    /// On a live display, redraws the board's clock and spinners (or the
    /// waiting line) every [`TICK`], whether events come or not.
    fn start_ticker(self: &Arc<Self>) {
        if !self.output.live() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let reporter = Arc::downgrade(self);
        let stop = self.ticker.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = interval.tick() => {}
                }
                let Some(reporter) = reporter.upgrade() else {
                    break;
                };
                reporter.tick();
            }
        });
    }

    fn tick(&self) {
        let mut state = self.state();
        if state.paused {
            return;
        }
        if state.frame_rows > 0 {
            self.output.raw(&redraw(state.frame_rows, ""));
            state.frame_rows = 0;
            self.redraw_board(&mut state);
        } else if state.waiting.is_some() {
            self.show_waiting(&mut state);
        }
    }

    /// An event sink feeding this reporter.
    pub(crate) fn sink(self: &Arc<Self>) -> EventSink {
        let reporter = self.clone();
        EventSink::new(move |event| reporter.handle(&event))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn handle(&self, event: &Event) {
        if let Event::ToolApproval {
            fork_id,
            name,
            decision,
        } = event
            && !decision.approved
            && self.output.format() != Format::Jsonl
        {
            self.notice(&denial_notice(fork_id.as_str(), name, *decision));
        }
        if let Event::ToolServerFailed {
            fork_id,
            name,
            server,
            kind,
            message,
        } = event
            && self.output.format() != Format::Jsonl
        {
            self.notice(&server_failure_notice(
                fork_id.as_str(),
                name,
                server,
                *kind,
                message,
            ));
        }
        match self.output.format() {
            Format::Json => {
                // stdout holds only the document; a retry is still told on stderr.
                if let Event::Retry { .. } = event {
                    self.retry(&mut self.state(), event);
                }
            }
            Format::Jsonl => {
                self.output.json_line(&crate::json::EventLine::from(event));
                if let Event::Retry { .. } = event {
                    self.retry(&mut self.state(), event);
                }
            }
            Format::Human => self.draw(event),
        }
    }

    /// A notice on stderr: above the live board when there is one (so its
    /// next redraw does not wipe it), held while a question is open.
    fn notice(&self, line: &str) {
        if self.output.format() == Format::Human {
            self.print(&mut self.state(), line, To::Stderr);
        } else {
            self.output.error_line(line);
        }
    }

    /// Counts a retry and tells it on stderr: whose call, which attempt of
    /// how many, after how long, why.
    fn retry(&self, state: &mut State, event: &Event) {
        let Event::Retry {
            fork_id,
            attempt,
            max_attempts,
            delay,
            reason,
        } = event
        else {
            return;
        };
        state.retries += 1;
        if self.output.quiet() {
            return;
        }
        let who = match state.names.get(fork_id.as_str()) {
            Some(name) => format!("{fork_id} {}", render::humanize::truncate(name, 40)),
            None => fork_id.to_string(),
        };
        let line = retry_line_for(
            &who,
            attempt + 1,
            *max_attempts,
            *delay,
            reason,
            self.output.theme(),
        );
        if self.output.json() {
            self.output.error_line(&line);
        } else {
            self.print(state, &format!("  {line}"), To::Stderr);
        }
    }

    fn draw(&self, event: &Event) {
        let theme = self.output.theme();
        let mut state = self.state();
        match (event, &self.scope) {
            (
                Event::ForkStarted {
                    fork_id,
                    agent_type,
                    model,
                    task,
                    ..
                },
                Scope::SingleFork { tools },
            ) => {
                let first = state.names.is_empty();
                state.names.insert(fork_id.to_string(), task.clone());
                if first {
                    self.print(
                        &mut state,
                        &views::fork_header(
                            fork_id.as_str(),
                            agent_type,
                            model,
                            task,
                            tools,
                            theme,
                        ),
                        To::Display,
                    );
                    self.start_waiting(&mut state);
                }
            }
            (Event::ForkStarted { fork_id, task, .. }, Scope::Steps { .. }) => {
                state.names.insert(fork_id.to_string(), task.clone());
            }
            (Event::ForkFinished { fork_id, .. }, Scope::Steps { .. }) => {
                state.names.remove(fork_id.as_str());
            }
            (Event::ForkStarted { fork_id, task, .. }, Scope::Many { .. }) => {
                let name = render::humanize::truncate(task, 60);
                state.names.insert(fork_id.to_string(), name.clone());
                let item = ProgressItem::new(fork_id.as_str(), name, Status::Running);
                self.board_update(&mut state, item);
            }
            (Event::TextDelta { text, .. }, Scope::SingleFork { .. }) if self.output.live() => {
                self.clear_waiting(&mut state);
                let text = state.stream_controls.push(text);
                self.output.raw(&text);
                track_rows(&mut state, &text, theme.width());
            }
            (
                Event::ToolResult {
                    name, ok, error, ..
                },
                _,
            ) => {
                let line = match error {
                    Some(error) if !ok => {
                        status_line(Status::Failed, &format!("tool {name}: {error}"), theme)
                    }
                    _ => status_line(Status::Ok, &format!("tool {name}"), theme),
                };
                self.print(&mut state, &format!("  {line}"), To::Display);
                if let Scope::SingleFork { .. } = self.scope {
                    self.start_waiting(&mut state);
                }
            }
            (Event::Retry { .. }, _) => self.retry(&mut state, event),
            (
                Event::ForkFinished {
                    fork_id,
                    status,
                    elapsed,
                    ..
                },
                Scope::Many { .. },
            ) => {
                let name = state.names.remove(fork_id.as_str()).unwrap_or_default();
                let item = ProgressItem::new(fork_id.as_str(), name, views::fork_status(*status))
                    .with_elapsed(*elapsed);
                self.board_update(&mut state, item);
            }
            (Event::ForkFinished { .. }, Scope::SingleFork { .. }) => {
                self.clear_waiting(&mut state);
            }
            (Event::ConsolidationStarted { results, .. }, _) => {
                self.print(
                    &mut state,
                    &format!("Consolidating {results} results..."),
                    To::Display,
                );
            }
            _ => {}
        }
    }

    /// Shows a plan step's progress (`name` is the step's name).
    pub(crate) fn step(&self, event: &planner::ScheduleEvent, name: &str) {
        use planner::ScheduleEvent as E;
        let (id, status) = match event {
            E::StepStarted { id, .. } => (id, Status::Running),
            E::StepRetrying { id, .. } => (id, Status::Running),
            E::StepCompleted { id, .. } | E::StepReused { id } => (id, Status::Ok),
            E::StepFailed { id, .. } => (id, Status::Failed),
            E::StepSkipped { id, .. } => (id, Status::Skipped),
        };
        match self.output.format() {
            Format::Human => {
                let mut state = self.state();
                let now = self.clock.elapsed();
                let mut item = ProgressItem::new(id.as_str(), name, status);
                if status.is_finished() {
                    if let Some(began) = state.step_started.get(id.as_str()) {
                        item = item.with_elapsed(now.saturating_sub(*began));
                    }
                } else {
                    state.step_started.entry(id.to_string()).or_insert(now);
                }
                self.board_update(&mut state, item);
            }
            Format::Jsonl => {
                let status = match status {
                    Status::Ok => "completed",
                    Status::Failed => "failed",
                    Status::Skipped => "skipped",
                    Status::Cancelled => "cancelled",
                    Status::Running | Status::Pending => "running",
                };
                self.output.json_line(&crate::json::StepEventLine {
                    event: "step",
                    step_id: id.as_str(),
                    name,
                    status: status.to_owned(),
                });
            }
            Format::Json => {}
        }
    }

    /// Tells the board how many items to expect (a plan's steps, known
    /// once the plan is made), so it never shows `1/1` with steps to come.
    pub(crate) fn expect(&self, total: usize) {
        if let Some(board) = &mut self.state().board {
            board.set_total(total);
        }
    }

    /// Prints a line with the progress (stderr when piped). The text may
    /// quote the model (a plan's error), so it is cleaned.
    pub(crate) fn note(&self, text: &str) {
        if self.output.format() == Format::Human {
            let mut state = self.state();
            self.print(&mut state, &render::strip_controls_line(text), To::Display);
        }
    }

    /// Says on stderr that the run is stopping (Ctrl-C), above the live
    /// board so the next redraw neither wipes the notice nor leaves a stale
    /// piece of the board.
    pub(crate) fn interrupted(&self, notice: &str) {
        let mut state = self.state();
        self.print(&mut state, notice, To::Stderr);
    }

    /// Retries of model calls so far, over every fork of the run.
    pub(crate) fn retries(&self) -> u32 {
        self.state().retries
    }

    /// True when the streamed answer was taller than the terminal and
    /// stays on screen: the result is then drawn without it.
    pub(crate) fn answer_kept(&self) -> bool {
        self.state().answer_kept
    }

    /// Updates the board: redrawn in place on a terminal, one line otherwise.
    fn board_update(&self, state: &mut State, item: ProgressItem) {
        let theme = self.output.theme();
        if !self.output.live() && !self.output.quiet() {
            let at = self.clock.elapsed();
            self.output.error_line(&plain_event_line(at, &item, theme));
        }
        if let Some(board) = &mut state.board {
            board.update(item);
        }
        if self.output.live() && !state.paused {
            self.output.raw(&redraw(state.frame_rows, ""));
            state.frame_rows = 0;
            self.redraw_board(state);
        }
    }

    /// Draws the board below the cursor (the previous frame already erased).
    fn redraw_board(&self, state: &mut State) {
        if let Some(board) = &state.board {
            let frame = board.frame(self.clock.elapsed(), self.output.theme());
            self.output.raw(&format!("{frame}\n"));
            state.frame_rows = frame_height(&frame);
        }
    }

    /// Shows the waiting line (live single fork) until the answer starts.
    fn start_waiting(&self, state: &mut State) {
        if self.output.live() && state.streamed_column == 0 {
            state.waiting = Some(self.clock.elapsed());
            if !state.paused {
                self.show_waiting(state);
            }
        }
    }

    fn show_waiting(&self, state: &mut State) {
        let Some(since) = state.waiting else {
            return;
        };
        let now = self.clock.elapsed();
        let text = format!(
            "{} waiting for the answer… {}",
            render::spinner(now),
            render::humanize::clock(now.saturating_sub(since))
        );
        let text = if self.output.theme().color() {
            format!("\u{1b}[2m{text}\u{1b}[0m")
        } else {
            text
        };
        self.output.raw(&format!("\r\u{1b}[K{text}"));
    }

    fn clear_waiting(&self, state: &mut State) {
        if state.waiting.take().is_some() {
            self.output.raw("\r\u{1b}[K");
        }
    }

    /// Prints a line above the live board (or after streamed text).
    fn print(&self, state: &mut State, text: &str, to: To) {
        if self.output.quiet() && to == To::Display {
            return;
        }
        if state.paused {
            state.held.push((text.to_owned(), to));
            return;
        }
        let live = self.output.live();
        self.clear_waiting(state);
        if live && state.frame_rows > 0 {
            self.output.raw(&redraw(state.frame_rows, ""));
            state.frame_rows = 0;
            self.write(text, to);
            self.redraw_board(state);
            return;
        }
        if state.streamed_column > 0 {
            self.output.raw("\n");
            state.streamed_column = 0;
        }
        // What was streamed so far stays: only text after the last line
        // printed is erased (and shown again in the result).
        state.streamed_rows = 0;
        self.write(text, to);
    }

    fn write(&self, text: &str, to: To) {
        match to {
            To::Display if self.output.live() => self.output.line(text),
            To::Display | To::Stderr => self.output.error_line(text),
        }
    }

    /// Stops the clock and removes the live board and the streamed answer
    /// (the result shows it again), unless the answer was taller than the
    /// terminal: then it stays, and [`Reporter::answer_kept`] says so.
    pub(crate) fn finish(&self) {
        self.ticker.cancel();
        let mut state = self.state();
        if !self.output.live() {
            return;
        }
        self.clear_waiting(&mut state);
        if state.frame_rows > 0 {
            self.output.raw(&redraw(state.frame_rows, ""));
        }
        // The cursor is on the last streamed row (or the row after it when
        // the text ended with a newline): the first streamed row is
        // `streamed_rows` above either way.
        let streamed = state.streamed_rows + usize::from(state.streamed_column > 0);
        if streamed > 0 {
            if streamed < terminal_rows() {
                self.output.raw(&redraw(state.streamed_rows, ""));
            } else {
                if state.streamed_column > 0 {
                    self.output.raw("\n");
                }
                state.answer_kept = true;
            }
        }
        state.frame_rows = 0;
        state.streamed_rows = 0;
        state.streamed_column = 0;
    }

    /// Time since the reporter was made (the run's wall time).
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        self.clock.elapsed()
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.ticker.cancel();
    }
}

/// Counts the terminal rows streamed text takes, wrapping at `width`.
/// The stderr line for a tool call the approval gate denied.
fn denial_notice(fork_id: &str, tool: &str, decision: agent_core::Decision) -> String {
    use agent_core::DecidedBy;
    let why = match decision.by {
        DecidedBy::NoTerminal => {
            "it needs approval and there is no terminal to ask on; pass --yes to approve such calls"
        }
        DecidedBy::Timeout => "the question was not answered in time",
        DecidedBy::Person => "you said no",
        DecidedBy::Earlier => "it was denied earlier in this run",
        DecidedBy::Rule | DecidedBy::PersonAlways | DecidedBy::AssumeYes => {
            "the approval policy ([approval] in agent-fork.toml) denies it"
        }
    };
    format!(
        "notice: fork {fork_id}: the call to {} was not run: {why}",
        render::strip_controls_line(tool)
    )
}

/// `warning: MCP server 'docs' crashed during docs__search (fork ..): ..;
/// the agent was told and goes on`.
fn server_failure_notice(
    fork_id: &str,
    tool: &str,
    server: &str,
    kind: agent_core::ServerFailureKind,
    message: &str,
) -> String {
    use agent_core::ServerFailureKind as K;
    let what = match kind {
        K::TimedOut => "timed out",
        K::Disconnected => "crashed or disconnected",
        K::BadReply => "answered with something that is not a result",
        K::NotRunning => "is not running",
    };
    render::strip_controls_line(&format!(
        "warning: MCP server '{server}' {what} during {tool} (fork {fork_id}): {message}; the agent was told and goes on"
    ))
}

fn track_rows(state: &mut State, text: &str, width: usize) {
    let width = width.max(1);
    for (index, piece) in text.split('\n').enumerate() {
        if index > 0 {
            state.streamed_rows += 1;
            state.streamed_column = 0;
        }
        state.streamed_column += render::display_width(piece);
        while state.streamed_column > width {
            state.streamed_rows += 1;
            state.streamed_column -= width;
        }
    }
}

/// The terminal's height: asked of the terminal, else `LINES`, else 24.
fn terminal_rows() -> usize {
    terminal_size::terminal_size()
        .map(|(_, height)| usize::from(height.0))
        .or_else(|| std::env::var("LINES").ok()?.parse().ok())
        .unwrap_or(24)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use agent_core::ForkId;
    use render::Theme;

    use super::*;

    fn live_output(width: usize) -> (Output, Arc<Mutex<Vec<u8>>>) {
        Output::captured(Format::Human, Theme::new(false, width), true)
    }

    fn started(id: &str, task: &str) -> Event {
        Event::ForkStarted {
            fork_id: ForkId::from_string(id),
            agent_type: "general".into(),
            model: "gemini-2.5-flash".into(),
            task: task.into(),
            tools: false,
        }
    }

    fn text(buffer: &Mutex<Vec<u8>>) -> String {
        String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
    }

    /// The clock readings `pattern` finds in `text`, each once, in order.
    fn readings(text: &str, pattern: &str) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for found in regex::Regex::new(pattern).unwrap().find_iter(text) {
            if !seen.iter().any(|reading| reading == found.as_str()) {
                seen.push(found.as_str().to_owned());
            }
        }
        seen
    }

    /// While no event comes, the board's clock still moves: in paused
    /// (virtual) time, 3 s of silence redraw the board every 100 ms with
    /// each tenth of a second from 00:00.0 to 00:03.0 (the old board
    /// redrew only on events and stood at 00:00.0).
    #[tokio::test(start_paused = true)]
    async fn the_board_clock_ticks_while_nothing_happens() {
        let (output, buffer) = live_output(100);
        let reporter = Reporter::with_clock(
            &output,
            Scope::Many {
                title: "Swarm".into(),
                total: 2,
            },
            Clock::Since(Instant::now()),
        );
        reporter.handle(&started("fork_1", "Task number 1."));
        reporter.handle(&started("fork_2", "Task number 2."));
        tokio::time::sleep(Duration::from_millis(3_050)).await;
        reporter.finish();
        let expected: Vec<String> = (0..=30)
            .map(|tenth| format!("0/2  00:0{}.{}", tenth / 10, tenth % 10))
            .collect();
        assert_eq!(readings(&text(&buffer), r"0/2  \d\d:\d\d\.\d"), expected);
    }

    /// The waiting line before a fork's first token counts up on the same
    /// clock, and goes when the answer starts.
    #[tokio::test(start_paused = true)]
    async fn the_waiting_line_counts_until_the_answer_starts() {
        let (output, buffer) = live_output(100);
        let reporter = Reporter::with_clock(
            &output,
            Scope::SingleFork {
                tools: "no tools".into(),
            },
            Clock::Since(Instant::now()),
        );
        reporter.handle(&started("fork_1", "Explain ownership."));
        tokio::time::sleep(Duration::from_millis(1_050)).await;
        reporter.handle(&Event::TextDelta {
            fork_id: ForkId::from_string("fork_1"),
            text: "Ownership moves.".into(),
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let shown = text(&buffer);
        let expected: Vec<String> = (0..=10)
            .map(|tenth| format!("waiting for the answer… 00:0{}.{}", tenth / 10, tenth % 10))
            .collect();
        assert_eq!(
            readings(&shown, r"waiting for the answer… \d\d:\d\d\.\d"),
            expected
        );
        let mut screen = vt100::Parser::new(40, 100, 0);
        screen.process(shown.replace('\n', "\r\n").as_bytes());
        let screen = screen.screen().contents();
        assert!(
            screen.contains("Ownership moves.") && !screen.contains("waiting for"),
            "{screen}"
        );
        reporter.finish();
    }
}
