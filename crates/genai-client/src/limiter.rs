//! A requests-per-minute limiter shared by every clone of a client.
//!
//! Starts are spaced evenly: with a limit of `n` per minute, each request
//! may start no sooner than `60 s / n` after the previous one.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces request starts to stay under a per-minute limit.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    next_start: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub(crate) fn per_minute(limit: u32) -> Self {
        Self {
            interval: Duration::from_secs(60) / limit.max(1),
            next_start: Mutex::new(None),
        }
    }

    /// Waits until this request may start.
    pub(crate) async fn acquire(&self) {
        let start = {
            let mut next = self
                .next_start
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            let now = Instant::now();
            let start = next.map_or(now, |next| next.max(now));
            *next = Some(start + self.interval);
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_evenly() {
        let limiter = std::sync::Arc::new(RateLimiter::per_minute(60));
        let begin = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..3 {
            let limiter = limiter.clone();
            handles.push(tokio::spawn(async move {
                limiter.acquire().await;
                Instant::now()
            }));
        }
        let mut starts = Vec::new();
        for handle in handles {
            starts.push(handle.await.unwrap() - begin);
        }
        starts.sort();
        assert_eq!(
            starts,
            vec![
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
    }
}
