//! `agent-fork config`: the resolved settings and where each came from.

use anyhow::Result;
use std::path::Path;

use render::{Panel, Theme, key_value};

use crate::commands::common::AgentFlags;
use crate::exit::Exit;
use crate::json::{ConfigJson, Setting};
use crate::output::Output;
use crate::settings::{Settings, user_config_path};

/// Runs `config`: resolves the settings once into [`ConfigJson`], printed
/// as is under `--json` and drawn as a panel otherwise.
pub(crate) fn run(flags: &AgentFlags, output: &Output) -> Result<Exit> {
    let settings = Settings::resolve(flags.layer())?;
    let key = genai_client::ApiKey::from_env().is_some();
    let key_source = if std::env::var_os(genai_client::env::GEMINI_API_KEY).is_some() {
        "env GEMINI_API_KEY"
    } else if key {
        "env GOOGLE_API_KEY"
    } else {
        "unset"
    };
    let base_url = genai_client::ClientConfig::from_env().display_base_url();
    let config = config_json(&settings, key, key_source, base_url);
    if output.json() {
        output.json_value(&config)?;
    } else {
        output.line(&panel(&config, output.theme()));
    }
    Ok(Exit::Success)
}

/// The settings panel: each setting with its source, then where the files are.
fn panel(config: &ConfigJson, theme: &Theme) -> String {
    let mut lines: Vec<String> = setting_rows(config)
        .iter()
        .map(|(name, value, source)| key_value(name, &format!("{value}  ({source})"), theme))
        .collect();
    lines.push(String::new());
    lines.extend(file_lines(config, theme));
    lines.push(
        "precedence: flags > environment > project agent-fork.toml > user config > defaults".into(),
    );
    Panel::new(lines.join("\n"))
        .title("⚙ Settings")
        .render(theme)
}

/// Each setting as (name, value shown, source).
fn setting_rows(config: &ConfigJson) -> [(&'static str, String, &str); 16] {
    let default = || "(each agent type's default)".to_owned();
    let unlimited = || "unlimited".to_owned();
    [
        row("api_key", &config.api_key, |set| {
            if *set { "set" } else { "unset" }.into()
        }),
        row("base_url", &config.base_url, Clone::clone),
        row("model", &config.model, |model| {
            model.clone().unwrap_or_else(default)
        }),
        row("thinking", &config.thinking, |thinking| {
            thinking.clone().unwrap_or_else(default)
        }),
        row("workspace", &config.workspace, |path| shown(path)),
        row("allow_shell", &config.allow_shell, ToString::to_string),
        row("no_tools", &config.no_tools, ToString::to_string),
        row("concurrency", &config.concurrency, ToString::to_string),
        row("max_turns", &config.max_turns, ToString::to_string),
        row("runs_dir", &config.runs_dir, |path| shown(path)),
        row("requests_per_minute", &config.requests_per_minute, |rpm| {
            rpm.map_or_else(unlimited, |value| value.to_string())
        }),
        row(
            "input_tokens_per_minute",
            &config.input_tokens_per_minute,
            |tpm| tpm.map_or_else(unlimited, |value| value.to_string()),
        ),
        row("cautious_start", &config.cautious_start, |start| {
            start.map_or_else(|| "off".into(), |start| format!("{start} requests"))
        }),
        row(
            "remember_limits",
            &config.remember_limits,
            ToString::to_string,
        ),
        row("budget_usd", &config.budget_usd, |usd| {
            usd.map_or_else(unlimited, |usd| format!("${usd}"))
        }),
        row("budget_tokens", &config.budget_tokens, |tokens| {
            tokens.map_or_else(unlimited, |tokens| tokens.to_string())
        }),
    ]
}

/// A setting's row: its `name`, its value as `show` writes it, its source.
fn row<'a, T>(
    name: &'static str,
    setting: &'a Setting<T>,
    show: impl FnOnce(&T) -> String,
) -> (&'static str, String, &'a str) {
    (name, show(&setting.value), &setting.source)
}

/// A path as the panel shows it.
fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Where the project, its file, the user config and the journal key are.
fn file_lines(config: &ConfigJson, theme: &Theme) -> Vec<String> {
    let project_file = config.project_file.as_deref().map_or_else(
        || "none (agent-fork.toml at the project root)".into(),
        shown,
    );
    let user = match (&config.user_file, config.user_file_exists) {
        (Some(file), true) => shown(file),
        (Some(candidate), false) => format!("none ({})", candidate.display()),
        (None, _) => "none".into(),
    };
    let journal_key = config
        .journal_key
        .as_deref()
        .map_or_else(|| "none (set HOME or XDG_CONFIG_HOME)".into(), shown);
    let quota_limits = config
        .quota_limits_file
        .as_deref()
        .map_or_else(|| "none (set HOME or XDG_DATA_HOME)".into(), shown);
    vec![
        key_value("project root", &shown(&config.project_root), theme),
        key_value("project file", &project_file, theme),
        key_value("user config", &user, theme),
        key_value("journal key", &journal_key, theme),
        key_value("quota limits", &quota_limits, theme),
    ]
}

/// The typed `--json` document of `config`.
fn config_json(settings: &Settings, key: bool, key_source: &str, base_url: String) -> ConfigJson {
    ConfigJson {
        api_key: Setting {
            value: key,
            source: key_source.to_owned(),
        },
        base_url: Setting {
            value: base_url,
            source: if std::env::var_os(genai_client::env::GOOGLE_GEMINI_BASE_URL).is_some() {
                "env GOOGLE_GEMINI_BASE_URL".into()
            } else {
                "default".into()
            },
        },
        model: Setting::from(&settings.model),
        thinking: Setting {
            value: settings.thinking.value.map(|value| value.to_string()),
            source: settings.thinking.source.to_string(),
        },
        workspace: Setting::from(&settings.workspace),
        allow_shell: Setting::from(&settings.allow_shell),
        no_tools: Setting::from(&settings.no_tools),
        concurrency: Setting::from(&settings.concurrency),
        max_turns: Setting::from(&settings.max_turns),
        runs_dir: Setting::from(&settings.runs_dir),
        requests_per_minute: Setting::from(&settings.requests_per_minute),
        input_tokens_per_minute: Setting::from(&settings.input_tokens_per_minute),
        cautious_start: Setting {
            value: Some(settings.cautious_start.value).filter(|start| *start > 0),
            source: settings.cautious_start.source.to_string(),
        },
        remember_limits: Setting::from(&settings.remember_limits),
        budget_usd: Setting::from(&settings.budget_usd),
        budget_tokens: Setting::from(&settings.budget_tokens),
        project_root: settings.project_root.clone(),
        project_file: settings.project_file.clone(),
        journal_key: crate::run_record::journal_key_path(),
        quota_limits_file: crate::quota_memory::default_path(),
        user_file: settings.user_file.clone().or_else(user_config_path),
        user_file_exists: settings.user_file.is_some(),
    }
}
