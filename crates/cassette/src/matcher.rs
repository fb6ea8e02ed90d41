//! Request body matchers: exact JSON, JSON subset, and Gemini-aware key
//! fields (last user text, function responses, system instruction, turns).
//! Besides deciding a match they score how close a body came and render
//! both sides for the diff shown when nothing matched.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How a request's JSON body must look. In the file it is an object with
/// exactly one key: `exact`, `subset` or `key_fields`.
///
/// ```
/// use cassette::BodyMatcher;
/// use serde_json::json;
///
/// let matcher = BodyMatcher::Subset(json!({"generationConfig": {"temperature": 0.2}}));
/// let body = json!({"contents": [], "generationConfig": {"temperature": 0.2, "topK": 3}});
/// assert!(matcher.matches(Some(&body)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyMatcher {
    /// The whole body equals this JSON.
    Exact(Value),
    /// Every key of the pattern is present in the body with a matching value:
    /// objects match recursively, arrays need the same length and match
    /// element-wise, scalars must be equal.
    Subset(Value),
    /// Gemini-aware key fields; every field given must hold.
    KeyFields(KeyFields),
}

/// Key fields of a `generateContent` request body. Each one is optional;
/// the ones present must all hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFields {
    /// Exact text of the last user content (its text parts joined with `\n`).
    /// The last user content is the last element of `contents` whose role is
    /// `user` or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_user_text: Option<String>,
    /// A substring of the last user content's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_user_text_contains: Option<String>,
    /// The `functionResponse` parts of the last element of `contents`, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_responses: Option<Vec<FunctionResponseMatch>>,
    /// A substring of the `systemInstruction` text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_contains: Option<String>,
    /// The number of entries in `contents`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<usize>,
    /// The last element of `contents` whose role is `model`, which must be
    /// equal to this JSON exactly: every part, signature and id, nothing
    /// more (how a replayed Gemini 3 turn is checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_model_turn: Option<Value>,
    /// The body's `toolConfig`, which must be equal to this JSON exactly
    /// (`null` for a body without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<Value>,
}

/// One expected `functionResponse` part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionResponseMatch {
    /// The function name; must be equal.
    pub name: String,
    /// The call id; checked only when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The response object; checked for equality only when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

impl BodyMatcher {
    /// Whether `body` (the parsed request body; `None` when it was empty or
    /// not JSON) satisfies this matcher.
    pub fn matches(&self, body: Option<&Value>) -> bool {
        let Some(body) = body else { return false };
        match self {
            Self::Exact(pattern) => pattern == body,
            Self::Subset(pattern) => is_subset(pattern, body),
            Self::KeyFields(fields) => fields.check(body).iter().all(|(_, ok)| *ok),
        }
    }

    /// How close `body` comes to matching, from 0.0 (nothing) to 1.0.
    pub(crate) fn similarity(&self, body: Option<&Value>) -> f64 {
        let Some(body) = body else { return 0.0 };
        match self {
            Self::Exact(pattern) => {
                let total = leaf_count(pattern).max(leaf_count(body)).max(1);
                matched_leaves(pattern, body) as f64 / total as f64
            }
            Self::Subset(pattern) => {
                matched_leaves(pattern, body) as f64 / leaf_count(pattern).max(1) as f64
            }
            Self::KeyFields(fields) => {
                let checks = fields.check(body);
                let ok = checks.iter().filter(|(_, ok)| *ok).count();
                ok as f64 / checks.len().max(1) as f64
            }
        }
    }

    /// The matcher's expectation and the request body, rendered in the same
    /// shape so that a line diff between them is readable.
    pub(crate) fn diff_sides(&self, body: Option<&Value>) -> (Value, Value) {
        let actual = body.cloned().unwrap_or(Value::Null);
        match self {
            Self::Exact(pattern) => (pattern.clone(), actual),
            Self::Subset(pattern) => (pattern.clone(), project(pattern, &actual)),
            Self::KeyFields(fields) => {
                let expected = serde_json::to_value(fields).unwrap_or(Value::Null);
                (expected, fields.actual(&actual))
            }
        }
    }
}

