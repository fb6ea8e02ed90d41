//! A spending budget shared by every fork of a run.
//!
//! Before each model call the fork reserves the call's estimated cost: its
//! input tokens (a quarter of the request's JSON bytes) plus its output (the
//! call's `maxOutputTokens`, else the average output observed so far, else
//! 1,024 tokens), priced at the catalog's rates for the requested model. A
//! call whose reservation would cross the budget is not started; calls
//! already in flight finish, and each reservation is settled with the
//! reply's real usage. So the budget is overrun by at most what the
//! in-flight calls cost beyond their reservations.

use std::sync::Mutex;

use genai_client::catalog;
use genai_client::{Cost, GenerateContentRequest, Usage, Usd};

/// The `ForkError.kind` of a fork whose call the budget refused (the fork
/// ends `cancelled`; its task can run again when the run is resumed).
pub const BUDGET_EXHAUSTED: crate::ForkErrorKind =
    crate::ForkErrorKind::Fork(crate::ForkStop::BudgetExhausted);

/// The limits of a budget: dollars, tokens, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetLimits {
    /// At most this many dollars.
    pub usd: Option<Usd>,
    /// At most this many tokens (prompt, output and thinking).
    pub tokens: Option<u64>,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "budget exhausted: spent {spent_usd} and {spent_tokens} tokens, {in_flight_usd} reserved by calls in flight; the next call needs about {needed_usd} and {needed_tokens} tokens"
)]
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
}

/// What one admitted call holds until it is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "settle or release the reservation"]
pub struct Reservation {
    usd: Usd,
    tokens: u64,
}

#[derive(Debug, Default)]
struct Ledger {
    spent_usd: Usd,
    spent_tokens: u64,
    reserved_usd: Usd,
    reserved_tokens: u64,
    output_tokens: u64,
    settled_calls: u64,
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

    /// The same limits, with what an earlier session of the run already
    /// spent (a resumed run).
    pub fn with_spent(self, usd: Usd, tokens: u64) -> Self {
        {
            let mut ledger = self.lock();
            ledger.spent_usd = usd;
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

    /// Dollars and tokens spent by settled calls.
    pub fn spent(&self) -> (Usd, u64) {
        let ledger = self.lock();
        (ledger.spent_usd, ledger.spent_tokens)
    }

    /// True once a call was refused.
    pub fn is_exhausted(&self) -> bool {
        self.lock().exhausted
    }

    /// Estimates a call of `request` to `model` and reserves it, or refuses
    /// it when spent + reserved + this estimate would cross a limit.
    pub fn reserve(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<Reservation, BudgetExhausted> {
        let input = estimate_input_tokens(request);
        let mut ledger = self.lock();
        let output = request
            .generation_config
            .as_ref()
            .and_then(|config| config.max_output_tokens)
            .map(u64::from)
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
        let usd = genai_client::cost_of_call(&usage, None, model, chrono::Utc::now().date_naive())
            .map_or(Usd::ZERO, |cost| cost.usd);
        let tokens = input + output;
        let over_usd = self
            .limits
            .usd
            .is_some_and(|limit| ledger.spent_usd + ledger.reserved_usd + usd > limit);
        let over_tokens = self
            .limits
            .tokens
            .is_some_and(|limit| ledger.spent_tokens + ledger.reserved_tokens + tokens > limit);
        if over_usd || over_tokens {
            ledger.exhausted = true;
            return Err(BudgetExhausted {
                spent_usd: ledger.spent_usd,
                spent_tokens: ledger.spent_tokens,
                in_flight_usd: ledger.reserved_usd,
                needed_usd: usd,
                needed_tokens: tokens,
            });
        }
        ledger.reserved_usd += usd;
        ledger.reserved_tokens += tokens;
        Ok(Reservation { usd, tokens })
    }

    /// Settles a reservation with the call's real usage and cost (`None`
    /// when the call could not be priced).
    pub fn settle(&self, reservation: Reservation, usage: &Usage, cost: Option<&Cost>) {
        let mut ledger = self.lock();
        ledger.reserved_usd = ledger.reserved_usd.saturating_sub(reservation.usd);
        ledger.reserved_tokens = ledger.reserved_tokens.saturating_sub(reservation.tokens);
        ledger.spent_usd += cost.map_or(Usd::ZERO, |cost| cost.usd);
        ledger.spent_tokens += usage.prompt + usage.tool_use + usage.candidates + usage.thoughts;
        ledger.output_tokens += usage.candidates + usage.thoughts;
        ledger.settled_calls += 1;
    }

    /// Gives a reservation back (the call failed before any usage).
    pub fn release(&self, reservation: Reservation) {
        let mut ledger = self.lock();
        ledger.reserved_usd = ledger.reserved_usd.saturating_sub(reservation.usd);
        ledger.reserved_tokens = ledger.reserved_tokens.saturating_sub(reservation.tokens);
    }
}

/// Input tokens of a request: a quarter of its JSON bytes.
pub fn estimate_input_tokens(request: &GenerateContentRequest) -> u64 {
    serde_json::to_vec(request).map_or(0, |bytes| (bytes.len() as u64).div_ceil(4))
}

/// The model's input limit, when the catalog knows it and the request's
/// estimate (bytes / 4) is over it. Not yet enforced by the fork: a bytes/4
/// estimate overcounts inline data and repetitive text, so refusing on it
/// needs `countTokens` first.
pub fn over_input_limit(model: &str, request: &GenerateContentRequest) -> Option<(u64, u32)> {
    let limit = catalog::lookup(model).limits?.input_tokens;
    let estimate = estimate_input_tokens(request);
    (estimate > u64::from(limit)).then_some((estimate, limit))
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
    fn an_oversized_prompt_is_caught_before_sending() {
        let huge = GenerateContentRequest {
            contents: vec![Content::user("x".repeat(4 * 1_100_000))],
            ..GenerateContentRequest::default()
        };
        let (estimate, limit) = over_input_limit("gemini-2.5-flash", &huge).unwrap();
        assert_eq!(limit, 1_048_576);
        assert!(estimate > 1_100_000);
        assert!(over_input_limit("gemini-2.5-flash", &request(10)).is_none());
    }
}
