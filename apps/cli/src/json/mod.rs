//! Every `--json` and `--jsonl` shape of the CLI, in one place: stable,
//! documented in `docs/json.md`, snake_case. Library types are converted
//! here by hand, so a library change cannot silently change what scripts
//! read. Commands build one of these types and hand it to
//! [`crate::output::Output::json_value`], which wraps it in a
//! [`Document`] (the `schema_version` field).

mod commands;
mod events;
mod fork;
mod inspect;
mod mcp;
mod models;

pub(crate) use commands::*;
pub(crate) use events::{EventLine, StepEventLine};
pub(crate) use fork::ForkJson;
pub(crate) use inspect::*;
pub(crate) use mcp::*;
pub(crate) use models::*;

use agent_core::ForkStatus;
use genai_client::{CostTotal, Usage};
use serde::Serialize;

/// The version of every top-level document's shape. It goes up when a
/// field is removed or changes meaning; new fields may appear without it.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// A top-level `--json` document: `schema_version`, then the command's
/// own fields.
#[derive(Debug, Serialize)]
pub(crate) struct Document<'a, T: Serialize> {
    /// Always [`SCHEMA_VERSION`].
    pub(crate) schema_version: u32,
    /// The command's fields, at the same level.
    #[serde(flatten)]
    pub(crate) body: &'a T,
}

impl<'a, T: Serialize> Document<'a, T> {
    /// `body` under the current schema version.
    pub(crate) fn new(body: &'a T) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            body,
        }
    }
}

/// The document printed under `--json` when a command fails before it has
/// a result (bad input, an unreadable file, an API error): stdout stays one
/// JSON document. The same one line goes to stderr.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorDocument {
    /// What went wrong.
    pub(crate) error: CommandError,
}

/// A command's failure.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CommandError {
    /// `usage` (exit 2), `work_failed` (1), `api` (3) or `interrupted` (130).
    pub(crate) kind: ErrorKindJson,
    /// The one-line message also written to stderr.
    pub(crate) message: String,
    /// The process's exit code.
    pub(crate) exit_code: u8,
}

impl CommandError {
    /// The error document's body for a failure with `exit` and `message`.
    pub(crate) fn new(exit: crate::exit::Exit, message: &str) -> Self {
        use crate::exit::Exit;
        let kind = match exit {
            Exit::Usage => ErrorKindJson::Usage,
            Exit::Api => ErrorKindJson::Api,
            Exit::Interrupted => ErrorKindJson::Interrupted,
            Exit::Success | Exit::WorkFailed => ErrorKindJson::WorkFailed,
        };
        Self {
            kind,
            message: message.to_owned(),
            exit_code: exit.code(),
        }
    }
}

/// The kinds of [`CommandError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKindJson {
    /// Bad usage or input.
    Usage,
    /// The work failed.
    WorkFailed,
    /// The API refused or failed.
    Api,
    /// Interrupted.
    Interrupted,
}

/// How one task, step, attempt or fork ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// It finished and did its work.
    Succeeded,
    /// It ran and failed (an error, or the turn limit with work pending).
    Failed,
    /// It was stopped (Ctrl-C, or the spending budget ran out).
    Cancelled,
    /// It never ran (a dependency failed, or the run stopped first).
    NotStarted,
}

