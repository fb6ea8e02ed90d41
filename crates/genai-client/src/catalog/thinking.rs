//! One thinking setting for users, translated per model into the
//! `thinkingConfig` that model accepts.
//!
//! | setting | Gemini 3 (levels) | Gemini 2.5 (budget) |
//! |---|---|---|
//! | `auto` | nothing sent: the model's default level | `thinkingBudget: -1` (dynamic) |
//! | `minimal`..`high` | that level, or the nearest accepted one (with a notice) | the model's budget for that level |
//! | `off`, `0` | `MINIMAL` where accepted (with a notice), else refused | `0` where allowed, else refused |
//! | a token count | mapped to a level (≤512 minimal, ≤1024 low, ≤8192 medium, more high), with a notice | the count, clamped to the model's range (with a notice) |
//!
//! A request never carries both `thinkingLevel` and `thinkingBudget`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ModelInfo, ThinkingControl};
use crate::types::request::{ThinkingConfig, ThinkingLevel};

/// What a user asks for: `off`, a level, `auto`, or a token count.
///
/// ```
/// use genai_client::catalog::{self, ThinkingSetting};
/// let setting: ThinkingSetting = "high".parse().unwrap();
/// let plan = catalog::lookup("gemini-2.5-flash").thinking_plan(setting).unwrap();
/// assert_eq!(plan.budget, Some(24576));
/// assert_eq!(plan.level, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThinkingSetting {
    /// No thinking (where the model allows it).
    Off,
    /// A level.
    Level(ThinkingLevel),
    /// The model decides (dynamic budget, or the default level).
    Auto,
    /// A token budget (`0` means off).
    Tokens(u32),
}

/// A thinking setting that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a thinking setting; use off, minimal, low, medium, high, auto, or a token count"
)]
pub struct ThinkingSettingError(pub String);

impl FromStr for ThinkingSetting {
    type Err = ThinkingSettingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let level = ThinkingLevel::ALL
            .into_iter()
            .find(|level| level.name().eq_ignore_ascii_case(trimmed));
        if let Some(level) = level {
            return Ok(Self::Level(level));
        }
        match trimmed.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            // `-1` is the older spelling of a dynamic budget.
            "auto" | "-1" => Ok(Self::Auto),
            number => number
                .parse::<u32>()
                .map(Self::Tokens)
                .map_err(|_| ThinkingSettingError(text.to_owned())),
        }
    }
}

impl ThinkingSetting {
    /// From an older `thinking_budget` number: `-1` is auto, `0` off.
    pub fn from_budget(budget: i64) -> Result<Self, ThinkingSettingError> {
        match budget {
            -1 => Ok(Self::Auto),
            0 => Ok(Self::Off),
            n => u32::try_from(n)
                .map(Self::Tokens)
                .map_err(|_| ThinkingSettingError(n.to_string())),
        }
    }
}

impl fmt::Display for ThinkingSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::Level(level) => f.write_str(level.name()),
            Self::Auto => f.write_str("auto"),
            Self::Tokens(tokens) => write!(f, "{tokens}"),
        }
    }
}

impl Serialize for ThinkingSetting {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Tokens(tokens) => serializer.serialize_u32(*tokens),
            other => serializer.collect_str(other),
        }
    }
}

impl<'de> Deserialize<'de> for ThinkingSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(number) => Self::from_budget(number).map_err(serde::de::Error::custom),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// What to send for a setting on one model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThinkingPlan {
    /// `thinkingLevel` to send (Gemini 3).
    pub level: Option<ThinkingLevel>,
    /// `thinkingBudget` to send (Gemini 2.5).
    pub budget: Option<i32>,
    /// Said once to the user when the setting was adjusted to fit the model.
    pub notice: Option<String>,
}

impl ThinkingPlan {
    /// The `thinkingConfig` to send, if any (`include_thoughts` asks for
    /// thought summaries).
    pub fn config(&self, include_thoughts: bool) -> Option<ThinkingConfig> {
        if self.level.is_none() && self.budget.is_none() && !include_thoughts {
            return None;
        }
        Some(ThinkingConfig {
            thinking_budget: self.budget,
            thinking_level: self.level,
            include_thoughts: include_thoughts.then_some(true),
        })
    }
}

/// A setting the model cannot take. The message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("thinking `{setting}` cannot be sent to {model}: {reason}")]
pub struct ThinkingError {
    /// The model.
    pub model: String,
    /// The setting asked for.
    pub setting: ThinkingSetting,
    /// Why, and what to use instead.
    pub reason: String,
}

impl ModelInfo {
    /// Translates `setting` into what this model accepts.
    pub fn thinking_plan(&self, setting: ThinkingSetting) -> Result<ThinkingPlan, ThinkingError> {
        translate(self, setting)
    }
}

