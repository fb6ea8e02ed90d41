//! MCP servers' tools as agent tools.
//!
//! [`McpTools::start`] connects to every configured server (a child process
//! over stdio, or streamable HTTP), lists its tools and offers each as a
//! Gemini function named `SERVER__tool` with the tool's `inputSchema` sent
//! verbatim as `parametersJsonSchema`. It implements agent-core's
//! [`ExternalTools`], so the fork's tool loop declares them, puts every call
//! through its approval gate, and calls them here.
//!
//! Failures stay contained: a server that does not start is reported (see
//! [`McpTools::servers`]) and left out; a call that hangs ends after
//! [`McpOptions::call_timeout`]; a server that crashes or answers garbage
//! gives that call an error result. A stdio server must write only MCP
//! messages on stdout: a line that is not JSON ends the calls waiting on
//! that server as a bad reply once the server has nothing more to say
//! (an answer written with the line still counts), rather than at their
//! timeout. Results are cut to
//! [`McpOptions::max_output_bytes`].
//!
//! **Secrets.** A server's `env` values and `headers` values are secrets:
//! they never appear in `Debug` output, errors or results (every occurrence
//! is replaced by `[redacted]`), and a stdio server starts with a cleared
//! environment plus `PATH`, `HOME` and its own `env`, so it never sees the
//! Gemini key.
//!
//! **Names.** Gemini function names allow `a-z A-Z 0-9 _ . : -`, start with
//! a letter or `_`, and are at most 64 characters. A tool name with other
//! characters has them replaced by `_`; a name longer than 64 is cut to 55
//! and ends with `_` and 8 hex digits of a hash of the full name. Two tools
//! that end up with the same name: the second is left out (reported).

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use agent_core::workspace::ToolOutcome;
use agent_core::{
    ExternalOutcome, ExternalTools, MCP_SEPARATOR, ServerFailure, ServerFailureKind, ToolFuture,
};
use genai_client::FunctionDeclaration;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

mod stdio;
use stdio::{ChildTransport, JunkLines};

/// Longest Gemini function name.
pub const MAX_FUNCTION_NAME: usize = 64;

/// How one server is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking MCP on stdin/stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment (secret values).
        env: BTreeMap<String, String>,
    },
    /// Streamable HTTP.
    Http {
        /// The endpoint.
        url: String,
        /// Headers sent with every request (secret values, e.g. auth).
        headers: BTreeMap<String, String>,
    },
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdio { command, args, env } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .finish(),
            Self::Http { url, headers } => f
                .debug_struct("Http")
                .field("url", url)
                .field("headers", &headers.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// One configured server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Its name (the prefix of its tools' function names).
    pub name: String,
    /// How it is reached.
    pub transport: Transport,
}

impl ServerConfig {
    /// The secret values of the config (`env` and `headers` values).
    pub fn secrets(&self) -> Vec<String> {
        let values = match &self.transport {
            Transport::Stdio { env, .. } => env.values(),
            Transport::Http { headers, .. } => headers.values(),
        };
        values.filter(|value| value.len() >= 4).cloned().collect()
    }
}

/// Checks a server name: a letter, then letters, digits, `-` or single `_`.
///
/// ```
/// assert!(mcp_tools::check_server_name("docs").is_ok());
/// assert!(mcp_tools::check_server_name("a__b").is_err());
/// assert!(mcp_tools::check_server_name("9x").is_err());
/// ```
pub fn check_server_name(name: &str) -> Result<(), McpError> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.contains(MCP_SEPARATOR)
        && name.len() <= 32;
    if ok {
        Ok(())
    } else {
        Err(McpError::BadName {
            name: name.to_owned(),
        })
    }
}

/// Limits of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOptions {
    /// Longest a server gets to start and list its tools. Default 30 s.
    pub start_timeout: Duration,
    /// Longest one tool call may take. Default 60 s.
    pub call_timeout: Duration,
    /// Most bytes of a result handed back (the workspace tools' output
    /// limit). Default 64 KiB.
    pub max_output_bytes: usize,
}

impl Default for McpOptions {
    fn default() -> Self {
        Self {
            start_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(60),
            max_output_bytes: 64 * 1024,
        }
    }
}

/// What went wrong with a server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    /// A server name that cannot prefix function names.
    #[error(
        "MCP server name '{name}' is not usable; use a letter, then letters, digits, '-' or '_' (no '__'), at most 32"
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// The server did not start or did not list its tools.
    #[error("MCP server '{server}' did not start: {message}")]
    Start {
        /// The server.
        server: String,
        /// Why (secrets redacted).
        message: String,
    },
}

