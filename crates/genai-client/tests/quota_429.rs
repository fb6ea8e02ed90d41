//! Quota-aware scheduling against the loopback fixture server, in paused
//! tokio time: each 429 shape of the facts file (§4), from authored bodies
//! modelled on the real ones (Roo-Code#3883, python-genai#2044/#2065,
//! continuedev/continue#11693). Every body here is authored.

use std::time::Duration;

use cassette::{Cassette, FixtureServer, Interaction, RequestSpec, ResponseSpec, ServerOptions};
use genai_client::{
    Client, ClientConfig, Content, Error, GenerateContentRequest, QuotaKind, QuotaStop,
    RetryPolicy, Timeouts,
};
use serde_json::{Value, json};
use tokio::time::Instant;

const MODEL: &str = "gemini-2.5-flash";
const GENERATE: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

fn ok_reply(prompt_tokens: u64) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": prompt_tokens, "candidatesTokenCount": 1, "totalTokenCount": prompt_tokens + 1},
        "modelVersion": MODEL
    })
}

fn violation(metric: &str, quota_id: &str, value: &str) -> Value {
    json!({
        "quotaMetric": format!("generativelanguage.googleapis.com/{metric}"),
        "quotaId": quota_id,
        "quotaDimensions": {"location": "global", "model": MODEL},
        "quotaValue": value
    })
}

fn rpm(value: &str) -> Value {
    violation(
        "generate_requests_per_model",
        "GenerateRequestsPerMinutePerProjectPerModel",
        value,
    )
}

fn tpm(value: &str) -> Value {
    violation(
        "generate_content_paid_tier_input_token_count",
        "GenerateContentPaidTierInputTokensPerModelPerMinute",
        value,
    )
}

fn rpd(value: &str) -> Value {
    violation(
        "generate_content_free_tier_requests",
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
        value,
    )
}

/// A 429 shaped like the real ones: QuotaFailure, Help, RetryInfo.
fn quota_429(violations: Vec<Value>, retry_delay: &str) -> ResponseSpec {
    ResponseSpec::json(json!({"error": {
        "code": 429,
        "message": format!("You exceeded your current quota, please check your plan and billing details.\nPlease retry in {retry_delay}."),
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": violations},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        ]
    }}))
    .with_status(429)
}

async fn server(first: ResponseSpec, ok_prompt_tokens: u64) -> FixtureServer {
    let mut cassette = Cassette::authored("quota", "authored: 429 bodies modelled on real ones");
    cassette
        .interactions
        .push(Interaction::new(RequestSpec::post(GENERATE), first));
    cassette.interactions.push(
        Interaction::new(
            RequestSpec::post(GENERATE),
            ResponseSpec::json(ok_reply(ok_prompt_tokens)),
        )
        .repeatable(),
    );
    FixtureServer::start(vec![cassette], ServerOptions::lenient())
        .await
        .unwrap()
}

fn client(server: &FixtureServer, scheduling: bool) -> Client {
    let config = ClientConfig::default()
        .with_timeouts(Timeouts::none())
        .with_retry(RetryPolicy {
            jitter_seed: Some(7),
            ..RetryPolicy::default()
        })
        .with_quota_scheduling(scheduling)
        .with_base_url(&server.base_url());
    Client::new(config).unwrap()
}

/// A request whose JSON is about `tokens` × 4 bytes.
fn request(tokens: usize) -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user("x".repeat(tokens * 4))],
        ..Default::default()
    }
}

/// Runs `calls` calls at once; returns when each was answered (since `begin`).
async fn burst(client: &Client, calls: usize, tokens: usize, begin: Instant) -> Vec<Duration> {
    let mut handles = Vec::new();
    for _ in 0..calls {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            client
                .generate_content(MODEL, &request(tokens))
                .await
                .unwrap();
            Instant::now() - begin
        }));
    }
    let mut done = Vec::new();
    for handle in handles {
        done.push(handle.await.unwrap());
    }
    done.sort();
    done
}

/// The most answers in any 60 s window.
fn most_in_a_minute(times: &[Duration]) -> usize {
    times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(60))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn per_minute_requests_429_learns_the_limit_and_waits_as_retry_info_says() {
    let server = server(quota_429(vec![rpm("3")], "20s"), 10).await;
    let client = client(&server, true);
    let begin = Instant::now();
    let first = client.generate_content(MODEL, &request(10)).await.unwrap();
    assert_eq!(first.text(), "ok");
    assert!(
        Instant::now() - begin >= Duration::from_secs(20),
        "RetryInfo honoured"
    );
    let times = burst(&client, 9, 10, begin).await;
    // 1 429 + 10 answers: the learned limit kept every later call under it.
    assert_eq!(server.stats().total_requests, 11);
    assert!(most_in_a_minute(&times) <= 3, "{times:?}");
}

#[tokio::test(start_paused = true)]
async fn without_scheduling_the_same_burst_only_retries() {
    let server = server(quota_429(vec![rpm("3")], "20s"), 10).await;
    let client = client(&server, false);
    let begin = Instant::now();
    client.generate_content(MODEL, &request(10)).await.unwrap();
    let times = burst(&client, 9, 10, begin).await;
    // Nothing was learned: the 9 calls went out together.
    assert_eq!(most_in_a_minute(&times), 9);
}

