//! What several commands share: the agent flags, resolving a profile,
//! opening the workspace, reading context, Ctrl-C.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent_core::workspace::{ProtectedPaths, ShellAccess, Workspace, WorkspaceOptions};
use agent_core::{AgentCatalog, AgentOverrides, AgentProfile, BuiltinRoute};
use anyhow::Result;
use genai_client::catalog::{self, ThinkingSetting, ThinkingSettingError};

use crate::exit::Failure;
use crate::output::Output;
use crate::settings::{Layer, Settings};

/// Flags that apply to every command that forks agents.
#[derive(Debug, Clone, Default, clap::Args, serde::Serialize, serde::Deserialize)]
#[command(next_help_heading = "Agent options (every command that runs agents)")]
pub(crate) struct AgentFlags {
    /// Folder the file tools work in (default: the current folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) workspace: Option<PathBuf>,
    /// Offer no workspace tools to the agents.
    #[arg(long, global = true)]
    pub(crate) no_tools: bool,
    /// Let agents run shell commands and git in the workspace (off by default).
    #[arg(long, global = true)]
    pub(crate) allow_shell: bool,
    /// Use this Gemini model for every agent instead of each type's default.
    #[arg(long, global = true, value_name = "MODEL")]
    pub(crate) model: Option<String>,
    /// How much every agent thinks: off, minimal, low, medium, high, auto, or a
    /// token count. Gemini 3 models take a level (a token count is mapped to
    /// the nearest level, said on stderr); Gemini 2.5 models take a budget
    /// (levels map to budgets). What a model cannot take is refused before
    /// any request (exit 2).
    #[arg(
        long,
        global = true,
        value_name = "LEVEL|TOKENS",
        allow_negative_numbers = true,
        value_parser = parse_thinking
    )]
    pub(crate) thinking: Option<ThinkingSetting>,
    /// Approve every tool call the approval policy would ask about (shell
    /// and MCP tools by default); without it, and without a terminal to ask
    /// on, such calls are denied.
    #[arg(long, global = true)]
    #[serde(default)]
    pub(crate) yes: bool,
    /// Offer an MCP server's tools to the agents: a name from
    /// `[mcp.servers]` in agent-fork.toml, or a JSON file in the common
    /// `mcpServers` form (all its servers). Repeatable. An agent type that
    /// lists servers (`mcp = [..]`) gets only those of its list.
    #[arg(long, global = true, value_name = "NAME|FILE")]
    #[serde(default)]
    pub(crate) mcp: Vec<String>,
    /// Most dollars the run may spend, all its sessions together: no model
    /// call starts whose estimated cost would cross it (calls in flight
    /// finish). A run it stops ends `budget_exhausted` (exit 1) and
    /// `agent-fork resume RUN --budget-usd MORE` continues it, where MORE is
    /// the new total for the whole run, not an amount added to the old one.
    #[arg(long, global = true, value_name = "USD", value_parser = parse_budget_usd)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) budget_usd: Option<f64>,
    /// Most tokens (prompt, output and thinking) the run may use, all its
    /// sessions together; on resume, the new total, as --budget-usd.
    #[arg(long, global = true, value_name = "TOKENS", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) budget_tokens: Option<u64>,
}

/// A `--budget-usd` value: a positive, finite number of dollars.
fn parse_budget_usd(text: &str) -> std::result::Result<f64, String> {
    match text.trim().trim_start_matches('$').parse::<f64>() {
        Ok(usd) if usd.is_finite() && usd > 0.0 => Ok(usd),
        _ => Err("give a positive number of dollars, e.g. 2.50".to_owned()),
    }
}

fn parse_thinking(text: &str) -> std::result::Result<ThinkingSetting, String> {
    text.parse()
        .map_err(|error: ThinkingSettingError| error.to_string())
}

impl AgentFlags {
    /// The flags' layer of the settings, with a command's `--concurrency`.
    pub(crate) fn layer_with_concurrency(&self, concurrency: Option<u32>) -> Layer {
        let mut layer = self.layer();
        layer.concurrency = concurrency.map(|n| n as usize);
        layer
    }

    /// The flags' layer of the settings.
    pub(crate) fn layer(&self) -> Layer {
        Layer {
            model: self.model.clone(),
            thinking: self.thinking,
            workspace: self.workspace.clone(),
            allow_shell: self.allow_shell.then_some(true),
            no_tools: self.no_tools.then_some(true),
            assume_yes: self.yes.then_some(true),
            mcp: self.mcp.clone(),
            budget_usd: self.budget_usd,
            budget_tokens: self.budget_tokens,
            ..Layer::default()
        }
    }
}