impl KeyFields {
    /// Each field that is set, with whether `body` satisfies it.
    fn check(&self, body: &Value) -> Vec<(&'static str, bool)> {
        let summary = Summary::of(body);
        let mut checks = Vec::new();
        if let Some(text) = &self.last_user_text {
            checks.push((
                "last_user_text",
                summary.last_user_text.as_deref() == Some(text),
            ));
        }
        if let Some(needle) = &self.last_user_text_contains {
            let ok = summary
                .last_user_text
                .as_deref()
                .is_some_and(|t| t.contains(needle.as_str()));
            checks.push(("last_user_text_contains", ok));
        }
        if let Some(expected) = &self.function_responses {
            let ok = expected.len() == summary.function_responses.len()
                && expected
                    .iter()
                    .zip(&summary.function_responses)
                    .all(|(e, a)| e.matches(a));
            checks.push(("function_responses", ok));
        }
        if let Some(needle) = &self.system_contains {
            let ok = summary
                .system
                .as_deref()
                .is_some_and(|t| t.contains(needle.as_str()));
            checks.push(("system_contains", ok));
        }
        if let Some(turns) = self.turns {
            checks.push(("turns", summary.turns == Some(turns)));
        }
        if let Some(turn) = &self.last_model_turn {
            checks.push(("last_model_turn", last_model_turn(body) == *turn));
        }
        if let Some(config) = &self.tool_config {
            let actual = body.get("toolConfig").unwrap_or(&Value::Null);
            checks.push(("tool_config", actual == config));
        }
        checks
    }

    /// The request's values for the fields this matcher sets, keyed alike.
    fn actual(&self, body: &Value) -> Value {
        let summary = Summary::of(body);
        let mut out = Map::new();
        let text = || {
            summary
                .last_user_text
                .clone()
                .map_or(Value::Null, Value::String)
        };
        if self.last_user_text.is_some() {
            out.insert("last_user_text".into(), text());
        }
        if self.last_user_text_contains.is_some() {
            out.insert("last_user_text_contains".into(), text());
        }
        if let Some(expected) = &self.function_responses {
            let rendered = summary
                .function_responses
                .iter()
                .enumerate()
                .map(|(i, part)| project_function_response(expected.get(i), part))
                .collect();
            out.insert("function_responses".into(), Value::Array(rendered));
        }
        if self.system_contains.is_some() {
            out.insert(
                "system_contains".into(),
                summary.system.clone().map_or(Value::Null, Value::String),
            );
        }
        if self.turns.is_some() {
            out.insert(
                "turns".into(),
                summary.turns.map_or(Value::Null, Value::from),
            );
        }
        if self.last_model_turn.is_some() {
            out.insert("last_model_turn".into(), last_model_turn(body));
        }
        if self.tool_config.is_some() {
            out.insert(
                "tool_config".into(),
                body.get("toolConfig").cloned().unwrap_or(Value::Null),
            );
        }
        Value::Object(out)
    }
}

/// The last `model` element of the body's `contents`, or `null`.
fn last_model_turn(body: &Value) -> Value {
    body.get("contents")
        .and_then(Value::as_array)
        .and_then(|contents| {
            contents
                .iter()
                .rev()
                .find(|c| c.get("role").and_then(Value::as_str) == Some("model"))
        })
        .cloned()
        .unwrap_or(Value::Null)
}

impl FunctionResponseMatch {
    fn matches(&self, part: &Value) -> bool {
        part.get("name").and_then(Value::as_str) == Some(self.name.as_str())
            && self
                .id
                .as_ref()
                .is_none_or(|id| part.get("id").and_then(Value::as_str) == Some(id))
            && self
                .response
                .as_ref()
                .is_none_or(|r| part.get("response") == Some(r))
    }
}

