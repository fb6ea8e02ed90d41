//! What agent-fork knows about Gemini models: their generation, how
//! thinking is controlled, whether built-in tools combine with function
//! calling, limits, lifecycle and prices.
//!
//! Known ids come from one reviewed data file (`catalog/models.toml`,
//! embedded and parsed once); ids the catalog does not list follow the rules
//! of their generation and family, read from the id itself, so a new
//! `gemini-3.8-flash` works on the day it ships with the 3.x rules. Rolling
//! aliases (`gemini-flash-latest`) get the rules of the model they follow.
//!
//! ```
//! use genai_client::catalog::{self, BuiltinToolMixing, Generation};
//! let model = catalog::lookup("gemini-3.9-flash");
//! assert_eq!(model.generation, Generation::Gemini3);
//! assert_eq!(model.builtin_tool_mixing, BuiltinToolMixing::WithServerSideInvocations);
//! ```

mod data;
mod thinking;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::types::request::ThinkingLevel;

pub use thinking::{ThinkingError, ThinkingPlan, ThinkingSetting, ThinkingSettingError};

/// The catalog file, as reviewed (what people edit; the tests read it).
#[cfg(test)]
const CATALOG_TOML: &str = include_str!("models.toml");

/// The same file as compact JSON, written by `build.rs`: what a run reads.
const CATALOG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/models.json"));

/// The model generation, which decides the request rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Generation {
    /// Gemini 2.0 (shut down; kept to explain errors).
    Gemini2_0,
    /// Gemini 2.5: thinking by token budget; built-in tools cannot be
    /// combined with function declarations.
    Gemini2_5,
    /// Gemini 3.x: thinking by level; built-in tools combine with function
    /// declarations when server-side tool invocations are included.
    Gemini3,
    /// An id whose generation cannot be read (treated with the current
    /// generation's rules).
    Unknown,
}

impl Generation {
    /// A short label: `2.0`, `2.5`, `3`, `?`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Gemini2_0 => "2.0",
            Self::Gemini2_5 => "2.5",
            Self::Gemini3 => "3",
            Self::Unknown => "?",
        }
    }

    fn parse(text: &str) -> Option<Generation> {
        match text {
            "2.0" => Some(Self::Gemini2_0),
            "2.5" => Some(Self::Gemini2_5),
            "3" => Some(Self::Gemini3),
            _ => None,
        }
    }
}

/// The model family within a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// Deep reasoning.
    Pro,
    /// The workhorse.
    Flash,
    /// Cheapest and fastest.
    FlashLite,
    /// Not one of the above.
    Other,
}

impl Family {
    /// A short label: `pro`, `flash`, `flash-lite`, `other`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pro => "pro",
            Self::Flash => "flash",
            Self::FlashLite => "flash-lite",
            Self::Other => "other",
        }
    }

    fn parse(text: &str) -> Option<Family> {
        match text {
            "pro" => Some(Self::Pro),
            "flash" => Some(Self::Flash),
            "flash-lite" => Some(Self::FlashLite),
            _ => None,
        }
    }
}

/// Whether, and how, Gemini's built-in tools (Google Search, code
/// execution) can be sent in the same request as function declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinToolMixing {
    /// The combination is refused by the model (a 400 "Tool use with
    /// function calling is unsupported").
    Unsupported,
    /// The combination works with `toolConfig.includeServerSideToolInvocations`
    /// set; the model turn then carries `toolCall`/`toolResponse` parts that
    /// must be replayed exactly.
    WithServerSideInvocations,
}

impl BuiltinToolMixing {
    fn parse(text: &str) -> Option<BuiltinToolMixing> {
        match text {
            "unsupported" => Some(Self::Unsupported),
            "server-side-invocations" => Some(Self::WithServerSideInvocations),
            _ => None,
        }
    }
}

