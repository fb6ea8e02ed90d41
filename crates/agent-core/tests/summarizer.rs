//! The summarizer on the bundled conversation, with authored replies: each
//! style asks for its own shape, extraction comes from a JSON schema reply,
//! and the hand-off layouts hold what was extracted.

mod support;

use agent_core::{Conversation, Handoff, SummaryOptions, SummaryStyle, summarize};
use serde_json::json;
use support::*;

const MODEL: &str = "gemini-3.8-flash";

fn conversation() -> Conversation {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/conversations/todo_api.json"
    );
    let text = std::fs::read_to_string(path).expect("the bundled conversation exists");
    Conversation::from_json(&text).expect("the bundled conversation parses")
}

fn extraction() -> serde_json::Value {
    let document = json!({
        "key_decisions": ["Use FastAPI", "Store data in PostgreSQL through SQLAlchemy"],
        "artifacts": [{"name": "User model", "type": "model", "status": "defined"}],
        "current_task": "Deciding what to build after the models",
        "open_questions": ["Which authentication scheme?"]
    });
    text_reply(&document.to_string())
}

#[tokio::test(start_paused = true)]
async fn each_style_asks_for_its_shape_and_extraction_is_read() {
    let shapes = [
        (SummaryStyle::Concise, "two or three short paragraphs"),
        (SummaryStyle::Detailed, "Key discussions"),
        (SummaryStyle::Structured, "one YAML document"),
        (SummaryStyle::TaskFocused, "Blockers"),
    ];
    for (style, marker) in shapes {
        let server = server(
            "summarize",
            vec![
                unary(
                    MODEL,
                    containing("Summarise the conversation below for a hand-off"),
                    text_reply("A summary of forty characters or so."),
                ),
                unary(
                    MODEL,
                    containing("From the conversation below, extract"),
                    extraction(),
                ),
            ],
        )
        .await;
        let options = SummaryOptions {
            style,
            ..SummaryOptions::default()
        };
        let summary = summarize(&client(&server), &conversation(), &options)
            .await
            .expect("the summary succeeds");
        server.assert_clean();
        let bodies = bodies(&server);
        let asked = bodies[0]["contents"][0]["parts"][0]["text"]
            .as_str()
            .unwrap();
        assert!(asked.contains(marker), "{style}: {asked}");
        assert!(asked.contains("[USER]:") && asked.contains("[ASSISTANT]:"));
        let config = &bodies[1]["generationConfig"];
        assert_eq!(config["responseMimeType"], "application/json");
        assert_eq!(
            config["responseSchema"]["properties"]["key_decisions"]["type"],
            "ARRAY"
        );

        assert_eq!(summary.style, style);
        assert_eq!(summary.key_decisions.len(), 2);
        assert_eq!(summary.artifacts[0].name, "User model");
        assert_eq!(
            summary.current_task,
            "Deciding what to build after the models"
        );
        assert_eq!(summary.original_tokens, conversation().estimated_tokens());
        assert_eq!(summary.summary_tokens, 9);
        let expected_ratio = (summary.original_tokens as f64 / 9.0 * 100.0).round() / 100.0;
        assert_eq!(summary.compression_ratio, expected_ratio);
        assert!(summary.warnings.is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn hand_off_layouts_carry_the_extraction() {
    let server = server(
        "handoff",
        vec![
            unary(
                MODEL,
                containing("Summarise the conversation below"),
                text_reply("The team chose FastAPI."),
            ),
            unary(
                MODEL,
                containing("From the conversation below, extract"),
                extraction(),
            ),
        ],
    )
    .await;
    let summary = summarize(
        &client(&server),
        &conversation(),
        &SummaryOptions::default(),
    )
    .await
    .unwrap();
    let prompt = summary.fork_prompt("Add JWT authentication.");
    for heading in [
        "## Summary of the work so far",
        "## Decisions already made",
        "## Open questions",
        "## Your task",
    ] {
        assert!(
            prompt.contains(heading),
            "{heading} missing from:\n{prompt}"
        );
    }
    assert!(
        prompt.contains("- Use FastAPI") && prompt.ends_with("do not redo what is already done.\n")
    );
    let handoff = Handoff {
        fork_id: "fork_1".into(),
        from_agent: "general".into(),
        to_agent: "code".into(),
        reason: "models \"done\"".into(),
    };
    let yaml = handoff.to_yaml(&summary);
    assert!(yaml.contains("  reason: \"models \\\"done\\\"\"\n"));
    assert!(yaml.contains("    - name: \"User model\"\n      type: \"model\"\n"));
    assert!(yaml.contains("  open_questions:\n    - \"Which authentication scheme?\"\n"));
}

#[tokio::test(start_paused = true)]
async fn an_unreadable_extraction_is_a_warning_not_a_failure() {
    let server = server(
        "bad-extraction",
        vec![
            unary(
                MODEL,
                containing("Summarise the conversation below"),
                text_reply("Summary."),
            ),
            unary(
                MODEL,
                containing("From the conversation below, extract"),
                text_reply("not json"),
            ),
        ],
    )
    .await;
    let summary = summarize(
        &client(&server),
        &conversation(),
        &SummaryOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.summary, "Summary.");
    assert!(summary.key_decisions.is_empty());
    assert_eq!(summary.warnings.len(), 1);
}

#[test]
fn inline_history_needs_roles() {
    let error = Conversation::from_lines(&["user: hi".into(), "no role here".into()]).unwrap_err();
    assert!(error.to_string().contains("history entry 2"));
    assert!(Conversation::from_json("{\"turns\": []}").is_err());
    assert!(
        Conversation::from_json("not json")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON")
    );
}