/// One tool as offered.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// The function name the model sees (`SERVER__tool`).
    pub function: String,
    /// The tool's own name.
    pub name: String,
    /// Its description.
    pub description: String,
}

/// One server's state, for `agent-fork mcp list`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerReport {
    /// Its name.
    pub name: String,
    /// `stdio` or `http`.
    pub transport: &'static str,
    /// Why it is not usable, when it is not.
    pub error: Option<String>,
    /// Its tools (empty when it did not start).
    pub tools: Vec<ToolInfo>,
    /// Tools left out (names that clash after mapping).
    pub skipped: Vec<String>,
}

struct Connected {
    client: RunningService<RoleClient, ()>,
    /// A stdio server's lines that are not JSON.
    junk: Option<JunkLines>,
}

struct Offered {
    server: String,
    tool: String,
    declaration: FunctionDeclaration,
}

/// The tools of a set of MCP servers. Dropping it ends the stdio servers'
/// processes.
pub struct McpTools {
    connected: HashMap<String, Connected>,
    offered: BTreeMap<String, Offered>,
    reports: Vec<ServerReport>,
    secrets: Arc<Vec<String>>,
    options: McpOptions,
}

impl fmt::Debug for McpTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpTools")
            .field("servers", &self.connected.keys().collect::<Vec<_>>())
            .field("tools", &self.offered.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl McpTools {
    /// Starts every server (at once) and lists their tools. A server that
    /// fails is reported in [`McpTools::servers`], never an error here.
    pub async fn start(configs: Vec<ServerConfig>, options: McpOptions) -> McpTools {
        let secrets: Vec<String> = configs.iter().flat_map(ServerConfig::secrets).collect();
        let secrets = Arc::new(secrets);
        let mut tools = McpTools {
            connected: HashMap::new(),
            offered: BTreeMap::new(),
            reports: Vec::new(),
            secrets: secrets.clone(),
            options: options.clone(),
        };
        let starts = configs.into_iter().map(|config| {
            let options = options.clone();
            let secrets = secrets.clone();
            async move {
                let started = tokio::time::timeout(options.start_timeout, connect(&config)).await;
                let started = match started {
                    Ok(Ok(started)) => Ok(started),
                    Ok(Err(message)) => Err(message),
                    Err(_) => Err(format!(
                        "no answer within {} s",
                        options.start_timeout.as_secs()
                    )),
                };
                (
                    config,
                    started.map_err(|message| redact(&message, &secrets)),
                )
            }
        });
        for (config, started) in futures_join(starts).await {
            let transport = match config.transport {
                Transport::Stdio { .. } => "stdio",
                Transport::Http { .. } => "http",
            };
            let mut report = ServerReport {
                name: config.name.clone(),
                transport,
                error: None,
                tools: Vec::new(),
                skipped: Vec::new(),
            };
            match started {
                Err(message) => report.error = Some(message),
                Ok((connected, listed)) => {
                    for tool in listed {
                        tools.offer(&config.name, tool, &mut report);
                    }
                    tools.connected.insert(config.name.clone(), connected);
                }
            }
            tools.reports.push(report);
        }
        tools
    }

    fn offer(&mut self, server: &str, tool: rmcp::model::Tool, report: &mut ServerReport) {
        let function = function_name(server, &tool.name);
        if self.offered.contains_key(&function) {
            report.skipped.push(tool.name.to_string());
            return;
        }
        let description = tool.description.as_deref().unwrap_or("").to_owned();
        let declaration = FunctionDeclaration {
            name: function.clone(),
            description: description.clone(),
            parameters: None,
            parameters_json_schema: Some(Value::Object((*tool.input_schema).clone())),
        };
        report.tools.push(ToolInfo {
            function: function.clone(),
            name: tool.name.to_string(),
            description,
        });
        self.offered.insert(
            function,
            Offered {
                server: server.to_owned(),
                tool: tool.name.to_string(),
                declaration,
            },
        );
    }

    /// Each configured server: whether it started, its tools.
    pub fn servers(&self) -> &[ServerReport] {
        &self.reports
    }

    /// Ends every server (stdio children are also killed on drop).
    pub async fn shutdown(self) {
        for (_, connected) in self.connected {
            let _ = tokio::time::timeout(Duration::from_secs(5), connected.client.cancel()).await;
        }
    }

    async fn run(&self, name: &str, args: &Value) -> ExternalOutcome {
        let Some(offered) = self.offered.get(name) else {
            return self
                .finish(failed(format!("unknown MCP tool '{name}'")))
                .into();
        };
        let server = offered.server.as_str();
        let Some(connected) = self.connected.get(server) else {
            let message = format!("MCP server '{server}' is not running");
            return self.server_failed(server, ServerFailureKind::NotRunning, message);
        };
        let arguments = match args {
            Value::Object(map) => Some(map.clone()),
            Value::Null => None,
            _ => {
                let outcome = failed("the arguments must be a JSON object".to_owned());
                return self.finish(outcome).into();
            }
        };
        let mut params = CallToolRequestParams::new(offered.tool.clone());
        params.arguments = arguments;
        // Junk lines the server writes from now on.
        let mut junk = connected.junk.clone();
        if let Some(junk) = &mut junk {
            junk.mark_unchanged();
        }
        let call = tokio::time::timeout(
            self.options.call_timeout,
            connected.client.peer().call_tool(params),
        );
        let called = match &mut junk {
            None => call.await,
            // An answer that came with the junk line wins.
            Some(junk) => tokio::select! {
                biased;
                called = call => called,
                Ok(()) = junk.changed() => {
                    let sample = junk.borrow().sample.clone();
                    let message = format!(
                        "the MCP server '{server}' wrote a line that is not JSON instead of an answer: {sample}"
                    );
                    return self.server_failed(server, ServerFailureKind::BadReply, message);
                }
            },
        };
        match called {
            Err(_) => {
                let message = format!(
                    "the MCP tool {name} did not answer within {} s",
                    self.options.call_timeout.as_secs()
                );
                self.server_failed(server, ServerFailureKind::TimedOut, message)
            }
            // The server answered the call with a JSON-RPC error (an unknown
            // tool, arguments it refuses): an answer, not a failure of it.
            Ok(Err(ServiceError::McpError(error))) => {
                let message = format!("the MCP server '{server}' refused the call: {error}");
                self.finish(failed(message)).into()
            }
            Ok(Err(error)) => {
                let kind = match &error {
                    ServiceError::TransportClosed
                    | ServiceError::TransportSend(_)
                    | ServiceError::Cancelled { .. } => ServerFailureKind::Disconnected,
                    ServiceError::Timeout { .. } => ServerFailureKind::TimedOut,
                    _ => ServerFailureKind::BadReply,
                };
                let message = format!("the MCP server '{server}' failed: {error}");
                self.server_failed(server, kind, message)
            }
            Ok(Ok(result)) => self.finish(from_result(result)).into(),
        }
    }

    /// The outcome of a call whose server failed: an error result for the
    /// model and the failure for the fork's event, both redacted.
    fn server_failed(
        &self,
        server: &str,
        kind: ServerFailureKind,
        message: String,
    ) -> ExternalOutcome {
        let message = redact(&message, &self.secrets);
        ExternalOutcome {
            outcome: self.finish(failed(message.clone())),
            failure: Some(ServerFailure {
                server: server.to_owned(),
                kind,
                message,
            }),
        }
    }

    /// Redacts secrets and cuts the result to size.
    fn finish(&self, outcome: ToolOutcome) -> ToolOutcome {
        let mut value = outcome.value;
        redact_value(&mut value, &self.secrets);
        let value = cap(value, self.options.max_output_bytes);
        ToolOutcome {
            ok: outcome.ok,
            value,
            created: Vec::new(),
        }
    }
}

impl ExternalTools for McpTools {
    fn declarations(&self, servers: Option<&[String]>) -> Vec<FunctionDeclaration> {
        self.offered
            .values()
            .filter(|offered| servers.is_none_or(|servers| servers.contains(&offered.server)))
            .map(|offered| offered.declaration.clone())
            .collect()
    }

    fn owns(&self, name: &str, servers: Option<&[String]>) -> bool {
        self.offered
            .get(name)
            .is_some_and(|offered| servers.is_none_or(|servers| servers.contains(&offered.server)))
    }

    fn call<'a>(&'a self, name: &'a str, args: &'a Value) -> ToolFuture<'a> {
        Box::pin(self.run(name, args))
    }
}

