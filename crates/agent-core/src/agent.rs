//! Agent types: the five built-in ones and custom ones from `agent-fork.toml`.
//!
//! A type is a *profile*: default model, thinking budget, system
//! instruction, and which tools it gets. Every field can be overridden per
//! call with [`AgentOverrides`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use genai_client::ThinkingConfig;
use genai_client::catalog::{self, ThinkingSetting};
use serde::{Deserialize, Serialize};

use crate::prompts;

/// The built-in agent types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinAgent {
    /// A senior engineer who writes complete, working files with the file tools.
    Code,
    /// A researcher who finds current facts with Google Search and cites them.
    Research,
    /// An analyst who reads files and writes analysis reports.
    Analysis,
    /// Ideation and writing.
    Creative,
    /// The default helper.
    General,
}

impl BuiltinAgent {
    /// All built-in types, in display order.
    pub const ALL: [BuiltinAgent; 5] = [
        BuiltinAgent::Code,
        BuiltinAgent::Research,
        BuiltinAgent::Analysis,
        BuiltinAgent::Creative,
        BuiltinAgent::General,
    ];

    /// The type's name, e.g. `code`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Research => "research",
            Self::Analysis => "analysis",
            Self::Creative => "creative",
            Self::General => "general",
        }
    }

    /// The type's default profile: model and thinking from the model
    /// catalog's `[defaults]` (see `genai_client::catalog`), tools by type.
    pub fn profile(self) -> AgentProfile {
        let (file_tools, search) = match self {
            Self::Code | Self::Analysis | Self::General => (true, false),
            Self::Research => (false, true),
            Self::Creative => (false, false),
        };
        let (model, thinking) = role_default(self.name());
        AgentProfile {
            name: self.name().to_owned(),
            model,
            thinking,
            instruction: prompts::agent_instruction(self).to_owned(),
            file_tools,
            search,
            code_execution: false,
            mcp_servers: Vec::new(),
        }
    }
}

impl fmt::Display for BuiltinAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The catalog's default model and thinking for `role` (an agent type, or
/// `planner`, `plan_consolidator`, `refine_reviewer`, `swarm_consolidator`,
/// `summarizer`).
pub fn role_default(role: &str) -> (String, Option<ThinkingSetting>) {
    match catalog::default_for(role) {
        Some(default) => (default.model.clone(), Some(default.thinking)),
        None => (catalog::default_model(role).to_owned(), None),
    }
}

/// The `thinkingConfig` to send to `model` for `thinking` (translated by
/// the catalog: a level on Gemini 3, a budget on 2.5, never both), with
/// thought summaries when `include_thoughts`.
///
/// A setting the model cannot take is left out (the model's default
/// applies): callers that must refuse it check first with
/// `genai_client::catalog::lookup(model).thinking_plan(setting)`, as the
/// CLI does before any request goes out.
pub fn thinking_config(
    model: &str,
    thinking: Option<ThinkingSetting>,
    include_thoughts: bool,
) -> Option<ThinkingConfig> {
    let plan = thinking
        .and_then(|setting| catalog::lookup(model).thinking_plan(setting).ok())
        .unwrap_or_default();
    plan.config(include_thoughts)
}

/// Everything that defines how an agent of some type is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProfile {
    /// The type's name (`code`, or a custom name).
    pub name: String,
    /// The Gemini model.
    pub model: String,
    /// How much the model thinks, translated per model by the catalog;
    /// `None` leaves it to the model. (Older journals spell it
    /// `thinking_budget`, a number.)
    #[serde(alias = "thinking_budget")]
    pub thinking: Option<ThinkingSetting>,
    /// The system instruction.
    pub instruction: String,
    /// Whether the workspace file tools are offered.
    pub file_tools: bool,
    /// Whether Google Search grounding is on.
    pub search: bool,
    /// Whether the code-execution tool is on.
    pub code_execution: bool,
    /// The MCP servers whose tools this agent may use (`mcp = [..]` in a
    /// custom type, plus the run's `--mcp`); none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcp_servers: Vec<String>,
}

