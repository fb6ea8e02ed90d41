//! The MCP client over streamable HTTP against an authored loopback server
//! (JSON responses, stateless): the configured headers reach the server
//! (a request without the bearer token is refused), tools are listed and
//! called, a hung call times out, and the header's secret never shows.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use agent_core::ExternalTools;
use mcp_tools::{McpOptions, McpTools, ServerConfig, Transport};
use serde_json::json;

const TOKEN: &str = "sk-http-secret-77";

#[path = "support/http_server.rs"]
mod http_server;
use http_server::{Counters, serve};

fn config(url: &str, token: &str) -> ServerConfig {
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".to_owned(), format!("Bearer {token}"));
    ServerConfig {
        name: "remote".to_owned(),
        transport: Transport::Http {
            url: url.to_owned(),
            headers,
        },
    }
}

fn options() -> McpOptions {
    McpOptions {
        start_timeout: Duration::from_secs(10),
        call_timeout: Duration::from_secs(2),
        ..McpOptions::default()
    }
}

#[tokio::test]
async fn tools_over_streamable_http_with_the_configured_headers() {
    let counters = Arc::new(Counters::default());
    let url = serve(TOKEN, counters.clone()).await;
    let tools = McpTools::start(vec![config(&url, TOKEN)], options()).await;
    assert_eq!(tools.servers()[0].error, None);
    assert_eq!(tools.servers()[0].transport, "http");
    let names: Vec<String> = tools
        .declarations(None)
        .into_iter()
        .map(|declaration| declaration.name)
        .collect();
    assert_eq!(names, ["remote__echo", "remote__hang"]);
    let echo = tools
        .call("remote__echo", &json!({"text": "hi"}))
        .await
        .outcome;
    assert!(echo.ok, "{}", echo.value);
    assert_eq!(echo.value["result"], "echo: hi");
    let hang = tools.call("remote__hang", &json!({})).await.outcome;
    assert!(!hang.ok);
    assert!(
        hang.value["error"]
            .as_str()
            .unwrap()
            .contains("did not answer")
    );
    assert_eq!(counters.calls.load(Ordering::SeqCst), 2);
    assert_eq!(counters.refused.load(Ordering::SeqCst), 0);
    assert!(!format!("{tools:?} {:?}", config(&url, TOKEN)).contains(TOKEN));
}

#[tokio::test]
async fn a_refused_token_is_a_server_that_did_not_start_without_the_token_shown() {
    let counters = Arc::new(Counters::default());
    let url = serve(TOKEN, counters.clone()).await;
    let wrong = "sk-wrong-token-99";
    let tools = McpTools::start(vec![config(&url, wrong)], options()).await;
    let error = tools.servers()[0].error.clone().expect("not started");
    assert!(!error.contains(wrong), "{error}");
    assert!(counters.refused.load(Ordering::SeqCst) >= 1);
    assert!(tools.declarations(None).is_empty());
}