/// How a model's thinking is controlled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThinkingControl {
    /// Gemini 3: `thinkingLevel`, from the accepted set.
    Levels {
        /// Accepted levels, least thinking first.
        accepted: Vec<ThinkingLevel>,
        /// The level the model uses when none is sent.
        default: ThinkingLevel,
    },
    /// Gemini 2.5: `thinkingBudget` in tokens (`-1` = dynamic).
    Budget {
        /// The smallest budget with thinking on.
        min: i32,
        /// The largest budget.
        max: i32,
        /// Whether `0` (thinking off) is accepted.
        can_disable: bool,
        /// The budgets `minimal`, `low`, `medium` and `high` map to.
        level_budgets: [i32; 4],
    },
    /// The model does not think (no `thinkingConfig` may be sent).
    None,
}

impl ThinkingControl {
    /// A short description, e.g. `levels LOW|MEDIUM|HIGH (default MEDIUM)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Levels { accepted, default } => {
                let names: Vec<&str> = accepted.iter().map(|level| level.as_str()).collect();
                format!("levels {} (default {default})", names.join("|"))
            }
            Self::Budget {
                min,
                max,
                can_disable,
                ..
            } => format!(
                "budget {min}-{max}{}",
                if *can_disable {
                    ", 0 = off"
                } else {
                    ", always on"
                }
            ),
            Self::None => "none".to_owned(),
        }
    }
}

/// Where a model is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// A preview: may change or go at short notice.
    Preview,
    /// Generally available.
    Ga,
    /// Announced for shutdown.
    Deprecated,
    /// Shut down: requests fail (or are routed elsewhere).
    Retired,
}

impl Stage {
    /// A short label: `preview`, `ga`, `deprecated`, `retired`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Preview => "preview",
            Self::Ga => "ga",
            Self::Deprecated => "deprecated",
            Self::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Option<Stage> {
        match text {
            "preview" => Some(Self::Preview),
            "ga" => Some(Self::Ga),
            "deprecated" => Some(Self::Deprecated),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }
}

/// A model's lifecycle, as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// The stage.
    pub stage: Stage,
    /// When it was released.
    pub released: Option<NaiveDate>,
    /// The announced (earliest) shutdown date.
    pub shutdown: Option<NaiveDate>,
    /// The model Google recommends instead.
    pub replacement: Option<String>,
    /// Where Google routes requests after the shutdown, when it does.
    pub routed_to: Option<String>,
}

impl Lifecycle {
    /// Days from `today` to the shutdown (negative once past).
    pub fn days_to_shutdown(&self, today: NaiveDate) -> Option<i64> {
        self.shutdown.map(|date| (date - today).num_days())
    }

    /// True when the model is shut down on `today`.
    pub fn is_shut_down(&self, today: NaiveDate) -> bool {
        self.stage == Stage::Retired || self.days_to_shutdown(today).is_some_and(|days| days <= 0)
    }
}

/// Input and output token limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Context window (input tokens).
    pub input_tokens: u32,
    /// Largest output, thinking included.
    pub output_tokens: u32,
}

/// A dollar amount per million tokens, kept exact in millionths of a dollar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PerMillion(u64);

impl PerMillion {
    fn from_usd(usd: f64) -> PerMillion {
        // Prices in the file have at most six decimals.
        PerMillion((usd * 1_000_000.0).round().max(0.0) as u64)
    }

    /// Millionths of a US dollar per million tokens (exact).
    pub fn microdollars(self) -> u64 {
        self.0
    }

    /// US dollars per million tokens.
    pub fn usd(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }
}

impl fmt::Display for PerMillion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.2}", self.usd())
    }
}

/// Prices per 1M tokens on the Standard paid tier. Thinking tokens are
/// billed as output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// Input.
    pub input: PerMillion,
    /// Output, thinking included.
    pub output: PerMillion,
    /// Cached input, when known.
    pub cached: Option<PerMillion>,
    /// The long-context tier, when the model has one.
    pub long_context: Option<LongContextPrice>,
    /// An announced change: the prices above hold until this date (inclusive).
    pub until: Option<NaiveDate>,
    /// Input and output prices after `until`.
    pub later: Option<(PerMillion, PerMillion)>,
    /// Whether the Batch API (half price) serves the model.
    pub batch: bool,
}

