//! Function-call arguments streamed in pieces (Vertex
//! `streamFunctionCallArguments`).
//!
//! With that option a call arrives over several chunks: first the named
//! call with `"willContinue": true`, then nameless fragments
//! `{"partialArgs": [{"jsonPath": "$.location", "stringValue": "Bos",
//! "willContinue": true}], "willContinue": true}`, then a closing `{}`.
//! Each fragment entry carries one `stringValue`, `numberValue`,
//! `boolValue` or `nullValue`; a string with `willContinue` goes on in the
//! next entry for the same path. The fragments are folded into the named
//! call's `args` and disappear; the call keeps its place among the parts and
//! its thought signature.
//!
//! The call ends with a fragment (or closing `{}`) without `willContinue`,
//! or with the next named call. When the end never comes, what was
//! assembled is kept. An entry this module cannot apply (an unsupported
//! path, a path that does not fit, no known value) stays, raw, in the
//! call's own `partialArgs`, so nothing sent is lost. Whole calls (the
//! Developer API's, one chunk each) never pass through here.

use serde_json::{Map, Value};
use thiserror::Error;

use super::json_path::{JsonPath, PathError};
use crate::types::content::{FunctionCall, Part, PartData};

const PARTIAL_ARGS: &str = "partialArgs";
const WILL_CONTINUE: &str = "willContinue";

/// A streamed call still receiving fragments.
#[derive(Debug, Clone)]
pub(super) struct OpenCall {
    /// Where the call is among the candidate's folded parts.
    part: usize,
    /// The path of a string value that continues in the next fragment.
    string_path: Option<String>,
}

