//! A run seen in a browser: one self-contained HTML report of a run's
//! journal, and a read-only live web view of every run in a runs folder.
//!
//! # What this crate owns
//!
//! - [`RunView`]: a run as the pages show it, built from planner's journal
//!   reader types ([`planner::JournalContents`]), with the journal's own
//!   times as the clock.
//! - [`report_html`]: the run's page: totals and settings, the plan's DAG as
//!   SVG (layered with petgraph, coloured by status, the critical path
//!   marked), a timeline of every step or fork (queued, attempts, retry
//!   delays, the running count against the concurrency limit), and each
//!   step's or fork's detail with its result as markdown, collapsed.
//! - [`serve`]: the live view: a loopback-only HTTP server with a random
//!   token, a strict Content-Security-Policy, and server-sent events that
//!   follow each journal as it grows.
//!
//! # Rules
//!
//! - **Everything a model wrote is hostile.** Results, tool names, file
//!   names, sources, errors, plan texts: all pass through [`escape`] (after
//!   render's control stripper); markdown becomes HTML through a fixed list
//!   of elements ([`markdown_html`]); only absolute http(s) links are
//!   clickable ([`safe_href`]).
//! - **A report fetches nothing.** No scripts, fonts or images; the style
//!   sheet is inline and allowed by its hash.
//! - **No secrets.** Settings come from the run's recorded `settings`;
//!   names that look like keys or tokens are left out.
//! - It never prints: pages are strings, the server reports its address.

mod escape;
mod markdown;
mod model;
mod page;
mod serve;
mod svg;

pub use crate::escape::{escape, safe_href};
pub use crate::markdown::markdown_html;
pub use crate::model::{
    ApprovalEntry, Attempt, AttemptEnd, BatchJob, Instant, RunView, Unit, UnitStatus,
};
pub use crate::page::{
    IndexEntry, PageMode, content_security_policy, index_html, report_html, run_body, state_word,
};
pub use crate::serve::{POLL_INTERVAL, ServeError, ServeOptions, Server, serve};
