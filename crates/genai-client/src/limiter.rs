//! The limiter shared by every clone of a client: a per-model token bucket
//! for requests per minute and one for input tokens per minute, taught by
//! Gemini's 429 bodies.
//!
//! A request is admitted only when both of its model's buckets have room
//! (its estimated input tokens are reserved and reconciled with the reply's
//! `promptTokenCount`). Capacities come from the `requests_per_minute` /
//! `input_tokens_per_minute` settings, or are learned from a 429's
//! `QuotaFailure.quotaValue` (a learned bucket starts from this client's
//! own admissions of the last minute, at their times, so it frees when the
//! server's minute does). Each bucket is a log of the last minute's
//! admissions, so no sliding minute admits more than the limit and a freed
//! minute is usable at once. A limit learned from `quotaValue` is admitted
//! at that rate (the server's own number). On any other 429 the model waits
//! as `RetryInfo` says and its admitted rate is cut (multiplicative
//! decrease, ×0.7, once per episode of 429s); each success adds 1 % back
//! (additive increase). A cautious start (`ClientConfig::cautious_start`,
//! off by default) admits a model with no known limit slowly at first (N
//! requests in its first minute, 1.1 more per reply that is not a 429, cut
//! like the rate by a 429 without a limit) until a 429's `quotaValue`
//! teaches the limit, so a swarm far above its quota does not open with a
//! burst that can only be refused. A per-day violation parks the model
//! until midnight Pacific; a `quotaValue` of 0 (no quota on this tier) fails
//! every later call to the model at once.
//!
//! The limits a client learned from `quotaValue`s can be read back
//! ([`Client::learned_limits`](crate::Client::learned_limits)) and handed to
//! a later client ([`ClientConfig::known_limits`](crate::ClientConfig::known_limits)),
//! which then admits the model at that rate from its first request.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::error::Error;

/// What a quota limits, read from its `quotaId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    /// Requests per minute (`GenerateRequestsPerMinute…`).
    RequestsPerMinute,
    /// Input tokens per minute (`…InputTokens…PerMinute`).
    InputTokensPerMinute,
    /// Requests per day.
    RequestsPerDay,
    /// Input tokens per day.
    InputTokensPerDay,
    /// A quota id this client does not know.
    Other,
}

impl QuotaKind {
    /// Reads the kind from a `quotaId` such as
    /// `GenerateContentPaidTierInputTokensPerModelPerMinute`.
    pub fn from_quota_id(id: &str) -> QuotaKind {
        let tokens = id.contains("InputTokens") || id.contains("input_token");
        let requests = id.contains("Requests");
        match (
            id.contains("PerDay"),
            id.contains("PerMinute"),
            tokens,
            requests,
        ) {
            (true, _, true, _) => Self::InputTokensPerDay,
            (true, _, _, true) => Self::RequestsPerDay,
            (_, true, true, _) => Self::InputTokensPerMinute,
            (_, true, _, true) => Self::RequestsPerMinute,
            _ => Self::Other,
        }
    }

    /// True for the per-day quotas.
    pub fn is_daily(self) -> bool {
        matches!(self, Self::RequestsPerDay | Self::InputTokensPerDay)
    }
}

/// A per-minute quota the limiter keeps a bucket for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerMinuteQuota {
    /// Requests per minute.
    RequestsPerMinute,
    /// Input tokens per minute.
    InputTokensPerMinute,
}

impl PerMinuteQuota {
    /// What it counts, for people: `requests/min` or `input tokens/min`.
    pub fn unit(self) -> &'static str {
        match self {
            Self::RequestsPerMinute => "requests/min",
            Self::InputTokensPerMinute => "input tokens/min",
        }
    }
}

/// A per-minute limit of one model, taught by a 429's `quotaValue`.
///
/// A client reports the limits it learned
/// ([`Client::learned_limits`](crate::Client::learned_limits)); a later
/// client given them ([`ClientConfig::with_known_limits`](crate::ClientConfig::with_known_limits))
/// admits the model at that rate from its first request, instead of
/// learning it again from a burst of 429s.
///
/// ```
/// use genai_client::{ClientConfig, LearnedLimit, PerMinuteQuota};
///
/// let remembered = LearnedLimit {
///     model: "gemini-3-flash-preview".into(),
///     quota: PerMinuteQuota::RequestsPerMinute,
///     per_minute: 1_000,
/// };
/// let config = ClientConfig::default().with_known_limits(vec![remembered]);
/// assert_eq!(config.known_limits.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedLimit {
    /// The model the limit belongs to (as the client's calls name it).
    pub model: String,
    /// Which quota.
    pub quota: PerMinuteQuota,
    /// The limit per minute (at least 1).
    pub per_minute: u64,
}

