//! Progress while work runs: agent-core's events drawn for a person (live
//! on a terminal, one line per event otherwise) or streamed as `--jsonl`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use agent_core::{Event, EventSink};
use render::{
    ProgressBoard, ProgressItem, Status, frame_height, plain_event_line, redraw, retry_line,
    status_line,
};
use tokio::time::Instant;

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

/// Turns events into output. Shared by every thread that emits events.
pub(crate) struct Reporter {
    output: Output,
    scope: Scope,
    started: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Terminal rows taken by streamed answer text (live single fork).
    streamed_rows: usize,
    /// Display width of the current streamed line.
    streamed_column: usize,
    /// Streamed answer text is model text: its escape sequences are dropped,
    /// even one split over two deltas.
    stream_controls: render::ControlStripper,
    board: Option<ProgressBoard>,
    /// Rows taken by the last board frame drawn (live).
    frame_rows: usize,
    /// Task or step name by fork id, for lines about finished forks.
    names: HashMap<String, String>,
    /// When each plan step started, by step id.
    step_started: HashMap<String, std::time::Duration>,
}

impl Reporter {
    pub(crate) fn new(output: &Output, scope: Scope) -> Arc<Reporter> {
        let board = match &scope {
            Scope::Many { title, total } | Scope::Steps { title, total } => {
                Some(ProgressBoard::new(title.clone(), *total))
            }
            Scope::SingleFork { .. } => None,
        };
        Arc::new(Reporter {
            output: output.clone(),
            scope,
            started: Instant::now(),
            state: Mutex::new(State {
                board,
                ..State::default()
            }),
        })
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
            self.output
                .error_line(&denial_notice(fork_id.as_str(), name, *decision));
        }
        match self.output.format() {
            Format::Json => {}
            Format::Jsonl => {
                self.output.json_line(&crate::json::EventLine::from(event));
            }
            Format::Human => self.draw(event),
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
                self.print(
                    &mut state,
                    &views::fork_header(fork_id.as_str(), agent_type, model, task, tools, theme),
                );
            }
            (Event::ForkStarted { .. } | Event::ForkFinished { .. }, Scope::Steps { .. }) => {}
            (Event::ForkStarted { fork_id, task, .. }, Scope::Many { .. }) => {
                let name = render::humanize::truncate(task, 60);
                state.names.insert(fork_id.to_string(), name.clone());
                let item = ProgressItem::new(fork_id.as_str(), name, Status::Running);
                self.board_update(&mut state, item);
            }
            (Event::TextDelta { text, .. }, Scope::SingleFork { .. }) if self.output.live() => {
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
                self.print(&mut state, &format!("  {line}"));
            }
            (
                Event::Retry {
                    attempt,
                    delay,
                    reason,
                    ..
                },
                _,
            ) => {
                self.print(
                    &mut state,
                    &format!("  {}", retry_line(attempt + 1, *delay, reason, theme)),
                );
            }
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
            (Event::ConsolidationStarted { results, .. }, _) => {
                self.print(&mut state, &format!("Consolidating {results} results..."));
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
                let now = self.started.elapsed();
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
                self.output.json_line(&crate::json::StepEventLine {
                    event: "step",
                    step_id: id.as_str(),
                    name,
                    status: format!("{status:?}").to_lowercase(),
                });
            }
            Format::Json => {}
        }
    }

    /// Prints a line with the progress (stderr when piped). The text may
    /// quote the model (a plan's error), so it is cleaned.
    pub(crate) fn note(&self, text: &str) {
        if self.output.format() == Format::Human {
            let mut state = self.state();
            self.print(&mut state, &render::strip_controls_line(text));
        }
    }

    /// Updates the board: redrawn in place on a terminal, one line otherwise.
    fn board_update(&self, state: &mut State, item: ProgressItem) {
        let theme = self.output.theme();
        if !self.output.live() {
            let at = self.started.elapsed();
            self.output.error_line(&plain_event_line(at, &item, theme));
        }
        if let Some(board) = &mut state.board {
            board.update(item);
        }
        if self.output.live() {
            self.redraw_board(state);
        }
    }

    fn redraw_board(&self, state: &mut State) {
        if let Some(board) = &state.board {
            let frame = board.frame(self.started.elapsed(), self.output.theme());
            self.output
                .raw(&format!("{}\n", redraw(state.frame_rows, &frame)));
            state.frame_rows = frame_height(&frame);
        }
    }

    /// Prints a line above the live board (or after streamed text).
    fn print(&self, state: &mut State, text: &str) {
        if self.output.live() && state.frame_rows > 0 {
            self.output.raw(&redraw(state.frame_rows, ""));
            state.frame_rows = 0;
            self.output.line(text);
            self.redraw_board(state);
            return;
        }
        if state.streamed_column > 0 {
            self.output.raw("\n");
            state.streamed_rows += 1;
            state.streamed_column = 0;
        }
        match self.scope {
            // Many forks finish in any order: their lines go to stderr, so
            // stdout holds only the (ordered) result when piped.
            Scope::Many { .. } | Scope::Steps { .. } if !self.output.live() => {
                self.output.error_line(text)
            }
            _ => self.output.line(text),
        }
    }

    /// Removes the live board and streamed text before the final result.
    pub(crate) fn finish(&self) {
        let mut state = self.state();
        if !self.output.live() {
            return;
        }
        let rows = state.frame_rows + state.streamed_rows + usize::from(state.streamed_column > 0);
        if rows > 0 {
            // Only clear what is still on screen.
            if rows < terminal_rows() {
                self.output.raw(&redraw(rows, ""));
            } else {
                self.output.raw("\n");
            }
        }
        state.frame_rows = 0;
        state.streamed_rows = 0;
        state.streamed_column = 0;
    }

    /// Time since the reporter was made (the run's wall time).
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
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

fn terminal_rows() -> usize {
    std::env::var("LINES")
        .ok()
        .and_then(|lines| lines.parse().ok())
        .unwrap_or(40)
}
