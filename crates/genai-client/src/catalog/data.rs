//! The catalog file's shape, parsed once from `models.toml`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::types::request::ThinkingLevel;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    pub(crate) defaults: BTreeMap<String, DefaultEntry>,
    #[serde(default)]
    pub(crate) alias: Vec<AliasEntry>,
    #[serde(default)]
    pub(crate) rule: Vec<RuleEntry>,
    #[serde(default)]
    pub(crate) model: Vec<ModelEntry>,
    pub(crate) review: Review,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefaultEntry {
    pub(crate) model: String,
    pub(crate) thinking: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AliasEntry {
    pub(crate) id: String,
    pub(crate) target: String,
    pub(crate) source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleEntry {
    pub(crate) generation: String,
    pub(crate) family: String,
    pub(crate) thinking: ThinkingEntry,
    pub(crate) tools: ToolsEntry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelEntry {
    pub(crate) id: String,
    pub(crate) generation: String,
    pub(crate) family: String,
    pub(crate) lifecycle: LifecycleEntry,
    pub(crate) thinking: ThinkingEntry,
    pub(crate) tools: ToolsEntry,
    pub(crate) limits: Option<LimitsEntry>,
    pub(crate) price: Option<PriceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LifecycleEntry {
    pub(crate) stage: String,
    pub(crate) released: Option<String>,
    pub(crate) shutdown: Option<String>,
    pub(crate) replacement: Option<String>,
    pub(crate) routed_to: Option<String>,
    pub(crate) source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThinkingEntry {
    pub(crate) control: Option<String>,
    pub(crate) levels: Option<Vec<ThinkingLevel>>,
    pub(crate) default_level: Option<ThinkingLevel>,
    pub(crate) budget_min: Option<i32>,
    pub(crate) budget_max: Option<i32>,
    pub(crate) can_disable: Option<bool>,
    pub(crate) level_budgets: Option<LevelBudgetsEntry>,
    pub(crate) source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LevelBudgetsEntry {
    pub(crate) minimal: i32,
    pub(crate) low: i32,
    pub(crate) medium: i32,
    pub(crate) high: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolsEntry {
    pub(crate) mixing: String,
    pub(crate) source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsEntry {
    pub(crate) input_tokens: u32,
    pub(crate) output_tokens: u32,
    pub(crate) source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceEntry {
    pub(crate) input: f64,
    pub(crate) output: f64,
    pub(crate) cached: Option<f64>,
    pub(crate) long_context_over: Option<u32>,
    pub(crate) input_long: Option<f64>,
    pub(crate) output_long: Option<f64>,
    pub(crate) cached_long: Option<f64>,
    pub(crate) until: Option<String>,
    pub(crate) later_input: Option<f64>,
    pub(crate) later_output: Option<f64>,
    pub(crate) batch: bool,
    pub(crate) source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Review {
    pub(crate) reviewed: String,
    pub(crate) unconfirmed: Vec<String>,
}
