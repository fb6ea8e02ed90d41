//! Who a run is: its id, its kind and what it was asked to do.

use std::fmt;
use std::str::FromStr;

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The id of a run and the name of its folder, such as
/// `run_20261128_074902_ab12` (UTC time it was created, then a random suffix).
///
/// ```
/// use planner::RunId;
/// let id: RunId = "run_20261128_074902_ab12".parse().unwrap();
/// assert_eq!(id.as_str(), "run_20261128_074902_ab12");
/// assert!("../etc".parse::<RunId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// A fresh id for a run starting now.
    pub fn generate() -> Self {
        let stamp = Utc::now().format("%Y%m%d_%H%M%S");
        Self(format!("run_{stamp}_{:04x}", fastrand::u16(..)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A run id that could not be used as a folder name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a run id; run ids use only letters, digits, '_' and '-' (e.g. run_20261128_074902_ab12)"
)]
pub struct BadRunId(String);

impl FromStr for RunId {
    type Err = BadRunId;

    /// Accepts letters, digits, `_` and `-`, so an id is always a plain
    /// folder name and never a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let plain = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if plain {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadRunId(s.to_owned()))
        }
    }
}

impl TryFrom<String> for RunId {
    type Error = BadRunId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> Self {
        id.0
    }
}

/// What kind of work a run does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// One forked agent.
    Fork,
    /// Several agents on a list of tasks.
    Swarm,
    /// A plan run step by step.
    Plan,
    /// A named workflow (`map_reduce`, `refine`, ...).
    Workflow(String),
}

impl fmt::Display for RunKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fork => f.write_str("fork"),
            Self::Swarm => f.write_str("swarm"),
            Self::Plan => f.write_str("plan"),
            Self::Workflow(name) => write!(f, "workflow:{name}"),
        }
    }
}

/// What a run is, recorded as its first journal event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The run's id (and folder name).
    pub id: RunId,
    /// What kind of work it does.
    pub kind: RunKind,
    /// When it was created, RFC 3339 in UTC.
    pub created: String,
    /// One line saying what was asked (the goal, the task), for listings.
    pub summary: String,
    /// The arguments needed to run it again, as the caller chooses to record them.
    #[serde(default)]
    pub args: serde_json::Value,
}

impl RunMeta {
    /// Metadata for a run created now, with a fresh id.
    pub fn new(kind: RunKind, summary: impl Into<String>, args: serde_json::Value) -> Self {
        Self {
            id: RunId::generate(),
            kind,
            created: now_rfc3339(),
            summary: summary.into(),
            args,
        }
    }
}

/// The current time as RFC 3339 in UTC with milliseconds.
pub(crate) fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