/// Renders a received `functionResponse` part with only the keys the
/// expectation at the same position checks.
fn project_function_response(expected: Option<&FunctionResponseMatch>, part: &Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "name".into(),
        part.get("name").cloned().unwrap_or(Value::Null),
    );
    let wants_id = expected.is_some_and(|e| e.id.is_some());
    let wants_response = expected.is_some_and(|e| e.response.is_some());
    if wants_id {
        out.insert("id".into(), part.get("id").cloned().unwrap_or(Value::Null));
    }
    if wants_response {
        out.insert(
            "response".into(),
            part.get("response").cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

/// The Gemini-specific facts about a request body used by key-field
/// matching and by mismatch reports.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) last_user_text: Option<String>,
    pub(crate) function_responses: Vec<Value>,
    pub(crate) system: Option<String>,
    pub(crate) turns: Option<usize>,
}

impl Summary {
    pub(crate) fn of(body: &Value) -> Self {
        let contents = body.get("contents").and_then(Value::as_array);
        let is_user = |c: &&Value| c.get("role").is_none_or(|r| r.as_str() == Some("user"));
        let last_user_text = contents
            .and_then(|c| c.iter().rev().find(is_user))
            .map(|content| joined_text(content.get("parts")));
        let function_responses = contents
            .and_then(|c| c.last())
            .and_then(|content| content.get("parts"))
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("functionResponse").cloned())
                    .collect()
            })
            .unwrap_or_default();
        let system = body
            .get("systemInstruction")
            .or_else(|| body.get("system_instruction"))
            .map(|s| joined_text(s.get("parts")));
        Self {
            last_user_text,
            function_responses,
            system,
            turns: contents.map(Vec::len),
        }
    }

    /// A compact JSON description for mismatch reports.
    pub(crate) fn describe(&self) -> Value {
        let names: Vec<&str> = self
            .function_responses
            .iter()
            .map(|p| p.get("name").and_then(Value::as_str).unwrap_or("?"))
            .collect();
        json!({
            "last_user_text": self.last_user_text.as_deref().map(|t| shorten(t, 200)),
            "function_responses": names,
            "system": self.system.as_deref().map(|t| shorten(t, 120)),
            "turns": self.turns,
        })
    }
}

fn joined_text(parts: Option<&Value>) -> String {
    let texts: Vec<&str> = parts
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    texts.join("\n")
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars).collect();
    out.push('…');
    out
}

/// Subset rule shared by [`BodyMatcher::Subset`].
pub(crate) fn is_subset(pattern: &Value, actual: &Value) -> bool {
    match (pattern, actual) {
        (Value::Object(p), Value::Object(a)) => p
            .iter()
            .all(|(k, pv)| a.get(k).is_some_and(|av| is_subset(pv, av))),
        (Value::Array(p), Value::Array(a)) => {
            p.len() == a.len() && p.iter().zip(a).all(|(pv, av)| is_subset(pv, av))
        }
        _ => pattern == actual,
    }
}

fn leaf_count(value: &Value) -> usize {
    match value {
        Value::Object(map) if !map.is_empty() => map.values().map(leaf_count).sum(),
        Value::Array(items) if !items.is_empty() => items.iter().map(leaf_count).sum(),
        _ => 1,
    }
}

/// Leaves of `pattern` found with an equal value at the same place in `actual`.
fn matched_leaves(pattern: &Value, actual: &Value) -> usize {
    match (pattern, actual) {
        (Value::Object(p), Value::Object(a)) if !p.is_empty() => p
            .iter()
            .map(|(k, pv)| a.get(k).map_or(0, |av| matched_leaves(pv, av)))
            .sum(),
        (Value::Array(p), Value::Array(a)) if !p.is_empty() => {
            p.iter().zip(a).map(|(pv, av)| matched_leaves(pv, av)).sum()
        }
        _ => usize::from(pattern == actual),
    }
}