/// The level a token count stands for.
fn level_for_tokens(tokens: u32) -> ThinkingLevel {
    match tokens {
        0..=512 => ThinkingLevel::Minimal,
        513..=1024 => ThinkingLevel::Low,
        1025..=8192 => ThinkingLevel::Medium,
        _ => ThinkingLevel::High,
    }
}

/// The accepted level nearest to `wanted` (ties go to more thinking).
fn nearest(accepted: &[ThinkingLevel], wanted: ThinkingLevel) -> ThinkingLevel {
    let index = |level: ThinkingLevel| level as i32;
    accepted
        .iter()
        .copied()
        .min_by_key(|level| ((index(*level) - index(wanted)).abs(), -index(*level)))
        .unwrap_or(wanted)
}

fn level_names(accepted: &[ThinkingLevel]) -> String {
    let names: Vec<&str> = accepted.iter().map(|level| level.name()).collect();
    names.join(", ")
}

pub(super) fn translate(
    model: &ModelInfo,
    setting: ThinkingSetting,
) -> Result<ThinkingPlan, ThinkingError> {
    let refuse = |reason: String| ThinkingError {
        model: model.id.clone(),
        setting,
        reason,
    };
    let id = &model.id;
    let setting_for_off = match setting {
        ThinkingSetting::Tokens(0) => ThinkingSetting::Off,
        other => other,
    };
    match &model.thinking {
        ThinkingControl::None => match setting_for_off {
            ThinkingSetting::Auto | ThinkingSetting::Off => Ok(ThinkingPlan::default()),
            _ => Err(refuse(
                "the model has no thinking control; it does not think, so use `off` or `auto`"
                    .to_owned(),
            )),
        },
        ThinkingControl::Levels { accepted, .. } => {
            let level_plan = |level: ThinkingLevel, notice: Option<String>| ThinkingPlan {
                level: Some(level),
                budget: None,
                notice,
            };
            match setting_for_off {
                ThinkingSetting::Auto => Ok(ThinkingPlan::default()),
                ThinkingSetting::Off => {
                    if accepted.contains(&ThinkingLevel::Minimal) {
                        Ok(level_plan(
                            ThinkingLevel::Minimal,
                            Some(format!(
                                "{id} cannot turn thinking off; sending thinkingLevel MINIMAL, the least it allows"
                            )),
                        ))
                    } else {
                        Err(refuse(format!(
                            "it cannot turn thinking off (it accepts {}); use `{}` for the least thinking",
                            level_names(accepted),
                            accepted[0].name()
                        )))
                    }
                }
                ThinkingSetting::Level(wanted) => {
                    if accepted.contains(&wanted) {
                        Ok(level_plan(wanted, None))
                    } else {
                        let level = nearest(accepted, wanted);
                        Ok(level_plan(
                            level,
                            Some(format!(
                                "{id} does not accept thinking level {}; sending {level}, the nearest it accepts",
                                wanted.name()
                            )),
                        ))
                    }
                }
                ThinkingSetting::Tokens(tokens) => {
                    let level = nearest(accepted, level_for_tokens(tokens));
                    Ok(level_plan(
                        level,
                        Some(format!(
                            "{id} takes thinking levels, not token counts; sending {tokens} tokens as thinkingLevel {level}"
                        )),
                    ))
                }
            }
        }
        ThinkingControl::Budget {
            min,
            max,
            can_disable,
            level_budgets,
        } => {
            let budget_plan = |budget: i32, notice: Option<String>| ThinkingPlan {
                level: None,
                budget: Some(budget),
                notice,
            };
            match setting_for_off {
                ThinkingSetting::Auto => Ok(budget_plan(-1, None)),
                ThinkingSetting::Off => {
                    if *can_disable {
                        Ok(budget_plan(0, None))
                    } else {
                        Err(refuse(format!(
                            "it cannot turn thinking off (budgets {min}-{max}); use `minimal` ({} tokens) for the least thinking",
                            level_budgets[0]
                        )))
                    }
                }
                ThinkingSetting::Level(level) => {
                    Ok(budget_plan(level_budgets[level as usize], None))
                }
                ThinkingSetting::Tokens(tokens) => {
                    let wanted = i64::from(tokens);
                    let budget = wanted.clamp(i64::from(*min), i64::from(*max)) as i32;
                    let notice = (i64::from(budget) != wanted).then(|| {
                        format!(
                            "{id} accepts thinking budgets {min}-{max}; sending {budget} instead of {tokens}"
                        )
                    });
                    Ok(budget_plan(budget, notice))
                }
            }
        }
    }
}
