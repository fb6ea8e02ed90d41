//! Settings in one place, with one merge rule:
//! flags > environment > the project's `agent-fork.toml` > user config file > defaults.
//!
//! Each layer is read into a [`Layer`] of optional values; [`Settings`]
//! takes, for every key, the first layer that sets it and remembers which
//! one did, so `agent-fork config` can say where each value came from.
//!
//! The project is found from the current folder upwards (as uv finds
//! `pyproject.toml`): its root is the nearest folder holding
//! `agent-fork.toml`, else the nearest holding `.git`, else the current
//! folder. Runs are kept per project outside every workspace, in
//! `$XDG_DATA_HOME/agent-fork/projects/<root name>-<hash>/runs` (else
//! `~/.local/share/...`), so a model with file tools cannot plant, edit or
//! delete them, and a project's runs stay together wherever in it a command
//! runs.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::NaiveDate;
use genai_client::catalog::ThinkingSetting;
use serde::Deserialize;

use crate::exit::Failure;

/// The project file, looked up from the current folder upwards.
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
    pub(crate) const INPUT_TOKENS_PER_MINUTE: &str = "AGENT_FORK_INPUT_TOKENS_PER_MINUTE";
    pub(crate) const CONFIG: &str = "AGENT_FORK_CONFIG";
    pub(crate) const BUDGET_USD: &str = "AGENT_FORK_BUDGET_USD";
    pub(crate) const BUDGET_TOKENS: &str = "AGENT_FORK_BUDGET_TOKENS";
    pub(crate) const CAUTIOUS_START: &str = "AGENT_FORK_CAUTIOUS_START";
    pub(crate) const REMEMBER_LIMITS: &str = "AGENT_FORK_REMEMBER_LIMITS";
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
    /// A model's input tokens per minute (429 quota bodies can lower it).
    pub(crate) input_tokens_per_minute: Option<u64>,
    /// Most dollars a run may spend (all its sessions together).
    pub(crate) budget_usd: Option<f64>,
    /// Most tokens a run may use (all its sessions together).
    pub(crate) budget_tokens: Option<u64>,
    /// Requests a model with no known limit gets in its first minute
    /// before 429s teach its quota (off when unset or 0; 8 is the
    /// recommended allowance).
    pub(crate) cautious_start: Option<u32>,
    /// Keep the per-minute limits 429s taught a live run for the next runs
    /// against the same endpoint and key (on unless false).
    pub(crate) remember_limits: Option<bool>,
    /// Approve every tool call the approval policy would ask about: the
    /// `--yes` flag only (a settings file cannot approve on its own behalf).
    #[serde(skip_deserializing)]
    pub(crate) assume_yes: Option<bool>,
    /// The MCP servers of this run (`--mcp NAME|FILE`): a flag only.
    #[serde(skip_deserializing)]
    pub(crate) mcp: Vec<String>,
}

/// A settings file: a `[defaults]` table (agent types live beside it in
/// `[agents.NAME]` tables and are read by agent-core).
#[derive(Debug, Default, Deserialize)]
struct SettingsFile {
    #[serde(default)]
    defaults: Layer,
    #[serde(default)]
    workspace: WorkspaceTable,
    #[serde(default)]
    approval: ApprovalTable,
    #[serde(default)]
    mcp: McpTable,
}

/// The `[mcp]` table: `[mcp.servers.NAME]` with `command`, `args`, `env`
/// (stdio) or `url`, `headers` (streamable HTTP).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct McpTable {
    #[serde(default)]
    servers: std::collections::BTreeMap<String, crate::mcp::ServerEntry>,
}

/// Longest `[approval] question_timeout_secs`: a day.
const MAX_QUESTION_TIMEOUT_SECS: u64 = 86_400;

/// The `[approval]` table: `read`, `write`, `shell`, `mcp` = `allow`, `ask`
/// or `deny`, and `[approval.tools]` with a rule per tool (`bash`,
/// `docs__search`) or MCP server (`docs`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalTable {
    read: Option<agent_core::Rule>,
    write: Option<agent_core::Rule>,
    shell: Option<agent_core::Rule>,
    mcp: Option<agent_core::Rule>,
    #[serde(default)]
    tools: std::collections::BTreeMap<String, agent_core::Rule>,
    /// Seconds a person gets to answer a question (default 300); no
    /// answer in time denies the call.
    question_timeout_secs: Option<u64>,
}

impl ApprovalTable {
    /// `self` over `below` (the project file over the user's).
    fn over(self, below: ApprovalTable) -> ApprovalTable {
        let mut tools = below.tools;
        tools.extend(self.tools);
        ApprovalTable {
            read: self.read.or(below.read),
            write: self.write.or(below.write),
            shell: self.shell.or(below.shell),
            mcp: self.mcp.or(below.mcp),
            tools,
            question_timeout_secs: self.question_timeout_secs.or(below.question_timeout_secs),
        }
    }

