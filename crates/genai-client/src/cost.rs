//! What a call cost, priced from the catalog.
//!
//! A call is priced by the model that answered (`modelVersion`), not the one
//! asked for: after a shutdown Google routes requests to another model and
//! bills its rates. The arithmetic, per call (rates in USD per 1M tokens):
//!
//! ```text
//! fresh input = prompt - cached + tool-use prompt   at the input rate
//! cached                                            at the cached rate
//! candidates + thoughts                             at the output rate
//! ```
//!
//! with the long-context rates when the prompt is over the model's threshold,
//! and the rates in force on the day of the call. A model the catalog does
//! not price, or a rate the call needs and the catalog lacks, gives
//! [`Unpriced`]: a cost is never guessed.

use std::fmt;
use std::ops::{Add, AddAssign};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::catalog::{self, PerMillion, Provenance};
use crate::types::response::Usage;

/// An amount of US dollars, exact in picodollars (10⁻¹² USD).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Usd(u64);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd(0);

    /// From picodollars.
    pub const fn from_picodollars(picodollars: u64) -> Usd {
        Usd(picodollars)
    }

    /// From dollars (rounded to the picodollar; negative reads as zero).
    pub fn from_dollars(dollars: f64) -> Usd {
        Usd((dollars * 1e12).round().max(0.0) as u64)
    }

    /// Picodollars.
    pub const fn picodollars(self) -> u64 {
        self.0
    }

    /// Dollars, as a float (for display and JSON).
    pub fn dollars(self) -> f64 {
        self.0 as f64 / 1e12
    }

    /// `tokens` at `rate` per 1M tokens.
    pub fn of_tokens(tokens: u64, rate: PerMillion) -> Usd {
        // rate is in microdollars per 1M tokens: tokens × µ$ / 10⁶ = tokens × rate picodollars.
        Usd(tokens.saturating_mul(rate.microdollars()))
    }

    /// The difference, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Usd) -> Usd {
        Usd(self.0.saturating_sub(other.0))
    }
}

impl Add for Usd {
    type Output = Usd;
    fn add(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, other: Usd) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Add::add)
    }
}

impl fmt::Display for Usd {
    /// `$0.0123` (four decimals; six below a hundredth of a cent).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dollars = self.dollars();
        if dollars != 0.0 && dollars < 0.0001 {
            write!(f, "${dollars:.6}")
        } else {
            write!(f, "${dollars:.4}")
        }
    }
}

/// The cost of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// The amount.
    pub usd: Usd,
    /// The model whose prices applied (after aliases and routing).
    pub priced_as: String,
    /// The day whose prices applied.
    pub priced_on: NaiveDate,
    /// The date of the price table (the catalog's last review).
    pub price_table: NaiveDate,
    /// The long-context rates applied.
    pub long_context: bool,
    /// Priced as a Batch API call (half the standard rates).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch: bool,
}

/// Why a call has no cost.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "reason", content = "model", rename_all = "snake_case")]
pub enum Unpriced {
    /// The reply named no model and none was asked for.
    #[error("the reply names no model")]
    NoModel,
    /// The catalog has no prices for the model.
    #[error("the catalog has no prices for {0}")]
    UnknownModel(String),
    /// The call used cached tokens and the catalog has no cached rate.
    #[error("the catalog has no cached-input price for {0}")]
    NoCachedRate(String),
}

