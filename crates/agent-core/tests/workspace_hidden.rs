//! Hidden locations (agent-fork's per-user config and data folders, set by
//! the CLI) are out of the tools' sight when they lie inside the workspace,
//! as with `--workspace ~`: no read, no list, no grep, no glob hit, no
//! change, not through a link either, and the refusal says why.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;

use agent_core::workspace::{ProtectedPaths, Workspace, WorkspaceOptions};
use serde_json::{Value, json};

const KEY: &str = "JOURNAL-KEY-SENTINEL-0123456789abcdef";

/// A home-like workspace whose config home is `cfg` (a folder without a
/// dot, as `XDG_CONFIG_HOME` may name) and whose data home is
/// `.local/share`.
fn home() -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().canonicalize().unwrap();
    fs::create_dir_all(ws.join("cfg/agent-fork")).unwrap();
    fs::write(ws.join("cfg/agent-fork/journal.key"), KEY).unwrap();
    fs::write(ws.join("cfg/agent-fork/config.toml"), "# KEY-SENTINEL\n").unwrap();
    fs::write(ws.join("cfg/other.txt"), "not secret").unwrap();
    let runs = ws.join(".local/share/agent-fork/projects/p-0/runs/run_1");
    fs::create_dir_all(&runs).unwrap();
    fs::write(
        runs.join("journal.jsonl"),
        format!("{{\"mac\":\"{KEY}\"}}\n"),
    )
    .unwrap();
    symlink("cfg/agent-fork/journal.key", ws.join("key_link")).unwrap();
    symlink("cfg/agent-fork", ws.join("dir_link")).unwrap();
    let protected = ProtectedPaths::default()
        .with_hidden_location(ws.join("cfg/agent-fork"))
        .with_hidden_location(ws.join(".local/share/agent-fork"));
    let options = WorkspaceOptions {
        protected,
        ..WorkspaceOptions::default()
    };
    let workspace = Workspace::open(&ws, options).unwrap();
    (dir, workspace)
}

async fn refused(workspace: &Workspace, tool: &str, args: Value) {
    let outcome = workspace.call(tool, &args).await;
    assert!(!outcome.ok, "{tool} {args}: {}", outcome.value);
    let error = outcome.value["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("hidden") && error.contains("journal key"),
        "{tool} {args}: the refusal says why: {error}"
    );
    assert!(!outcome.value.to_string().contains("SENTINEL"));
}

async fn clean(workspace: &Workspace, tool: &str, args: Value) -> Value {
    let outcome = workspace.call(tool, &args).await;
    assert!(outcome.ok, "{tool} {args}: {}", outcome.value);
    let text = outcome.value.to_string();
    for leak in ["SENTINEL", "journal.key", "journal.jsonl", "agent-fork"] {
        assert!(!text.contains(leak), "{tool} {args} shows {leak}: {text}");
    }
    outcome.value
}

#[tokio::test]
async fn hidden_locations_cannot_be_read() {
    let (_dir, workspace) = home();
    for path in [
        "cfg/agent-fork/journal.key",
        "cfg/agent-fork/config.toml",
        "CFG/Agent-Fork/journal.key",
        "cfg/./x/../agent-fork/journal.key",
        "key_link",
        "dir_link/journal.key",
        ".local/share/agent-fork/projects/p-0/runs/run_1/journal.jsonl",
    ] {
        refused(&workspace, "read_file", json!({"path": path})).await;
        refused(&workspace, "get_file_info", json!({"path": path})).await;
    }
    refused(
        &workspace,
        "list_directory",
        json!({"path": "cfg/agent-fork"}),
    )
    .await;
    refused(&workspace, "list_directory", json!({"path": "dir_link"})).await;
    refused(
        &workspace,
        "get_project_tree",
        json!({"path": "cfg/agent-fork"}),
    )
    .await;
    refused(
        &workspace,
        "grep_files",
        json!({"pattern": "SENTINEL", "path": "cfg/agent-fork"}),
    )
    .await;
    refused(
        &workspace,
        "grep_files",
        json!({"pattern": "SENTINEL", "path": "key_link"}),
    )
    .await;
    refused(
        &workspace,
        "glob_search",
        json!({"pattern": "*", "path": ".local/share/agent-fork"}),
    )
    .await;
    // Nor changed.
    refused(
        &workspace,
        "create_file",
        json!({"path": "cfg/agent-fork/journal.key", "content": "forged"}),
    )
    .await;
    refused(
        &workspace,
        "delete_file",
        json!({"path": "dir_link/config.toml"}),
    )
    .await;
    let deleted = workspace.call("delete_file", &json!({"path": "cfg"})).await;
    assert!(!deleted.ok, "{}", deleted.value);
    assert_eq!(
        fs::read_to_string(_dir.path().join("cfg/agent-fork/journal.key")).unwrap(),
        KEY
    );
}

#[tokio::test]
async fn hidden_locations_are_absent_from_listings_and_searches() {
    let (_dir, workspace) = home();
    let listed = clean(&workspace, "list_directory", json!({"path": "cfg"})).await;
    assert_eq!(listed["count"], 1, "only other.txt: {listed}");
    clean(
        &workspace,
        "list_directory",
        json!({"path": ".", "recursive": true, "include_hidden": true}),
    )
    .await;
    clean(&workspace, "get_project_tree", json!({"max_depth": 10})).await;
    let grepped = clean(
        &workspace,
        "grep_files",
        json!({"pattern": "0123456789abcdef|secret"}),
    )
    .await;
    assert!(
        grepped["matches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["path"] == "cfg/other.txt"),
        "{grepped}"
    );
    for pattern in ["**/*.key", "**/journal*", "**/*", ".local/**/*", "cfg/**"] {
        clean(&workspace, "glob_search", json!({"pattern": pattern})).await;
    }
    // What is not hidden is still there.
    let read = workspace
        .call("read_file", &json!({"path": "cfg/other.txt"}))
        .await;
    assert_eq!(read.value["content"], "not secret");
}