impl From<ForkStatus> for Status {
    fn from(status: ForkStatus) -> Self {
        match status {
            ForkStatus::Success => Self::Succeeded,
            ForkStatus::Partial | ForkStatus::Error => Self::Failed,
            ForkStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// How many of a run's parts ended each way; the four counts add up to
/// `total`, the number of parts the run was asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    /// Parts asked for.
    pub(crate) total: usize,
    /// Parts that succeeded.
    pub(crate) succeeded: usize,
    /// Parts that failed.
    pub(crate) failed: usize,
    /// Parts that were stopped.
    pub(crate) cancelled: usize,
    /// Parts that never ran.
    pub(crate) not_started: usize,
}

impl Counts {
    /// Counts `statuses` out of `total` parts; parts without a status never
    /// started.
    pub(crate) fn of(total: usize, statuses: impl IntoIterator<Item = Status>) -> Self {
        let mut counts = Self {
            total,
            ..Self::default()
        };
        for status in statuses {
            counts.add(status);
        }
        counts.not_started = total
            .saturating_sub(counts.succeeded + counts.failed + counts.cancelled)
            .max(counts.not_started);
        counts
    }

    /// Counts one more part's status (`total` is not changed).
    pub(crate) fn add(&mut self, status: Status) {
        match status {
            Status::Succeeded => self.succeeded += 1,
            Status::Failed => self.failed += 1,
            Status::Cancelled => self.cancelled += 1,
            Status::NotStarted => self.not_started += 1,
        }
    }

    /// The counts so far against `total` parts: the parts not counted never
    /// started.
    pub(crate) fn against(mut self, total: usize) -> Self {
        self.total = total;
        let counted = self.succeeded + self.failed + self.cancelled + self.not_started;
        self.not_started += total.saturating_sub(counted);
        self
    }
}

/// What a run's outcome ([`planner::WorkflowStatus`]) is called in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunStatus {
    /// Every part succeeded.
    Completed,
    /// Some part failed.
    Failed,
    /// Stopped by the user or the budget.
    Cancelled,
}

impl From<planner::WorkflowStatus> for RunStatus {
    fn from(status: planner::WorkflowStatus) -> Self {
        match status {
            planner::WorkflowStatus::Completed => Self::Completed,
            planner::WorkflowStatus::Failed => Self::Failed,
            planner::WorkflowStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// Token counts by kind.
#[derive(Debug, Serialize)]
pub(crate) struct UsageJson {
    pub(crate) prompt: u64,
    pub(crate) output: u64,
    pub(crate) thinking: u64,
    pub(crate) cached: u64,
    pub(crate) tool_use: u64,
    pub(crate) total: u64,
}

impl From<&Usage> for UsageJson {
    fn from(usage: &Usage) -> Self {
        Self {
            prompt: usage.prompt,
            output: usage.candidates,
            thinking: usage.thoughts,
            cached: usage.cached,
            tool_use: usage.tool_use,
            total: usage.total,
        }
    }
}

/// What model calls cost, as far as the price table knows: `amount` is
/// `null` unless every call was priced (then `priced_amount` is a floor,
/// never an estimate of the rest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CostJson {
    /// Always `USD`.
    pub(crate) currency: &'static str,
    /// The whole cost in dollars when every call was priced, else `null`.
    pub(crate) amount: Option<f64>,
    /// The sum of the priced calls, in dollars.
    pub(crate) priced_amount: f64,
    /// The same sum in picodollars (10⁻¹² USD), exact.
    pub(crate) priced_picodollars: u64,
    /// Calls priced.
    pub(crate) priced_calls: u64,
    /// Calls the price table could not price.
    pub(crate) unpriced_calls: u64,
    /// True when every call was priced (and nothing is left out).
    pub(crate) complete: bool,
    /// The date of the price table used (`YYYY-MM-DD`), when any call was priced.
    pub(crate) price_table: Option<String>,
    /// Work this cost leaves out, when some is (e.g. `planning`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) excludes: Vec<&'static str>,
}

impl From<&CostTotal> for CostJson {
    fn from(cost: &CostTotal) -> Self {
        Self {
            currency: "USD",
            amount: cost.known().map(genai_client::Usd::dollars),
            priced_amount: cost.usd.dollars(),
            priced_picodollars: cost.usd.picodollars(),
            priced_calls: cost.priced_calls,
            unpriced_calls: cost.unpriced_calls,
            complete: cost.is_complete(),
            price_table: cost.price_table.map(|date| date.to_string()),
            excludes: Vec::new(),
        }
    }
}

impl CostJson {
    /// The same cost, saying it leaves out `part` (so it is not complete).
    pub(crate) fn excluding(mut self, part: &'static str) -> Self {
        self.excludes.push(part);
        self.complete = false;
        self.amount = None;
        self
    }
}

/// Why something failed.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorJson {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) http_status: Option<u16>,
}

/// Whole milliseconds, for the `*_ms` fields.
pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_to_the_real_total() {
        let counts = Counts::of(5, [Status::Succeeded, Status::Failed, Status::Cancelled]);
        assert_eq!(
            (
                counts.succeeded,
                counts.failed,
                counts.cancelled,
                counts.not_started
            ),
            (1, 1, 1, 2)
        );
        let mut partial = Counts::default();
        partial.add(Status::Succeeded);
        assert_eq!(partial.against(3).not_started, 2);
    }

    #[test]
    fn an_incomplete_cost_has_no_amount() {
        let mut total = CostTotal::default();
        total.add_call(&Err(genai_client::Unpriced::NoModel));
        let json = CostJson::from(&total);
        assert_eq!(
            (json.amount, json.complete, json.unpriced_calls),
            (None, false, 1)
        );
        let whole = CostJson::from(&CostTotal::default());
        assert_eq!(whole.amount, Some(0.0));
        assert_eq!(whole.excluding("planning").amount, None);
    }

    #[test]
    fn a_document_starts_with_its_schema_version() {
        let body = UsageJson::from(&Usage::default());
        let text = serde_json::to_string(&Document::new(&body)).unwrap();
        assert!(
            text.starts_with("{\"schema_version\":1,\"prompt\":0"),
            "{text}"
        );
    }
}