    /// The question timeout, checked: 1 second to a day.
    fn question_timeout(&self, source: Source) -> Result<std::time::Duration> {
        match self.question_timeout_secs {
            None => Ok(agent_core::DEFAULT_QUESTION_TIMEOUT),
            Some(secs @ 1..=MAX_QUESTION_TIMEOUT_SECS) => Ok(std::time::Duration::from_secs(secs)),
            Some(secs) => Err(Failure::usage(format!(
                "[approval] question_timeout_secs = {secs} (from {source}) is not a timeout; give seconds from 1 to {MAX_QUESTION_TIMEOUT_SECS}, e.g. question_timeout_secs = 120"
            ))
            .into()),
        }
    }

    fn policy(self, assume_yes: bool) -> agent_core::ApprovalPolicy {
        let default = agent_core::ApprovalPolicy::default();
        agent_core::ApprovalPolicy {
            read: self.read.unwrap_or(default.read),
            write: self.write.unwrap_or(default.write),
            shell: self.shell.unwrap_or(default.shell),
            mcp: self.mcp.unwrap_or(default.mcp),
            tools: self.tools,
            assume_yes,
        }
    }
}

/// The `[workspace]` table: `protect = ["deploy/", "*.pem"]` adds glob
/// patterns the workspace tools may never change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceTable {
    #[serde(default)]
    protect: Vec<String>,
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
    /// The per-model input-token limit per minute, when set.
    pub(crate) input_tokens_per_minute: Setting<Option<u64>>,
    /// The run's spending limit in dollars (checked: positive and finite).
    pub(crate) budget_usd: Setting<Option<f64>>,
    /// The run's token limit (checked: positive).
    pub(crate) budget_tokens: Setting<Option<u64>>,
    /// The limiter's cautious start (first-minute requests; 0 = off).
    pub(crate) cautious_start: Setting<u32>,
    /// Whether quota limits learned from 429s are remembered for later runs
    /// ([`crate::quota_memory`]).
    pub(crate) remember_limits: Setting<bool>,
    /// The project's root folder (see the module docs).
    pub(crate) project_root: PathBuf,
    /// The project file, when the project root holds `agent-fork.toml`.
    pub(crate) project_file: Option<PathBuf>,
    /// The user config file, when it exists.
    pub(crate) user_file: Option<PathBuf>,
    /// The `[workspace] protect` patterns of the project and user files
    /// (both count: a list only ever adds protection).
    pub(crate) protect: Vec<String>,
    /// The approval policy (`[approval]` of the project file over the
    /// user's, defaults otherwise; `--yes` sets `assume_yes`).
    pub(crate) approval: agent_core::ApprovalPolicy,
    /// How long an approval question waits for its answer (`[approval]
    /// question_timeout_secs`; 5 minutes by default).
    pub(crate) question_timeout: std::time::Duration,
    /// The configured MCP servers (`[mcp.servers.NAME]`, the project file's
    /// over the user's of the same name).
    pub(crate) mcp_servers: std::collections::BTreeMap<String, crate::mcp::ServerEntry>,
    /// The `--mcp` values of this run.
    pub(crate) mcp: Vec<String>,
}