#[tokio::test(start_paused = true)]
async fn per_minute_input_tokens_429_paces_by_tokens() {
    let server = server(quota_429(vec![tpm("1000")], "5s"), 300).await;
    let client = client(&server, true);
    let begin = Instant::now();
    client.generate_content(MODEL, &request(300)).await.unwrap();
    let times = burst(&client, 6, 300, begin).await;
    assert_eq!(server.stats().total_requests, 8);
    // About 300 tokens each (the body's bytes / 4): at most 1000 a minute,
    // so at most 4 answers (1 burst + 3 refills) in any minute.
    assert!(most_in_a_minute(&times) <= 4, "{times:?}");
    assert!(most_in_a_minute(&times) >= 2, "{times:?}");
}

#[tokio::test(start_paused = true)]
async fn per_day_429_parks_the_model_until_midnight_pacific() {
    let server = server(quota_429(vec![rpd("250")], "30s"), 10).await;
    let client = client(&server, true);
    let error = client
        .generate_content(MODEL, &request(10))
        .await
        .unwrap_err();
    let Error::Quota(stop) = &error else {
        panic!("expected a quota stop, got {error:?}")
    };
    let QuotaStop::DayExhausted {
        model, resets_at, ..
    } = stop.as_ref()
    else {
        panic!("expected a daily stop, got {stop:?}")
    };
    assert_eq!(model, MODEL);
    use chrono::Timelike;
    let left = *resets_at - chrono::Utc::now();
    assert!(left > chrono::Duration::zero() && left <= chrono::Duration::hours(24));
    assert!(
        matches!((resets_at.hour(), resets_at.minute()), (7 | 8, 0)),
        "{resets_at}"
    );
    assert!(error.to_string().contains("resets at midnight Pacific"));
    // Parked: the next call fails without a request.
    let again = client
        .generate_content(MODEL, &request(10))
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Quota(_)));
    assert_eq!(server.stats().total_requests, 1);
    assert_eq!(error.kind().as_str(), "quota");
}

#[tokio::test(start_paused = true)]
async fn zero_limit_fails_fast_naming_model_and_tier() {
    let zero = violation(
        "generate_content_free_tier_input_token_count",
        "GenerateContentInputTokensPerModelPerMinute-FreeTier",
        "0",
    );
    let server = server(quota_429(vec![zero], "10s"), 10).await;
    let client = client(&server, true);
    let error = client
        .generate_content(MODEL, &request(10))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains(MODEL) && text.contains("free tier"), "{text}");
    let again = client
        .generate_content(MODEL, &request(10))
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Quota(_)));
    assert_eq!(
        server.stats().total_requests,
        1,
        "no retry, no second request"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_without_details_waits_as_its_message_says() {
    let bare = ResponseSpec::json(json!({"error": {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota). Please retry in 7.5s.",
        "status": "RESOURCE_EXHAUSTED"
    }}))
    .with_status(429);
    let server = server(bare, 10).await;
    let client = client(&server, true);
    let begin = Instant::now();
    client.generate_content(MODEL, &request(10)).await.unwrap();
    assert!(Instant::now() - begin >= Duration::from_millis(7_500));
    assert_eq!(server.stats().total_requests, 2);
}

#[tokio::test(start_paused = true)]
async fn a_bare_429_falls_back_to_exponential_backoff() {
    let bare = ResponseSpec::json(json!({"error": {
        "code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED"
    }}))
    .with_status(429);
    let server = server(bare, 10).await;
    let client = client(&server, true);
    client.generate_content(MODEL, &request(10)).await.unwrap();
    assert_eq!(server.stats().total_requests, 2);
}

#[tokio::test(start_paused = true)]
async fn several_violations_at_once_are_all_typed_and_the_daily_one_wins() {
    let server = server(
        quota_429(vec![rpd("1500"), rpm("15"), tpm("250000")], "30s"),
        10,
    )
    .await;
    let client = client(&server, true);
    let error = client
        .generate_content(MODEL, &request(10))
        .await
        .unwrap_err();
    assert!(matches!(
        &error,
        Error::Quota(stop) if matches!(stop.as_ref(), QuotaStop::DayExhausted { .. })
    ));
    // The typed violations, as a caller sees them on the API error.
    let body = br#"{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_requests_per_model","quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaDimensions":{"model":"gemini-2.5-flash"},"quotaValue":"15"},{"quotaId":"GenerateContentPaidTierInputTokensPerModelPerMinute","quotaValue":"2000000"}]}]}}"#;
    let api = genai_client::ApiError::from_body(429, body);
    let violations = api.quota_violations();
    assert_eq!(violations.len(), 2);
    assert_eq!(violations[0].kind, QuotaKind::RequestsPerMinute);
    assert_eq!(violations[0].value, Some(15));
    assert_eq!(violations[0].model.as_deref(), Some(MODEL));
    assert_eq!(violations[1].kind, QuotaKind::InputTokensPerMinute);
    assert_eq!(violations[1].value, Some(2_000_000));
    assert_eq!(violations[1].tier().as_deref(), Some("paid tier"));
}

#[tokio::test(start_paused = true)]
async fn rpm_and_tpm_in_one_429_set_both_buckets() {
    let server = server(quota_429(vec![rpm("100"), tpm("600")], "1s"), 300).await;
    let client = client(&server, true);
    let begin = Instant::now();
    client.generate_content(MODEL, &request(300)).await.unwrap();
    let times = burst(&client, 4, 300, begin).await;
    // The request limit (100) would allow all four at once; the token limit does not.
    assert!(most_in_a_minute(&times) <= 3, "{times:?}");
}
