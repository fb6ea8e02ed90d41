//! Typed access to a tool call's JSON arguments.
//!
//! Gemini sends the arguments as a JSON object. Wrong types, missing
//! required arguments and unknown argument names become one-line errors that
//! name the argument, so the model can correct its next call.

use serde_json::{Map, Value};

use super::error::ToolError;

/// The arguments of one call, checked against the tool's parameter names.
#[derive(Debug)]
pub(crate) struct Args<'a> {
    tool: &'static str,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Args<'a> {
    /// Checks that `value` is an object (or null) whose keys are all in
    /// `params`.
    pub(crate) fn parse(
        tool: &'static str,
        params: &[&str],
        value: &'a Value,
    ) -> Result<Self, ToolError> {
        let map = match value {
            Value::Null => None,
            Value::Object(map) => Some(map),
            _ => {
                return Err(ToolError::new(format!(
                    "{tool}: the arguments must be a JSON object"
                )));
            }
        };
        if let Some(map) = map
            && let Some(unknown) = map.keys().find(|key| !params.contains(&key.as_str()))
        {
            return Err(ToolError::new(format!(
                "{tool}: unknown argument '{unknown}'; the arguments are: {}",
                params.join(", ")
            )));
        }
        Ok(Self { tool, map })
    }

    /// The value of `key`, treating JSON null as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map
            .and_then(|map| map.get(key))
            .filter(|value| !value.is_null())
    }

    /// A required string.
    pub(crate) fn string(&self, key: &str) -> Result<&'a str, ToolError> {
        self.opt_string(key)?
            .ok_or_else(|| self.error(key, "is required"))
    }

    /// An optional string.
    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<&'a str>, ToolError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.error(key, "must be a string")),
        }
    }

    /// A string with a default.
    pub(crate) fn string_or(&self, key: &str, default: &'a str) -> Result<&'a str, ToolError> {
        Ok(self.opt_string(key)?.unwrap_or(default))
    }

    /// A boolean with a default.
    pub(crate) fn bool_or(&self, key: &str, default: bool) -> Result<bool, ToolError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(self.error(key, "must be true or false")),
        }
    }

    /// An optional whole number in `min..=max` (a JSON number with no
    /// fractional part; `5.0` counts as 5).
    pub(crate) fn opt_integer(
        &self,
        key: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, ToolError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let number = match value {
            Value::Number(number) => number.as_u64().or_else(|| {
                number
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 1e15)
                    .map(|f| f as u64)
            }),
            _ => None,
        };
        match number {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.error(key, &format!("must be a whole number from {min} to {max}"))),
        }
    }

    /// A whole number in `min..=max` with a default.
    pub(crate) fn integer_or(
        &self,
        key: &str,
        min: u64,
        max: u64,
        default: u64,
    ) -> Result<u64, ToolError> {
        Ok(self.opt_integer(key, min, max)?.unwrap_or(default))
    }

    /// An error about argument `key`.
    pub(crate) fn error(&self, key: &str, problem: &str) -> ToolError {
        ToolError::new(format!("{}: argument '{key}' {problem}", self.tool))
    }
}