impl Settings {
    /// Resolves the settings from the flags' layer, the environment and the files.
    pub(crate) fn resolve(flags: Layer) -> Result<Settings> {
        let current = std::env::current_dir().map_err(|error| {
            Failure::usage(format!(
                "cannot tell the current folder: {error}; run agent-fork from a folder that exists"
            ))
        })?;
        let project_root = project_root(&current);
        let project_file = Some(project_root.join(PROJECT_FILE)).filter(|path| path.is_file());
        let user_file = user_config_path().filter(|path| path.is_file());
        // A file named on purpose must be there: a typo would silently drop
        // every setting in it.
        if let (None, Some(named)) = (&user_file, explicit_user_config()) {
            return Err(Failure::usage(format!(
                "{}={} is not a file; create it, fix the path, or set {}= (empty) for no user config",
                env::CONFIG,
                named.display(),
                env::CONFIG
            ))
            .into());
        }
        let mut project = match &project_file {
            Some(path) => read_file(path)?,
            None => SettingsFile::default(),
        };
        // A relative runs folder in the project file is the project's, not
        // the current subfolder's.
        project.defaults.runs_dir = project.defaults.runs_dir.map(|dir| project_root.join(dir));
        let user = match &user_file {
            Some(path) => read_file(path)?,
            None => SettingsFile::default(),
        };
        let mut protect = project.workspace.protect;
        protect.extend(user.workspace.protect);
        let timeout_source = if project.approval.question_timeout_secs.is_some() {
            Source::ProjectFile
        } else {
            Source::UserFile
        };
        let approval = project.approval.over(user.approval);
        let question_timeout = approval.question_timeout(timeout_source)?;
        let mut mcp_servers = user.mcp.servers;
        mcp_servers.extend(project.mcp.servers);
        let (project, user) = (project.defaults, user.defaults);
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
            runs_dir: match merged!(runs_dir, env::RUNS_DIR) {
                Setting {
                    value: Some(value),
                    source,
                } => Setting { value, source },
                Setting { value: None, .. } => Setting {
                    value: default_runs_dir(&project_root)?,
                    source: Source::Default,
                },
            },
            requests_per_minute: merged!(requests_per_minute, env::REQUESTS_PER_MINUTE),
            input_tokens_per_minute: merged!(input_tokens_per_minute, env::INPUT_TOKENS_PER_MINUTE),
            budget_usd: checked_budget_usd(merged!(budget_usd, env::BUDGET_USD))?,
            budget_tokens: checked_budget_tokens(merged!(budget_tokens, env::BUDGET_TOKENS))?,
            // Off unless set: its ramp slows every swarm well within its
            // quota (bench/latest.md), which is the common case.
            cautious_start: merged!(cautious_start, env::CAUTIOUS_START).or(0),
            remember_limits: merged!(remember_limits, env::REMEMBER_LIMITS).or(true),
            project_root,
            project_file,
            user_file,
            protect,
            approval: approval.policy(flags.assume_yes.unwrap_or(false)),
            question_timeout,
            mcp_servers,
            mcp: flags.mcp.clone(),
        })
    }
}

/// A dollar budget must be a positive, finite number; anything else is
/// refused in one line naming where it came from.
fn checked_budget_usd(setting: Setting<Option<f64>>) -> Result<Setting<Option<f64>>> {
    match setting.value {
        Some(usd) if !(usd.is_finite() && usd > 0.0) => Err(Failure::usage(format!(
            "budget_usd = {usd} (from {}) is not a budget; give a positive number of dollars, e.g. --budget-usd 2.50",
            setting.source
        ))
        .into()),
        _ => Ok(setting),
    }
}

/// A token budget must be positive.
fn checked_budget_tokens(setting: Setting<Option<u64>>) -> Result<Setting<Option<u64>>> {
    match setting.value {
        Some(0) => Err(Failure::usage(format!(
            "budget_tokens = 0 (from {}) is not a budget; give a positive number of tokens, e.g. --budget-tokens 200000",
            setting.source
        ))
        .into()),
        _ => Ok(setting),
    }
}

impl Settings {
    /// Refuses `model` (`whose` says where it came from: "model, from
    /// flag", "agent type T") up front when a dollar budget is set and the model catalog
    /// has no price for it on `day`: the budget could not be kept, so the
    /// run would be refused at its first call anyway. A usage error (exit
    /// 2), said before any run folder is made or request sent. The model
    /// that answers may still differ (`modelVersion`); the budget's
    /// reservation of each call stays the backstop.
    pub(crate) fn check_priced(&self, model: &str, whose: &str, day: NaiveDate) -> Result<()> {
        let Some(usd) = self.budget_usd.value else {
            return Ok(());
        };
        let usage = genai_client::Usage::default();
        if genai_client::cost_of_call(&usage, None, model, day).is_ok() {
            return Ok(());
        }
        Err(Failure::usage(format!(
            "budget_usd = {usd} (from {}) cannot be kept: the model catalog has no price for {model} ({whose}); choose a priced model (see `agent-fork models`), or limit tokens with --budget-tokens N instead",
            self.budget_usd.source
        ))
        .into())
    }

    /// The spending limits of a run, from `budget_usd` and `budget_tokens`.
    pub(crate) fn budget_limits(&self) -> agent_core::BudgetLimits {
        agent_core::BudgetLimits {
            usd: self.budget_usd.value.map(genai_client::Usd::from_dollars),
            tokens: self.budget_tokens.value,
        }
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

/// The user config file: `$AGENT_FORK_CONFIG` (set but empty: none), else
/// `$XDG_CONFIG_HOME/agent-fork/config.toml`, else `~/.config/agent-fork/config.toml`.
pub(crate) fn user_config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env::CONFIG) {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("agent-fork").join("config.toml"))
}

/// The user config file named by `AGENT_FORK_CONFIG`, when it is set and not empty.
fn explicit_user_config() -> Option<PathBuf> {
    std::env::var_os(env::CONFIG)
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
}

/// The project's root for a command run in `current`: the nearest folder
/// (from `current` up) holding `agent-fork.toml`, else the nearest holding
/// `.git`, else `current`.
pub(crate) fn project_root(current: &Path) -> PathBuf {
    let holding = |name: &str| {
        current
            .ancestors()
            .find(|folder| folder.join(name).exists())
            .map(Path::to_path_buf)
    };
    holding(PROJECT_FILE)
        .or_else(|| holding(".git"))
        .unwrap_or_else(|| current.to_path_buf())
}

