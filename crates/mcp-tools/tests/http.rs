//! The MCP client over streamable HTTP against an authored loopback server
//! (JSON responses, stateless): the configured headers reach the server
//! (a request without the bearer token is refused), tools are listed and
//! called, a hung call times out, and the header's secret never shows.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent_core::ExternalTools;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use mcp_tools::{McpOptions, McpTools, ServerConfig, Transport};
use serde_json::{Value, json};

const TOKEN: &str = "sk-http-secret-77";

#[derive(Default)]
struct Counters {
    calls: AtomicUsize,
    refused: AtomicUsize,
}

async fn handle(
    request: Request<hyper::body::Incoming>,
    counters: Arc<Counters>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let respond = |status: StatusCode, body: Value| {
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok(response)
    };
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorized {
        counters.refused.fetch_add(1, Ordering::SeqCst);
        return respond(StatusCode::UNAUTHORIZED, json!({"error": "no token"}));
    }
    if request.method() != hyper::Method::POST {
        return respond(StatusCode::METHOD_NOT_ALLOWED, json!({}));
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(id) = message.get("id").cloned() else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::ACCEPTED;
        return Ok(response);
    };
    let result = match message["method"].as_str().unwrap_or("") {
        "initialize" => json!({
            "protocolVersion": message["params"]["protocolVersion"].clone(),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "http-test-server", "version": "0.1.0"}
        }),
        "tools/list" => json!({"tools": [
            {"name": "echo", "description": "Echoes.", "inputSchema": {"type": "object",
                "properties": {"text": {"type": "string"}}}},
            {"name": "hang", "description": "Never answers.", "inputSchema": {"type": "object"}}
        ]}),
        "tools/call" => {
            counters.calls.fetch_add(1, Ordering::SeqCst);
            match message["params"]["name"].as_str() {
                Some("echo") => json!({"content": [{"type": "text",
                    "text": format!("echo {}", message["params"]["arguments"]["text"])}]}),
                _ => std::future::pending().await,
            }
        }
        _ => {
            return respond(
                StatusCode::OK,
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}}),
            );
        }
    };
    respond(
        StatusCode::OK,
        json!({"jsonrpc": "2.0", "id": id, "result": result}),
    )
}

async fn serve(counters: Arc<Counters>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counters = counters.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| handle(request, counters.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}/mcp")
}

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
    let url = serve(counters.clone()).await;
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
    assert_eq!(echo.value["result"], "echo \"hi\"");
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
    let url = serve(counters.clone()).await;
    let wrong = "sk-wrong-token-99";
    let tools = McpTools::start(vec![config(&url, wrong)], options()).await;
    let error = tools.servers()[0].error.clone().expect("not started");
    assert!(!error.contains(wrong), "{error}");
    assert!(counters.refused.load(Ordering::SeqCst) >= 1);
    assert!(tools.declarations(None).is_empty());
}