/// One `google.rpc.QuotaFailure` violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaViolation {
    /// `quotaMetric`, e.g. `generativelanguage.googleapis.com/generate_requests_per_model`.
    pub metric: Option<String>,
    /// `quotaId`, e.g. `GenerateRequestsPerMinutePerProjectPerModel`.
    pub quota_id: Option<String>,
    /// `quotaValue` (sent as a string): the limit.
    pub value: Option<u64>,
    /// `quotaDimensions.model`.
    pub model: Option<String>,
    /// The kind, from the quota id.
    pub kind: QuotaKind,
}

impl QuotaViolation {
    pub(crate) fn from_value(value: &Value) -> QuotaViolation {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let quota_id = text("quotaId");
        QuotaViolation {
            metric: text("quotaMetric"),
            value: value.get("quotaValue").and_then(|limit| match limit {
                Value::String(text) => text.trim().parse().ok(),
                other => other.as_u64(),
            }),
            model: value
                .get("quotaDimensions")
                .and_then(|dimensions| dimensions.get("model"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            kind: quota_id
                .as_deref()
                .map_or(QuotaKind::Other, QuotaKind::from_quota_id),
            quota_id,
        }
    }

    /// The tier the quota belongs to, read from its id or metric (`free`,
    /// `paid`, `paid tier 2`…), when it says.
    pub fn tier(&self) -> Option<String> {
        let metric = self.metric.as_deref().unwrap_or_default();
        let id = self.quota_id.as_deref().unwrap_or_default();
        if id.ends_with("-FreeTier") || metric.contains("free_tier") {
            return Some("free tier".into());
        }
        for n in 2..=4 {
            if metric.contains(&format!("paid_tier_{n}_")) {
                return Some(format!("paid tier {n}"));
            }
        }
        (id.contains("PaidTier") || metric.contains("paid_tier")).then(|| "paid tier".into())
    }
}

/// Why a model is stopped for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaStop {
    /// The daily quota of `model` is spent; it resets at midnight Pacific.
    DayExhausted {
        /// The model.
        model: String,
        /// The quota id, when the 429 gave it.
        quota_id: Option<String>,
        /// When the day resets (midnight Pacific, in UTC).
        resets_at: DateTime<Utc>,
    },
    /// The tier has no quota for the model (`quotaValue` 0).
    NotOnTier {
        /// The model.
        model: String,
        /// The tier, when the 429 said.
        tier: Option<String>,
        /// The quota id.
        quota_id: Option<String>,
    },
}

impl fmt::Display for QuotaStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DayExhausted {
                model, resets_at, ..
            } => write!(
                f,
                "the daily quota of {model} is spent; it resets at midnight Pacific ({}); resume the run after that",
                resets_at.format("%Y-%m-%d %H:%M UTC")
            ),
            Self::NotOnTier { model, tier, .. } => write!(
                f,
                "{model} has no quota on {} (quotaValue 0): choose another model or upgrade the project's tier",
                tier.as_deref().unwrap_or("this tier")
            ),
        }
    }
}

/// The delay in a 429 message's "Please retry in 39.844676573s." (or
/// "…in 850ms").
pub(crate) fn retry_in_message(message: &str) -> Option<Duration> {
    let rest = &message[message.find("retry in ")? + "retry in ".len()..];
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let unit = &rest[number.len()..];
    let value: f64 = number.parse().ok()?;
    let seconds = if unit.starts_with("ms") {
        value / 1000.0
    } else if unit.starts_with('s') {
        value
    } else {
        return None;
    };
    (seconds.is_finite() && seconds < 86_400.0).then(|| Duration::from_secs_f64(seconds))
}