/// Per-call changes to a profile; `None` keeps the profile's value.
///
/// ```
/// use agent_core::{AgentOverrides, BuiltinAgent};
/// use genai_client::catalog::{self, ThinkingSetting};
/// let profile = BuiltinAgent::Code.profile().with(&AgentOverrides {
///     thinking: Some(ThinkingSetting::Tokens(4096)),
///     ..AgentOverrides::default()
/// });
/// assert_eq!(profile.thinking, Some(ThinkingSetting::Tokens(4096)));
/// assert_eq!(profile.model, catalog::default_model("code"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentOverrides {
    /// Another model.
    pub model: Option<String>,
    /// Another thinking setting.
    pub thinking: Option<ThinkingSetting>,
    /// Another system instruction.
    pub instruction: Option<String>,
    /// File tools on or off.
    pub file_tools: Option<bool>,
    /// Search on or off.
    pub search: Option<bool>,
    /// Code execution on or off.
    pub code_execution: Option<bool>,
    /// The run's MCP servers: a profile that lists none gets them all, one
    /// that lists some keeps those of its list that the run has.
    pub mcp_servers: Option<Vec<String>>,
}

impl AgentProfile {
    /// This profile with the overrides applied. Another model without
    /// another thinking setting leaves thinking to that model: a type's
    /// thinking default belongs with its default model.
    pub fn with(mut self, overrides: &AgentOverrides) -> AgentProfile {
        if let Some(model) = &overrides.model {
            if *model != self.model && overrides.thinking.is_none() {
                self.thinking = None;
            }
            self.model.clone_from(model);
        }
        if let Some(thinking) = overrides.thinking {
            self.thinking = Some(thinking);
        }
        if let Some(instruction) = &overrides.instruction {
            self.instruction.clone_from(instruction);
        }
        self.file_tools = overrides.file_tools.unwrap_or(self.file_tools);
        self.search = overrides.search.unwrap_or(self.search);
        self.code_execution = overrides.code_execution.unwrap_or(self.code_execution);
        if let Some(servers) = &overrides.mcp_servers {
            if self.mcp_servers.is_empty() {
                self.mcp_servers.clone_from(servers);
            } else {
                self.mcp_servers.retain(|server| servers.contains(server));
            }
        }
        self
    }
}

/// The agent types available: the built-in ones plus any from a project file.
///
/// ```
/// use agent_core::AgentCatalog;
/// let catalog = AgentCatalog::from_toml(r#"
///     [agents.reviewer]
///     model = "gemini-3.1-pro-preview"
///     thinking = "medium"
///     instruction = "Review the code you are given."
///     tools = ["files"]
/// "#).unwrap();
/// assert_eq!(catalog.get("reviewer").unwrap().model, "gemini-3.1-pro-preview");
/// assert!(catalog.get("code").is_ok());
/// assert!(catalog.get("nope").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCatalog {
    profiles: BTreeMap<String, AgentProfile>,
}

impl Default for AgentCatalog {
    fn default() -> Self {
        let profiles = BuiltinAgent::ALL
            .into_iter()
            .map(|agent| (agent.name().to_owned(), agent.profile()))
            .collect();
        Self { profiles }
    }
}

/// An `agent-fork.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file is not valid TOML or has wrong fields.
    #[error("{path} is not a valid agent-fork.toml: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An agent type name that is not known.
    #[error("unknown agent type `{name}`; known types: {known}")]
    UnknownType {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
}

/// A custom agent type as written in `agent-fork.toml` under `[agents.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomAgent {
    /// Start from this built-in type (default `general`).
    base: Option<BuiltinAgent>,
    model: Option<String>,
    /// `off`, `minimal`..`high`, `auto`, or a token count.
    thinking: Option<ThinkingSetting>,
    /// The older spelling of `thinking` (a token count).
    thinking_budget: Option<ThinkingSetting>,
    instruction: Option<String>,
    /// Tools: any of `files`, `search`, `code_execution`.
    tools: Option<Vec<ToolName>>,
    search: Option<bool>,
    /// The MCP servers (`[mcp.servers.NAME]`) this type may use.
    #[serde(default)]
    mcp: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ToolName {
    Files,
    Search,
    CodeExecution,
}

#[derive(Debug, Deserialize)]
struct ProjectFile {
    #[serde(default)]
    agents: BTreeMap<String, CustomAgent>,
}

impl AgentCatalog {
    /// The built-in types plus the `[agents.*]` tables of `text`.
    pub fn from_toml(text: &str) -> Result<AgentCatalog, CatalogError> {
        Self::parse(text, "agent-fork.toml")
    }