impl Price {
    /// Input and output prices on `day` (after an announced change, the
    /// later ones).
    pub fn rates_on(&self, day: NaiveDate) -> (PerMillion, PerMillion) {
        match (self.until, self.later) {
            (Some(until), Some(later)) if day > until => later,
            _ => (self.input, self.output),
        }
    }
}

/// Prices for prompts longer than a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongContextPrice {
    /// Prompts over this many tokens pay the prices below.
    pub over_tokens: u32,
    /// Input.
    pub input: PerMillion,
    /// Output.
    pub output: PerMillion,
    /// Cached input, when known.
    pub cached: Option<PerMillion>,
}

/// Where a [`ModelInfo`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// A model the catalog lists.
    Listed,
    /// A rolling alias; the rules are those of `target`.
    Alias {
        /// The model whose rules apply.
        target: String,
    },
    /// Not listed: the rules of its generation and family.
    Rule,
}

/// What the catalog says about one model id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The id as asked for, without a `models/` prefix.
    pub id: String,
    /// The generation whose request rules apply.
    pub generation: Generation,
    /// How built-in tools combine with function calling.
    pub builtin_tool_mixing: BuiltinToolMixing,
    /// The family.
    pub family: Family,
    /// Listed, an alias, or by rule.
    pub provenance: Provenance,
    /// How thinking is controlled.
    pub thinking: ThinkingControl,
    /// Lifecycle (listed models only).
    pub lifecycle: Option<Lifecycle>,
    /// Token limits, when known.
    pub limits: Option<Limits>,
    /// Prices, when known.
    pub price: Option<Price>,
}

impl ModelInfo {
    /// The shutdown is at most `within_days` days after `today` and not yet
    /// past: the date, the days left and the replacement.
    pub fn shutdown_soon(&self, today: NaiveDate, within_days: i64) -> Option<ShutdownSoon> {
        let lifecycle = self.lifecycle.as_ref()?;
        let days = lifecycle.days_to_shutdown(today)?;
        (lifecycle.stage != Stage::Retired && (0..=within_days).contains(&days)).then(|| {
            ShutdownSoon {
                id: self.id.clone(),
                date: lifecycle.shutdown.unwrap_or(today),
                days,
                replacement: lifecycle.replacement.clone(),
                routed_to: lifecycle.routed_to.clone(),
            }
        })
    }
}

/// A model whose shutdown is near.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownSoon {
    /// The model.
    pub id: String,
    /// The shutdown date.
    pub date: NaiveDate,
    /// Days left (0 = today).
    pub days: i64,
    /// The recommended replacement.
    pub replacement: Option<String>,
    /// Where requests go afterwards, when Google routes them.
    pub routed_to: Option<String>,
}

/// The default model and thinking setting of one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefault {
    /// The model id.
    pub model: String,
    /// The thinking setting.
    pub thinking: ThinkingSetting,
}

/// Looks `model` up (with or without the `models/` prefix): the catalog's
/// entry when it has one, an alias's target rules, else the rules of the
/// generation and family read from the id.
pub fn lookup(model: &str) -> ModelInfo {
    let id = model.strip_prefix("models/").unwrap_or(model);
    let catalog = catalog();
    if let Some(info) = catalog.models.get(id) {
        return info.clone();
    }
    if let Some(target) = catalog.aliases.get(id) {
        let mut info = lookup(target);
        info.id = id.to_owned();
        info.provenance = Provenance::Alias {
            target: target.clone(),
        };
        info.lifecycle = None;
        return info;
    }
    by_rule(catalog, id)
}

/// Every id the catalog lists, aliases included, in the file's order
/// (newest generation first, aliases last).
pub fn known_ids() -> Vec<&'static str> {
    let catalog = catalog();
    catalog
        .order
        .iter()
        .map(String::as_str)
        .chain(catalog.aliases.keys().map(String::as_str))
        .collect()
}

/// The default model and thinking of `role` (`code`, `research`,
/// `analysis`, `creative`, `general`, `planner`, `plan_consolidator`,
/// `refine_reviewer`, `swarm_consolidator`, `summarizer`).
pub fn default_for(role: &str) -> Option<&'static RoleDefault> {
    catalog().defaults.get(role)
}

