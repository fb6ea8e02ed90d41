//! Settings in one place, with one merge rule:
//! flags > environment > `./agent-fork.toml` > user config file > defaults.
//!
//! Each layer is read into a [`Layer`] of optional values; [`Settings`]
//! takes, for every key, the first layer that sets it and remembers which
//! one did, so `agent-fork config` can say where each value came from.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use genai_client::catalog::ThinkingSetting;
use serde::Deserialize;

use crate::exit::Failure;

/// The project file, looked up in the current folder.
pub(crate) const PROJECT_FILE: &str = "agent-fork.toml";

/// Environment variables, in one documented place.
pub(crate) mod env {
    pub(crate) const MODEL: &str = "AGENT_FORK_MODEL";
    pub(crate) const THINKING: &str = "AGENT_FORK_THINKING";
    pub(crate) const WORKSPACE: &str = "AGENT_FORK_WORKSPACE";
    pub(crate) const ALLOW_SHELL: &str = "AGENT_FORK_ALLOW_SHELL";
    pub(crate) const NO_TOOLS: &str = "AGENT_FORK_NO_TOOLS";
    pub(crate) const CONCURRENCY: &str = "AGENT_FORK_CONCURRENCY";
    pub(crate) const MAX_TURNS: &str = "AGENT_FORK_MAX_TURNS";
    pub(crate) const RUNS_DIR: &str = "AGENT_FORK_RUNS_DIR";
    pub(crate) const REQUESTS_PER_MINUTE: &str = "AGENT_FORK_REQUESTS_PER_MINUTE";
    pub(crate) const CONFIG: &str = "AGENT_FORK_CONFIG";
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Flag,
    Env(&'static str),
    ProjectFile,
    UserFile,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("flag"),
            Self::Env(name) => write!(f, "env {name}"),
            Self::ProjectFile => write!(f, "{PROJECT_FILE}"),
            Self::UserFile => f.write_str("user config"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// One value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Setting<T> {
    pub(crate) value: T,
    pub(crate) source: Source,
}

/// The optional values one layer sets. Also the `[defaults]` table of the
/// project and user files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Layer {
    pub(crate) model: Option<String>,
    /// `off`, `minimal`..`high`, `auto` or a token count; `thinking_budget`
    /// is the older spelling.
    #[serde(alias = "thinking_budget")]
    pub(crate) thinking: Option<ThinkingSetting>,
    pub(crate) workspace: Option<PathBuf>,
    pub(crate) allow_shell: Option<bool>,
    pub(crate) no_tools: Option<bool>,
    pub(crate) concurrency: Option<usize>,
    pub(crate) max_turns: Option<u32>,
    pub(crate) runs_dir: Option<PathBuf>,
    pub(crate) requests_per_minute: Option<u32>,
}

/// A settings file: a `[defaults]` table (agent types live beside it in
/// `[agents.NAME]` tables and are read by agent-core).
#[derive(Debug, Default, Deserialize)]
struct SettingsFile {
    #[serde(default)]
    defaults: Layer,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) model: Setting<Option<String>>,
    pub(crate) thinking: Setting<Option<ThinkingSetting>>,
    pub(crate) workspace: Setting<PathBuf>,
    pub(crate) allow_shell: Setting<bool>,
    pub(crate) no_tools: Setting<bool>,
    pub(crate) concurrency: Setting<usize>,
    pub(crate) max_turns: Setting<u32>,
    pub(crate) runs_dir: Setting<PathBuf>,
    pub(crate) requests_per_minute: Setting<Option<u32>>,
    /// The project file, when `./agent-fork.toml` exists.
    pub(crate) project_file: Option<PathBuf>,
    /// The user config file, when it exists.
    pub(crate) user_file: Option<PathBuf>,
}

