//! `agent-fork models --json`: the models a key can use, with what the
//! catalog knows of each.

use genai_client::catalog::ThinkingControl;
use serde::Serialize;

/// `agent-fork models --json`.
#[derive(Debug, Serialize)]
pub(crate) struct ModelsJson {
    /// `api` (what the key can use, merged with the catalog) or `catalog`.
    pub(crate) source: &'static str,
    /// The date the catalog was last reviewed.
    pub(crate) catalog_reviewed: String,
    /// The date days to shutdown are counted from.
    pub(crate) today: String,
    /// One row a model.
    pub(crate) models: Vec<ModelRow>,
}

/// One model.
#[derive(Debug, Serialize)]
pub(crate) struct ModelRow {
    pub(crate) id: String,
    pub(crate) display_name: Option<String>,
    /// `listed`, `alias` or `rule` (not in the catalog: its generation's rules).
    pub(crate) catalog: &'static str,
    /// The model an alias follows.
    pub(crate) alias_of: Option<String>,
    pub(crate) generation: &'static str,
    pub(crate) family: &'static str,
    pub(crate) thinking: ThinkingJson,
    pub(crate) input_token_limit: Option<u64>,
    pub(crate) output_token_limit: Option<u64>,
    pub(crate) stage: Option<&'static str>,
    pub(crate) shutdown: Option<String>,
    pub(crate) days_to_shutdown: Option<i64>,
    pub(crate) replacement: Option<String>,
    /// USD per 1M tokens (Standard tier), when the catalog knows them.
    pub(crate) price: Option<PriceJson>,
    /// The thinking control as the table shows it.
    #[serde(skip)]
    pub(crate) thinking_text: String,
}

/// How a model's thinking is controlled.
#[derive(Debug, Serialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub(crate) enum ThinkingJson {
    /// `thinkingLevel` (Gemini 3).
    Levels {
        accepted: Vec<&'static str>,
        default: &'static str,
    },
    /// `thinkingBudget` (Gemini 2.5).
    Budget {
        min: i32,
        max: i32,
        can_disable: bool,
    },
    /// No thinking control.
    None,
}

impl From<&ThinkingControl> for ThinkingJson {
    fn from(control: &ThinkingControl) -> Self {
        match control {
            ThinkingControl::Levels { accepted, default } => Self::Levels {
                accepted: accepted.iter().map(|level| level.as_str()).collect(),
                default: default.as_str(),
            },
            ThinkingControl::Budget {
                min,
                max,
                can_disable,
                ..
            } => Self::Budget {
                min: *min,
                max: *max,
                can_disable: *can_disable,
            },
            ThinkingControl::None => Self::None,
        }
    }
}

/// Prices per 1M tokens; thinking is billed as output.
#[derive(Debug, Serialize)]
pub(crate) struct PriceJson {
    pub(crate) input: f64,
    pub(crate) output: f64,
    pub(crate) cached: Option<f64>,
    pub(crate) batch: bool,
}