    /// The built-in types plus those of the project file at `path`.
    pub fn load(path: &Path) -> Result<AgentCatalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|error| CatalogError::Read {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, path: &str) -> Result<AgentCatalog, CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: ProjectFile =
            toml::from_str(text).map_err(|error| invalid(error.message().to_owned()))?;
        let mut catalog = AgentCatalog::default();
        for (name, custom) in file.agents {
            if name.trim().is_empty() || name.contains(char::is_whitespace) {
                return Err(invalid(format!(
                    "agent type name `{name}` must be one word"
                )));
            }
            let mut profile = custom.base.unwrap_or(BuiltinAgent::General).profile();
            profile.name.clone_from(&name);
            if let Some(tools) = &custom.tools {
                profile.file_tools = tools.contains(&ToolName::Files);
                profile.search = tools.contains(&ToolName::Search);
                profile.code_execution = tools.contains(&ToolName::CodeExecution);
            }
            if custom.thinking.is_some() && custom.thinking_budget.is_some() {
                return Err(invalid(format!(
                    "agent type `{name}` sets both `thinking` and `thinking_budget`; keep `thinking`"
                )));
            }
            let overrides = AgentOverrides {
                model: custom.model,
                thinking: custom.thinking.or(custom.thinking_budget),
                instruction: custom.instruction,
                search: custom.search,
                ..AgentOverrides::default()
            };
            let mut profile = profile.with(&overrides);
            profile.mcp_servers = custom.mcp;
            catalog.profiles.insert(name, profile);
        }
        Ok(catalog)
    }

    /// The profile named `name`.
    pub fn get(&self, name: &str) -> Result<&AgentProfile, CatalogError> {
        self.profiles
            .get(name)
            .ok_or_else(|| CatalogError::UnknownType {
                name: name.to_owned(),
                known: self.names().collect::<Vec<_>>().join(", "),
            })
    }

    /// The known type names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use genai_client::ThinkingLevel;
    use serde_json::json;

    use super::*;

    #[test]
    fn built_in_types_default_to_current_models_with_levels() {
        for agent in BuiltinAgent::ALL {
            let profile = agent.profile();
            let info = catalog::lookup(&profile.model);
            assert_eq!(info.generation, catalog::Generation::Gemini3, "{agent}");
            let config = thinking_config(&profile.model, profile.thinking, false).unwrap();
            assert!(config.thinking_level.is_some(), "{agent}");
            assert_eq!(config.thinking_budget, None, "{agent}");
        }
        let code = BuiltinAgent::Code.profile();
        assert_eq!(
            serde_json::to_value(thinking_config(&code.model, code.thinking, true)).unwrap(),
            json!({"thinkingLevel": "HIGH", "includeThoughts": true})
        );
    }

    #[test]
    fn a_setting_is_translated_for_the_model_it_is_sent_to() {
        let high = Some(ThinkingSetting::Level(ThinkingLevel::High));
        assert_eq!(
            serde_json::to_value(thinking_config("gemini-2.5-flash", high, false)).unwrap(),
            json!({"thinkingBudget": 24576})
        );
        // Another model without another thinking setting: the model decides.
        let profile = BuiltinAgent::Code.profile().with(&AgentOverrides {
            model: Some("gemini-2.0-flash".to_owned()),
            ..AgentOverrides::default()
        });
        assert_eq!(profile.thinking, None);
        assert_eq!(
            thinking_config(&profile.model, profile.thinking, false),
            None
        );
        // What a model cannot take is left out here (the CLI refuses it first).
        assert_eq!(
            thinking_config("gemini-3.1-pro-preview", Some(ThinkingSetting::Off), false),
            None
        );
    }

    #[test]
    fn custom_types_read_thinking_and_the_older_spelling_but_not_both() {
        let catalog = AgentCatalog::from_toml(
            "[agents.a]\nthinking = \"low\"\n[agents.b]\nthinking_budget = 2048\n",
        )
        .unwrap();
        assert_eq!(
            catalog.get("a").unwrap().thinking,
            Some(ThinkingSetting::Level(ThinkingLevel::Low))
        );
        assert_eq!(
            catalog.get("b").unwrap().thinking,
            Some(ThinkingSetting::Tokens(2048))
        );
        let both = AgentCatalog::from_toml("[agents.c]\nthinking = \"low\"\nthinking_budget = 1\n");
        assert!(
            both.unwrap_err()
                .to_string()
                .contains("both `thinking` and `thinking_budget`")
        );
    }
}
