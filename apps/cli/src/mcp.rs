//! MCP servers from the CLI's side: `[mcp.servers.NAME]` entries, `--mcp
//! NAME|FILE` (a name, or a JSON file in the common `mcpServers` form),
//! starting the run's servers, and `agent-fork mcp list`.
//!
//! Servers start only when named by `--mcp` (or listed by `mcp list`): a
//! project file alone never runs a program.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use mcp_tools::{McpOptions, McpTools, ServerConfig, Transport};
use serde::Deserialize;

use crate::json::{McpListJson, McpServerJson, McpToolJson};

use crate::commands::common::AgentFlags;
use crate::exit::{Exit, Failure};
use crate::output::Output;
use crate::settings::Settings;

/// One server as configured: `command`/`args`/`env` or `url`/`headers`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerEntry {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The transport, as other tools' `mcpServers` files spell it
    /// (`stdio`, `http`, `streamable-http`); implied by the other keys.
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl ServerEntry {
    fn config(self, name: &str) -> Result<ServerConfig, String> {
        mcp_tools::check_server_name(name).map_err(|error| error.to_string())?;
        let transport = match (self.command, self.url) {
            (Some(command), None) => Transport::Stdio {
                command,
                args: self.args,
                env: self.env,
            },
            (None, Some(url)) => Transport::Http {
                url,
                headers: self.headers,
            },
            _ => {
                return Err(format!(
                    "MCP server '{name}' needs either `command` (stdio) or `url` (streamable HTTP)"
                ));
            }
        };
        let _ = self.kind;
        Ok(ServerConfig {
            name: name.to_owned(),
            transport,
        })
    }
}

/// A JSON file in the `mcpServers` form.
#[derive(Deserialize)]
struct ServersFile {
    #[serde(rename = "mcpServers")]
    mcp_servers: BTreeMap<String, ServerEntry>,
}

/// The servers the `--mcp` values name, in order, without repeats.
pub(crate) fn selected(settings: &Settings) -> Result<Vec<ServerConfig>> {
    let mut configs: Vec<ServerConfig> = Vec::new();
    for value in &settings.mcp {
        let found = if let Some(entry) = settings.mcp_servers.get(value) {
            vec![(value.clone(), entry.clone())]
        } else if Path::new(value).is_file() {
            let text = std::fs::read_to_string(value).map_err(|error| {
                Failure::usage(format!("cannot read the MCP servers file {value}: {error}"))
            })?;
            let file: ServersFile = serde_json::from_str(&text).map_err(|error| {
                Failure::usage(format!(
                    "{value} is not an mcpServers file ({error}); it needs {{\"mcpServers\": {{\"NAME\": {{\"command\": ..}}}}}}"
                ))
            })?;
            file.mcp_servers.into_iter().collect()
        } else {
            let known: Vec<&str> = settings.mcp_servers.keys().map(String::as_str).collect();
            return Err(Failure::usage(format!(
                "--mcp {value}: no such server in [mcp.servers] of agent-fork.toml (known: {}) and no such file",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ))
            .into());
        };
        for (name, entry) in found {
            let config = entry.config(&name).map_err(Failure::usage)?;
            if !configs.iter().any(|known| known.name == config.name) {
                configs.push(config);
            }
        }
    }
    Ok(configs)
}

/// Starts the run's servers; a server that does not start is said on
/// stderr and left out (the run goes on).
pub(crate) async fn start(configs: Vec<ServerConfig>, output: &Output) -> Option<Arc<McpTools>> {
    if configs.is_empty() {
        return None;
    }
    let tools = McpTools::start(configs, McpOptions::default()).await;
    for server in tools.servers() {
        if let Some(error) = &server.error {
            output.error_line(&format!(
                "warning: {}; its tools are not offered",
                render::strip_controls(error)
            ));
        }
    }
    Some(Arc::new(tools))
}

/// `agent-fork mcp list`: every configured server and every `--mcp` one,
/// started, with its tools.
pub(crate) async fn list(flags: &AgentFlags, output: &Output) -> Result<Exit> {
    let mut settings = Settings::resolve(flags.layer())?;
    let mut names: Vec<String> = settings.mcp_servers.keys().cloned().collect();
    names.extend(settings.mcp.iter().cloned());
    settings.mcp = names;
    let configs = selected(&settings)?;
    let tools = McpTools::start(configs, McpOptions::default()).await;
    let json = McpListJson {
        servers: tools
            .servers()
            .iter()
            .map(|server| McpServerJson {
                name: server.name.clone(),
                transport: server.transport,
                started: server.error.is_none(),
                error: server.error.clone(),
                tools: server
                    .tools
                    .iter()
                    .map(|tool| McpToolJson {
                        function: tool.function.clone(),
                        name: tool.name.clone(),
                        description: tool.description.clone(),
                    })
                    .collect(),
                skipped: server.skipped.clone(),
            })
            .collect(),
    };
    tools.shutdown().await;
    if output.json() {
        output.json_value(&json)?;
    } else if json.servers.is_empty() {
        output.error_line("no MCP servers configured; add [mcp.servers.NAME] to agent-fork.toml");
    } else {
        for server in &json.servers {
            let state = match &server.error {
                None => format!("started, {} tools", server.tools.len()),
                Some(error) => format!("failed: {error}"),
            };
            output.line(&render::strip_controls(&format!(
                "{} ({}): {state}",
                server.name, server.transport
            )));
            for tool in &server.tools {
                let description = render::humanize::truncate(tool.description.trim(), 70);
                output.line(&render::strip_controls(&format!(
                    "  {}  {description}",
                    tool.function
                )));
            }
        }
    }
    let failed = json.servers.iter().any(|server| !server.started);
    Ok(if failed {
        Exit::WorkFailed
    } else {
        Exit::Success
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_stdio_or_http_configs() {
        let file: ServersFile = serde_json::from_str(
            r#"{"mcpServers": {
                "local": {"command": "srv", "args": ["--x"], "env": {"TOKEN": "secret-value"}},
                "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer b"}},
                "both": {"command": "srv", "url": "http://x"}
            }}"#,
        )
        .expect("an mcpServers file");
        let mut entries = file.mcp_servers;
        let local = entries.remove("local").unwrap().config("local").unwrap();
        assert!(matches!(local.transport, Transport::Stdio { ref args, .. } if args == &["--x"]));
        assert!(!format!("{local:?}").contains("secret-value"));
        let remote = entries.remove("remote").unwrap().config("remote").unwrap();
        assert!(matches!(remote.transport, Transport::Http { .. }));
        let both = entries.remove("both").unwrap().config("both");
        assert!(both.unwrap_err().contains("either `command`"));
        let bad = ServerEntry {
            command: Some("srv".into()),
            ..ServerEntry::default()
        }
        .config("bad__name");
        assert!(bad.is_err());
    }

    #[test]
    fn a_settings_file_entry_refuses_unknown_keys() {
        let entry: Result<ServerEntry, _> = toml::from_str("command = \"srv\"\ncomand = \"x\"");
        assert!(entry.is_err());
    }
}