/// The next midnight in US Pacific time after `now`, in UTC (DST from the
/// second Sunday of March to the first Sunday of November).
pub fn next_pacific_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
        let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
        let offset = (7 - first.weekday().num_days_from_sunday()) % 7;
        first + chrono::Days::new(u64::from(offset + 7 * (n - 1)))
    }
    // Daylight time on local `day` at midnight: after the March switch day,
    // up to and including the November switch day (both switch at 2 am).
    let daylight_at_midnight =
        |day: NaiveDate| day > nth_sunday(day.year(), 3, 2) && day <= nth_sunday(day.year(), 11, 1);
    let offset_hours = |day: NaiveDate| if daylight_at_midnight(day) { 7 } else { 8 };
    // The local date now: try daylight, then standard offsets.
    let local_today = {
        let guess = (now - chrono::Duration::hours(8)).date_naive();
        let with_dst = (now - chrono::Duration::hours(7)).date_naive();
        if with_dst != guess && daylight_at_midnight(with_dst) {
            with_dst
        } else {
            guess
        }
    };
    let tomorrow = local_today + chrono::Days::new(1);
    Utc.from_utc_datetime(
        &tomorrow
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .checked_add_signed(chrono::Duration::hours(offset_hours(tomorrow)))
            .unwrap_or_default(),
    )
}

/// Limits applied to every model until a 429 teaches better ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct QuotaSettings {
    pub(crate) requests_per_minute: Option<u32>,
    pub(crate) input_tokens_per_minute: Option<u64>,
    /// Requests admitted in the first minute of a model with no known
    /// limit (see `ClientConfig::cautious_start`).
    pub(crate) cautious_start: Option<u32>,
}

/// How much each success of a cautious start adds to its first-minute
/// allowance: more than one, so the requests in flight grow (by a tenth of
/// the successes), and little more, so the first 429 finds at most the
/// start plus a tenth of the limit sent beyond it.
const CAUTIOUS_GROWTH: f64 = 1.1;

/// How much a 429 cuts the admitted rate, and how much a success gives back.
const DECREASE: f64 = 0.7;
const INCREASE: f64 = 0.01;
const MIN_SCALE: f64 = 0.1;

/// One limit (requests or input tokens per minute), kept as a log of what
/// was admitted in the last minute: a call is admitted when the log's sum
/// plus its need fits the limit (scaled by the AIMD factor), so no sliding
/// minute ever holds more than the limit, and a freed minute is usable at
/// once.
#[derive(Debug)]
struct Bucket {
    per_minute: f64,
    log: VecDeque<(Instant, f64)>,
}

const MINUTE: Duration = Duration::from_secs(60);

impl Bucket {
    fn new(per_minute: f64) -> Bucket {
        Bucket {
            per_minute,
            log: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .log
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= MINUTE)
        {
            self.log.pop_front();
        }
    }

    fn used(&self) -> f64 {
        self.log.iter().map(|(_, amount)| amount).sum()
    }

    /// How long until `need` fits (zero when it does now). A need larger
    /// than the whole limit fits an empty minute.
    fn wait_for(&self, now: Instant, need: f64, scale: f64) -> Duration {
        let limit = (self.per_minute * scale).max(1.0);
        let mut used = self.used();
        if used + need <= limit || used <= 0.0 {
            return Duration::ZERO;
        }
        for (at, amount) in &self.log {
            used -= amount;
            if used + need <= limit || used <= 0.0 {
                return (*at + MINUTE).saturating_duration_since(now);
            }
        }
        MINUTE
    }

    fn take(&mut self, now: Instant, amount: f64) {
        self.log.push_back((now, amount));
    }
}

#[derive(Debug)]
struct ModelState {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
    scale: f64,
    hold_until: Option<Instant>,
    parked: Option<(Instant, QuotaStop)>,
    unavailable: Option<QuotaStop>,
    /// The cautious start's allowance, until a limit is known.
    cautious: Option<Cautious>,
    /// While a limit is unknown: the last minute's admissions (when,
    /// requests, input tokens; a settled call's token correction counts no
    /// request), so a limit learned from a 429 starts from what this
    /// client really sent in the server's window.
    recent: VecDeque<(Instant, f64, f64)>,
    /// The limits `quotaValue`s taught this client (requests, tokens).
    learned: (Option<u64>, Option<u64>),
}

