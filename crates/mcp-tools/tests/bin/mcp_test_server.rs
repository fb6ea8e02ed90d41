//! A small MCP server for mcp-tools' tests (stdio, newline-delimited
//! JSON-RPC), authored for them: tools that succeed, fail, hang, crash,
//! return huge output, answer with invalid JSON (or write a line of it
//! before their answer) or a JSON-RPC error, and
//! echo a secret from their environment. Every `tools/call` is appended to
//! the file named by `MCP_TEST_CALL_LOG` (one tool name a line): the
//! tests' call counter.
//!
//! Written by hand rather than with rmcp's server side so it can break the
//! protocol on purpose (a line that is not JSON, an exit mid-call).

#![allow(clippy::print_stdout, reason = "a stdio server answers on stdout")]

use std::io::{BufRead, Write};

use serde_json::{Value, json};

fn tools() -> Value {
    let object = |properties: Value| json!({"type": "object", "properties": properties});
    json!([
        {"name": "echo", "description": "Echoes text back, structured.",
         "inputSchema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
            "properties": {"text": {"type": "string", "pattern": "^[a-z ]*$"}},
            "required": ["text"], "additionalProperties": false}},
        {"name": "fail", "description": "Always reports an error.", "inputSchema": object(json!({}))},
        {"name": "hang", "description": "Never answers.", "inputSchema": object(json!({}))},
        {"name": "crash", "description": "Exits mid-call.", "inputSchema": object(json!({}))},
        {"name": "huge", "description": "Returns a megabyte of text.", "inputSchema": object(json!({}))},
        {"name": "garbage", "description": "Answers with a line that is not JSON.", "inputSchema": object(json!({}))},
        {"name": "noisy", "description": "Writes a line that is not JSON, then its answer.", "inputSchema": object(json!({}))},
        {"name": "leak", "description": "Returns its SECRET_TOKEN.", "inputSchema": object(json!({}))},
        {"name": "find page/v2", "description": "A name Gemini would refuse.", "inputSchema": object(json!({}))},
        {"name": "refuse", "description": "Answers with a JSON-RPC error.", "inputSchema": object(json!({}))}
    ])
}

fn text_result(text: &str, is_error: bool) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": is_error})
}

/// Serves MCP on stdin/stdout until stdin ends (also run by the CLI's
/// tests, which include this file as a module).
pub(crate) fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = message.get("id").cloned() else {
            continue; // a notification
        };
        let method = message["method"].as_str().unwrap_or("");
        let result = match method {
            "initialize" => json!({
                "protocolVersion": message["params"]["protocolVersion"].clone(),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "mcp-test-server", "version": "0.1.0"}
            }),
            "tools/list" => json!({"tools": tools()}),
            "tools/call" => {
                let name = message["params"]["name"].as_str().unwrap_or("").to_owned();
                if let Ok(path) = std::env::var("MCP_TEST_CALL_LOG")
                    && let Ok(mut log) = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                {
                    let _ = writeln!(log, "{name}");
                }
                match name.as_str() {
                    "echo" => {
                        let text = message["params"]["arguments"]["text"].clone();
                        json!({"content": [{"type": "text", "text": format!("echo: {text}")}],
                               "structuredContent": {"echo": text}})
                    }
                    "fail" => text_result("it broke", true),
                    // Never answers this call (the server keeps serving others).
                    "hang" => continue,
                    "crash" => std::process::exit(3),
                    "huge" => text_result(&"x".repeat(1024 * 1024), false),
                    "garbage" => {
                        let _ = writeln!(stdout, "{{this is not json");
                        let _ = stdout.flush();
                        continue;
                    }
                    "leak" => text_result(
                        &format!(
                            "the token is {}",
                            std::env::var("SECRET_TOKEN").unwrap_or_default()
                        ),
                        false,
                    ),
                    "find page/v2" => text_result("found", false),
                    // A log line on stdout, then the answer, in one write
                    // (one `write_all`: stdout's line buffering would send
                    // each line of a `write!` on its own).
                    "noisy" => {
                        let reply = json!({"jsonrpc": "2.0", "id": id,
                            "result": text_result("answered anyway", false)});
                        let both = format!("loading the index...\n{reply}\n");
                        let _ = stdout.write_all(both.as_bytes());
                        let _ = stdout.flush();
                        continue;
                    }
                    "refuse" => {
                        let error = json!({"jsonrpc": "2.0", "id": id,
                            "error": {"code": -32602, "message": "invalid params"}});
                        let _ = writeln!(stdout, "{error}");
                        let _ = stdout.flush();
                        continue;
                    }
                    _ => text_result("no such tool", true),
                }
            }
            _ => {
                let error = json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32601, "message": "method not found"}});
                let _ = writeln!(stdout, "{error}");
                let _ = stdout.flush();
                continue;
            }
        };
        let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
        let _ = writeln!(stdout, "{reply}");
        let _ = stdout.flush();
    }
}