/// Prices one call: `usage` of a reply from `model_version` (the model that
/// answered; `requested` when the reply names none), on `day`.
pub fn cost_of_call(
    usage: &Usage,
    model_version: Option<&str>,
    requested: &str,
    day: NaiveDate,
) -> Result<Cost, Unpriced> {
    let answered = model_version
        .filter(|model| !model.is_empty())
        .unwrap_or(requested);
    if answered.is_empty() {
        return Err(Unpriced::NoModel);
    }
    let mut info = catalog::lookup(answered);
    // After a shutdown, Google routes the call and bills the target's rates.
    let mut hops = 0;
    while let Some(target) = info
        .lifecycle
        .as_ref()
        .filter(|lifecycle| lifecycle.is_shut_down(day))
        .and_then(|lifecycle| lifecycle.routed_to.clone())
    {
        hops += 1;
        if hops > 4 {
            break;
        }
        info = catalog::lookup(&target);
    }
    let priced_as = match &info.provenance {
        Provenance::Alias { target } => target.clone(),
        _ => info.id.clone(),
    };
    let Some(price) = info.price.as_ref() else {
        return Err(Unpriced::UnknownModel(priced_as));
    };
    let (mut input, mut output) = price.rates_on(day);
    let mut cached_rate = price.cached;
    let long = price
        .long_context
        .filter(|long| usage.prompt > u64::from(long.over_tokens));
    if let Some(long) = long {
        input = long.input;
        output = long.output;
        cached_rate = long.cached;
    }
    let cached = usage.cached.min(usage.prompt);
    let cached_cost = match (cached, cached_rate) {
        (0, _) => Usd::ZERO,
        (tokens, Some(rate)) => Usd::of_tokens(tokens, rate),
        (_, None) => return Err(Unpriced::NoCachedRate(priced_as)),
    };
    let fresh = usage.prompt - cached + usage.tool_use;
    let usd = Usd::of_tokens(fresh, input)
        + cached_cost
        + Usd::of_tokens(usage.candidates + usage.thoughts, output);
    Ok(Cost {
        usd,
        priced_as,
        priced_on: day,
        price_table: catalog::reviewed_on(),
        long_context: long.is_some(),
        batch: false,
    })
}

/// Prices one call answered through the Batch API: [`cost_of_call`] at
/// half the standard rates (the pricing page's batch discount, context-cache
/// hits included), marked [`Cost::batch`].
pub fn cost_of_batch_call(
    usage: &Usage,
    model_version: Option<&str>,
    requested: &str,
    day: NaiveDate,
) -> Result<Cost, Unpriced> {
    let mut cost = cost_of_call(usage, model_version, requested, day)?;
    cost.usd = Usd::from_picodollars(cost.usd.picodollars().div_ceil(2));
    cost.batch = true;
    Ok(cost)
}

/// Whether the catalog says the Batch API serves `model` (unknown models:
/// no).
pub fn supports_batch(model: &str) -> bool {
    catalog::lookup(model.strip_prefix("models/").unwrap_or(model))
        .price
        .is_some_and(|price| price.batch)
}

/// Costs summed over calls: the priced ones, and how many could not be
/// priced (so a total is never presented as complete when it is not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostTotal {
    /// The sum of the priced calls.
    pub usd: Usd,
    /// Calls priced.
    pub priced_calls: u64,
    /// Calls that could not be priced.
    pub unpriced_calls: u64,
    /// The price table's date, when any call was priced.
    pub price_table: Option<NaiveDate>,
}

impl CostTotal {
    /// Adds one call's outcome.
    pub fn add_call(&mut self, cost: &Result<Cost, Unpriced>) {
        match cost {
            Ok(cost) => {
                self.usd += cost.usd;
                self.priced_calls += 1;
                self.price_table = Some(cost.price_table);
            }
            Err(_) => self.unpriced_calls += 1,
        }
    }

    /// True when every call was priced.
    pub fn is_complete(&self) -> bool {
        self.unpriced_calls == 0
    }

    /// The total when every call was priced, else `None` (unknown).
    pub fn known(&self) -> Option<Usd> {
        self.is_complete().then_some(self.usd)
    }
}

impl Add for CostTotal {
    type Output = CostTotal;
    fn add(self, other: CostTotal) -> CostTotal {
        CostTotal {
            usd: self.usd + other.usd,
            priced_calls: self.priced_calls + other.priced_calls,
            unpriced_calls: self.unpriced_calls + other.unpriced_calls,
            price_table: self.price_table.or(other.price_table),
        }
    }
}

impl AddAssign for CostTotal {
    fn add_assign(&mut self, other: CostTotal) {
        *self = *self + other;
    }
}

impl std::iter::Sum for CostTotal {
    fn sum<I: Iterator<Item = CostTotal>>(iter: I) -> CostTotal {
        iter.fold(CostTotal::default(), Add::add)
    }
}

impl fmt::Display for CostTotal {
    /// `$0.0123`, `$0.0123 + 2 calls unpriced`, or `unknown`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.priced_calls, self.unpriced_calls) {
            (0, 0) => write!(f, "{}", Usd::ZERO),
            (0, _) => f.write_str("unknown"),
            (_, 0) => write!(f, "{}", self.usd),
            (_, n) => write!(f, "{} + {n} call(s) unpriced", self.usd),
        }
    }
}

#[cfg(test)]
mod tests;