async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<F> = futures.collect();
    let mut out = Vec::with_capacity(handles.len());
    // Servers start one after another but each under its own timeout; the
    // list is short (a handful of servers).
    for future in handles {
        out.push(future.await);
    }
    out
}

async fn connect(config: &ServerConfig) -> Result<(Connected, Vec<rmcp::model::Tool>), String> {
    check_server_name(&config.name).map_err(|error| error.to_string())?;
    let (client, junk) = match &config.transport {
        Transport::Stdio { command, args, env } => {
            let mut process = tokio::process::Command::new(command);
            process.args(args).env_clear();
            for name in ["PATH", "HOME"] {
                if let Some(value) = std::env::var_os(name) {
                    process.env(name, value);
                }
            }
            process
                .envs(env)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true);
            let (transport, junk) = process
                .spawn()
                .and_then(ChildTransport::new)
                .map_err(|error| format!("cannot run {command}: {error}"))?;
            let client = ().serve(transport).await.map_err(|error| error.to_string())?;
            (client, Some(junk))
        }
        Transport::Http { url, headers } => {
            let mut custom = HashMap::new();
            for (name, value) in headers {
                let name = reqwest::header::HeaderName::try_from(name.as_str())
                    .map_err(|_| format!("header name '{name}' is not valid"))?;
                let value = reqwest::header::HeaderValue::try_from(value.as_str())
                    .map_err(|_| format!("the value of header '{name}' is not valid"))?;
                custom.insert(name, value);
            }
            let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
            config.custom_headers = custom;
            let transport = rmcp::transport::StreamableHttpClientTransport::from_config(config);
            let client = ().serve(transport).await.map_err(|error| error.to_string())?;
            (client, None)
        }
    };
    let tools = client
        .peer()
        .list_all_tools()
        .await
        .map_err(|error| format!("cannot list its tools: {error}"))?;
    Ok((Connected { client, junk }, tools))
}