/// `$XDG_DATA_HOME` (when absolute), else `~/.local/share`.
fn data_home() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })
}

/// agent-fork's per-user data folder (`<data home>/agent-fork`), which holds
/// the default runs folders.
pub(crate) fn user_data_dir() -> Option<PathBuf> {
    data_home().map(|data| data.join("agent-fork"))
}

/// The default runs folder of the project at `root`:
/// `<data>/agent-fork/projects/<name>-<hash>/runs`, where `<data>` is
/// `$XDG_DATA_HOME` (when absolute) or `~/.local/share`, `<name>` the root
/// folder's name (letters, digits, `-`, `_`, `.`; at most 40) and `<hash>`
/// the first 12 hex digits of the SHA-256 of the root's canonical path, so
/// two projects of the same name never share runs.
pub(crate) fn default_runs_dir(root: &Path) -> Result<PathBuf> {
    use sha2::{Digest as _, Sha256};
    let data = data_home().ok_or_else(|| {
            Failure::usage(
                "no per-user data folder for the runs: set HOME or XDG_DATA_HOME, or choose a runs folder with AGENT_FORK_RUNS_DIR",
            )
        })?;
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let hash: String = digest
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let name: String = canonical
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let name = if name.is_empty() || name.starts_with('.') {
        format!("root{name}")
    } else {
        name
    };
    Ok(data
        .join("agent-fork")
        .join("projects")
        .join(format!("{name}-{hash}"))
        .join("runs"))
}

fn read_file(path: &Path) -> Result<SettingsFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
    let file: SettingsFile = toml::from_str(&text).map_err(|error| {
        Failure::usage(format!(
            "{} is not a valid settings file: {}; see README.md (Settings)",
            path.display(),
            error.message()
        ))
    })?;
    Ok(file)
}

/// The layer read from the environment.
fn env_layer() -> Result<Layer> {
    Ok(Layer {
        model: text(env::MODEL),
        thinking: thinking(env::THINKING)?,
        workspace: text(env::WORKSPACE).map(PathBuf::from),
        allow_shell: boolean(env::ALLOW_SHELL)?,
        no_tools: boolean(env::NO_TOOLS)?,
        concurrency: ranged(env::CONCURRENCY, 1, 1000)?,
        max_turns: ranged(env::MAX_TURNS, 1, 200)?,
        runs_dir: text(env::RUNS_DIR).map(PathBuf::from),
        requests_per_minute: ranged(env::REQUESTS_PER_MINUTE, 1, u32::MAX)?,
        input_tokens_per_minute: ranged(env::INPUT_TOKENS_PER_MINUTE, 1, u64::MAX)?,
        budget_usd: number(env::BUDGET_USD)?,
        budget_tokens: number(env::BUDGET_TOKENS)?,
        cautious_start: number(env::CAUTIOUS_START)?,
        remember_limits: boolean(env::REMEMBER_LIMITS)?,
        assume_yes: None,
        mcp: Vec::new(),
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

/// A number from the environment, held to the same range as its flag
/// (`AGENT_FORK_CONCURRENCY=0` is refused as `--concurrency 0` is).
fn ranged<T>(name: &'static str, low: T, high: T) -> Result<Option<T>>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let value = number::<T>(name)?;
    match value {
        Some(value) if value < low || value > high => Err(Failure::usage(format!(
            "{name}={value} is out of range: set a whole number from {low} to {high}, or unset it"
        ))
        .into()),
        other => Ok(other),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> ApprovalTable {
        toml::from_str(text).expect("an [approval] table")
    }

    #[test]
    fn the_question_timeout_is_read_checked_and_the_project_wins() {
        let default = ApprovalTable::default().question_timeout(Source::Default);
        assert_eq!(default.unwrap(), agent_core::DEFAULT_QUESTION_TIMEOUT);
        let project = table("question_timeout_secs = 7");
        let user = table("question_timeout_secs = 60");
        let merged = project.over(user);
        assert_eq!(
            merged.question_timeout(Source::ProjectFile).unwrap(),
            std::time::Duration::from_secs(7)
        );
        for bad in ["question_timeout_secs = 0", "question_timeout_secs = 86401"] {
            let error = table(bad)
                .question_timeout(Source::ProjectFile)
                .unwrap_err()
                .to_string();
            assert!(error.contains("from agent-fork.toml"), "{error}");
            assert!(error.contains("from 1 to 86400"), "{error}");
        }
        assert!(toml::from_str::<ApprovalTable>("question_timeout_secs = -1").is_err());
    }
}