impl Settings {
    /// Resolves the settings from the flags' layer, the environment and the files.
    pub(crate) fn resolve(flags: Layer) -> Result<Settings> {
        let project_file = Path::new(PROJECT_FILE)
            .is_file()
            .then(|| PathBuf::from(PROJECT_FILE));
        let user_file = user_config_path().filter(|path| path.is_file());
        let project = match &project_file {
            Some(path) => read_layer(path)?,
            None => Layer::default(),
        };
        let user = match &user_file {
            Some(path) => read_layer(path)?,
            None => Layer::default(),
        };
        let environment = env_layer()?;
        macro_rules! merged {
            ($field:ident, $env:expr) => {
                first([
                    (flags.$field.clone(), Source::Flag),
                    (environment.$field.clone(), Source::Env($env)),
                    (project.$field.clone(), Source::ProjectFile),
                    (user.$field.clone(), Source::UserFile),
                ])
            };
        }
        Ok(Settings {
            model: merged!(model, env::MODEL),
            thinking: merged!(thinking, env::THINKING),
            workspace: merged!(workspace, env::WORKSPACE).or(PathBuf::from(".")),
            allow_shell: merged!(allow_shell, env::ALLOW_SHELL).or(false),
            no_tools: merged!(no_tools, env::NO_TOOLS).or(false),
            concurrency: merged!(concurrency, env::CONCURRENCY).or(5),
            max_turns: merged!(max_turns, env::MAX_TURNS).or(10),
            runs_dir: merged!(runs_dir, env::RUNS_DIR).or(PathBuf::from(".agent-fork/runs")),
            requests_per_minute: merged!(requests_per_minute, env::REQUESTS_PER_MINUTE),
            project_file,
            user_file,
        })
    }
}

/// The first layer that sets a value.
fn first<T>(candidates: [(Option<T>, Source); 4]) -> Setting<Option<T>> {
    candidates
        .into_iter()
        .find_map(|(value, source)| {
            value.map(|value| Setting {
                value: Some(value),
                source,
            })
        })
        .unwrap_or(Setting {
            value: None,
            source: Source::Default,
        })
}

impl<T> Setting<Option<T>> {
    /// The value, or `default` (from the defaults layer) when no layer set it.
    fn or(self, default: T) -> Setting<T> {
        match self.value {
            Some(value) => Setting {
                value,
                source: self.source,
            },
            None => Setting {
                value: default,
                source: Source::Default,
            },
        }
    }
}

/// The user config file: `$AGENT_FORK_CONFIG`, else
/// `$XDG_CONFIG_HOME/agent-fork/config.toml`, else `~/.config/agent-fork/config.toml`.
pub(crate) fn user_config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env::CONFIG) {
        return Some(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("agent-fork").join("config.toml"))
}

fn read_layer(path: &Path) -> Result<Layer> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
    let file: SettingsFile = toml::from_str(&text).map_err(|error| {
        Failure::usage(format!(
            "{} is not a valid settings file: {}; see README.md (Settings)",
            path.display(),
            error.message()
        ))
    })?;
    Ok(file.defaults)
}

/// The layer read from the environment.
fn env_layer() -> Result<Layer> {
    Ok(Layer {
        model: text(env::MODEL),
        thinking: thinking(env::THINKING)?,
        workspace: text(env::WORKSPACE).map(PathBuf::from),
        allow_shell: boolean(env::ALLOW_SHELL)?,
        no_tools: boolean(env::NO_TOOLS)?,
        concurrency: number(env::CONCURRENCY)?,
        max_turns: number(env::MAX_TURNS)?,
        runs_dir: text(env::RUNS_DIR).map(PathBuf::from),
        requests_per_minute: number(env::REQUESTS_PER_MINUTE)?,
    })
}

fn text(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn number<T: std::str::FromStr>(name: &'static str) -> Result<Option<T>> {
    match text(name) {
        None => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| {
            Failure::usage(format!(
                "{name}={value} is not a valid number; set a whole number or unset it"
            ))
            .into()
        }),
    }
}

fn thinking(name: &'static str) -> Result<Option<ThinkingSetting>> {
    match text(name) {
        None => Ok(None),
        Some(value) => value
            .parse()
            .map(Some)
            .map_err(|error| Failure::usage(format!("{name}: {error}")).into()),
    }
}

fn boolean(name: &'static str) -> Result<Option<bool>> {
    match text(name).map(|value| value.to_ascii_lowercase()) {
        None => Ok(None),
        Some(value) if matches!(value.as_str(), "1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some(value) if matches!(value.as_str(), "0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(value) => Err(Failure::usage(format!("{name}={value} is not true or false")).into()),
    }
}