/// The function name of `tool` of `server` (see the crate docs).
///
/// ```
/// assert_eq!(mcp_tools::function_name("docs", "search"), "docs__search");
/// assert_eq!(mcp_tools::function_name("docs", "find page/v2"), "docs__find_page_v2");
/// assert_eq!(mcp_tools::function_name("docs", &"x".repeat(80)).len(), 64);
/// ```
pub fn function_name(server: &str, tool: &str) -> String {
    let full = format!("{server}{MCP_SEPARATOR}{tool}");
    let clean: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.len() <= MAX_FUNCTION_NAME {
        return clean;
    }
    // FNV-1a over the full name, so two long names cut alike still differ.
    let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}_{:08x}", &clean[..55], hash as u32)
}

/// The function response of an MCP result: the structured content when
/// there is one, else the joined text; `isError` kept.
fn from_result(result: CallToolResult) -> ToolOutcome {
    let is_error = result.is_error.unwrap_or(false);
    let text: Vec<String> = result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect();
    let text = text.join("\n");
    let value = match (is_error, result.structured_content) {
        (true, structured) => json!({
            "success": false,
            "is_error": true,
            "error": if text.is_empty() { "the tool reported an error".to_owned() } else { text },
            "result": structured,
        }),
        (false, Some(structured)) => json!({"success": true, "result": structured}),
        (false, None) => json!({"success": true, "result": text}),
    };
    ToolOutcome {
        ok: !is_error,
        value,
        created: Vec::new(),
    }
}

fn failed(message: String) -> ToolOutcome {
    ToolOutcome {
        ok: false,
        value: json!({"success": false, "error": message}),
        created: Vec::new(),
    }
}

fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), "[redacted]")
    })
}

fn redact_value(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(text) if secrets.iter().any(|secret| text.contains(secret.as_str())) => {
            *text = redact(text, secrets);
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| redact_value(item, secrets)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| redact_value(item, secrets)),
        _ => {}
    }
}

/// Cuts a result to `limit` bytes of JSON: the result becomes its first
/// bytes as text, marked `"truncated": true`.
fn cap(value: Value, limit: usize) -> Value {
    let size = value.to_string().len();
    if size <= limit {
        return value;
    }
    let success = value.get("success").cloned().unwrap_or(Value::Bool(false));
    let text = match value.get("result").or_else(|| value.get("error")) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => value.to_string(),
    };
    let mut end = limit.saturating_sub(200).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    json!({
        "success": success,
        "result": &text[..end],
        "truncated": true,
        "total_bytes": size,
    })
}
