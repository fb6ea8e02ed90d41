//! Request matching: by content in any order, subset and key-field
//! matchers, repeatable interactions, and the reports for mismatches and
//! unused interactions.

mod common;

use cassette::{
    BodyMatcher, FixtureServer, FunctionResponseMatch, Interaction, KeyFields, RequestSpec,
    ResponseSpec, ServerOptions,
};
use common::{GENERATE, STREAM, answer, ask, cassette, client, post, qa};
use serde_json::{Value, json};

#[tokio::test]
async fn concurrent_requests_match_by_body_in_any_order() {
    let questions: Vec<String> = (0..8).map(|i| format!("question {i}")).collect();
    let interactions = questions
        .iter()
        .map(|q| qa(q, &format!("answer to {q}")))
        .collect();
    let server = FixtureServer::start(
        vec![cassette("many", interactions)],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let base = server.base_url();
    let client = client();
    // Fire in reverse file order, all at once.
    let tasks: Vec<_> = questions
        .iter()
        .rev()
        .map(|q| {
            let (client, base, q) = (client.clone(), base.clone(), q.clone());
            tokio::spawn(async move { (q.clone(), post(&client, &base, GENERATE, &ask(&q)).await) })
        })
        .collect();
    for task in tasks {
        let (question, (status, body)) = task.await.expect("task completes");
        assert_eq!(status, 200);
        let body: Value = serde_json::from_str(&body).expect("json body");
        assert_eq!(body, answer(&format!("answer to {question}")));
    }
    server.assert_clean();
}

#[tokio::test]
async fn identical_requests_take_interactions_in_file_order() {
    let first = Interaction::new(
        RequestSpec::post(GENERATE),
        ResponseSpec::json(answer("one")),
    );
    let second = Interaction::new(
        RequestSpec::post(GENERATE),
        ResponseSpec::json(answer("two")),
    );
    let server = FixtureServer::start(
        vec![cassette("order", vec![first, second])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let client = client();
    let (_, a) = post(&client, &server.base_url(), GENERATE, &ask("same")).await;
    let (_, b) = post(&client, &server.base_url(), GENERATE, &ask("same")).await;
    assert!(a.contains("one") && b.contains("two"), "{a} / {b}");
    server.assert_clean();
}

#[tokio::test]
async fn subset_and_query_matchers() {
    let streaming = Interaction::new(
        RequestSpec::post(STREAM)
            .with_query("alt", "sse")
            .with_body(BodyMatcher::Subset(
                json!({"generationConfig": {"temperature": 0.2}}),
            )),
        ResponseSpec::json(answer("cool")),
    );
    let server = FixtureServer::start(
        vec![cassette("subset", vec![streaming])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let client = client();
    let mut body = ask("hi");
    body["generationConfig"] = json!({"temperature": 0.2, "maxOutputTokens": 64});
    // Without alt=sse the query does not match.
    let (status, text) = post(&client, &server.base_url(), STREAM, &body).await;
    assert_eq!(status, 418, "{text}");
    assert!(
        text.contains("query \\\"alt\\\": cassette wants \\\"sse\\\""),
        "{text}"
    );
    // Extra parameters such as key are ignored.
    let (status, text) = post(
        &client,
        &server.base_url(),
        &format!("{STREAM}?key=k&alt=sse"),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn key_fields_matcher_follows_the_conversation() {
    let conversation = json!({
        "systemInstruction": {"parts": [{"text": "You are worker A. Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "read the file"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "read_file", "id": "c1", "args": {"path": "a.txt"}}, "thoughtSignature": "c2ln"}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "read_file", "id": "c1", "response": {"content": "hello"}}}
            ]}
        ]
    });
    let fields = KeyFields {
        last_user_text: Some(String::new()),
        function_responses: Some(vec![FunctionResponseMatch {
            name: "read_file".into(),
            id: Some("c1".into()),
            response: Some(json!({"content": "hello"})),
        }]),
        system_contains: Some("worker A".into()),
        turns: Some(3),
        ..KeyFields::default()
    };
    let first_turn = KeyFields {
        last_user_text_contains: Some("read".into()),
        turns: Some(1),
        ..KeyFields::default()
    };
    let interactions = vec![
        Interaction::new(
            RequestSpec::post(GENERATE).with_body(BodyMatcher::KeyFields(fields)),
            ResponseSpec::json(answer("it says hello")),
        ),
        Interaction::new(
            RequestSpec::post(GENERATE).with_body(BodyMatcher::KeyFields(first_turn)),
            ResponseSpec::json(answer("calling read_file")),
        ),
    ];
    let server = FixtureServer::start(
        vec![cassette("tools", interactions)],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let client = client();
    let (_, text) = post(&client, &server.base_url(), GENERATE, &conversation).await;
    assert!(text.contains("it says hello"), "{text}");
    let (_, text) = post(
        &client,
        &server.base_url(),
        GENERATE,
        &ask("please read it"),
    )
    .await;
    assert!(text.contains("calling read_file"), "{text}");
    server.assert_clean();
    // The request log keeps the bodies, e.g. to check echoed thought signatures.
    let requests = server.requests();
    let echoed = &requests[0].body.as_ref().expect("json body")["contents"][1]["parts"][0]["thoughtSignature"];
    assert_eq!(echoed, "c2ln");
}

#[tokio::test]
async fn unmatched_request_reports_closest_candidate_with_diff() {
    let interactions = vec![
        qa("hello there", "hi").with_label("greeting"),
        Interaction::new(
            RequestSpec::post("/v1beta/models/gemini-2.5-flash:countTokens"),
            ResponseSpec::json(json!({"totalTokens": 1})),
        )
        .with_label("count"),
    ];
    let server = FixtureServer::start(
        vec![cassette("strict", interactions)],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let (status, body) = post(&client(), &server.base_url(), GENERATE, &ask("hello their")).await;
    assert_eq!(status, 418);
    let envelope: Value = serde_json::from_str(&body).expect("json error envelope");
    assert_eq!(envelope["error"]["status"], "CASSETTE_MISMATCH");

    let error = server.verify().expect_err("a request went unmatched");
    assert_eq!(error.unmatched.len(), 1);
    assert_eq!(error.unused.len(), 2, "both interactions stayed unused");
    let message = error.to_string();
    for needle in [
        "1 unmatched request(s), 2 unused interaction(s)",
        &format!("no interaction matches POST {GENERATE}"),
        r#""last_user_text":"hello their""#,
        r#"closest candidate: 0#0 "greeting" in cassette "strict""#,
        "exact matcher; - cassette expects, + request has",
        r#"-           "text": "hello there""#,
        r#"+           "text": "hello their""#,
        r#"0#1 "count" in cassette "strict""#,
    ] {
        assert!(
            message.contains(needle),
            "missing {needle:?} in:\n{message}"
        );
    }
    assert_eq!(
        envelope["error"]["message"].as_str(),
        Some(error.unmatched[0].report.as_str())
    );
    let panic =
        std::panic::catch_unwind(|| server.assert_clean()).expect_err("assert_clean panics");
    let text = panic
        .downcast_ref::<String>()
        .expect("panic message is a String");
    assert!(text.contains("closest candidate"), "{text}");
}

#[tokio::test]
async fn already_used_candidate_is_called_out() {
    let server = FixtureServer::start(
        vec![cassette("once", vec![qa("q", "a")])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let client = client();
    assert_eq!(
        post(&client, &server.base_url(), GENERATE, &ask("q"))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&client, &server.base_url(), GENERATE, &ask("q"))
            .await
            .0,
        418
    );
    let message = server
        .verify()
        .expect_err("second request unmatched")
        .to_string();
    assert!(
        message.contains("similarity 1.00, already used"),
        "{message}"
    );
}

#[tokio::test]
async fn unused_interactions_fail_strict_but_not_lenient() {
    let make = || {
        cassette(
            "unused",
            vec![qa("a", "1"), qa("b", "2").with_label("never asked")],
        )
    };
    let strict = FixtureServer::start(vec![make()], ServerOptions::default())
        .await
        .expect("starts");
    let lenient = FixtureServer::start(vec![make()], ServerOptions::lenient())
        .await
        .expect("starts");
    for server in [&strict, &lenient] {
        assert_eq!(
            post(&client(), &server.base_url(), GENERATE, &ask("a"))
                .await
                .0,
            200
        );
    }
    let error = strict.verify().expect_err("b was never asked");
    assert!(error.unmatched.is_empty());
    assert_eq!(error.unused.len(), 1);
    assert_eq!(error.unused[0].id.index, 1);
    assert!(
        error.to_string().contains(r#"0#1 "never asked""#),
        "{error}"
    );
    lenient.assert_clean();
}

#[tokio::test]
async fn repeatable_interactions_serve_many_requests() {
    let tokens = Interaction::new(
        RequestSpec::post("/v1beta/models/m:countTokens"),
        ResponseSpec::json(json!({"totalTokens": 7})),
    )
    .repeatable();
    let server = FixtureServer::start(
        vec![cassette("repeat", vec![tokens])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    for _ in 0..3 {
        let (status, body) = post(
            &client(),
            &server.base_url(),
            "/v1beta/models/m:countTokens",
            &json!({}),
        )
        .await;
        assert_eq!((status, body.as_str()), (200, r#"{"totalTokens":7}"#));
    }
    server.assert_clean();
    assert_eq!(server.stats().interaction_hits[0].hits, 3);
}

#[tokio::test]
async fn several_cassettes_are_served_together() {
    let a = cassette("a", vec![qa("x", "from a")]);
    let b = cassette("b", vec![qa("y", "from b")]);
    let server = FixtureServer::start(vec![a, b], ServerOptions::default())
        .await
        .expect("starts");
    let (_, text) = post(&client(), &server.base_url(), GENERATE, &ask("y")).await;
    assert!(text.contains("from b"));
    assert_eq!(
        server.requests()[0]
            .matched
            .map(|id| (id.cassette, id.index)),
        Some((1, 0))
    );
    let error = server.verify().expect_err("x unused");
    assert!(
        error.to_string().contains(r#"0#0 in cassette "a""#),
        "{error}"
    );
}

/// The mismatch report (the 418 body and `verify`) shows the request's
/// body diff, query and key fields: none may show a key the request
/// carried in a header or the query, nor a Google-key-shaped string.
#[tokio::test]
async fn mismatch_reports_never_show_the_key_or_secret_headers() {
    let header_key = "fake-key-HEADERCHECK-5d1b";
    let bearer = "bearer-token-CHECK-77aa";
    let query_key = "fake-key-QUERYCHECK-93c0";
    let shaped = format!("AIza{}", "Q".repeat(35));
    let server = FixtureServer::start(
        vec![cassette("strict", vec![qa("hello there", "hi")])],
        ServerOptions::default(),
    )
    .await
    .expect("server starts");
    let question = format!("hello {header_key} {bearer} {query_key} {shaped}");
    let response = client()
        .post(format!("{}{GENERATE}?key={query_key}", server.base_url()))
        .header("x-goog-api-key", header_key)
        .header("authorization", format!("Bearer {bearer}"))
        .json(&ask(&question))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status().as_u16(), 418);
    let body = response.text().await.expect("body");
    let report = server.verify().expect_err("unmatched").to_string();
    for shown in [&body, &report] {
        assert!(shown.contains("closest candidate"), "{shown}");
        for secret in [header_key, bearer, query_key, shaped.as_str()] {
            assert!(!shown.contains(secret), "{secret} shown in: {shown}");
        }
    }
}
