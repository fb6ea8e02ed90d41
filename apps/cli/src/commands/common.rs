//! What several commands share: the agent flags, resolving a profile,
//! opening the workspace, reading context, Ctrl-C.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent_core::workspace::{ProtectedPaths, ShellAccess, Workspace, WorkspaceOptions};
use agent_core::{AgentCatalog, AgentOverrides, AgentProfile, BuiltinRoute};
use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::exit::Failure;
use crate::settings::{Layer, Settings};

/// Flags that apply to every command that forks agents.
#[derive(Debug, Clone, Default, clap::Args, serde::Serialize, serde::Deserialize)]
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
    /// Thinking budget in tokens for every agent (0 off where allowed, -1 dynamic).
    #[arg(
        long,
        global = true,
        value_name = "TOKENS",
        allow_negative_numbers = true
    )]
    pub(crate) thinking: Option<i32>,
}

impl AgentFlags {
    /// The flags' layer of the settings.
    pub(crate) fn layer(&self) -> Layer {
        Layer {
            model: self.model.clone(),
            thinking: self.thinking,
            workspace: self.workspace.clone(),
            allow_shell: self.allow_shell.then_some(true),
            no_tools: self.no_tools.then_some(true),
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

/// The profile of `agent_type` with the settings' and the command's changes.
pub(crate) fn profile(
    catalog: &AgentCatalog,
    agent_type: &str,
    settings: &Settings,
    search: bool,
    code_execution: bool,
) -> Result<AgentProfile> {
    let base = catalog
        .get(agent_type)
        .map_err(|error| Failure::usage(format!("{error}; see --type")))?;
    let overrides = AgentOverrides {
        model: settings.model.value.clone(),
        thinking_budget: settings.thinking.value,
        search: search.then_some(true),
        code_execution: code_execution.then_some(true),
        file_tools: settings.no_tools.value.then_some(false),
        ..AgentOverrides::default()
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
/// when they lie inside the workspace.
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

/// Ctrl-C: the first press cancels (work stops and what is done is kept),
/// the second exits at once with code 130.
///
/// On Unix the SIGINT handler is in place when this returns (not only once
/// the spawned task first runs), so a Ctrl-C that arrives while the first
/// request is going out is never the default "die at once".
pub(crate) fn cancel_on_ctrl_c(notice: &'static str) -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut interrupts) = signal(SignalKind::interrupt()) else {
            return cancel;
        };
        tokio::spawn(async move {
            if interrupts.recv().await.is_none() {
                return;
            }
            token.cancel();
            crate::output::eprint_line(notice);
            if interrupts.recv().await.is_some() {
                std::process::exit(130);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        token.cancel();
        crate::output::eprint_line(notice);
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
    cancel
}
