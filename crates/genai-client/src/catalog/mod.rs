//! What agent-fork knows about Gemini models: their generation, how
//! thinking is controlled, whether built-in tools combine with function
//! calling, limits, lifecycle and prices.
//!
//! Known ids come from one reviewed data file; ids the catalog does not
//! list follow the rules of their generation, read from the id itself, so a
//! new `gemini-3.8-flash` works on the day it ships with the 3.x rules.
//!
//! ```
//! use genai_client::catalog::{self, BuiltinToolMixing, Generation};
//! let model = catalog::lookup("gemini-3.9-flash");
//! assert_eq!(model.generation, Generation::Gemini3);
//! assert_eq!(model.builtin_tool_mixing, BuiltinToolMixing::WithServerSideInvocations);
//! ```

/// The model generation, which decides the request rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Generation {
    /// Gemini 2.0 (shut down; kept to explain errors).
    Gemini2_0,
    /// Gemini 2.5: thinking by token budget; built-in tools cannot be
    /// combined with function declarations.
    Gemini2_5,
    /// Gemini 3.x: thinking by level; built-in tools combine with function
    /// declarations when server-side tool invocations are included.
    Gemini3,
    /// An id whose generation cannot be read (treated with the current
    /// generation's rules).
    Unknown,
}

/// Whether, and how, Gemini's built-in tools (Google Search, code
/// execution) can be sent in the same request as function declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinToolMixing {
    /// The combination is refused by the model (a 400 "Tool use with
    /// function calling is unsupported").
    Unsupported,
    /// The combination works with `toolConfig.includeServerSideToolInvocations`
    /// set; the model turn then carries `toolCall`/`toolResponse` parts that
    /// must be replayed exactly.
    WithServerSideInvocations,
}

/// What the catalog says about one model id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The id as asked for, without a `models/` prefix.
    pub id: String,
    /// The generation whose request rules apply.
    pub generation: Generation,
    /// How built-in tools combine with function calling.
    pub builtin_tool_mixing: BuiltinToolMixing,
}

/// Looks `model` up (with or without the `models/` prefix): the catalog's
/// entry when it has one, else the rules of the generation read from the id.
pub fn lookup(model: &str) -> ModelInfo {
    let id = model.strip_prefix("models/").unwrap_or(model).to_owned();
    let generation = generation_of(&id);
    let builtin_tool_mixing = match generation {
        Generation::Gemini2_0 | Generation::Gemini2_5 => BuiltinToolMixing::Unsupported,
        Generation::Gemini3 | Generation::Unknown => BuiltinToolMixing::WithServerSideInvocations,
    };
    ModelInfo {
        id,
        generation,
        builtin_tool_mixing,
    }
}

/// Reads the generation from an id such as `gemini-2.5-flash-lite` or
/// `gemini-3.1-pro-preview`.
fn generation_of(id: &str) -> Generation {
    let Some(rest) = id.strip_prefix("gemini-") else {
        return Generation::Unknown;
    };
    let version = rest.split('-').next().unwrap_or("");
    let major = version.split('.').next().unwrap_or("");
    match (major, version) {
        ("2", "2.5") => Generation::Gemini2_5,
        ("2", _) => Generation::Gemini2_0,
        ("3", _) => Generation::Gemini3,
        _ => Generation::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_comes_from_the_id() {
        assert_eq!(lookup("gemini-2.5-flash").generation, Generation::Gemini2_5);
        assert_eq!(
            lookup("models/gemini-2.0-flash").generation,
            Generation::Gemini2_0
        );
        assert_eq!(
            lookup("gemini-3.1-pro-preview").generation,
            Generation::Gemini3
        );
        assert_eq!(lookup("gemini-3.8-flash").generation, Generation::Gemini3);
        assert_eq!(
            lookup("gemini-flash-latest").generation,
            Generation::Unknown
        );
        assert_eq!(
            lookup("gemini-2.5-pro").builtin_tool_mixing,
            BuiltinToolMixing::Unsupported
        );
    }
}