/// The default model of `role`, or the catalog's general default when the
/// role is unknown.
pub fn default_model(role: &str) -> &'static str {
    default_for(role)
        .or_else(|| default_for("general"))
        .map(|default| default.model.as_str())
        .unwrap_or("gemini-flash-latest")
}

/// What the last review of the catalog could not confirm.
pub fn unconfirmed() -> &'static [String] {
    &catalog().unconfirmed
}

/// The date of the catalog's last review.
pub fn reviewed_on() -> NaiveDate {
    catalog().reviewed
}

/// The parsed catalog.
struct Catalog {
    models: BTreeMap<String, ModelInfo>,
    order: Vec<String>,
    aliases: BTreeMap<String, String>,
    rules: Vec<Rule>,
    defaults: BTreeMap<String, RoleDefault>,
    unconfirmed: Vec<String>,
    reviewed: NaiveDate,
}

struct Rule {
    generation: Generation,
    family: Family,
    thinking: ThinkingControl,
    mixing: BuiltinToolMixing,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match parse_json(CATALOG_JSON) {
        Ok(catalog) => catalog,
        // The file is embedded at build time and checked by the tests.
        Err(error) => panic!("the embedded model catalog is invalid: {error}"),
    })
}

/// Parses and checks a catalog file in TOML (the tests' edited copies).
#[cfg(test)]
fn parse(text: &str) -> Result<Catalog, String> {
    checked(toml::from_str(text).map_err(|error| error.to_string())?)
}

/// Parses and checks the catalog as `build.rs` wrote it.
fn parse_json(text: &str) -> Result<Catalog, String> {
    checked(serde_json::from_str(text).map_err(|error| error.to_string())?)
}

/// Checks a parsed catalog file and builds the catalog.
fn checked(file: data::File) -> Result<Catalog, String> {
    let mut models = BTreeMap::new();
    let mut order = Vec::new();
    for entry in &file.model {
        let info = model_info(entry).map_err(|error| format!("model {}: {error}", entry.id))?;
        if models.insert(entry.id.clone(), info).is_some() {
            return Err(format!("model {} is listed twice", entry.id));
        }
        order.push(entry.id.clone());
    }
    for entry in &file.model {
        let lifecycle = &entry.lifecycle;
        for (what, id) in [
            ("replacement", &lifecycle.replacement),
            ("routed_to", &lifecycle.routed_to),
        ] {
            if let Some(id) = id.as_ref().filter(|id| !models.contains_key(*id)) {
                return Err(format!(
                    "model {}: {what} {id} is not a listed model",
                    entry.id
                ));
            }
        }
        if matches!(
            Stage::parse(&lifecycle.stage),
            Some(Stage::Deprecated | Stage::Retired)
        ) && lifecycle.replacement.is_none()
        {
            return Err(format!(
                "model {}: deprecated without a replacement",
                entry.id
            ));
        }
    }
    let mut aliases = BTreeMap::new();
    for alias in &file.alias {
        need_source(&alias.source, &format!("alias {}", alias.id))?;
        if !models.contains_key(&alias.target) {
            return Err(format!(
                "alias {} points at {}, which is not listed",
                alias.id, alias.target
            ));
        }
        if models.contains_key(&alias.id) {
            return Err(format!("alias {} is also a listed model", alias.id));
        }
        aliases.insert(alias.id.clone(), alias.target.clone());
    }
    let mut rules = Vec::new();
    for rule in &file.rule {
        let context = format!("rule {}/{}", rule.generation, rule.family);
        rules.push(Rule {
            generation: Generation::parse(&rule.generation)
                .ok_or_else(|| format!("{context}: unknown generation"))?,
            family: Family::parse(&rule.family)
                .ok_or_else(|| format!("{context}: unknown family"))?,
            thinking: thinking_control(&rule.thinking).map_err(|e| format!("{context}: {e}"))?,
            mixing: tool_mixing(&rule.tools).map_err(|e| format!("{context}: {e}"))?,
        });
    }
    let mut defaults = BTreeMap::new();
    for (role, entry) in &file.defaults {
        if !models.contains_key(&entry.model) && !aliases.contains_key(&entry.model) {
            return Err(format!(
                "default {role}: {} is not a known model",
                entry.model
            ));
        }
        let thinking: ThinkingSetting = entry
            .thinking
            .parse()
            .map_err(|error| format!("default {role}: {error}"))?;
        let known = &models[&entry.model];
        if let Some(stage @ (Stage::Deprecated | Stage::Retired)) =
            known.lifecycle.as_ref().map(|lifecycle| lifecycle.stage)
        {
            return Err(format!(
                "default {role}: {} is {}",
                entry.model,
                stage.label()
            ));
        }
        thinking::translate(known, thinking).map_err(|error| format!("default {role}: {error}"))?;
        defaults.insert(
            role.clone(),
            RoleDefault {
                model: entry.model.clone(),
                thinking,
            },
        );
    }
    let reviewed = date(&file.review.reviewed)?;
    Ok(Catalog {
        models,
        order,
        aliases,
        rules,
        defaults,
        unconfirmed: file.review.unconfirmed,
        reviewed,
    })
}

