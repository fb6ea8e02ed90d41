use super::*;

#[tokio::test(start_paused = true)]
async fn no_minute_admits_more_than_the_limit() {
    let limiter = std::sync::Arc::new(RateLimiter::per_minute(3));
    let begin = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..7 {
        let limiter = limiter.clone();
        handles.push(tokio::spawn(async move {
            limiter.acquire("m", 0).await.unwrap();
            Instant::now() - begin
        }));
    }
    let mut starts = Vec::new();
    for handle in handles {
        starts.push(handle.await.unwrap());
    }
    starts.sort();
    let minute = Duration::from_secs(60);
    assert_eq!(
        starts,
        vec![
            Duration::ZERO,
            Duration::ZERO,
            Duration::ZERO,
            minute,
            minute,
            minute,
            minute * 2
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn input_tokens_are_reconciled_with_the_real_count() {
    let limiter = RateLimiter::new(QuotaSettings {
        requests_per_minute: None,
        input_tokens_per_minute: Some(1000),
        cautious_start: None,
    });
    let begin = Instant::now();
    let admission = limiter.acquire("m", 900).await.unwrap();
    // The reply says the prompt was 100 tokens: 800 come back.
    limiter.settle("m", admission, Some(100));
    limiter.acquire("m", 800).await.unwrap();
    assert_eq!(Instant::now() - begin, Duration::ZERO);
    // Now 900 are used: 200 more must wait for the first minute to pass.
    limiter.acquire("m", 200).await.unwrap();
    assert_eq!(Instant::now() - begin, Duration::from_secs(60));
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

/// A 429 with a per-minute request quota of `limit`, as Gemini words it.
fn rpm_429(limit: u64) -> Error {
    let body = serde_json::json!({"error": {
        "code": 429,
        "message": "You exceeded your current quota. Please retry in 1s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_requests_per_model",
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
            "quotaDimensions": {"location": "global", "model": "m"},
            "quotaValue": limit.to_string()
        }]}]
    }})
    .to_string();
    crate::decode_response(429, body.as_bytes()).unwrap_err()
}

#[tokio::test(start_paused = true)]
async fn a_cautious_start_grows_with_successes_and_ends_when_the_limit_is_learned() {
    let limiter = std::sync::Arc::new(RateLimiter::new(QuotaSettings {
        cautious_start: Some(2),
        ..QuotaSettings::default()
    }));
    let begin = Instant::now();
    let first = limiter.acquire("m", 0).await.unwrap();
    let _second = limiter.acquire("m", 0).await.unwrap();
    // A third waits: two is the allowance until something succeeds.
    let waiting = {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            limiter.acquire("m", 0).await.unwrap();
            Instant::now() - begin
        })
    };
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    // One success adds 1.1 to the allowance and wakes the waiting call at once.
    limiter.settle("m", first, None);
    assert_eq!(waiting.await.unwrap(), Duration::ZERO);
    // A fourth and fifth would cross 2 + 1.1 admissions in the minute.
    let blocked = {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            limiter.acquire("m", 0).await.unwrap();
            Instant::now() - begin
        })
    };
    tokio::task::yield_now().await;
    assert!(!blocked.is_finished());
    // The server says the limit is 100 a minute and this minute is spent:
    // the cautious start ends and the learned limit (not cut below it)
    // decides; the held call goes when the minute frees.
    assert!(limiter.on_error("m", &rpm_429(100)).is_none());
    assert_eq!(blocked.await.unwrap(), Duration::from_secs(60));
    let state_scale = limiter.with_model("m", |state| (state.scale, state.cautious.is_none()));
    assert_eq!(state_scale, (1.0, true));
}

#[tokio::test(start_paused = true)]
async fn without_a_cautious_start_nothing_waits_before_a_limit_is_known() {
    let limiter = RateLimiter::new(QuotaSettings::default());
    let begin = Instant::now();
    for _ in 0..50 {
        let _admitted = limiter.acquire("m", 0).await.unwrap();
    }
    assert_eq!(Instant::now() - begin, Duration::ZERO);
}

/// A 429 without details (no limit to learn), whose message asks for a
/// second's wait.
fn bare_429() -> Error {
    let body = r#"{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota). Please retry in 1s.", "status": "RESOURCE_EXHAUSTED"}}"#;
    crate::decode_response(429, body.as_bytes()).unwrap_err()
}

/// The cautious start's allowance of model `m` this minute.
fn allowance(limiter: &RateLimiter) -> f64 {
    limiter.with_model("m", |state| {
        state
            .cautious
            .as_ref()
            .map_or(f64::INFINITY, |cautious| cautious.admitted.per_minute)
    })
}

