//! A spending budget shared by every fork of a run.
//!
//! Before each model call the fork reserves the call's estimated cost: its
//! input tokens plus its output, priced at the catalog's rates for the
//! requested model. The input estimate is *calibrated*: the request's JSON
//! bytes times the ratio of prompt tokens to request bytes that the run's
//! settled calls showed (`promptTokenCount` over the bytes sent), and a
//! quarter of the bytes until a call has settled. That first guess errs on
//! the safe side: the real requests recorded in the wire corpus came to
//! 0.046 prompt tokens a byte (JSON keys and schemas cost bytes, not
//! tokens; `tests/estimate_corpus.rs` checks it is never below a recorded
//! count), and prose runs about four bytes a token. `countTokens` is not
//! used: it would add a round trip (with its own quota) before every call,
//! where the run's first reply calibrates the estimate for free. The output is the call's
//! `maxOutputTokens`, else the average output (candidates and thoughts)
//! the same model gave so far in the run, else the run's average over all
//! models, else 1,024 tokens. A call whose reservation would
//! cross the budget is not started; calls already in flight finish, and
//! each reservation is settled with the reply's real usage and cost. So the
//! budget is overrun by at most what the in-flight calls cost beyond their
//! reservations.
//!
//! A budget without limits ([`Budget::unlimited`]) refuses nothing and only
//! keeps the run's spending, which is how a whole run's cost is summed
//! across its forks, planning calls and consolidations.

use std::sync::Mutex;

use genai_client::catalog;
use genai_client::{
    Cost, CostTotal, GenerateContentRequest, GenerateContentResponse, PartData, Usage, Usd,
};

/// The `ForkError.kind` of a fork whose call the budget refused (the fork
/// ends `cancelled`; its task can run again when the run is resumed).
pub const BUDGET_EXHAUSTED: crate::ForkErrorKind =
    crate::ForkErrorKind::Fork(crate::ForkStop::BudgetExhausted);

/// The `ForkError.kind` of a fork whose request was refused before it was
/// sent because it cannot fit the model's input limit.
pub const INPUT_TOO_LARGE: crate::ForkErrorKind =
    crate::ForkErrorKind::Fork(crate::ForkStop::InputTooLarge);

/// The limits of a budget: dollars, tokens, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetLimits {
    /// At most this many dollars.
    pub usd: Option<Usd>,
    /// At most this many tokens (prompt, output and thinking).
    pub tokens: Option<u64>,
}

impl BudgetLimits {
    /// True when neither dollars nor tokens are limited.
    pub fn is_unlimited(&self) -> bool {
        self.usd.is_none() && self.tokens.is_none()
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetExhausted {
    /// Spent so far (settled calls).
    pub spent_usd: Usd,
    /// Tokens spent so far.
    pub spent_tokens: u64,
    /// Reserved by calls in flight.
    pub in_flight_usd: Usd,
    /// The refused call's estimate.
    pub needed_usd: Usd,
    /// The refused call's token estimate.
    pub needed_tokens: u64,
    /// Set when the budget has a dollar limit and the catalog has no price
    /// for the call's model: the call could not be weighed against the
    /// limit, so it was refused rather than let through unpriced (a dollar
    /// budget it cannot see would never stop the run).
    pub unpriced_model: Option<String>,
}

impl std::fmt::Display for BudgetExhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.unpriced_model {
            Some(model) => write!(
                f,
                "budget exhausted: a dollar budget cannot be kept for {model}, which the model catalog has no price for, so the call was not sent; use a token budget instead, or a priced model"
            ),
            None => write!(
                f,
                "budget exhausted: spent {} and {} tokens, {} reserved by calls in flight; the next call needs about {} and {} tokens",
                self.spent_usd,
                self.spent_tokens,
                self.in_flight_usd,
                self.needed_usd,
                self.needed_tokens
            ),
        }
    }
}

impl std::error::Error for BudgetExhausted {}

/// What one admitted call holds until it is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "settle or release the reservation"]
pub struct Reservation {
    usd: Usd,
    tokens: u64,
    request_bytes: u64,
    /// The model called (as a key of `Ledger::outputs`).
    model: u64,
}

impl Reservation {
    /// The dollars reserved.
    pub fn usd(&self) -> Usd {
        self.usd
    }

    /// The tokens reserved.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }
}

