//! When and how long to wait before trying a call again.
//!
//! Retried: HTTP 408, 429, 500, 502, 503, 504, connection failures,
//! timeouts and undecodable replies. Never retried: other 4xx (a bad key or a
//! bad request does not get better). Waits grow exponentially with full
//! jitter (a random wait between zero and the exponential cap), and are never
//! shorter than the delay the server asked for (`google.rpc.RetryInfo` or a
//! `Retry-After` header). Attempts and total time are both bounded.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// Retry settings. The defaults follow the official SDKs: 5 attempts, first
/// wait up to 1 s, doubling, capped at 60 s; plus a 10-minute total deadline.
///
/// ```
/// use std::time::Duration;
/// use genai_client::RetryPolicy;
/// let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
/// assert_eq!(policy.cap_for_retry(1), Duration::from_secs(1));
/// assert_eq!(policy.cap_for_retry(3), Duration::from_secs(4));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub max_attempts: u32,
    /// Cap of the first wait.
    pub initial_delay: Duration,
    /// Cap of any wait computed by backoff (a server-requested delay may be longer).
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub total_deadline: Duration,
    /// Seed for the jitter, for reproducible waits; `None` seeds randomly.
    pub jitter_seed: Option<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            total_deadline: Duration::from_secs(600),
            jitter_seed: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The exponential cap for the `retry`-th retry (1-based):
    /// `min(max_delay, initial_delay * 2^(retry-1))`.
    pub fn cap_for_retry(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }

    /// The wait before the `retry`-th retry: a uniform draw in
    /// `[0, cap_for_retry(retry)]` (`unit` is the draw in `[0, 1)`), raised
    /// to the server's requested delay when there is one.
    pub fn delay_for(&self, retry: u32, unit: f64, server_delay: Option<Duration>) -> Duration {
        let jittered = self.cap_for_retry(retry).mul_f64(unit.clamp(0.0, 1.0));
        match server_delay {
            Some(asked) => jittered.max(asked),
            None => jittered,
        }
    }
}

/// One retry about to happen, as told to a [`RetryObserver`].
#[derive(Debug, Clone, PartialEq)]
pub struct RetryEvent {
    /// The attempt that failed (1 is the first call).
    pub attempt: u32,
    /// Attempts allowed in all.
    pub max_attempts: u32,
    /// How long the client will wait before the next attempt.
    pub delay: Duration,
    /// A short reason, e.g. `429 RESOURCE_EXHAUSTED`.
    pub reason: String,
    /// The delay the server asked for, when it asked.
    pub server_delay: Option<Duration>,
}

impl std::fmt::Display for RetryEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "retrying in {}: {}",
            human_duration(self.delay),
            self.reason
        )
    }
}

/// Receives every retry, e.g. to show "retrying in 13 s: 429 RESOURCE_EXHAUSTED".
///
/// Closures implement it:
/// ```
/// use std::sync::Arc;
/// use genai_client::{RetryEvent, RetryObserver};
/// let observer: Arc<dyn RetryObserver> = Arc::new(|event: &RetryEvent| {
///     let _line = event.to_string();
/// });
/// # let _ = observer;
/// ```
pub trait RetryObserver: Send + Sync {
    /// Called before the client waits for the next attempt.
    fn on_retry(&self, event: &RetryEvent);
}

impl<F: Fn(&RetryEvent) + Send + Sync> RetryObserver for F {
    fn on_retry(&self, event: &RetryEvent) {
        self(event);
    }
}

/// A shared observer.
pub type SharedRetryObserver = Arc<dyn RetryObserver>;

/// What to do after a failed attempt.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Stop and return this error.
    GiveUp(Error),
}

/// Decides on the retry after `attempt` failed with `error`, `elapsed` after
/// the first attempt began.
pub(crate) fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    elapsed: Duration,
    error: Error,
    unit: f64,
) -> Decision {
    if !error.is_retryable() {
        return Decision::GiveUp(error);
    }
    let exhausted = |error: Error| Error::RetriesExhausted {
        attempts: attempt,
        elapsed,
        last: Box::new(error),
    };
    if attempt >= policy.max_attempts {
        return Decision::GiveUp(if attempt > 1 { exhausted(error) } else { error });
    }
    let delay = policy.delay_for(attempt, unit, error.retry_delay());
    if elapsed + delay > policy.total_deadline {
        return Decision::GiveUp(exhausted(error));
    }
    Decision::RetryAfter(delay)
}

/// `850 ms`, `13 s`, `34.4 s`, `2 min 05 s`.
pub(crate) fn human_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis} ms")
    } else if millis < 60_000 {
        let tenths = (millis + 50) / 100;
        if tenths % 10 == 0 {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        }
    } else {
        let seconds = duration.as_secs();
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn api(code: u16, body: &str) -> Error {
        Error::Api(Box::new(ApiError::from_body(code, body.as_bytes())))
    }

    #[test]
    fn caps_double_up_to_the_maximum() {
        let policy = RetryPolicy::default();
        let caps: Vec<u64> = (1..=8)
            .map(|retry| policy.cap_for_retry(retry).as_secs())
            .collect();
        assert_eq!(caps, vec![1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn full_jitter_stays_within_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_for(3, 0.0, None), Duration::ZERO);
        assert_eq!(policy.delay_for(3, 0.5, None), Duration::from_secs(2));
        assert!(policy.delay_for(3, 0.999, None) < Duration::from_secs(4));
    }

    #[test]
    fn server_delay_is_a_floor() {
        let policy = RetryPolicy::default();
        let asked = Some(Duration::from_millis(34_400));
        assert_eq!(
            policy.delay_for(1, 0.9, asked),
            Duration::from_millis(34_400)
        );
    }

    #[test]
    fn client_errors_are_not_retried() {
        let policy = RetryPolicy::default();
        for code in [400, 401, 403, 404] {
            let decision = decide(&policy, 1, Duration::ZERO, api(code, "{}"), 0.5);
            assert!(
                matches!(decision, Decision::GiveUp(Error::Api(_))),
                "{code}"
            );
        }
        for code in [408, 429, 500, 502, 503, 504] {
            let decision = decide(&policy, 1, Duration::ZERO, api(code, "{}"), 0.5);
            assert!(matches!(decision, Decision::RetryAfter(_)), "{code}");
        }
    }

    #[test]
    fn attempts_and_deadline_bound_retries() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let decision = decide(&policy, 3, Duration::from_secs(3), api(503, "{}"), 0.5);
        assert!(matches!(
            decision,
            Decision::GiveUp(Error::RetriesExhausted { attempts: 3, .. })
        ));
        let policy = RetryPolicy {
            total_deadline: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let body = r#"{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}"#;
        let decision = decide(&policy, 1, Duration::ZERO, api(429, body), 0.5);
        assert!(matches!(
            decision,
            Decision::GiveUp(Error::RetriesExhausted { .. })
        ));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(human_duration(Duration::from_secs(13)), "13 s");
        assert_eq!(human_duration(Duration::from_millis(34_400)), "34.4 s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2 min 05 s");
    }
}