#[tokio::test(start_paused = true)]
async fn a_cautious_start_grows_on_any_answer_but_a_429_and_a_bare_429_cuts_it() {
    let limiter = RateLimiter::new(QuotaSettings {
        cautious_start: Some(2),
        ..QuotaSettings::default()
    });
    assert_eq!(allowance(&limiter), 2.0);
    // A server error says nothing of the quota: the ramp goes on (it used
    // to stay at the start, holding a failing model to 2 calls a minute).
    let server_error = crate::decode_response(
        500,
        br#"{"error": {"code": 500, "message": "Internal error.", "status": "INTERNAL"}}"#,
    )
    .unwrap_err();
    for _ in 0..10 {
        assert!(limiter.on_error("m", &server_error).is_none());
    }
    assert!((allowance(&limiter) - (2.0 + 11.0)).abs() < 1e-9);
    // A 429 without a limit cuts what the ramp added (×0.7), and keeps the
    // cautious start: nothing was learned. A second 429 of the same
    // episode (within the first's wait) does not cut again.
    assert!(limiter.on_error("m", &bare_429()).is_none());
    assert!((allowance(&limiter) - (2.0 + 1.1 * 7.0)).abs() < 1e-9);
    assert!(limiter.on_error("m", &bare_429()).is_none());
    assert!((allowance(&limiter) - (2.0 + 1.1 * 7.0)).abs() < 1e-9);
}

/// A limit learned from a 429 starts from what the client sent in the last
/// minute, at the times it sent it: the minute frees when the server's
/// does. (It used to count the whole limit as used at the 429, so the
/// next call waited a full minute from then: 90 s here instead of 60 s.)
#[tokio::test(start_paused = true)]
async fn a_learned_limit_frees_when_the_clients_own_requests_leave_the_minute() {
    let limiter = RateLimiter::new(QuotaSettings {
        cautious_start: Some(2),
        ..QuotaSettings::default()
    });
    let begin = Instant::now();
    let first = limiter.acquire("m", 0).await.unwrap();
    let _second = limiter.acquire("m", 0).await.unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    limiter.settle("m", first, None);
    let _third = limiter.acquire("m", 0).await.unwrap();
    // The third is refused: the limit is 3 a minute and the server counts
    // the first two, sent 30 s ago.
    assert!(limiter.on_error("m", &rpm_429(3)).is_none());
    limiter.acquire("m", 0).await.unwrap();
    assert_eq!(Instant::now() - begin, Duration::from_secs(60));
}

/// A limit a 429 taught one limiter is reported, and a later limiter given
/// it admits the model at that rate from its first request: no burst
/// beyond the limit, no cautious start (which a known limit makes
/// pointless). Before `known_limits` a new client always began unknowing.
#[tokio::test(start_paused = true)]
async fn a_limit_learned_by_one_limiter_is_known_to_the_next_from_its_first_request() {
    let first = RateLimiter::new(QuotaSettings::default());
    assert!(first.learned().is_empty());
    for _ in 0..5 {
        let _admitted = first.acquire("m", 0).await.unwrap();
    }
    assert!(first.on_error("m", &rpm_429(3)).is_none());
    let learned = first.learned();
    assert_eq!(
        learned,
        vec![LearnedLimit {
            model: "m".into(),
            quota: PerMinuteQuota::RequestsPerMinute,
            per_minute: 3,
        }]
    );

    let next = RateLimiter::new(QuotaSettings {
        cautious_start: Some(1),
        ..QuotaSettings::default()
    })
    .with_known(&learned);
    let begin = Instant::now();
    let mut starts = Vec::new();
    for _ in 0..4 {
        let _admitted = next.acquire("m", 0).await.unwrap();
        starts.push(Instant::now() - begin);
    }
    let minute = Duration::from_secs(60);
    // Three at once (the cautious start of 1 would have held the second),
    // the fourth when the minute frees.
    assert_eq!(
        starts,
        vec![Duration::ZERO, Duration::ZERO, Duration::ZERO, minute]
    );
    // Nothing new was learned by the second limiter, and another model
    // knows nothing of what `m` taught: it starts cautiously.
    assert!(next.learned().is_empty());
    let other = next.with_model("other", |state| {
        (state.requests.is_none(), state.cautious.is_some())
    });
    assert_eq!(other, (true, true));
}

/// A known limit and a setting: the lower one holds, and a 429 teaching a
/// lower limit lowers it and is reported.
#[tokio::test(start_paused = true)]
async fn a_known_limit_meets_the_setting_at_the_lower_and_a_429_lowers_it_again() {
    let known = [LearnedLimit {
        model: "m".into(),
        quota: PerMinuteQuota::InputTokensPerMinute,
        per_minute: 500,
    }];
    let limiter = RateLimiter::new(QuotaSettings {
        input_tokens_per_minute: Some(2_000),
        ..QuotaSettings::default()
    })
    .with_known(&known);
    let begin = Instant::now();
    limiter.acquire("m", 400).await.unwrap();
    // 400 + 200 crosses the known 500 (not the setting's 2,000).
    limiter.acquire("m", 200).await.unwrap();
    assert_eq!(Instant::now() - begin, Duration::from_secs(60));
    let tpm_429 = {
        let body = serde_json::json!({"error": {
            "code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute",
                "quotaValue": "300"
            }]}]
        }})
        .to_string();
        crate::decode_response(429, body.as_bytes()).unwrap_err()
    };
    assert!(limiter.on_error("m", &tpm_429).is_none());
    assert_eq!(
        limiter.learned(),
        vec![LearnedLimit {
            model: "m".into(),
            quota: PerMinuteQuota::InputTokensPerMinute,
            per_minute: 300,
        }]
    );
    let bucket = limiter.with_model("m", |state| state.tokens.as_ref().map(|b| b.per_minute));
    assert_eq!(bucket, Some(300.0));
}
