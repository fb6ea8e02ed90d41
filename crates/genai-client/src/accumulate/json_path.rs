//! The subset of JSONPath that Vertex uses in `partialArgs[].jsonPath`.
//!
//! A path is `$` followed by steps: `.name` (an object member) or `[n]` (an
//! array index), the first step being a member because function arguments
//! are an object: `$.location`, `$.a.b`, `$.operations[0].action`. Anything
//! else (`$`, `$..a`, `$['a']`, `$[*]`, `$.a[-1]`, ...) is refused.
//!
//! Assigning through a path creates the objects and arrays it names, but an
//! array only grows by one element at the end (`[len]`): an index past that,
//! or a step through a value of the other kind, is refused and leaves the
//! arguments untouched.

use serde_json::{Map, Value};
use thiserror::Error;

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// `.name`: a member of an object.
    Member(String),
    /// `[n]`: an element of an array.
    Index(usize),
}

/// A parsed path such as `$.operations[0].action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(super) enum PathError {
    /// The path is outside the supported subset.
    #[error("unsupported JSONPath `{0}`")]
    Unsupported(String),
    /// The path runs through a value of the wrong kind, or skips array
    /// elements.
    #[error("JSONPath `{0}` does not fit the arguments assembled so far")]
    Conflict(String),
}

impl JsonPath {
    /// Parses `text`, refusing anything outside the supported subset.
    pub(super) fn parse(text: &str) -> Result<JsonPath, PathError> {
        let unsupported = || PathError::Unsupported(text.to_owned());
        let mut rest = text.strip_prefix('$').ok_or_else(unsupported)?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            let (step, after) = if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let name = &after[..end];
                let plain = !name.is_empty()
                    && !name
                        .chars()
                        .any(|c| matches!(c, ']' | '*' | '\'' | '"') || c.is_whitespace());
                if !plain {
                    return Err(unsupported());
                }
                (Step::Member(name.to_owned()), &after[end..])
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').ok_or_else(unsupported)?;
                let digits = &after[..end];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(unsupported());
                }
                let index = digits.parse().map_err(|_| unsupported())?;
                (Step::Index(index), &after[end + 1..])
            } else {
                return Err(unsupported());
            };
            steps.push(step);
            rest = after;
        }
        if !matches!(steps.first(), Some(Step::Member(_))) {
            return Err(unsupported());
        }
        Ok(JsonPath {
            text: text.to_owned(),
            steps,
        })
    }

    /// The path as it was written.
    pub(super) fn as_str(&self) -> &str {
        &self.text
    }

    /// Calls `update` on the value at this path inside `root`, creating the
    /// containers on the way (a new leaf starts as `null`). Refused, with
    /// `root` untouched, when the path does not fit or its leaf is already
    /// an object or array (which a scalar would overwrite).
    pub(super) fn update(
        &self,
        root: &mut Value,
        update: impl FnOnce(&mut Value),
    ) -> Result<(), PathError> {
        if !self.fits(root) {
            return Err(PathError::Conflict(self.text.clone()));
        }
        let mut current = root;
        for step in &self.steps {
            let next = match step {
                Step::Member(name) => {
                    if current.is_null() {
                        *current = Value::Object(Map::new());
                    }
                    match current {
                        Value::Object(map) => Some(map.entry(name.clone()).or_insert(Value::Null)),
                        _ => None,
                    }
                }
                Step::Index(index) => {
                    if current.is_null() {
                        *current = Value::Array(Vec::new());
                    }
                    match current {
                        Value::Array(items) => {
                            if *index == items.len() {
                                items.push(Value::Null);
                            }
                            items.get_mut(*index)
                        }
                        _ => None,
                    }
                }
            };
            // `fits` has checked every step, so this is never taken.
            current = next.ok_or_else(|| PathError::Conflict(self.text.clone()))?;
        }
        update(current);
        Ok(())
    }

    /// Whether [`update`](Self::update) can walk this path without
    /// replacing anything: read-only, so a refusal changes nothing.
    fn fits(&self, root: &Value) -> bool {
        let mut current = Some(root);
        for step in &self.steps {
            current = match (step, current) {
                // Past the end of what exists, only new containers follow;
                // a new array is empty, so its only reachable index is 0.
                (Step::Member(_), None | Some(Value::Null)) => None,
                (Step::Index(index), None | Some(Value::Null)) => {
                    if *index != 0 {
                        return false;
                    }
                    None
                }
                (Step::Member(name), Some(Value::Object(map))) => map.get(name),
                (Step::Index(index), Some(Value::Array(items))) => {
                    if *index > items.len() {
                        return false;
                    }
                    items.get(*index)
                }
                _ => return false,
            };
        }
        !matches!(current, Some(Value::Object(_) | Value::Array(_)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(root: &mut Value, path: &str, value: Value) -> Result<(), PathError> {
        JsonPath::parse(path)?.update(root, |slot| *slot = value)
    }

    #[test]
    fn the_supported_subset_parses() {
        let path = JsonPath::parse("$.operations[0].action").unwrap();
        assert_eq!(
            path.steps,
            [
                Step::Member("operations".into()),
                Step::Index(0),
                Step::Member("action".into()),
            ]
        );
        assert_eq!(path.as_str(), "$.operations[0].action");
        assert!(JsonPath::parse("$.a").is_ok());
        assert!(JsonPath::parse("$.a.b_c-d").is_ok());
        assert!(JsonPath::parse("$.matrix[1][2]").is_ok());
    }

    #[test]
    fn anything_else_is_refused() {
        for path in [
            "", "$", "a", "location", "$.", "$..a", "$.a.", "$['a']", "$[0]", "$.a[*]", "$.*",
            "$.a[-1]", "$.a[]", "$.a[1", "$.a b", "$.a]", "$.a[0]x", "$.a[+1]",
        ] {
            assert_eq!(
                JsonPath::parse(path),
                Err(PathError::Unsupported(path.to_owned())),
                "{path:?}"
            );
        }
    }

    #[test]
    fn members_and_indices_build_the_arguments() {
        let mut args = json!({});
        set(&mut args, "$.location", json!("Boston")).unwrap();
        set(&mut args, "$.a.b", json!(1)).unwrap();
        set(&mut args, "$.ops[0].action", json!("add")).unwrap();
        set(&mut args, "$.ops[0].price", json!(0.5)).unwrap();
        set(&mut args, "$.ops[1].action", json!("remove")).unwrap();
        set(&mut args, "$.grid[0][0]", json!(true)).unwrap();
        assert_eq!(
            args,
            json!({
                "location": "Boston",
                "a": {"b": 1},
                "ops": [{"action": "add", "price": 0.5}, {"action": "remove"}],
                "grid": [[true]],
            })
        );
    }

    #[test]
    fn a_path_that_does_not_fit_changes_nothing() {
        let mut args = json!({"location": "Boston", "ops": [{"action": "add"}]});
        let before = args.clone();
        for path in [
            "$.location.city", // through a string
            "$.ops.action",    // a member of an array
            "$.location[0]",   // an index of a string
            "$.ops[2].action", // skips ops[1]
            "$.fresh[1]",      // a new array starts at 0
            "$.ops",           // would overwrite the array
            "$.ops[0]",        // would overwrite the object
        ] {
            assert_eq!(
                set(&mut args, path, json!("x")),
                Err(PathError::Conflict(path.to_owned())),
                "{path}"
            );
            assert_eq!(args, before, "{path}");
        }
    }
}
