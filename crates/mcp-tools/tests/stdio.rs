//! The MCP client against the authored test server over stdio: tools
//! listed and mapped, and every failure contained (an error result, never
//! a panic or a hung fork), secrets redacted.

use std::collections::BTreeMap;
use std::time::Duration;

use agent_core::{ExternalTools, ServerFailureKind};
use mcp_tools::{McpOptions, McpTools, ServerConfig, Transport};
use serde_json::json;

const SECRET: &str = "sk-test-0123456789";

/// A config for the test server, logging calls to `log`.
pub fn server_config(name: &str, log: &std::path::Path) -> ServerConfig {
    let mut env = BTreeMap::new();
    env.insert("SECRET_TOKEN".to_owned(), SECRET.to_owned());
    env.insert(
        "MCP_TEST_CALL_LOG".to_owned(),
        log.to_string_lossy().into_owned(),
    );
    ServerConfig {
        name: name.to_owned(),
        transport: Transport::Stdio {
            command: env!("CARGO_BIN_EXE_mcp-test-server").to_owned(),
            args: Vec::new(),
            env,
        },
    }
}

fn options() -> McpOptions {
    McpOptions {
        start_timeout: Duration::from_secs(20),
        call_timeout: Duration::from_secs(3),
        max_output_bytes: 64 * 1024,
    }
}

