//! Reading a plan out of the planning model's reply.
//!
//! JSON mode usually yields clean JSON, but replies also arrive inside
//! ```` ```json ```` fences, wrapped in prose, or as a bare array of steps.
//! [`parse_plan`] tries, in order: the whole reply, each fenced block, then
//! each balanced top-level `{...}` or `[...]` found in the text (brackets
//! inside JSON strings and escapes are respected). The first candidate that
//! reads as a plan wins. Field aliases are handled by [`crate::Plan`]'s own
//! deserializer.

use crate::plan::{Plan, Step};

/// How many bracketed candidates are tried at most, so a reply full of
/// brackets cannot make parsing slow.
const MAX_CANDIDATES: usize = 64;

/// How many opening brackets are scanned for a match at most.
const MAX_OPENINGS: usize = 256;

/// How much of the reply an error message quotes.
const PREVIEW_CHARS: usize = 80;

/// The planner's reply could not be read as a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanParseError {
    /// No JSON object or array in the reply reads as a plan.
    #[error("the planner's reply holds no JSON plan (first 80 chars: {preview})")]
    NoJson {
        /// The reply's first characters, on one line.
        preview: String,
    },
    /// JSON was found but it is not a plan; carries the closest error.
    #[error(
        "the planner's reply has JSON but not a plan: {reason}; each step needs step_id, agent_type and task"
    )]
    NotAPlan {
        /// Why the most plausible candidate was rejected.
        reason: String,
    },
}

/// Reads a plan from a model reply, tolerating fences, prose and aliases.
///
/// ```
/// let reply = "Here is the plan:\n```json\n{\"analysis\": \"a\", \"steps\": [\
///   {\"id\": \"s1\", \"agent_type\": \"code\", \"task\": \"write it\"}]}\n```";
/// let plan = planner::parse_plan(reply)?;
/// assert_eq!(plan.steps[0].id.as_str(), "s1");
/// # Ok::<(), planner::PlanParseError>(())
/// ```
pub fn parse_plan(text: &str) -> Result<Plan, PlanParseError> {
    let mut first_error: Option<String> = None;
    let mut candidates = vec![text.trim()];
    candidates.extend(fenced_blocks(text));
    candidates.extend(bracketed_spans(text));
    for candidate in candidates {
        match read_candidate(candidate) {
            Ok(plan) => return Ok(plan),
            Err(Some(reason)) if first_error.is_none() => first_error = Some(reason),
            Err(_) => {}
        }
    }
    Err(match first_error {
        Some(reason) => PlanParseError::NotAPlan { reason },
        None => PlanParseError::NoJson {
            preview: preview(text),
        },
    })
}

/// Tries one candidate. `Err(None)` means "not JSON at all", `Err(Some)` means
/// "JSON, but not a plan" with the reason.
fn read_candidate(candidate: &str) -> Result<Plan, Option<String>> {
    let value: serde_json::Value = serde_json::from_str(candidate).map_err(|_| None)?;
    match value {
        serde_json::Value::Object(ref map) if map.contains_key("steps") => {
            serde_json::from_value::<Plan>(value).map_err(|e| Some(e.to_string()))
        }
        serde_json::Value::Array(ref items) if items.iter().all(|item| item.is_object()) => {
            if items.is_empty() {
                return Err(None);
            }
            serde_json::from_value::<Vec<Step>>(value)
                .map(|steps| Plan {
                    analysis: String::new(),
                    steps,
                })
                .map_err(|e| Some(e.to_string()))
        }
        _ => Err(None),
    }
}

/// The insides of ```` ``` ```` fenced blocks, with any language tag dropped.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after_ticks = &rest[open + 3..];
        // The info string (e.g. `json`) runs to the end of the line.
        let body_start = after_ticks.find('\n').map_or(after_ticks.len(), |i| i + 1);
        let body = &after_ticks[body_start..];
        match body.find("```") {
            Some(close) => {
                blocks.push(body[..close].trim());
                rest = &body[close + 3..];
            }
            None => {
                // An unclosed fence (a reply cut short): take the rest.
                blocks.push(body.trim());
                break;
            }
        }
    }
    blocks
}

/// Balanced `{...}` / `[...]` spans in order of their opening bracket. When a
/// span does not read as JSON, the spans nested inside it are still offered
/// later, because the scan restarts right after each opening bracket.
fn bracketed_spans(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let openings = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'{' | b'['))
        .map(|(i, _)| i)
        .take(MAX_OPENINGS);
    for start in openings {
        if let Some(end) = matching_close(bytes, start) {
            spans.push(&text[start..=end]);
            if spans.len() == MAX_CANDIDATES {
                break;
            }
        }
    }
    spans
}

/// Index of the bracket closing the one at `open`, skipping JSON strings.
fn matching_close(bytes: &[u8], open: usize) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => stack.push(b'}'),
            b'[' => stack.push(b']'),
            b'}' | b']' => {
                if stack.pop() != Some(b) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The first characters of the reply on one line, for error messages.
fn preview(text: &str) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .take(PREVIEW_CHARS)
        .collect();
    if text.trim().chars().count() > PREVIEW_CHARS {
        format!("{flat}…")
    } else {
        flat
    }
}
