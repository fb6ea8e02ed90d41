//! The cassette file format: round trips, the documented example, and
//! error messages for broken files.

mod common;

use std::time::Duration;

use cassette::{
    BodyMatcher, Cassette, Fault, FaultSpec, FormatError, KeyFields, Provenance, ResponseBody,
};

/// The JSON example in FORMAT.md.
fn documented_example() -> String {
    let doc = include_str!("../FORMAT.md");
    let start = doc.find("```json\n").expect("FORMAT.md has a json example") + "```json\n".len();
    let len = doc[start..].find("```").expect("example is closed");
    doc[start..start + len].to_owned()
}

#[test]
fn documented_example_parses() {
    let cassette = Cassette::from_json(&documented_example()).expect("FORMAT.md example is valid");
    assert_eq!(cassette.meta.name, "basic_fork");
    assert_eq!(cassette.meta.provenance, Provenance::Authored);
    assert_eq!(cassette.interactions.len(), 3);
    let first = &cassette.interactions[0];
    assert_eq!(
        first.fault,
        Some(FaultSpec::once(Fault::RateLimited {
            retry_delay: Duration::from_secs(13)
        }))
    );
    let Some(BodyMatcher::KeyFields(KeyFields { turns, .. })) = &first.request.body else {
        panic!(
            "first interaction uses key_fields: {:?}",
            first.request.body
        );
    };
    assert_eq!(*turns, Some(1));
    let second = &cassette.interactions[1];
    assert_eq!(second.request.method, "POST", "method defaults to POST");
    assert_eq!(
        second.request.query.get("alt").map(String::as_str),
        Some("sse")
    );
    let ResponseBody::Sse(events) = &second.response.body else {
        panic!("second is sse")
    };
    assert_eq!(events[1].delay_ms, 250);
    assert!(cassette.interactions[2].repeatable);
}

#[test]
fn save_and_load_round_trip_with_stable_text() {
    let original = Cassette::from_json(&documented_example()).expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/basic_fork.json");
    original.save(&path).expect("saves");
    let loaded = Cassette::load(&path).expect("loads");
    assert_eq!(loaded, original);
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(text, loaded.to_json(), "saving is stable");
    assert!(text.starts_with("{\n  \"format\": \"agent-fork-cassette\",\n  \"version\": 1,"));
}

fn error_of(text: &str) -> FormatError {
    Cassette::from_json(text).expect_err("text is invalid")
}

#[test]
fn json_errors_carry_line_and_column() {
    let text = "{\n  \"format\": \"agent-fork-cassette\",\n  \"version\": 1,\n  \"meta\": {,\n}";
    let error = error_of(text);
    let FormatError::Json { line, column, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!((*line, *column), (4, 12), "{error}");
    assert!(error.to_string().contains("line 4, column 12"), "{error}");
}

#[test]
fn unknown_format_and_version_are_refused() {
    let other = r#"{"format": "vcr", "version": 1, "meta": {}, "interactions": []}"#;
    assert!(matches!(error_of(other), FormatError::UnknownFormat { found, .. } if found == "vcr"));
    let newer =
        r#"{"format": "agent-fork-cassette", "version": 2, "meta": {}, "interactions": []}"#;
    let error = error_of(newer);
    assert!(matches!(
        error,
        FormatError::UnsupportedVersion { found: 2, .. }
    ));
    assert!(
        error.to_string().contains("reads version 1 only"),
        "{error}"
    );
}

fn with_meta_and_interaction(meta: &str, interaction: &str) -> String {
    format!(
        r#"{{"format": "agent-fork-cassette", "version": 1, "meta": {meta}, "interactions": [{interaction}]}}"#
    )
}

const META: &str =
    r#"{"name": "n", "provenance": "authored", "created": "2026-01-01T00:00:00Z", "how": "test"}"#;

#[test]
fn provenance_is_required() {
    let meta = r#"{"name": "n", "created": "2026-01-01T00:00:00Z", "how": "test"}"#;
    let error = error_of(&with_meta_and_interaction(meta, ""));
    assert!(
        error.to_string().contains("missing field `provenance`"),
        "{error}"
    );
}

#[test]
fn response_needs_exactly_one_body_kind() {
    let two =
        r#"{"request": {"path": "/x"}, "response": {"status": 200, "json": {}, "text": "x"}}"#;
    let error = error_of(&with_meta_and_interaction(META, two));
    assert!(error.to_string().contains("exactly one of"), "{error}");
    let none = r#"{"request": {"path": "/x"}, "response": {"status": 200}}"#;
    assert!(
        error_of(&with_meta_and_interaction(META, none))
            .to_string()
            .contains("exactly one of")
    );
}

#[test]
fn typos_are_reported() {
    let typo = r#"{"request": {"path": "/x", "bdy": {}}, "response": {"status": 200, "json": {}}}"#;
    let error = error_of(&with_meta_and_interaction(META, typo));
    assert!(error.to_string().contains("unknown field `bdy`"), "{error}");
    let matcher = r#"{"request": {"path": "/x", "body": {"prefix": {}}}, "response": {"status": 200, "json": {}}}"#;
    let error = error_of(&with_meta_and_interaction(META, matcher));
    assert!(
        error.to_string().contains("unknown variant `prefix`"),
        "{error}"
    );
}

#[test]
fn missing_file_names_the_path() {
    let error = Cassette::load("/nonexistent/cassette.json").expect_err("no such file");
    assert!(
        error.to_string().contains("/nonexistent/cassette.json"),
        "{error}"
    );
}
