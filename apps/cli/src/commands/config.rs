//! `agent-fork config`: the resolved settings and where each came from.

use anyhow::Result;
use render::{Panel, key_value};
use serde_json::json;

use crate::commands::common::AgentFlags;
use crate::exit::Exit;
use crate::output::Output;
use crate::settings::{Settings, user_config_path};

/// Runs `config`.
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
    let path =
        |path: &Option<std::path::PathBuf>| path.as_ref().map(|path| path.display().to_string());
    let rows: Vec<(&str, String, String)> = vec![
        (
            "api_key",
            if key { "set".into() } else { "unset".into() },
            key_source.into(),
        ),
        (
            "base_url",
            base_url,
            if std::env::var_os(genai_client::env::GOOGLE_GEMINI_BASE_URL).is_some() {
                "env GOOGLE_GEMINI_BASE_URL".into()
            } else {
                "default".into()
            },
        ),
        (
            "model",
            settings
                .model
                .value
                .clone()
                .unwrap_or_else(|| "(each agent type's default)".into()),
            settings.model.source.to_string(),
        ),
        (
            "thinking",
            settings
                .thinking
                .value
                .map_or_else(|| "(each agent type's default)".into(), |v| v.to_string()),
            settings.thinking.source.to_string(),
        ),
        (
            "workspace",
            settings.workspace.value.display().to_string(),
            settings.workspace.source.to_string(),
        ),
        (
            "allow_shell",
            settings.allow_shell.value.to_string(),
            settings.allow_shell.source.to_string(),
        ),
        (
            "no_tools",
            settings.no_tools.value.to_string(),
            settings.no_tools.source.to_string(),
        ),
        (
            "concurrency",
            settings.concurrency.value.to_string(),
            settings.concurrency.source.to_string(),
        ),
        (
            "max_turns",
            settings.max_turns.value.to_string(),
            settings.max_turns.source.to_string(),
        ),
        (
            "runs_dir",
            settings.runs_dir.value.display().to_string(),
            settings.runs_dir.source.to_string(),
        ),
        (
            "requests_per_minute",
            settings
                .requests_per_minute
                .value
                .map_or_else(|| "unlimited".into(), |v| v.to_string()),
            settings.requests_per_minute.source.to_string(),
        ),
        (
            "cautious_start",
            settings
                .cautious_start
                .value
                .filter(|start| *start > 0)
                .map_or_else(|| "off".into(), |start| format!("{start} requests")),
            settings.cautious_start.source.to_string(),
        ),
        (
            "budget_usd",
            settings
                .budget_usd
                .value
                .map_or_else(|| "unlimited".into(), |usd| format!("${usd}")),
            settings.budget_usd.source.to_string(),
        ),
        (
            "budget_tokens",
            settings
                .budget_tokens
                .value
                .map_or_else(|| "unlimited".into(), |tokens| tokens.to_string()),
            settings.budget_tokens.source.to_string(),
        ),
    ];
    if output.json() {
        let mut map = serde_json::Map::new();
        for (name, value, source) in &rows {
            map.insert(
                (*name).to_owned(),
                json!({"value": value, "source": source}),
            );
        }
        map.insert("project_root".into(), json!(settings.project_root));
        map.insert("project_file".into(), json!(path(&settings.project_file)));
        map.insert(
            "journal_key".into(),
            json!(crate::run_record::journal_key_path()),
        );
        map.insert(
            "user_file".into(),
            json!(path(&settings.user_file).or_else(|| path(&user_config_path()))),
        );
        map.insert(
            "user_file_exists".into(),
            json!(settings.user_file.is_some()),
        );
        output.json_value(&serde_json::Value::Object(map))?;
    } else {
        let theme = output.theme();
        let mut lines: Vec<String> = rows
            .iter()
            .map(|(name, value, source)| key_value(name, &format!("{value}  ({source})"), theme))
            .collect();
        lines.push(String::new());
        lines.push(key_value(
            "project root",
            &settings.project_root.display().to_string(),
            theme,
        ));
        lines.push(key_value(
            "project file",
            &path(&settings.project_file)
                .unwrap_or_else(|| "none (agent-fork.toml at the project root)".into()),
            theme,
        ));
        let user = match (&settings.user_file, user_config_path()) {
            (Some(file), _) => file.display().to_string(),
            (None, Some(candidate)) => format!("none ({})", candidate.display()),
            (None, None) => "none".into(),
        };
        lines.push(key_value("user config", &user, theme));
        lines.push(key_value(
            "journal key",
            &crate::run_record::journal_key_path().map_or_else(
                || "none (set HOME or XDG_CONFIG_HOME)".into(),
                |path| path.display().to_string(),
            ),
            theme,
        ));
        lines.push(
            "precedence: flags > environment > project agent-fork.toml > user config > defaults"
                .into(),
        );
        output.line(
            &Panel::new(lines.join("\n"))
                .title("⚙ Settings")
                .render(theme),
        );
    }
    Ok(Exit::Success)
}