fn need_source(source: &str, what: &str) -> Result<(), String> {
    if source.trim().is_empty() {
        Err(format!("{what} has no source"))
    } else {
        Ok(())
    }
}

fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text} is not a YYYY-MM-DD date"))
}

fn model_info(entry: &data::ModelEntry) -> Result<ModelInfo, String> {
    let generation = Generation::parse(&entry.generation).ok_or("unknown generation")?;
    let family = Family::parse(&entry.family).ok_or("unknown family")?;
    let lifecycle = &entry.lifecycle;
    need_source(&lifecycle.source, "lifecycle")?;
    let lifecycle = Lifecycle {
        stage: Stage::parse(&lifecycle.stage).ok_or("unknown lifecycle stage")?,
        released: lifecycle.released.as_deref().map(date).transpose()?,
        shutdown: lifecycle.shutdown.as_deref().map(date).transpose()?,
        replacement: lifecycle.replacement.clone(),
        routed_to: lifecycle.routed_to.clone(),
    };
    let limits = match &entry.limits {
        Some(limits) => {
            need_source(&limits.source, "limits")?;
            Some(Limits {
                input_tokens: limits.input_tokens,
                output_tokens: limits.output_tokens,
            })
        }
        None => None,
    };
    let price = entry.price.as_ref().map(price).transpose()?;
    Ok(ModelInfo {
        id: entry.id.clone(),
        generation,
        builtin_tool_mixing: tool_mixing(&entry.tools)?,
        family,
        provenance: Provenance::Listed,
        thinking: thinking_control(&entry.thinking)?,
        lifecycle: Some(lifecycle),
        limits,
        price,
    })
}

fn price(entry: &data::PriceEntry) -> Result<Price, String> {
    need_source(&entry.source, "price")?;
    let usd = PerMillion::from_usd;
    let long_context = match (entry.long_context_over, entry.input_long, entry.output_long) {
        (Some(over_tokens), Some(input), Some(output)) => Some(LongContextPrice {
            over_tokens,
            input: usd(input),
            output: usd(output),
            cached: entry.cached_long.map(usd),
        }),
        (None, None, None) if entry.cached_long.is_none() => None,
        _ => {
            return Err(
                "a long-context tier needs long_context_over, input_long and output_long".into(),
            );
        }
    };
    let later = match (
        entry.until.as_deref(),
        entry.later_input,
        entry.later_output,
    ) {
        (Some(_), Some(input), Some(output)) => Some((usd(input), usd(output))),
        (None, None, None) => None,
        _ => return Err("a price change needs until, later_input and later_output".into()),
    };
    Ok(Price {
        input: usd(entry.input),
        output: usd(entry.output),
        cached: entry.cached.map(usd),
        long_context,
        until: entry.until.as_deref().map(date).transpose()?,
        later,
        batch: entry.batch,
    })
}

