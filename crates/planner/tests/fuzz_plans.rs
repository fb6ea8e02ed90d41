//! Fuzzing what planner reads with proptest: planning-model replies
//! (`parse_plan`), plan files (`Plan` JSON) and run journals
//! (`read_journal`, `load_resume_state`). No input may panic; a plan that
//! parses survives a round trip through its own JSON, and validation of any
//! parsed plan answers without panicking.
//!
//! Deterministic: a fixed seed and case count; `cargo xtask fuzz-smoke`
//! raises `FUZZ_CASES` and may set `FUZZ_SEED`.

use planner::{Plan, ValidationRules, load_resume_state, parse_plan, read_journal, validate};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    test_support::fuzz::config(0x91a2)
}

const FRAGMENTS: &[&str] = &[
    "```json\n",
    "```\n",
    "```",
    "Here is the plan:\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    " ",
    "\n",
    "\\",
    r#""analysis": "a""#,
    r#""steps": []"#,
    r#""steps":"#,
    r#""step_id": "s1""#,
    r#""id": "s2""#,
    r#""agent_type": "code""#,
    r#""agent_type": "wizard""#,
    r#""type": "general""#,
    r#""task": "do it""#,
    r#""depends_on": ["s1"]"#,
    r#""depends_on": "s1""#,
    r#""dependencies": ["s2"]"#,
    r#""name": "Ünïcode 🌍""#,
    "null",
    "42",
    "-1",
    "1e400",
    "true",
    r#"{"step_id": "s1", "agent_type": "code", "task": "t", "depends_on": ["s1"]}"#,
];

const SAMPLES: &[&str] = &[
    "Here is the plan:\n```json\n{\"analysis\": \"a\", \"steps\": [{\"step_id\": \"s1\", \"name\": \"One\", \"agent_type\": \"code\", \"task\": \"write it\", \"depends_on\": []}, {\"step_id\": \"s2\", \"agent_type\": \"analysis\", \"task\": \"check it\", \"depends_on\": [\"s1\"]}]}\n```",
    "{\"analysis\": \"\", \"steps\": [{\"id\": \"a\", \"type\": \"general\", \"task\": \"x\"}, {\"id\": \"b\", \"type\": \"general\", \"task\": \"y\", \"depends_on\": [\"a\", \"b\"]}]}",
    "{\"seq\":0,\"at\":\"2026-01-01T00:00:00.000Z\",\"event\":{\"type\":\"run_started\",\"meta\":{\"id\":\"run_20260101_000000_abcd\",\"kind\":\"plan\",\"created\":\"2026-01-01T00:00:00Z\",\"summary\":\"g\",\"args\":{}}}}\n{\"seq\":1,\"at\":\"2026-01-01T00:00:01.000Z\",\"event\":{\"type\":\"step_completed\",\"id\":\"s1\",\"output\":{\"text\":\"done\"}}}\n{\"seq\":2,\"at\":\"x\",\"event\":{\"type\":\"item_completed\",\"index\":3,\"result\":{}}}\n",
];

fn text() -> impl Strategy<Value = String> {
    test_support::fuzz::text(FRAGMENTS, SAMPLES, 300, 8)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn planning_replies_never_panic_and_parsed_plans_round_trip(reply in text()) {
        match parse_plan(&reply) {
            Ok(plan) => {
                let json = serde_json::to_string(&plan).expect("plans serialize");
                let again = parse_plan(&json).expect("a plan's own JSON parses");
                prop_assert_eq!(&again, &plan);
                let rules = ValidationRules {
                    known_agent_types: vec!["code".into(), "general".into(), "analysis".into()],
                    max_steps: 10,
                };
                if let Err(error) = validate(&plan, &rules) {
                    prop_assert!(!error.to_string().is_empty());
                }
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn plan_files_never_panic(file in text()) {
        if let Ok(plan) = serde_json::from_str::<Plan>(&file) {
            let rules = ValidationRules { known_agent_types: vec![], max_steps: 50 };
            let _ = validate(&plan, &rules).map(|valid| valid.steps().len());
        }
    }
}

proptest! {
    // Journals are files: fewer cases, each in its own folder.
    #![proptest_config(ProptestConfig { cases: config().cases / 4 + 1, ..config() })]

    #[test]
    fn journals_never_panic(lines in prop::collection::vec(text(), 0..6), cut in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let mut body = lines.join("\n");
        if !cut {
            body.push('\n');
        }
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, &body).unwrap();
        // Text written without the key is refused (or, when it holds no
        // whole line, read as empty); either way nothing panics.
        let key = planner::JournalKey::from_bytes([3; 32]);
        if let Ok(contents) = read_journal(&path, &key) {
            prop_assert!(contents.records.is_empty());
            let _ = contents.state();
        }
        if let Ok(state) = load_resume_state(dir.path(), &key) {
            let _ = state.completed_steps.len();
        }
    }
}
