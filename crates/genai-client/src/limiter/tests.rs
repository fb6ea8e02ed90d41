use super::*;

#[tokio::test(start_paused = true)]
async fn starts_are_spaced_evenly() {
    let limiter = std::sync::Arc::new(RateLimiter::per_minute(60));
    let begin = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..3 {
        let limiter = limiter.clone();
        handles.push(tokio::spawn(async move {
            limiter.acquire("m", 0).await.unwrap();
            Instant::now()
        }));
    }
    let mut starts = Vec::new();
    for handle in handles {
        starts.push(handle.await.unwrap() - begin);
    }
    starts.sort();
    // 60 per minute, refilled at 59/60 of that: 1 s × 60/59 apart.
    let gap = Duration::from_secs_f64(60.0 / 59.0);
    assert_eq!(starts[0], Duration::ZERO);
    for pair in starts.windows(2) {
        let apart = pair[1] - pair[0];
        assert!(
            apart >= gap - Duration::from_millis(2) && apart <= gap + Duration::from_millis(2),
            "{apart:?}"
        );
    }
}

#[test]
fn quota_ids_are_classified() {
    for (id, kind) in [
        (
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            QuotaKind::RequestsPerMinute,
        ),
        (
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            QuotaKind::RequestsPerDay,
        ),
        (
            "GenerateContentInputTokensPerModelPerMinute-FreeTier",
            QuotaKind::InputTokensPerMinute,
        ),
        (
            "GenerateContentInputTokensPerModelPerDay-FreeTier",
            QuotaKind::InputTokensPerDay,
        ),
        (
            "GenerateRequestsPerMinutePerProjectPerModel",
            QuotaKind::RequestsPerMinute,
        ),
        (
            "GenerateRequestsPerDayPerProjectPerModel",
            QuotaKind::RequestsPerDay,
        ),
        (
            "GenerateContentPaidTierInputTokensPerModelPerMinute",
            QuotaKind::InputTokensPerMinute,
        ),
        ("SomethingElse", QuotaKind::Other),
    ] {
        assert_eq!(QuotaKind::from_quota_id(id), kind, "{id}");
    }
}

#[test]
fn retry_delay_is_read_from_the_message() {
    let message = "You exceeded your current quota.\n* Quota exceeded for metric: m, limit: 250000, model: gemini-2.5-flash\nPlease retry in 39.844676573s.";
    assert_eq!(
        retry_in_message(message),
        Some(Duration::from_secs_f64(39.844676573))
    );
    assert_eq!(
        retry_in_message("Please retry in 850ms."),
        Some(Duration::from_millis(850))
    );
    assert_eq!(retry_in_message("Please retry later."), None);
    assert_eq!(retry_in_message("no delay here"), None);
}

#[test]
fn midnight_pacific_follows_daylight_time() {
    let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
    // 29 Nov 2026 (standard time, UTC-8): 20:00 UTC is noon; midnight is 08:00 UTC on the 30th.
    assert_eq!(
        next_pacific_midnight(at("2026-11-29T20:00:00Z")),
        at("2026-11-30T08:00:00Z")
    );
    // 05:00 UTC on the 30th is still the 29th in California.
    assert_eq!(
        next_pacific_midnight(at("2026-11-30T05:00:00Z")),
        at("2026-11-30T08:00:00Z")
    );
    // July (daylight time, UTC-7).
    assert_eq!(
        next_pacific_midnight(at("2026-07-10T12:00:00Z")),
        at("2026-07-11T07:00:00Z")
    );
    // The March switch (8 Mar 2026): midnight of the 9th is daylight time.
    assert_eq!(
        next_pacific_midnight(at("2026-03-08T12:00:00Z")),
        at("2026-03-09T07:00:00Z")
    );
    // The November switch (1 Nov 2026): midnight of the 1st was still daylight time,
    // midnight of the 2nd is standard.
    assert_eq!(
        next_pacific_midnight(at("2026-10-31T12:00:00Z")),
        at("2026-11-01T07:00:00Z")
    );
    assert_eq!(
        next_pacific_midnight(at("2026-11-01T12:00:00Z")),
        at("2026-11-02T08:00:00Z")
    );
}