fn tool_mixing(entry: &data::ToolsEntry) -> Result<BuiltinToolMixing, String> {
    need_source(&entry.source, "tools")?;
    BuiltinToolMixing::parse(&entry.mixing)
        .ok_or_else(|| format!("unknown tool mixing {}", entry.mixing))
}

fn thinking_control(entry: &data::ThinkingEntry) -> Result<ThinkingControl, String> {
    need_source(&entry.source, "thinking")?;
    match (entry.control.as_deref(), &entry.levels, entry.budget_min) {
        (Some("none"), None, None) => Ok(ThinkingControl::None),
        (None, Some(levels), None) => {
            let default = entry.default_level.ok_or("levels need a default_level")?;
            let mut accepted = levels.clone();
            accepted.sort();
            accepted.dedup();
            if accepted.is_empty() || !accepted.contains(&default) {
                return Err("the default level must be one of the accepted levels".into());
            }
            Ok(ThinkingControl::Levels { accepted, default })
        }
        (None, None, Some(min)) => {
            let max = entry.budget_max.ok_or("a budget needs budget_max")?;
            let budgets = entry
                .level_budgets
                .as_ref()
                .ok_or("a budget needs level_budgets")?;
            let level_budgets = [budgets.minimal, budgets.low, budgets.medium, budgets.high];
            if min < 1 || max < min || level_budgets.iter().any(|b| !(min..=max).contains(b)) {
                return Err(
                    "budgets must satisfy 1 <= budget_min <= level budgets <= budget_max".into(),
                );
            }
            Ok(ThinkingControl::Budget {
                min,
                max,
                can_disable: entry.can_disable.ok_or("a budget needs can_disable")?,
                level_budgets,
            })
        }
        _ => Err("thinking needs exactly one of control = \"none\", levels, or budget_min".into()),
    }
}

/// The rules for an id the catalog does not list.
fn by_rule(catalog: &Catalog, id: &str) -> ModelInfo {
    let generation = generation_of(id);
    let family = family_of(id);
    let rule_generation = match generation {
        Generation::Unknown => Generation::Gemini3,
        known => known,
    };
    let rule = catalog
        .rules
        .iter()
        .find(|rule| rule.generation == rule_generation && rule.family == family)
        .or_else(|| {
            catalog
                .rules
                .iter()
                .find(|rule| rule.generation == rule_generation && rule.family == Family::Flash)
        });
    let (thinking, mixing) = match rule {
        Some(rule) => (rule.thinking.clone(), rule.mixing),
        None => (
            ThinkingControl::None,
            match generation {
                Generation::Gemini2_0 | Generation::Gemini2_5 => BuiltinToolMixing::Unsupported,
                Generation::Gemini3 | Generation::Unknown => {
                    BuiltinToolMixing::WithServerSideInvocations
                }
            },
        ),
    };
    ModelInfo {
        id: id.to_owned(),
        generation,
        builtin_tool_mixing: mixing,
        family,
        provenance: Provenance::Rule,
        thinking,
        lifecycle: None,
        limits: None,
        price: None,
    }
}

/// Reads the generation from an id such as `gemini-2.5-flash-lite` or
/// `gemini-3.1-pro-preview`.
fn generation_of(id: &str) -> Generation {
    let Some(rest) = id.strip_prefix("gemini-") else {
        return Generation::Unknown;
    };
    let version = rest.split('-').next().unwrap_or("");
    let major = version.split('.').next().unwrap_or("");
    match (major, version) {
        ("2", "2.5") => Generation::Gemini2_5,
        ("2", _) => Generation::Gemini2_0,
        ("3", _) => Generation::Gemini3,
        _ => Generation::Unknown,
    }
}

/// Reads the family from an id: `-flash-lite`, `-flash` or `-pro`.
fn family_of(id: &str) -> Family {
    let parts: Vec<&str> = id.split('-').collect();
    if parts.windows(2).any(|pair| pair == ["flash", "lite"]) {
        Family::FlashLite
    } else if parts.contains(&"flash") {
        Family::Flash
    } else if parts.contains(&"pro") {
        Family::Pro
    } else {
        Family::Other
    }
}

#[cfg(test)]
mod tests;