/// Why a `partialArgs` entry was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
enum EntryError {
    /// The entry is not a JSON object.
    #[error("a partialArgs entry is not an object")]
    NotAnObject,
    /// The entry has no string `jsonPath`.
    #[error("a partialArgs entry has no jsonPath")]
    NoPath,
    /// The path is unsupported or does not fit.
    #[error(transparent)]
    Path(#[from] PathError),
    /// Not exactly one value of a known kind, or members not understood.
    #[error("the partialArgs entry for `{0}` has no single value of a known kind")]
    Value(String),
}

/// Appends `part` to `parts` when it belongs to a streamed call (its start,
/// a fragment or its end), updating `open`. Returns false, touching nothing
/// but `open`, for every other part, which the caller appends as usual.
pub(super) fn try_append(parts: &mut Vec<Part>, open: &mut Option<OpenCall>, part: &Part) -> bool {
    let PartData::FunctionCall(call) = &part.data else {
        return false;
    };
    if !call.name.is_empty() {
        // A named call ends the one before it, finished or not.
        *open = None;
        if !continues(&call.extra) {
            return false;
        }
        let mut start = part.clone();
        if let PartData::FunctionCall(call) = &mut start.data {
            call.extra.remove(WILL_CONTINUE);
        }
        parts.push(start);
        *open = Some(OpenCall {
            part: parts.len() - 1,
            string_path: None,
        });
        return true;
    }
    let Some(state) = open.as_mut() else {
        return false;
    };
    let Some(target) = parts.get_mut(state.part) else {
        *open = None;
        return false;
    };
    if !is_fragment_of(part, call, target) {
        return false;
    }
    if target.thought_signature.is_none() {
        target.thought_signature.clone_from(&part.thought_signature);
    }
    if let PartData::FunctionCall(target_call) = &mut target.data {
        let entries = call.extra.get(PARTIAL_ARGS).and_then(Value::as_array);
        for entry in entries.into_iter().flatten() {
            if apply(target_call, state, entry).is_err() {
                keep_raw(target_call, entry);
            }
        }
    }
    if !continues(&call.extra) {
        *open = None;
    }
    true
}

/// Whether a call (or entry) says more of it follows.
fn continues(members: &Map<String, Value>) -> bool {
    members.get(WILL_CONTINUE) == Some(&Value::Bool(true))
}

/// Whether `part` (holding the nameless `call`) continues the open call in
/// `target`: nothing in it but `partialArgs` and `willContinue`, the same id
/// if any, and no second thought signature. Anything else is kept as it is.
fn is_fragment_of(part: &Part, call: &FunctionCall, target: &Part) -> bool {
    let PartData::FunctionCall(target_call) = &target.data else {
        return false;
    };
    let same_id = call.id.is_none() || call.id == target_call.id;
    let known_members = call.extra.iter().all(|(key, value)| match key.as_str() {
        PARTIAL_ARGS => value.is_array(),
        WILL_CONTINUE => true,
        _ => false,
    });
    let signature_fits = part.thought_signature.is_none() || target.thought_signature.is_none();
    call.args.is_none()
        && same_id
        && known_members
        && signature_fits
        && !part.thought
        && part.extra.is_empty()
}

/// Applies one `partialArgs` entry to the call's arguments.
fn apply(call: &mut FunctionCall, state: &mut OpenCall, entry: &Value) -> Result<(), EntryError> {
    let Value::Object(entry) = entry else {
        return Err(EntryError::NotAnObject);
    };
    let path = entry
        .get("jsonPath")
        .and_then(Value::as_str)
        .ok_or(EntryError::NoPath)?;
    let path = JsonPath::parse(path)?;
    let value_error = || EntryError::Value(path.as_str().to_owned());
    let mut value = None;
    for (key, member) in entry {
        let kind = match key.as_str() {
            "jsonPath" | WILL_CONTINUE => continue,
            "stringValue" | "numberValue" | "boolValue" | "nullValue" => key.as_str(),
            _ => return Err(value_error()),
        };
        if value.replace((kind, member)).is_some() {
            return Err(value_error());
        }
    }
    let joins = state.string_path.as_deref() == Some(path.as_str());
    let (text, scalar) = match value.ok_or_else(value_error)? {
        ("stringValue", Value::String(text)) => (Some(text.as_str()), Value::Null),
        ("numberValue", scalar @ Value::Number(_)) | ("boolValue", scalar @ Value::Bool(_)) => {
            (None, scalar.clone())
        }
        ("nullValue", _) => (None, Value::Null),
        _ => return Err(value_error()),
    };
    let update = |slot: &mut Value| match (text, slot) {
        (Some(text), Value::String(sofar)) if joins => sofar.push_str(text),
        (Some(text), slot) => *slot = Value::String(text.to_owned()),
        (None, slot) => *slot = scalar,
    };
    let had_args = call.args.is_some();
    let root = call.args.get_or_insert_with(|| Value::Object(Map::new()));
    if let Err(error) = path.update(root, update) {
        if !had_args {
            call.args = None;
        }
        return Err(error.into());
    }
    state.string_path = (text.is_some() && continues(entry)).then(|| path.as_str().to_owned());
    Ok(())
}

/// Keeps an entry that could not be applied in the call's `partialArgs`.
fn keep_raw(call: &mut FunctionCall, entry: &Value) {
    let kept = call
        .extra
        .entry(PARTIAL_ARGS)
        .or_insert_with(|| Value::Array(Vec::new()));
    match kept {
        Value::Array(entries) => entries.push(entry.clone()),
        other => *other = Value::Array(vec![other.take(), entry.clone()]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn part(value: Value) -> Part {
        serde_json::from_value(value).unwrap()
    }

    /// Folds the parts the way the accumulator does.
    fn fold(parts: &[Value]) -> Vec<Part> {
        let (mut folded, mut open) = (Vec::new(), None);
        for value in parts {
            let part = part(value.clone());
            if !try_append(&mut folded, &mut open, &part) {
                folded.push(part);
            }
        }
        folded
    }

    fn call(part: &Part) -> &FunctionCall {
        match &part.data {
            PartData::FunctionCall(call) => call,
            other => panic!("not a call: {other:?}"),
        }
    }

    fn fragment(entries: Value, more: bool) -> Value {
        let mut call = json!({ "partialArgs": entries });
        if more {
            call["willContinue"] = json!(true);
        }
        json!({ "functionCall": call })
    }

    #[test]
    fn a_string_split_over_chunks_is_joined() {
        let parts = fold(&[
            json!({"functionCall": {"name": "getWeather", "willContinue": true}, "thoughtSignature": "sig"}),
            fragment(
                json!([{"jsonPath": "$.location", "stringValue": "San ", "willContinue": true}]),
                true,
            ),
            fragment(
                json!([{"jsonPath": "$.location", "stringValue": "Fran", "willContinue": true}]),
                true,
            ),
            fragment(
                json!([{"jsonPath": "$.location", "stringValue": "cisco"}]),
                true,
            ),
            json!({"functionCall": {}}),
        ]);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            serde_json::to_value(&parts[0]).unwrap(),
            json!({
                "functionCall": {"name": "getWeather", "args": {"location": "San Francisco"}},
                "thoughtSignature": "sig",
            })
        );
    }

    #[test]
    fn a_finished_string_is_not_joined_again() {
        let parts = fold(&[
            json!({"functionCall": {"name": "f", "willContinue": true}}),
            fragment(json!([{"jsonPath": "$.a", "stringValue": "one"}]), true),
            fragment(json!([{"jsonPath": "$.a", "stringValue": "two"}]), false),
        ]);
        assert_eq!(call(&parts[0]).args, Some(json!({"a": "two"})));
    }

    #[test]
    fn numbers_booleans_and_null_are_set() {
        let parts = fold(&[
            json!({"functionCall": {"name": "f", "willContinue": true}}),
            fragment(
                json!([
                    {"jsonPath": "$.count", "numberValue": 3},
                    {"jsonPath": "$.price", "numberValue": 0.5},
                    {"jsonPath": "$.urgent", "boolValue": false},
                    {"jsonPath": "$.country", "nullValue": "NULL_VALUE"},
                ]),
                true,
            ),
            json!({"functionCall": {}}),
        ]);
        assert_eq!(
            call(&parts[0]).args,
            Some(json!({"count": 3, "price": 0.5, "urgent": false, "country": null}))
        );
    }

    #[test]
    fn array_paths_build_arrays_of_objects() {
        let parts = fold(&[
            json!({"functionCall": {"name": "writeItems", "willContinue": true}}),
            fragment(
                json!([{"jsonPath": "$.operations[0].action", "stringValue": "add"}]),
                true,
            ),
            fragment(
                json!([{"jsonPath": "$.operations[0].price", "numberValue": 0.5}]),
                true,
            ),
            fragment(
                json!([{"jsonPath": "$.operations[1].action", "stringValue": "remove"}]),
                true,
            ),
            json!({"functionCall": {}}),
        ]);
        assert_eq!(
            call(&parts[0]).args,
            Some(json!({"operations": [{"action": "add", "price": 0.5}, {"action": "remove"}]}))
        );
    }

    #[test]
    fn a_missing_end_keeps_what_was_assembled() {
        let parts = fold(&[
            json!({"functionCall": {"name": "f", "willContinue": true}}),
            fragment(
                json!([{"jsonPath": "$.a", "stringValue": "partial", "willContinue": true}]),
                true,
            ),
            json!({"text": ""}),
        ]);
        assert_eq!(parts.len(), 2);
        assert_eq!(
            serde_json::to_value(&parts[0]).unwrap(),
            json!({"functionCall": {"name": "f", "args": {"a": "partial"}}})
        );
        assert_eq!(parts[1].as_text(), Some(""));
    }

    #[test]
    fn an_unsupported_entry_is_kept_raw_and_the_rest_applied() {
        let refused = json!({"jsonPath": "$..deep", "stringValue": "x"});
        let no_value = json!({"jsonPath": "$.b"});
        let parts = fold(&[
            json!({"functionCall": {"name": "f", "willContinue": true}}),
            fragment(
                json!([refused, {"jsonPath": "$.a", "boolValue": true}, no_value]),
                false,
            ),
        ]);
        assert_eq!(parts.len(), 1);
        let call = call(&parts[0]);
        assert_eq!(call.args, Some(json!({"a": true})));
        assert_eq!(
            call.extra.get("partialArgs"),
            Some(&json!([refused, no_value]))
        );
    }

    #[test]
    fn refusals_say_why() {
        let mut call = FunctionCall {
            name: "f".into(),
            args: None,
            id: None,
            extra: Map::new(),
        };
        let mut state = OpenCall {
            part: 0,
            string_path: None,
        };
        let mut refusal = |call: &mut FunctionCall, entry: Value| apply(call, &mut state, &entry);
        for (entry, error) in [
            (json!("x"), EntryError::NotAnObject),
            (json!({"stringValue": "x"}), EntryError::NoPath),
            (
                json!({"jsonPath": "$[0]", "stringValue": "x"}),
                EntryError::Path(PathError::Unsupported("$[0]".into())),
            ),
            (
                json!({"jsonPath": "$.a", "numberValue": "NaN"}),
                EntryError::Value("$.a".into()),
            ),
            (
                json!({"jsonPath": "$.a", "stringValue": "x", "boolValue": true}),
                EntryError::Value("$.a".into()),
            ),
            (
                json!({"jsonPath": "$.a", "structValue": {}}),
                EntryError::Value("$.a".into()),
            ),
        ] {
            assert_eq!(refusal(&mut call, entry), Err(error));
        }
        assert_eq!(call.args, None, "refusals create no arguments");
        refusal(&mut call, json!({"jsonPath": "$.a", "stringValue": "x"})).unwrap();
        assert_eq!(
            refusal(&mut call, json!({"jsonPath": "$.a.b", "stringValue": "y"})),
            Err(EntryError::Path(PathError::Conflict("$.a.b".into())))
        );
        assert_eq!(call.args, Some(json!({"a": "x"})));
        assert_eq!(
            EntryError::Value("$.a".into()).to_string(),
            "the partialArgs entry for `$.a` has no single value of a known kind"
        );
    }

    #[test]
    fn calls_keep_their_order_and_whole_calls_are_untouched() {
        let whole = json!({"functionCall": {"name": "read_theme"}, "thoughtSignature": "sig"});
        let parts = fold(&[
            whole.clone(),
            json!({"functionCall": {"name": "read_screen", "willContinue": true}}),
            fragment(
                json!([{"jsonPath": "$.id", "stringValue": "A", "willContinue": true}]),
                true,
            ),
            fragment(json!([{"jsonPath": "$.id", "stringValue": ""}]), true),
            json!({"functionCall": {}}),
            json!({"functionCall": {"name": "read_screen", "willContinue": true}}),
            fragment(json!([{"jsonPath": "$.id", "stringValue": "B"}]), true),
            // No closing `{}`: the next named call ends this one.
            json!({"functionCall": {"name": "whole", "args": {"x": 1}, "id": "7"}}),
        ]);
        let calls: Vec<_> = parts
            .iter()
            .map(|part| serde_json::to_value(part).unwrap())
            .collect();
        assert_eq!(
            calls,
            [
                whole,
                json!({"functionCall": {"name": "read_screen", "args": {"id": "A"}}}),
                json!({"functionCall": {"name": "read_screen", "args": {"id": "B"}}}),
                json!({"functionCall": {"name": "whole", "args": {"x": 1}, "id": "7"}}),
            ]
        );
    }

    #[test]
    fn a_streamed_call_without_arguments_has_none() {
        let parts = fold(&[
            json!({"functionCall": {"name": "ping", "willContinue": true}}),
            json!({"functionCall": {}}),
        ]);
        assert_eq!(parts.len(), 1);
        assert_eq!(call(&parts[0]).args, None);
        assert!(call(&parts[0]).extra.is_empty());
    }

    #[test]
    fn fragments_without_an_open_call_are_kept_as_they_are() {
        let orphan = fragment(json!([{"jsonPath": "$.a", "stringValue": "x"}]), false);
        let parts = fold(&[orphan.clone(), json!({"functionCall": {}})]);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], part(orphan));
        assert_eq!(call(&parts[1]).name, "");
    }

    #[test]
    fn a_signature_on_a_fragment_moves_to_the_call() {
        let parts = fold(&[
            json!({"functionCall": {"name": "f", "willContinue": true}}),
            json!({"functionCall": {"partialArgs": [{"jsonPath": "$.a", "numberValue": 1}]}, "thoughtSignature": "late"}),
        ]);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].thought_signature.as_deref(), Some("late"));
        assert_eq!(call(&parts[0]).args, Some(json!({"a": 1})));
    }
}