/// `actual` cut down to the keys `pattern` mentions, so a subset diff does
/// not drown in keys the matcher ignores.
fn project(pattern: &Value, actual: &Value) -> Value {
    match (pattern, actual) {
        (Value::Object(p), Value::Object(a)) => Value::Object(
            p.iter()
                .filter_map(|(k, pv)| a.get(k).map(|av| (k.clone(), project(pv, av))))
                .collect(),
        ),
        (Value::Array(p), Value::Array(a)) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, av)| p.get(i).map_or_else(|| av.clone(), |pv| project(pv, av)))
                .collect(),
        ),
        _ => actual.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(texts: &[(&str, &str)]) -> Value {
        let contents: Vec<Value> = texts
            .iter()
            .map(|(role, text)| json!({"role": role, "parts": [{"text": text}]}))
            .collect();
        json!({"contents": contents, "systemInstruction": {"parts": [{"text": "You are terse."}]}})
    }

    #[test]
    fn subset_requires_equal_array_lengths() {
        let pattern = json!({"a": [{"b": 1}]});
        assert!(is_subset(
            &pattern,
            &json!({"a": [{"b": 1, "c": 2}], "d": 3})
        ));
        assert!(!is_subset(&pattern, &json!({"a": [{"b": 1}, {"b": 1}]})));
        assert!(!is_subset(&pattern, &json!({"a": [{"b": 2}]})));
    }

    #[test]
    fn key_fields_use_last_user_content() {
        let body = request(&[("user", "first"), ("model", "reply"), ("user", "second")]);
        let fields = KeyFields {
            last_user_text: Some("second".into()),
            system_contains: Some("terse".into()),
            turns: Some(3),
            ..KeyFields::default()
        };
        assert!(BodyMatcher::KeyFields(fields.clone()).matches(Some(&body)));
        let wrong = KeyFields {
            turns: Some(2),
            ..fields
        };
        let matcher = BodyMatcher::KeyFields(wrong);
        assert!(!matcher.matches(Some(&body)));
        let score = matcher.similarity(Some(&body));
        assert!(score > 0.5 && score < 1.0, "{score}");
    }

    #[test]
    fn the_last_model_turn_and_tool_config_must_be_exact() {
        let turn = json!({"role": "model", "parts": [
            {"toolCall": {"toolType": "GOOGLE_SEARCH_WEB", "args": {"queries": ["q"]}, "id": "t1"}, "thoughtSignature": "AA=="},
            {"functionCall": {"name": "read_file", "args": {}, "id": "f1"}}
        ]});
        let body = json!({
            "contents": [{"role": "user", "parts": [{"text": "go"}]}, turn.clone(),
                {"role": "user", "parts": [{"functionResponse": {"name": "read_file", "id": "f1", "response": {}}}]}],
            "toolConfig": {"includeServerSideToolInvocations": true}
        });
        let fields = KeyFields {
            last_model_turn: Some(turn.clone()),
            tool_config: Some(json!({"includeServerSideToolInvocations": true})),
            ..KeyFields::default()
        };
        assert!(BodyMatcher::KeyFields(fields.clone()).matches(Some(&body)));
        // A dropped signature, a changed id or an extra member all fail.
        let mut unsigned = body.clone();
        unsigned["contents"][1]["parts"][0]
            .as_object_mut()
            .unwrap()
            .remove("thoughtSignature");
        assert!(!BodyMatcher::KeyFields(fields.clone()).matches(Some(&unsigned)));
        let mut extra = body.clone();
        extra["contents"][1]["parts"][1]["functionCall"]["extra"] = json!(1);
        assert!(!BodyMatcher::KeyFields(fields.clone()).matches(Some(&extra)));
        let mut no_config = body;
        no_config.as_object_mut().unwrap().remove("toolConfig");
        assert!(!BodyMatcher::KeyFields(fields).matches(Some(&no_config)));
    }

    #[test]
    fn function_responses_checked_in_order() {
        let body = json!({"contents": [
            {"role": "model", "parts": [{"functionCall": {"name": "a", "args": {}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "a", "id": "1", "response": {"ok": true}}},
                {"functionResponse": {"name": "b", "response": {}}}
            ]}
        ]});
        let m = |names: &[&str]| {
            BodyMatcher::KeyFields(KeyFields {
                function_responses: Some(
                    names
                        .iter()
                        .map(|n| FunctionResponseMatch {
                            name: (*n).into(),
                            id: None,
                            response: None,
                        })
                        .collect(),
                ),
                ..KeyFields::default()
            })
        };
        assert!(m(&["a", "b"]).matches(Some(&body)));
        assert!(!m(&["b", "a"]).matches(Some(&body)));
        assert!(!m(&["a"]).matches(Some(&body)));
    }

    #[test]
    fn no_body_never_matches() {
        assert!(!BodyMatcher::Exact(Value::Null).matches(None));
    }
}
