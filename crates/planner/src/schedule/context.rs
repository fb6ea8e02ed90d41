//! The dependency results a step's prompt is given.
//!
//! The original appended the first 500 characters of each dependency's result
//! without saying so; a model then reasons from a fragment it believes whole.
//! Here each result is cut at a configurable number of characters (4000 by
//! default), always on a character boundary, and a cut is stated in the text.

use std::fmt::Write as _;

use crate::plan::StepId;

/// How many characters of each dependency's result go into a prompt by default.
pub const DEFAULT_CONTEXT_CAP: usize = 4000;

/// The result of a finished step, handed to the steps that build on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyResult {
    /// The finished step.
    pub id: StepId,
    /// Its name.
    pub name: String,
    /// Its full result text.
    pub text: String,
}

/// Lays out dependency results for a prompt, each cut at `cap_chars`
/// characters, with a note wherever a result was cut.
///
/// ```
/// use planner::{dependency_context, DependencyResult, StepId};
/// let results = [DependencyResult {
///     id: StepId::from("step_1"),
///     name: "Survey".into(),
///     text: "abcdef".into(),
/// }];
/// let context = dependency_context(&results, 4);
/// assert!(context.contains("abcd\n[result of step_1 cut at 4 of 6 characters]"));
/// ```
pub fn dependency_context(results: &[DependencyResult], cap_chars: usize) -> String {
    let mut out = String::new();
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let name = result.name.trim();
        if name.is_empty() {
            let _ = writeln!(out, "### Result of {}", result.id);
        } else {
            let _ = writeln!(out, "### Result of {} ({name})", result.id);
        }
        // Trailing whitespace is not content: it neither counts nor shows.
        let text = result.text.trim_end();
        match text.char_indices().nth(cap_chars) {
            None => {
                out.push_str(text);
                out.push('\n');
            }
            Some((cut, _)) => {
                let total = text.chars().count();
                out.push_str(&text[..cut]);
                let _ = writeln!(
                    out,
                    "\n[result of {} cut at {cap_chars} of {total} characters]",
                    result.id
                );
            }
        }
    }
    out
}