/// The agent types: built-in, plus the project file's.
pub(crate) fn catalog(settings: &Settings) -> Result<AgentCatalog> {
    match &settings.project_file {
        Some(path) => {
            AgentCatalog::load(path).map_err(|error| Failure::usage(error.to_string()).into())
        }
        None => Ok(AgentCatalog::default()),
    }
}

/// The profile of `agent_type` with the settings' `overrides` and the
/// command's built-in tools.
pub(crate) fn profile(
    catalog: &AgentCatalog,
    agent_type: &str,
    overrides: &AgentOverrides,
    search: bool,
    code_execution: bool,
) -> Result<AgentProfile> {
    let base = catalog
        .get(agent_type)
        .map_err(|error| Failure::usage(format!("{error}; see --type")))?;
    let overrides = AgentOverrides {
        search: search.then_some(true),
        code_execution: code_execution.then_some(true),
        ..overrides.clone()
    };
    Ok(base.clone().with(&overrides))
}

/// Opens the workspace when a profile needs file tools and tools are on.
pub(crate) fn workspace(settings: &Settings, needed: bool) -> Result<Option<Arc<Workspace>>> {
    if !needed || settings.no_tools.value {
        return Ok(None);
    }
    let root = &settings.workspace.value;
    let shell = if settings.allow_shell.value {
        ShellAccess::Enabled
    } else {
        ShellAccess::Disabled
    };
    let options = WorkspaceOptions {
        shell,
        protected: protected_paths(settings)?,
        ..WorkspaceOptions::default()
    };
    Workspace::open(root, options)
        .map(|workspace| Some(Arc::new(workspace)))
        .map_err(|error| {
            Failure::usage(format!(
                "cannot use {} as the workspace: {error}; pass --workspace DIR",
                root.display()
            ))
            .into()
        })
}

/// What the workspace tools may never change: the built-in list, the
/// `[workspace] protect` patterns, and the user config file and runs folder
/// when they lie inside the workspace; and what they may not even see: the
/// per-user config and data folders of agent-fork.
fn protected_paths(settings: &Settings) -> Result<ProtectedPaths> {
    let mut protected = ProtectedPaths::default();
    for pattern in &settings.protect {
        protected = protected.with_pattern(pattern).map_err(|error| {
            Failure::usage(format!(
                "{error}; fix [workspace] protect in {} or the user config",
                crate::settings::PROJECT_FILE
            ))
        })?;
    }
    if let Some(user_file) = crate::settings::user_config_path() {
        protected = protected.with_location(user_file);
    }
    // agent-fork's per-user folders (the journal key and user settings; the
    // runs) are hidden: a model that read the key could sign journals.
    if let Some(config) = crate::run_record::journal_key_path()
        .as_deref()
        .and_then(std::path::Path::parent)
    {
        protected = protected.with_hidden_location(config);
    }
    if let Some(data) = crate::settings::user_data_dir() {
        protected = protected.with_hidden_location(data);
    }
    Ok(protected.with_location(settings.runs_dir.value.clone()))
}

