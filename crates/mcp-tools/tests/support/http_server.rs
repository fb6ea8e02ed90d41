//! An authored streamable-HTTP MCP server for the tests (JSON responses,
//! stateless): it requires a bearer token, lists `echo` (answers
//! `echo: TEXT`) and `hang` (never answers), and counts calls and refusals.
//! Included by mcp-tools' HTTP test and by the CLI's MCP test (`#[path]`).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

/// What the server saw.
#[derive(Default)]
pub(crate) struct Counters {
    /// `tools/call` requests that carried the token.
    pub(crate) calls: AtomicUsize,
    /// Requests refused for a missing or wrong token.
    pub(crate) refused: AtomicUsize,
}

async fn handle(
    request: Request<hyper::body::Incoming>,
    token: &'static str,
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
        == Some(&format!("Bearer {token}"));
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
            {"name": "echo", "description": "Echoes its text.", "inputSchema": {"type": "object",
                "properties": {"text": {"type": "string"}}, "required": ["text"]}},
            {"name": "hang", "description": "Never answers.", "inputSchema": {"type": "object"}}
        ]}),
        "tools/call" => {
            counters.calls.fetch_add(1, Ordering::SeqCst);
            match message["params"]["name"].as_str() {
                Some("echo") => {
                    let text = message["params"]["arguments"]["text"]
                        .as_str()
                        .unwrap_or("");
                    json!({"content": [{"type": "text", "text": format!("echo: {text}")}]})
                }
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

/// Serves on loopback (tasks on the current runtime) with `token` as the
/// bearer token it requires; the MCP endpoint's URL.
pub(crate) async fn serve(token: &'static str, counters: Arc<Counters>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counters = counters.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    handle(request, token, counters.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}/mcp")
}