impl ModelState {
    /// Keeps an admission (or a correction) in `recent` while either limit
    /// is unknown, and drops what is older than a minute.
    fn remember(&mut self, now: Instant, requests: f64, tokens: f64) {
        if self.requests.is_some() && self.tokens.is_some() {
            self.recent.clear();
            return;
        }
        while self
            .recent
            .front()
            .is_some_and(|(at, _, _)| now.saturating_duration_since(*at) >= MINUTE)
        {
            self.recent.pop_front();
        }
        self.recent.push_back((now, requests, tokens));
    }

    /// A bucket for a limit just learned from a 429: what this client sent
    /// in the last minute, at the times it sent it (so the minute frees
    /// when the server's does, not a minute from now), and, when that is
    /// less than the limit (others share the quota), the rest as used now:
    /// the server just said the minute is spent.
    fn learned_bucket(&self, now: Instant, limit: f64, kind: QuotaKind) -> Bucket {
        let mut bucket = Bucket::new(limit);
        for (at, requests, tokens) in &self.recent {
            if now.saturating_duration_since(*at) < MINUTE {
                let amount = match kind {
                    QuotaKind::InputTokensPerMinute => *tokens,
                    _ => *requests,
                };
                if amount != 0.0 {
                    bucket.take(*at, amount);
                }
            }
        }
        let used = bucket.used();
        if used < limit {
            bucket.take(now, limit - used);
        }
        bucket
    }

    /// One more call came back without a 429: a cautious start's
    /// allowance grows.
    fn grow_cautious(&mut self) {
        if let Some(cautious) = &mut self.cautious {
            cautious.answered += 1;
            cautious.admitted.per_minute =
                cautious.start + CAUTIOUS_GROWTH * cautious.answered as f64;
        }
    }
}

#[derive(Debug)]
struct Cautious {
    start: f64,
    /// Calls that came back without a 429.
    answered: u64,
    admitted: Bucket,
}

/// A reservation made by [`RateLimiter::acquire`], reconciled after the
/// reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Admission {
    pub(crate) reserved_tokens: u64,
}

/// The per-model limiter.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    settings: QuotaSettings,
    /// Per-model limits known before the first call (an earlier client's
    /// learned limits): requests and input tokens per minute.
    known: HashMap<String, (Option<u64>, Option<u64>)>,
    models: Mutex<HashMap<String, ModelState>>,
    /// Woken when a cautious start's allowance grows or ends.
    changed: tokio::sync::Notify,
}

impl RateLimiter {
    pub(crate) fn new(settings: QuotaSettings) -> Self {
        Self {
            settings,
            known: HashMap::new(),
            models: Mutex::new(HashMap::new()),
            changed: tokio::sync::Notify::new(),
        }
    }

    /// The limiter with `limits` known for their models from the start
    /// (each bucket at the lower of the setting and the known limit).
    pub(crate) fn with_known(mut self, limits: &[LearnedLimit]) -> Self {
        for limit in limits {
            let entry = self.known.entry(limit.model.clone()).or_default();
            let slot = match limit.quota {
                PerMinuteQuota::RequestsPerMinute => &mut entry.0,
                PerMinuteQuota::InputTokensPerMinute => &mut entry.1,
            };
            let value = limit.per_minute.max(1);
            *slot = Some(slot.map_or(value, |known| known.min(value)));
        }
        self
    }

    /// The per-minute limits `quotaValue`s taught this limiter, by model.
    pub(crate) fn learned(&self) -> Vec<LearnedLimit> {
        let models = self
            .models
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let mut limits: Vec<LearnedLimit> = models
            .iter()
            .flat_map(|(model, state)| {
                let (requests, tokens) = state.learned;
                [
                    requests.map(|value| (PerMinuteQuota::RequestsPerMinute, value)),
                    tokens.map(|value| (PerMinuteQuota::InputTokensPerMinute, value)),
                ]
                .into_iter()
                .flatten()
                .map(|(quota, per_minute)| LearnedLimit {
                    model: model.clone(),
                    quota,
                    per_minute,
                })
            })
            .collect();
        limits.sort_by(|a, b| (&a.model, a.quota).cmp(&(&b.model, b.quota)));
        limits
    }

    #[cfg(test)]
    pub(crate) fn per_minute(limit: u32) -> Self {
        Self::new(QuotaSettings {
            requests_per_minute: Some(limit),
            input_tokens_per_minute: None,
            cautious_start: None,
        })
    }