#[derive(Debug, Default)]
struct Ledger {
    spent: CostTotal,
    spent_tokens: u64,
    reserved_usd: Usd,
    reserved_tokens: u64,
    output_tokens: u64,
    settled_calls: u64,
    /// Output tokens and settled calls per model (by `model_key`).
    outputs: std::collections::HashMap<u64, (u64, u64)>,
    /// Request bytes and prompt tokens of settled calls (the calibration).
    request_bytes: u64,
    prompt_tokens: u64,
    exhausted: bool,
}

/// A budget shared (through an `Arc`) by every fork of a run.
#[derive(Debug)]
pub struct Budget {
    limits: BudgetLimits,
    ledger: Mutex<Ledger>,
}

impl Budget {
    /// A budget with these limits and nothing spent.
    pub fn new(limits: BudgetLimits) -> Self {
        Self {
            limits,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// A budget that refuses nothing and keeps what the run spends.
    pub fn unlimited() -> Self {
        Self::new(BudgetLimits::default())
    }

    /// The same limits, with what earlier sessions of the run already
    /// spent (a resumed run): it counts against the limits and in
    /// [`Budget::spent_cost`].
    pub fn with_spent(self, cost: CostTotal, tokens: u64) -> Self {
        {
            let mut ledger = self.lock();
            ledger.spent = cost;
            ledger.spent_tokens = tokens;
        }
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The limits.
    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// Dollars (of the priced calls) and tokens spent by settled calls.
    pub fn spent(&self) -> (Usd, u64) {
        let ledger = self.lock();
        (ledger.spent.usd, ledger.spent_tokens)
    }

    /// Dollars and tokens reserved by calls in flight (admitted, not yet
    /// settled or released).
    pub fn reserved(&self) -> (Usd, u64) {
        let ledger = self.lock();
        (ledger.reserved_usd, ledger.reserved_tokens)
    }

    /// The cost of every settled call, with how many could not be priced.
    pub fn spent_cost(&self) -> CostTotal {
        self.lock().spent
    }

    /// True once a call was refused.
    pub fn is_exhausted(&self) -> bool {
        self.lock().exhausted
    }

    /// The calibrated input estimate of `request`, in tokens.
    pub fn estimate_input_tokens(&self, request: &GenerateContentRequest) -> u64 {
        let bytes = request_bytes(request);
        let ledger = self.lock();
        calibrated(&ledger, bytes)
    }

    /// Estimates a call of `request` to `model` and reserves it, or refuses
    /// it when spent + reserved + this estimate would cross a limit.
    pub fn reserve(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<Reservation, BudgetExhausted> {
        let bytes = request_bytes(request);
        let mut ledger = self.lock();
        let input = calibrated(&ledger, bytes);
        let output = request
            .generation_config
            .as_ref()
            .and_then(|config| config.max_output_tokens)
            .map(u64::from)
            .or_else(|| {
                let (tokens, calls) = ledger.outputs.get(&model_key(model)).copied()?;
                (calls > 0).then(|| tokens / calls)
            })
            .or_else(|| {
                (ledger.settled_calls > 0).then(|| ledger.output_tokens / ledger.settled_calls)
            })
            .unwrap_or(1024);
        let usage = Usage {
            prompt: input,
            candidates: output,
            total: input + output,
            ..Usage::default()
        };
        let priced =
            genai_client::cost_of_call(&usage, None, model, chrono::Utc::now().date_naive()).ok();
        let usd = priced.as_ref().map_or(Usd::ZERO, |cost| cost.usd);
        let unpriced_model =
            (self.limits.usd.is_some() && priced.is_none()).then(|| model.to_owned());
        let tokens = input + output;
        let over_usd = self
            .limits
            .usd
            .is_some_and(|limit| ledger.spent.usd + ledger.reserved_usd + usd > limit);
        let over_tokens = self
            .limits
            .tokens
            .is_some_and(|limit| ledger.spent_tokens + ledger.reserved_tokens + tokens > limit);
        if over_usd || over_tokens || unpriced_model.is_some() {
            ledger.exhausted = true;
            return Err(BudgetExhausted {
                spent_usd: ledger.spent.usd,
                spent_tokens: ledger.spent_tokens,
                in_flight_usd: ledger.reserved_usd,
                needed_usd: usd,
                needed_tokens: tokens,
                unpriced_model,
            });
        }
        ledger.reserved_usd += usd;
        ledger.reserved_tokens += tokens;
        Ok(Reservation {
            usd,
            tokens,
            request_bytes: bytes,
            model: model_key(model),
        })
    }

    /// Settles a reservation with the call's real usage and cost (`None`
    /// when the call could not be priced: counted as an unpriced call).
    pub fn settle(&self, reservation: Reservation, usage: &Usage, cost: Option<&Cost>) {
        let mut ledger = self.lock();
        ledger.reserved_usd = ledger.reserved_usd.saturating_sub(reservation.usd);
        ledger.reserved_tokens = ledger.reserved_tokens.saturating_sub(reservation.tokens);
        match cost {
            Some(cost) => ledger.spent.add_call(&Ok(cost.clone())),
            None => ledger.spent.unpriced_calls += 1,
        }
        ledger.spent_tokens += usage.prompt + usage.tool_use + usage.candidates + usage.thoughts;
        ledger.output_tokens += usage.candidates + usage.thoughts;
        ledger.settled_calls += 1;
        let model = ledger.outputs.entry(reservation.model).or_default();
        model.0 += usage.candidates + usage.thoughts;
        model.1 += 1;
        if usage.prompt > 0 {
            ledger.request_bytes += reservation.request_bytes;
            ledger.prompt_tokens += usage.prompt + usage.tool_use;
        }
    }

    /// Settles a reservation with a reply from a call to `model` (priced by
    /// the reply's `modelVersion`), and returns the call's usage and cost.
    pub fn settle_reply(
        &self,
        reservation: Reservation,
        model: &str,
        reply: &GenerateContentResponse,
    ) -> (Usage, Option<Cost>) {
        let usage = reply.usage().unwrap_or_default();
        let cost = genai_client::cost_of_call(
            &usage,
            reply.model_version.as_deref(),
            model,
            chrono::Utc::now().date_naive(),
        )
        .ok();
        self.settle(reservation, &usage, cost.as_ref());
        (usage, cost)
    }

    /// Gives a reservation back (the call failed before any usage).
    pub fn release(&self, reservation: Reservation) {
        let mut ledger = self.lock();
        ledger.reserved_usd = ledger.reserved_usd.saturating_sub(reservation.usd);
        ledger.reserved_tokens = ledger.reserved_tokens.saturating_sub(reservation.tokens);
    }
}

/// A model's key in the ledger (a hash keeps `Reservation` `Copy`).
fn model_key(model: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    model
        .strip_prefix("models/")
        .unwrap_or(model)
        .hash(&mut hasher);
    hasher.finish()
}

/// The request's JSON bytes.
fn request_bytes(request: &GenerateContentRequest) -> u64 {
    serde_json::to_vec(request).map_or(0, |bytes| bytes.len() as u64)
}

/// `bytes` in tokens at the ledger's observed ratio, else a quarter.
fn calibrated(ledger: &Ledger, bytes: u64) -> u64 {
    if ledger.request_bytes == 0 || ledger.prompt_tokens == 0 {
        return bytes.div_ceil(4);
    }
    let tokens = u128::from(bytes) * u128::from(ledger.prompt_tokens);
    u64::try_from(tokens.div_ceil(u128::from(ledger.request_bytes))).unwrap_or(u64::MAX)
}

/// Input tokens of a request before any calibration: a quarter of its JSON
/// bytes.
pub fn estimate_input_tokens(request: &GenerateContentRequest) -> u64 {
    request_bytes(request).div_ceil(4)
}

/// Most characters one token is taken to cover when bounding a prompt's
/// tokens from below. SentencePiece pieces are at most 16 characters by
/// default, and the Gemma family's tokenizer (the public relative of
/// Gemini's) adds whitespace runs of up to 31 characters; 32 covers both
/// with room. Gemini's own vocabulary is not published, so this is a
/// generous assumption, not a fact: it only makes a refusal rarer.
pub const MAX_CHARS_PER_TOKEN: u64 = 32;

/// A prompt that cannot fit its model's input limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the prompt is too large for {model_limit} input tokens: an estimate puts it at no fewer than {at_least} tokens ({chars} characters of text, at most {MAX_CHARS_PER_TOKEN} characters a token); it was not sent (Gemini counts oversized requests against the quota). Send less text or choose a model with a larger input limit"
)]
pub struct InputTooLarge {
    /// Characters of text in the request.
    pub chars: u64,
    /// The lower bound of its tokens.
    pub at_least: u64,
    /// The model's input limit (catalog).
    pub model_limit: u32,
}

/// A lower bound of a request's input tokens: the characters of its text
/// parts (system instruction and contents) over [`MAX_CHARS_PER_TOKEN`].
/// Everything else (function calls and results, inline data, tools) is
/// left out, which only lowers the bound.
pub fn input_tokens_at_least(request: &GenerateContentRequest) -> (u64, u64) {
    let chars: u64 = request
        .system_instruction
        .iter()
        .chain(&request.contents)
        .flat_map(|content| &content.parts)
        .map(|part| match &part.data {
            PartData::Text(text) => text.chars().count() as u64,
            _ => 0,
        })
        .sum();
    (chars, chars / MAX_CHARS_PER_TOKEN)
}

/// Refuses a request that cannot fit `model`'s input limit (from the
/// catalog): only when even the lower bound of its tokens
/// ([`input_tokens_at_least`]) is over the limit, so a prompt that might
/// fit is always sent. `None` when the catalog has no limit for the model.
pub fn check_input_limit(
    model: &str,
    request: &GenerateContentRequest,
) -> Result<(), InputTooLarge> {
    let Some(limit) = catalog::lookup(model)
        .limits
        .map(|limits| limits.input_tokens)
    else {
        return Ok(());
    };
    let (chars, at_least) = input_tokens_at_least(request);
    if at_least > u64::from(limit) {
        return Err(InputTooLarge {
            chars,
            at_least,
            model_limit: limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use genai_client::{Content, GenerationConfig};

    fn request(max_output: u32) -> GenerateContentRequest {
        GenerateContentRequest {
            contents: vec![Content::user("x".repeat(300))],
            generation_config: Some(GenerationConfig {
                max_output_tokens: Some(max_output),
                ..GenerationConfig::default()
            }),
            ..GenerateContentRequest::default()
        }
    }

    #[test]
    fn reservations_stop_at_the_token_limit_and_settle_with_real_usage() {
        let body = request(100);
        let per_call = estimate_input_tokens(&body) + 100;
        let budget = Budget::new(BudgetLimits {
            usd: None,
            tokens: Some(per_call * 3),
        });
        let held: Vec<Reservation> = (0..3)
            .map(|_| budget.reserve("gemini-2.5-flash-lite", &body).unwrap())
            .collect();
        // A fourth would cross the limit while three are in flight.
        assert!(budget.reserve("gemini-2.5-flash-lite", &body).is_err());
        assert!(budget.is_exhausted());
        // The three finish using less than reserved: room again.
        let real = Usage {
            prompt: 10,
            candidates: 5,
            total: 15,
            ..Usage::default()
        };
        for reservation in held {
            budget.settle(reservation, &real, None);
        }
        assert_eq!(budget.spent(), (Usd::ZERO, 45));
        assert!(budget.reserve("gemini-2.5-flash-lite", &body).is_ok());
    }

    #[test]
    fn dollar_reservations_use_catalog_rates_and_released_calls_cost_nothing() {
        let body = request(1000);
        let input = estimate_input_tokens(&body);
        // gemini-2.5-flash-lite: $0.10 in, $0.40 out per 1M.
        let per_call = Usd::from_picodollars(input * 100_000 + 1000 * 400_000);
        let budget = Budget::new(BudgetLimits {
            usd: Some(Usd::from_picodollars(per_call.picodollars() * 2)),
            tokens: None,
        });
        let first = budget.reserve("gemini-2.5-flash-lite", &body).unwrap();
        let second = budget.reserve("gemini-2.5-flash-lite", &body).unwrap();
        let refused = budget.reserve("gemini-2.5-flash-lite", &body).unwrap_err();
        assert_eq!(refused.needed_usd, per_call);
        assert_eq!(refused.in_flight_usd, per_call + per_call);
        budget.release(first);
        budget.release(second);
        assert_eq!(budget.spent(), (Usd::ZERO, 0));
    }

    #[test]
    fn the_input_estimate_is_calibrated_by_settled_calls_and_unpriced_calls_are_counted() {
        let body = request(100);
        let bytes = serde_json::to_vec(&body).unwrap().len() as u64;
        let budget = Budget::unlimited();
        // Before any call: a quarter of the bytes.
        assert_eq!(budget.estimate_input_tokens(&body), bytes.div_ceil(4));
        let held = budget.reserve("gemini-2.5-flash-lite", &body).unwrap();
        assert_eq!(held.tokens(), bytes.div_ceil(4) + 100);
        // The reply says the prompt was a tenth of the bytes: later
        // estimates follow the observed ratio.
        let real = Usage {
            prompt: bytes / 10,
            candidates: 7,
            total: bytes / 10 + 7,
            ..Usage::default()
        };
        budget.settle(held, &real, None);
        assert_eq!(budget.estimate_input_tokens(&body), bytes / 10);
        let cost = budget.spent_cost();
        assert_eq!((cost.priced_calls, cost.unpriced_calls), (0, 1));
        assert_eq!(
            cost.known(),
            None,
            "an unpriced call makes the total unknown"
        );
        assert!(!budget.is_exhausted());
    }

    /// The output estimate is the same model's average: a run whose
    /// planner (a Pro model) writes long answers and whose forks (Flash)
    /// write short ones reserves each by its own model. (It used to use one
    /// average over every model.)
    #[test]
    fn the_output_estimate_is_the_same_models_average() {
        let body = GenerateContentRequest {
            contents: vec![Content::user("x".repeat(400))],
            ..GenerateContentRequest::default()
        };
        let input = estimate_input_tokens(&body);
        let budget = Budget::unlimited();
        let answered = |output: u64| Usage {
            prompt: input,
            candidates: output,
            total: input + output,
            ..Usage::default()
        };
        let long = budget.reserve("gemini-2.5-pro", &body).unwrap();
        budget.settle(long, &answered(3_000), None);
        let short = budget.reserve("gemini-2.5-flash", &body).unwrap();
        // No Flash call settled yet: the run's average (3,000) stands in.
        assert_eq!(short.tokens(), input + 3_000);
        budget.settle(short, &answered(100), None);
        let calibrated = |model| budget.reserve(model, &body).unwrap().tokens();
        assert_eq!(calibrated("gemini-2.5-flash"), input + 100);
        assert_eq!(calibrated("models/gemini-2.5-pro"), input + 3_000);
    }

    /// A dollar budget refuses a call it cannot price (it would let every
    /// such call through uncounted); a token budget, or none, sends it.
    #[test]
    fn a_dollar_budget_refuses_a_model_the_catalog_cannot_price() {
        let body = request(100);
        let model = "someone-elses-model-1";
        assert!(
            genai_client::cost_of_call(
                &Usage::default(),
                None,
                model,
                chrono::Utc::now().date_naive()
            )
            .is_err(),
            "the catalog prices {model}"
        );
        let dollars = Budget::new(BudgetLimits {
            usd: Some(Usd::from_dollars(100.0)),
            tokens: None,
        });
        let refused = dollars.reserve(model, &body).unwrap_err();
        assert_eq!(refused.unpriced_model.as_deref(), Some(model));
        assert!(refused.to_string().contains("no price"), "{refused}");
        assert!(dollars.is_exhausted());
        assert!(dollars.reserve("gemini-2.5-flash-lite", &body).is_ok());
        let tokens = Budget::new(BudgetLimits {
            usd: None,
            tokens: Some(1_000_000),
        });
        assert!(tokens.reserve(model, &body).is_ok());
        assert!(Budget::unlimited().reserve(model, &body).is_ok());
    }

    #[test]
    fn spending_carried_over_from_earlier_sessions_counts_against_the_limit() {
        let body = request(100);
        let per_call = estimate_input_tokens(&body) + 100;
        let earlier = CostTotal {
            usd: Usd::from_dollars(0.5),
            priced_calls: 3,
            ..CostTotal::default()
        };
        let budget = Budget::new(BudgetLimits {
            usd: None,
            tokens: Some(per_call * 2),
        })
        .with_spent(earlier, per_call * 2 - 1);
        assert!(budget.reserve("gemini-2.5-flash-lite", &body).is_err());
        assert_eq!(budget.spent_cost(), earlier);
    }

    #[test]
    fn an_oversized_prompt_is_caught_before_sending() {
        let huge = GenerateContentRequest {
            contents: vec![Content::user("x".repeat(4 * 1_100_000))],
            ..GenerateContentRequest::default()
        };
        // Four million characters could still be a million tokens or
        // fewer, so they are sent; forty million cannot.
        assert!(check_input_limit("gemini-2.5-flash", &huge).is_ok());
        let huger = GenerateContentRequest {
            contents: vec![Content::user("x".repeat(40_000_000))],
            ..GenerateContentRequest::default()
        };
        let refused = check_input_limit("gemini-2.5-flash", &huger).unwrap_err();
        assert_eq!(refused.model_limit, 1_048_576);
        assert_eq!(refused.at_least, 40_000_000 / MAX_CHARS_PER_TOKEN);
        assert!(refused.to_string().contains("estimate"), "{refused}");
        assert!(check_input_limit("gemini-2.5-flash", &request(10)).is_ok());
    }
}
