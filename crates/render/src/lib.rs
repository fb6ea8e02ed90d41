//! Terminal rendering for agent-fork: panels, trees, markdown, tables,
//! status and usage lines, and progress.
//!
//! # What this crate owns
//!
//! How agent-fork looks in a terminal: the rounded [`Panel`] around a fork,
//! a swarm or a model's answer; [`markdown()`] for answers; the plan
//! [`tree()`]; plain aligned [`columns()`]; one-line renderers ([`status_line`], [`key_value`], [`rule`],
//! [`usage_line`]); a live [`ProgressBoard`] and its plain, line-per-event
//! counterparts ([`plain_event_line`], [`retry_line`]); and the
//! [`humanize`] helpers for counts and durations.
//!
//! # Rules
//!
//! - **No I/O.** render never touches the network, the file system, the
//!   clock or the terminal, and never prints. Every function returns a
//!   `String`; the CLI decides where it goes. Callers pass the width,
//!   whether to colour ([`Theme`], decided with [`resolve_color`]) and any
//!   elapsed times, so output is a pure function of the input.
//! - **No other project crate.** Callers convert their own types into the
//!   plain values taken here (strings, counts, durations).
//! - **No colour unless asked.** When [`Theme::color`] is false, no output
//!   contains an escape byte; input text is cleaned too (control characters
//!   become `�`). [`redraw`] is the one exception: it exists to emit cursor
//!   movement and is only meant for terminals.
//! - **Widths are display widths** (an emoji takes two columns). Multi-line
//!   results are joined with `\n` and carry no trailing newline.
//!
//! ```
//! use render::{key_value, Panel, Theme};
//! let theme = Theme::plain(60);
//! let body = [
//!     "Forking to general agent".to_owned(),
//!     key_value("Model", "gemini-2.5-flash", &theme),
//! ]
//! .join("\n");
//! let panel = Panel::new(body).title("🔀 Fork fork_095723_001").render(&theme);
//! assert!(panel.starts_with("╭─"));
//! ```

mod columns;
pub mod humanize;
mod lines;
mod markdown;
mod panel;
mod progress;
mod text;
mod theme;
mod tree;

pub use crate::columns::columns;
pub use crate::lines::{Status, UsageLine, key_value, rule, status_line, usage_line};
pub use crate::markdown::{MIN_MARKDOWN_WIDTH, markdown};
pub use crate::panel::Panel;
pub use crate::progress::{
    MAX_FRAME_LINES, ProgressBoard, ProgressCounts, ProgressItem, frame_height, plain_event_line,
    redraw, retry_line, retry_line_for, spinner,
};
pub use crate::text::{ControlStripper, display_width, strip_controls, strip_controls_line};
pub use crate::theme::{
    Accent, ColorChoice, MAX_WIDTH, MIN_WIDTH, ParseColorChoiceError, Theme, resolve_color,
};
pub use crate::tree::{TreeItem, tree};