    fn with_model<T>(&self, model: &str, f: impl FnOnce(&mut ModelState) -> T) -> T {
        let mut models = self
            .models
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let settings = self.settings;
        let (known_requests, known_tokens) = self.known.get(model).copied().unwrap_or_default();
        let lower = |setting: Option<u64>, known: Option<u64>| match (setting, known) {
            (Some(setting), Some(known)) => Some(setting.min(known)),
            (setting, known) => setting.or(known),
        };
        let requests = lower(settings.requests_per_minute.map(u64::from), known_requests);
        let tokens = lower(settings.input_tokens_per_minute, known_tokens);
        let state = models
            .entry(model.to_owned())
            .or_insert_with(|| ModelState {
                requests: requests.map(|limit| Bucket::new(limit.max(1) as f64)),
                tokens: tokens.map(|limit| Bucket::new(limit.max(1) as f64)),
                scale: 1.0,
                hold_until: None,
                parked: None,
                unavailable: None,
                recent: VecDeque::new(),
                learned: (None, None),
                // A known limit (set or remembered) makes a cautious start
                // pointless: the model is admitted at its limit at once.
                cautious: settings
                    .cautious_start
                    .filter(|_| requests.is_none() && tokens.is_none())
                    .map(|start| Cautious {
                        start: f64::from(start.max(1)),
                        answered: 0,
                        admitted: Bucket::new(f64::from(start.max(1))),
                    }),
            });
        f(state)
    }