fn calls(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn tools_are_listed_as_server_functions_with_their_json_schema() {
    let folder = tempfile::tempdir().unwrap();
    let log = folder.path().join("calls");
    let tools = McpTools::start(vec![server_config("test", &log)], options()).await;
    let report = &tools.servers()[0];
    assert_eq!(report.error, None);
    let names: Vec<&str> = report.tools.iter().map(|t| t.function.as_str()).collect();
    assert!(names.contains(&"test__echo"), "{names:?}");
    assert!(names.contains(&"test__find_page_v2"), "{names:?}");
    let declarations = tools.declarations(Some(&["test".to_owned()]));
    let echo = declarations
        .iter()
        .find(|d| d.name == "test__echo")
        .expect("echo declared");
    let sent = serde_json::to_value(echo).unwrap();
    assert_eq!(sent.get("parameters"), None);
    assert_eq!(
        sent["parametersJsonSchema"]["properties"]["text"]["pattern"],
        "^[a-z ]*$"
    );
    assert_eq!(sent["parametersJsonSchema"]["additionalProperties"], false);
    // Another agent's servers: nothing of this one.
    assert!(tools.declarations(Some(&["other".to_owned()])).is_empty());
    assert!(!tools.owns("test__echo", Some(&["other".to_owned()])));
    assert!(format!("{tools:?}").contains("test__echo"));
    tools.shutdown().await;
}

#[tokio::test]
async fn results_map_and_failures_are_contained() {
    let folder = tempfile::tempdir().unwrap();
    let log = folder.path().join("calls");
    let tools = McpTools::start(vec![server_config("test", &log)], options()).await;

    let echo = tools
        .call("test__echo", &json!({"text": "hi"}))
        .await
        .outcome;
    assert!(echo.ok);
    assert_eq!(echo.value["result"], json!({"echo": "hi"}));

    let fail_call = tools.call("test__fail", &json!({})).await;
    assert_eq!(
        fail_call.failure, None,
        "a tool's own error is not the server's"
    );
    let fail = fail_call.outcome;
    assert!(!fail.ok);
    assert_eq!(fail.value["is_error"], true);
    assert_eq!(fail.value["error"], "it broke");

    let huge = tools.call("test__huge", &json!({})).await.outcome;
    assert!(huge.ok);
    assert_eq!(huge.value["truncated"], true);
    assert!(huge.value.to_string().len() <= 64 * 1024);

    let leak = tools.call("test__leak", &json!({})).await.outcome;
    let text = leak.value.to_string();
    assert!(
        !text.contains(SECRET),
        "a secret reached the result: {text}"
    );
    assert!(text.contains("[redacted]"));

    let mapped = tools.call("test__find_page_v2", &json!({})).await.outcome;
    assert_eq!(mapped.value["result"], "found");

    // A JSON-RPC error is the server's answer, not its failure.
    let refused = tools.call("test__refuse", &json!({})).await;
    assert!(!refused.outcome.ok);
    assert_eq!(refused.failure, None, "{:?}", refused.failure);
    let error = refused.outcome.value["error"].as_str().unwrap();
    assert!(error.contains("refused the call"), "{error}");

    let hang_call = tools.call("test__hang", &json!({})).await;
    let failure = hang_call
        .failure
        .expect("a hung call is the server's failure");
    assert_eq!(
        (failure.server.as_str(), failure.kind),
        ("test", ServerFailureKind::TimedOut)
    );
    let hang = hang_call.outcome;
    assert!(!hang.ok);
    assert!(
        hang.value["error"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{}",
        hang.value
    );

    // rmcp skips a line that is not JSON, so the call would get no answer
    // until its timeout: the line is told at once as a bad reply.
    let garbage = tools.call("test__garbage", &json!({})).await;
    assert!(!garbage.outcome.ok, "{}", garbage.outcome.value);
    let failure = garbage.failure.expect("garbage is the server's failure");
    assert_eq!(failure.kind, ServerFailureKind::BadReply, "{failure:?}");
    assert!(
        failure.message.contains("not JSON") && failure.message.contains("{this is not json"),
        "{failure:?}"
    );
    // A line that is not JSON with the answer after it: the answer counts.
    let noisy = tools.call("test__noisy", &json!({})).await;
    assert_eq!(noisy.failure, None, "{:?}", noisy.failure);
    assert_eq!(noisy.outcome.value["result"], "answered anyway");
    // The server still serves.
    let echo = tools.call("test__echo", &json!({"text": "still"})).await;
    assert!(echo.outcome.ok, "{}", echo.outcome.value);

    let crash = tools.call("test__crash", &json!({})).await;
    assert!(!crash.outcome.ok, "{}", crash.outcome.value);
    let failure = crash.failure.expect("a crash is the server's failure");
    assert_eq!(failure.kind, ServerFailureKind::Disconnected, "{failure:?}");
    // After the crash, further calls fail fast with an error, never panic.
    let after = tools.call("test__echo", &json!({"text": "again"})).await;
    assert!(!after.outcome.ok, "{}", after.outcome.value);
    assert!(after.failure.is_some());

    let not_object = tools.call("test__echo", &json!([1])).await.outcome;
    assert!(!not_object.ok);
    let unknown = tools.call("test__nope", &json!({})).await.outcome;
    assert!(!unknown.ok);

    let seen = calls(&log);
    assert_eq!(
        seen,
        [
            "echo",
            "fail",
            "huge",
            "leak",
            "find page/v2",
            "refuse",
            "hang",
            "garbage",
            "noisy",
            "echo",
            "crash"
        ]
    );
}

#[tokio::test]
async fn a_server_that_does_not_start_is_reported_with_its_secrets_redacted() {
    let mut env = BTreeMap::new();
    env.insert("TOKEN".to_owned(), SECRET.to_owned());
    let missing = ServerConfig {
        name: "gone".to_owned(),
        transport: Transport::Stdio {
            command: format!("/nonexistent/{SECRET}"),
            args: Vec::new(),
            env,
        },
    };
    let bad_name = ServerConfig {
        name: "a__b".to_owned(),
        transport: Transport::Stdio {
            command: "true".to_owned(),
            args: Vec::new(),
            env: BTreeMap::new(),
        },
    };
    let tools = McpTools::start(vec![missing.clone(), bad_name], options()).await;
    let reports = tools.servers();
    let error = reports[0].error.clone().expect("an error");
    assert!(error.contains("cannot run"), "{error}");
    assert!(!error.contains(SECRET), "{error}");
    assert!(reports[1].error.as_deref().unwrap().contains("not usable"));
    assert!(tools.declarations(None).is_empty());
    // Debug output of a config shows env names, never their values.
    let shown = format!(
        "{:?}",
        server_config("test", std::path::Path::new("/tmp/x"))
    );
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("SECRET_TOKEN"), "{shown}");
}
