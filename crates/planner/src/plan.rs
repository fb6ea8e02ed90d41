//! Plans as the planning model writes them and as users edit them on disk.
//!
//! A [`Plan`] is plain data: an analysis and a list of [`Step`]s. Nothing here
//! checks that the steps form a sound graph; [`crate::validate`] does that and
//! hands back a [`crate::ValidPlan`].
//!
//! Field names are snake_case and fixed (`analysis`, `steps`, `step_id`, `name`,
//! `description`, `agent_type`, `task`, `depends_on`): the model's JSON and the
//! saved plan files share them. Reading is lenient where models tend to wander:
//! `id` is accepted for `step_id`, `dependencies` for `depends_on`, ids may be
//! numbers (`1` is read as the id `"1"`), and `depends_on` may be a single id,
//! a comma-separated string or `null`. Ids are kept exactly as written; `"1"`
//! is never rewritten to `"step_1"`, so a plan mixing both styles fails
//! validation with a message naming the unknown dependency.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The id of one step, such as `step_1`.
///
/// ```
/// use planner::StepId;
/// let id = StepId::from("step_1");
/// assert_eq!(id.as_str(), "step_1");
/// assert_eq!(id.to_string(), "step_1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StepId(String);

impl StepId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as written in the plan.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for StepId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<String> for StepId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl<'de> Deserialize<'de> for StepId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdVisitor).map(StepId)
    }
}

/// Reads an id written as a string or as an integer.
struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a step id (a string such as \"step_1\", or a number)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// One unit of work in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Unique id within the plan (`step_1`, ...).
    #[serde(rename = "step_id", alias = "id")]
    pub id: StepId,
    /// Short human name, shown in trees and progress lines.
    #[serde(default)]
    pub name: String,
    /// What the step is for, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// Which kind of agent runs the step (`code`, `research`, ...).
    pub agent_type: String,
    /// The instruction the agent receives.
    pub task: String,
    /// Steps whose results this step needs before it can start.
    #[serde(
        default,
        alias = "dependencies",
        deserialize_with = "deserialize_depends_on"
    )]
    pub depends_on: Vec<StepId>,
}

/// A plan: the planner's analysis of the goal and the steps to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The planner's reading of the goal.
    #[serde(default)]
    pub analysis: String,
    /// The steps, in the order the planner wrote them.
    pub steps: Vec<Step>,
}

/// Reading or writing a plan file failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The file could not be read.
    #[error("cannot read the plan file {path}: {source}; check the path")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a plan.
    #[error(
        "the plan file {path} is not a valid plan: {source}; it needs \"analysis\" and \"steps\" (each with step_id, agent_type, task)"
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error, with line and column.
        source: serde_json::Error,
    },
    /// The file could not be written.
    #[error("cannot write the plan file {path}: {source}; choose a writable location")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Plan {
    /// The plan as indented JSON, the format of saved plan files.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan is plain strings and lists")
    }

    /// Reads a plan file (for example one saved by a run and then edited).
    ///
    /// The file must hold a plan object; use [`crate::parse_plan`] for model
    /// replies that may wrap JSON in prose.
    pub fn from_file(path: &Path) -> Result<Self, PlanFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| PlanFileError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the plan to `path` as indented JSON.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let mut text = self.to_json_pretty();
        text.push('\n');
        std::fs::write(path, text).map_err(|source| PlanFileError::Write {
            path: path.to_owned(),
            source,
        })
    }
}

/// The `responseSchema` (Gemini's OpenAPI subset) for the planning call.
///
/// Every field of a step is required and listed in `propertyOrdering`, so the
/// model writes them in the order of the saved plan files.
pub fn plan_response_schema() -> serde_json::Value {
    let string =
        |description: &str| serde_json::json!({ "type": "STRING", "description": description });
    let step_fields = [
        "step_id",
        "name",
        "description",
        "agent_type",
        "task",
        "depends_on",
    ];
    serde_json::json!({
        "type": "OBJECT",
        "properties": {
            "analysis": string("How the goal breaks down and why the steps are ordered this way."),
            "steps": {
                "type": "ARRAY",
                "items": {
                    "type": "OBJECT",
                    "properties": {
                        "step_id": string("Unique id such as step_1."),
                        "name": string("Short name of the step."),
                        "description": string("What the step achieves."),
                        "agent_type": string("Kind of agent that runs the step."),
                        "task": string("The full instruction for the agent."),
                        "depends_on": {
                            "type": "ARRAY",
                            "description": "Ids of steps whose results this step needs.",
                            "items": { "type": "STRING" }
                        }
                    },
                    "required": step_fields,
                    "propertyOrdering": step_fields
                }
            }
        },
        "required": ["analysis", "steps"],
        "propertyOrdering": ["analysis", "steps"]
    })
}

/// Reads `depends_on` given as a list, a single id, a comma-separated string or null.
fn deserialize_depends_on<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<StepId>, D::Error> {
    deserializer.deserialize_any(DependsOnVisitor)
}

struct DependsOnVisitor;

impl<'de> Visitor<'de> for DependsOnVisitor {
    type Value = Vec<StepId>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of step ids, a single step id or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(StepId::from)
            .collect())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(vec![StepId(v.to_string())])
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(vec![StepId(v.to_string())])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut ids = Vec::new();
        while let Some(id) = seq.next_element::<StepId>()? {
            ids.push(id);
        }
        Ok(ids)
    }
}