    /// Waits until `model` has room for one request of `tokens` input
    /// tokens, and reserves it; fails at once when the model is parked for
    /// the day or has no quota on this tier.
    pub(crate) async fn acquire(&self, model: &str, tokens: u64) -> Result<Admission, Error> {
        loop {
            // Registered before the state is read, so a change made between
            // the read and the wait still wakes this call.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let wait = self.with_model(model, |state| {
                let now = Instant::now();
                if let Some(stop) = &state.unavailable {
                    return Err(Error::Quota(Box::new(stop.clone())));
                }
                match &state.parked {
                    Some((until, stop)) if *until > now => {
                        return Err(Error::Quota(Box::new(stop.clone())));
                    }
                    Some(_) => state.parked = None,
                    None => {}
                }
                if let Some(until) = state.hold_until.filter(|until| *until > now) {
                    return Ok(Some(until - now));
                }
                let scale = state.scale;
                let need = tokens as f64;
                let mut wait = Duration::ZERO;
                if let Some(bucket) = &mut state.requests {
                    bucket.expire(now);
                    wait = wait.max(bucket.wait_for(now, 1.0, scale));
                }
                if let Some(bucket) = &mut state.tokens {
                    bucket.expire(now);
                    wait = wait.max(bucket.wait_for(now, need, scale));
                }
                if let Some(cautious) = &mut state.cautious {
                    cautious.admitted.expire(now);
                    wait = wait.max(cautious.admitted.wait_for(now, 1.0, 1.0));
                }
                if wait > Duration::ZERO {
                    return Ok(Some(wait));
                }
                if let Some(bucket) = &mut state.requests {
                    bucket.take(now, 1.0);
                }
                if let Some(bucket) = &mut state.tokens {
                    bucket.take(now, need);
                }
                if let Some(cautious) = &mut state.cautious {
                    cautious.admitted.take(now, 1.0);
                }
                state.remember(now, 1.0, need);
                Ok(None)
            })?;
            match wait {
                None => {
                    return Ok(Admission {
                        reserved_tokens: tokens,
                    });
                }
                Some(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait.max(Duration::from_millis(1))) => {}
                        () = &mut changed => {}
                    }
                }
            }
        }
    }

    /// A reply came back: give back (or take) the difference between the
    /// reservation and the real `promptTokenCount`, and raise the rate a
    /// little.
    pub(crate) fn settle(&self, model: &str, admission: Admission, prompt_tokens: Option<u64>) {
        self.with_model(model, |state| {
            if let Some(actual) = prompt_tokens {
                let correction = actual as f64 - admission.reserved_tokens as f64;
                match &mut state.tokens {
                    Some(bucket) => bucket.take(Instant::now(), correction),
                    None => state.remember(Instant::now(), 0.0, correction),
                }
            }
            state.scale = (state.scale + INCREASE).min(1.0);
            state.grow_cautious();
        });
        self.changed.notify_waiters();
    }

    /// Learns from a failed call to `model`. Returns the error to give up
    /// with at once (a daily quota spent, no quota on the tier), or `None`
    /// when the retry policy should decide.
    pub(crate) fn on_error(&self, model: &str, error: &Error) -> Option<Error> {
        let Some(api) = error.api().filter(|api| api.code == 429) else {
            // Not a quota answer (a 400, a 500, a dropped connection): it
            // says nothing of the quota, so a cautious start grows as after
            // a success instead of holding a failing model to its start.
            self.with_model(model, ModelState::grow_cautious);
            self.changed.notify_waiters();
            return None;
        };
        let now = Instant::now();
        let violations = api.quota_violations();
        let delay = api.retry_delay();
        let verdict = self.with_model(model, |state| {
            for violation in &violations {
                let named = violation.model.as_deref().unwrap_or(model);
                if violation.value == Some(0) {
                    let stop = QuotaStop::NotOnTier {
                        model: named.to_owned(),
                        tier: violation.tier(),
                        quota_id: violation.quota_id.clone(),
                    };
                    state.unavailable = Some(stop.clone());
                    return Some(Error::Quota(Box::new(stop)));
                }
            }
            for violation in &violations {
                if violation.kind.is_daily() {
                    let wall = Utc::now();
                    let resets_at = next_pacific_midnight(wall);
                    let stop = QuotaStop::DayExhausted {
                        model: violation.model.clone().unwrap_or_else(|| model.to_owned()),
                        quota_id: violation.quota_id.clone(),
                        resets_at,
                    };
                    let left = (resets_at - wall).to_std().unwrap_or_default();
                    state.parked = Some((now + left, stop.clone()));
                    return Some(Error::Quota(Box::new(stop)));
                }
            }
            let mut learned = false;
            for violation in &violations {
                let Some(limit) = violation.value else {
                    continue;
                };
                match violation.kind {
                    QuotaKind::RequestsPerMinute => state.learned.0 = Some(limit),
                    QuotaKind::InputTokensPerMinute => state.learned.1 = Some(limit),
                    _ => continue,
                }
                let known = match violation.kind {
                    QuotaKind::RequestsPerMinute => &state.requests,
                    QuotaKind::InputTokensPerMinute => &state.tokens,
                    _ => continue,
                };
                let learned_bucket = known
                    .is_none()
                    .then(|| state.learned_bucket(now, limit as f64, violation.kind));
                let slot = match violation.kind {
                    QuotaKind::RequestsPerMinute => &mut state.requests,
                    _ => &mut state.tokens,
                };
                match (slot.as_mut(), learned_bucket) {
                    (Some(bucket), _) => bucket.per_minute = bucket.per_minute.min(limit as f64),
                    (None, Some(bucket)) => {
                        *slot = Some(bucket);
                        learned = true;
                    }
                    (None, None) => {}
                }
            }
            if learned {
                // The limit is known now: the cautious start has done its job.
                state.cautious = None;
            }
            // One cut per episode: the 429s of calls already in flight when
            // the first came back do not cut the rate again. A limit just
            // learned from `quotaValue` is the server's own number: it is
            // admitted at that rate, not cut below it.
            if !learned && state.hold_until.is_none_or(|held| held <= now) {
                state.scale = (state.scale * DECREASE).max(MIN_SCALE);
                // With no limit known yet (a 429 without `quotaValue`), the
                // rate to cut is the cautious start's allowance.
                if let Some(cautious) = &mut state.cautious {
                    cautious.answered = (cautious.answered as f64 * DECREASE) as u64;
                    cautious.admitted.per_minute =
                        cautious.start + CAUTIOUS_GROWTH * cautious.answered as f64;
                }
            }
            if let Some(delay) = delay {
                let until = now + delay;
                state.hold_until = Some(state.hold_until.map_or(until, |held| held.max(until)));
            }
            None
        });
        // A cautious start may have ended: its waiters go by the limit now.
        self.changed.notify_waiters();
        verdict
    }
}

#[cfg(test)]
mod tests;