/// How the tools are described to the user.
pub(crate) fn tools_label(
    settings: &Settings,
    workspace: Option<&Workspace>,
    profile: &AgentProfile,
) -> String {
    let mut parts = Vec::new();
    if workspace.is_some() {
        let shell = if settings.allow_shell.value {
            "shell on"
        } else {
            "shell off"
        };
        parts.push(format!(
            "workspace {} ({shell})",
            settings.workspace.value.display()
        ));
    }
    let route = agent_core::builtin_route(
        &profile.model,
        workspace.is_some() && profile.file_tools,
        profile.search,
        profile.code_execution,
    );
    let how = match route {
        Some(BuiltinRoute::BesideFunctions) => " (beside the file tools)",
        Some(BuiltinRoute::SeparateCall) => {
            " (as a separate call: this model cannot mix it with file tools)"
        }
        Some(BuiltinRoute::Alone) | None => "",
    };
    if profile.search {
        parts.push(format!("Google Search{how}"));
    }
    if profile.code_execution {
        parts.push(format!("code execution{how}"));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The context summary from `--context` and `--context-file` (both may be given).
pub(crate) fn context(text: Option<&str>, file: Option<&Path>) -> Result<Option<String>> {
    let mut parts = Vec::new();
    if let Some(text) = text.filter(|text| !text.trim().is_empty()) {
        parts.push(text.to_owned());
    }
    if let Some(path) = file {
        let content = std::fs::read_to_string(path).map_err(|error| {
            Failure::usage(format!(
                "cannot read --context-file {}: {error}",
                path.display()
            ))
        })?;
        parts.push(content);
    }
    Ok((!parts.is_empty()).then(|| parts.join("\n\n")))
}

/// A non-empty task, or a usage error naming the flag.
pub(crate) fn non_empty(task: &str, what: &str) -> Result<String> {
    let trimmed = task.trim();
    if trimmed.is_empty() {
        return Err(
            Failure::usage(format!("{what} is empty; give the agent something to do")).into(),
        );
    }
    Ok(trimmed.to_owned())
}

/// Today's date for lifecycle warnings: `AGENT_FORK_TODAY` (YYYY-MM-DD, for
/// reproducing a run or a test on a given day), else the clock.
pub(crate) fn today() -> chrono::NaiveDate {
    std::env::var("AGENT_FORK_TODAY")
        .ok()
        .and_then(|text| chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::Utc::now().date_naive())
}

/// Days before a shutdown from which a configured model gets a warning.
const SHUTDOWN_WARNING_DAYS: i64 = 30;

/// Checks every (model, thinking) a command will use, before any request
/// goes out: a thinking setting a model cannot take is a usage error (exit
/// 2); an adjusted one is said once on stderr; a model within 30 days of
/// its shutdown (or already shut down, per the catalog) gets one warning.
pub(crate) fn preflight<'a>(
    uses: impl IntoIterator<Item = (&'a str, Option<ThinkingSetting>)>,
    today: chrono::NaiveDate,
    output: &Output,
) -> Result<()> {
    let mut said = std::collections::BTreeSet::new();
    let mut lines = Vec::new();
    for (model, thinking) in uses {
        let info = catalog::lookup(model);
        if let Some(setting) = thinking {
            let plan = info
                .thinking_plan(setting)
                .map_err(|error| Failure::usage(format!("{error} (set --thinking or --model)")))?;
            if let Some(notice) = plan.notice {
                if said.insert(notice.clone()) {
                    lines.push(format!("note: {notice}"));
                }
            }
        }
        if let Some(line) = lifecycle_warning(&info, today) {
            if said.insert(line.clone()) {
                lines.push(line);
            }
        }
    }
    for line in lines {
        output.error_line(&line);
    }
    Ok(())
}

/// The one warning line for a model near (or past) its shutdown.
pub(crate) fn lifecycle_warning(
    info: &catalog::ModelInfo,
    today: chrono::NaiveDate,
) -> Option<String> {
    let instead = |replacement: Option<&String>| {
        replacement.map_or_else(String::new, |id| format!("; use --model {id} instead"))
    };
    if let Some(soon) = info.shutdown_soon(today, SHUTDOWN_WARNING_DAYS) {
        let when = match soon.days {
            0 => "today".to_owned(),
            1 => "in 1 day".to_owned(),
            days => format!("in {days} days"),
        };
        let routed = soon.routed_to.as_ref().map_or_else(String::new, |id| {
            format!(", after which Gemini answers with {id}")
        });
        return Some(format!(
            "warning: {} shuts down on {} ({when}){routed}{} (see `agent-fork models`)",
            soon.id,
            soon.date,
            instead(soon.replacement.as_ref())
        ));
    }
    let lifecycle = info.lifecycle.as_ref()?;
    lifecycle.is_shut_down(today).then(|| {
        let since = lifecycle
            .shutdown
            .map_or_else(String::new, |date| format!(" since {date}"));
        format!(
            "warning: the model catalog lists {} as shut down{since}{} (see `agent-fork models`)",
            info.id,
            instead(lifecycle.replacement.as_ref())
        )
    })
}

/// The one line for a Gemini 404 that names a model: what the catalog knows
/// of it, and where to look.
pub(crate) fn model_not_found_line(message: &str) -> Option<String> {
    let start = message.find("models/")?;
    let rest = &message[start + "models/".len()..];
    let (model, after) = rest.split_once(' ')?;
    if !after.starts_with("is not found") || model.is_empty() {
        return None;
    }
    let info = catalog::lookup(model);
    let known = match (&info.provenance, &info.lifecycle) {
        (catalog::Provenance::Listed, Some(lifecycle)) => {
            let since = lifecycle
                .shutdown
                .map_or_else(String::new, |date| format!(" (shutdown {date})"));
            let replaced = lifecycle
                .replacement
                .as_ref()
                .map_or_else(String::new, |id| format!(", replaced by {id}"));
            format!(
                "the model catalog knows it as {}{since}{replaced}",
                lifecycle.stage.label()
            )
        }
        _ => "the model catalog does not list it (check the spelling)".to_owned(),
    };
    Some(format!(
        "Gemini does not serve the model {model} (404); {known}; run `agent-fork models` to see the models your key can use"
    ))
}

/// [`preflight`] for the workflows, whose plans may use any agent type and
/// whose planner, reviewer and consolidator have defaults of their own.
pub(crate) fn preflight_workflow(
    catalog: &AgentCatalog,
    overrides: &AgentOverrides,
    output: &Output,
) -> Result<()> {
    let mut uses: Vec<(String, Option<ThinkingSetting>)> = catalog
        .names()
        .filter_map(|name| catalog.get(name).ok())
        .map(|profile| {
            let profile = profile.clone().with(overrides);
            (profile.model, profile.thinking)
        })
        .collect();
    for role in ["planner", "plan_consolidator", "refine_reviewer"] {
        let (model, thinking) = agent_core::role_default(role);
        let thinking = match (&overrides.model, overrides.thinking) {
            (_, Some(thinking)) => Some(thinking),
            (Some(other), None) if *other != model => None,
            _ => thinking,
        };
        uses.push((overrides.model.clone().unwrap_or(model), thinking));
    }
    preflight(
        uses.iter()
            .map(|(model, thinking)| (model.as_str(), *thinking)),
        today(),
        output,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_model_near_its_shutdown_gets_one_line_from_the_injected_date() {
        let flash = catalog::lookup("gemini-2.5-flash");
        assert_eq!(
            lifecycle_warning(&flash, day("2026-11-29")).as_deref(),
            Some(
                "warning: gemini-2.5-flash shuts down on 2026-12-01 (in 2 days), after which Gemini answers with gemini-3.5-flash-lite; use --model gemini-3.5-flash-lite instead (see `agent-fork models`)"
            )
        );
        assert_eq!(lifecycle_warning(&flash, day("2026-10-31")), None);
        assert!(
            lifecycle_warning(&flash, day("2026-12-01"))
                .unwrap()
                .contains("(today)")
        );
        assert_eq!(
            lifecycle_warning(&flash, day("2026-12-02")).as_deref(),
            Some(
                "warning: the model catalog lists gemini-2.5-flash as shut down since 2026-12-01; use --model gemini-3.5-flash-lite instead (see `agent-fork models`)"
            )
        );
        let current = catalog::lookup("gemini-3.8-flash");
        assert_eq!(lifecycle_warning(&current, day("2026-11-29")), None);
    }

    #[test]
    fn a_404_for_a_model_says_what_the_catalog_knows() {
        let message = "models/gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent. Call ModelService.ListModels to see the list of available models and their supported methods.";
        assert_eq!(
            model_not_found_line(message).as_deref(),
            Some(
                "Gemini does not serve the model gemini-2.0-flash (404); the model catalog knows it as retired (shutdown 2026-06-01), replaced by gemini-2.5-flash-lite; run `agent-fork models` to see the models your key can use"
            )
        );
        let misspelt = "Gemini API error 404 NOT_FOUND: models/gemini-3.6-flahs is not found for API version v1beta";
        assert_eq!(
            model_not_found_line(misspelt).as_deref(),
            Some(
                "Gemini does not serve the model gemini-3.6-flahs (404); the model catalog does not list it (check the spelling); run `agent-fork models` to see the models your key can use"
            )
        );
        assert_eq!(model_not_found_line("Permission denied"), None);
    }

    #[test]
    fn the_older_thinking_budget_spelling_is_read() {
        let layer: crate::settings::Layer = toml::from_str("thinking_budget = 2048").unwrap();
        assert_eq!(layer.thinking, Some(ThinkingSetting::Tokens(2048)));
        let layer: crate::settings::Layer = toml::from_str("thinking = \"high\"").unwrap();
        assert_eq!(
            layer.thinking,
            Some(ThinkingSetting::Level(genai_client::ThinkingLevel::High))
        );
    }
}
