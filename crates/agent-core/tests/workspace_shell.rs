//! The shell tools: off by default, and when the operator turns them on they
//! run in the workspace, stop at their deadline, cap their output, and leave
//! no background process behind after `shutdown`.

#![cfg(unix)]

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agent_core::workspace::{Limits, ShellAccess, Workspace, WorkspaceOptions};
use serde_json::{Value, json};

fn shell(dir: &Path, limits: Limits) -> Workspace {
    Workspace::open(
        dir,
        WorkspaceOptions {
            shell: ShellAccess::Enabled,
            limits,
            ..WorkspaceOptions::default()
        },
    )
    .expect("the workspace opens")
}

async fn call(workspace: &Workspace, tool: &str, args: Value) -> Value {
    workspace.call(tool, &args).await.value
}

/// Whether the process `pid` is gone (or a zombie no one reaped yet).
fn gone(pid: u64) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (bounded) until `check` holds; returns whether it did.
async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

#[tokio::test]
async fn shell_tools_are_off_by_default_and_not_declared() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = Workspace::open(dir.path(), WorkspaceOptions::default()).unwrap();
    for (tool, args) in [
        ("bash", json!({"command": "touch made"})),
        ("git_operations", json!({"operation": "status"})),
    ] {
        let value = call(&workspace, tool, args).await;
        assert_eq!(
            value,
            json!({"success": false, "error": "shell access is disabled; only the operator can enable it"})
        );
    }
    assert!(!dir.path().join("made").exists());
    let names: Vec<Value> = workspace
        .declarations()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert!(!names.contains(&json!("bash")) && !names.contains(&json!("git_operations")));
}

#[tokio::test]
async fn commands_run_in_the_workspace_and_report_their_exit() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let workspace = shell(dir.path(), Limits::default());
    let value = call(&workspace, "bash", json!({"command": "pwd; echo oops >&2"})).await;
    assert_eq!(value["success"], true, "{value}");
    assert_eq!(
        value["stdout"].as_str().unwrap().trim(),
        dir.path().canonicalize().unwrap().display().to_string()
    );
    assert_eq!(value["stderr"], "oops\n");
    assert_eq!(value["exit_code"], 0);
    assert_eq!(value["timeout"], 30);
    let value = call(&workspace, "bash", json!({"command": "pwd", "path": "sub"})).await;
    assert!(
        value["stdout"].as_str().unwrap().trim().ends_with("/sub"),
        "{value}"
    );
    let value = call(
        &workspace,
        "bash",
        json!({"command": "echo nope >&2; exit 3"}),
    )
    .await;
    assert_eq!(value["success"], false);
    assert_eq!(value["exit_code"], 3);
    assert_eq!(value["error"], "the command exited with status 3: nope");
    let value = call(
        &workspace,
        "bash",
        json!({"command": "echo ${GEMINI_API_KEY:-unset}"}),
    )
    .await;
    assert_eq!(value["stdout"], "unset\n");
    let value = call(&workspace, "bash", json!({"command": "rm -rf /"})).await;
    assert_eq!(value["success"], false);
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = shell(dir.path(), Limits::default());
    let value = call(
        &workspace,
        "bash",
        json!({"command": "echo $$ > shell.pid; sleep 30 & echo $! > sleep.pid; echo begun; wait; echo finished > late", "timeout": 1}),
    )
    .await;
    assert_eq!(value["success"], false, "{value}");
    assert_eq!(value["timed_out"], true);
    assert_eq!(value["stdout"], "begun\n");
    assert!(
        value["error"].as_str().unwrap().contains("longer than 1 s"),
        "{value}"
    );
    // The shell and its child are gone when the call returns (checked by
    // pid, not by the absence of a file a few moments later).
    for name in ["shell.pid", "sleep.pid"] {
        let pid: u64 = fs::read_to_string(dir.path().join(name))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(gone(pid), "{name}: process {pid} is still running");
    }
    let value = call(&workspace, "bash", json!({"command": "true", "timeout": 0})).await;
    assert_eq!(value["success"], false);
}

#[tokio::test]
async fn a_cancelled_command_leaves_no_process_behind() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = shell(dir.path(), Limits::default());
    let command = "setsid sh -c 'echo $$ > esc.tmp; mv esc.tmp esc.pid; exec sleep 30' & \
                   while [ ! -f esc.pid ]; do sleep 0.05; done; echo ready > ready; sleep 60";
    let args = json!({"command": command, "timeout": 120});
    let mut call = Box::pin(workspace.call("bash", &args));
    // Cancel the call (drop its future) once the escaped process is up.
    let ready = dir.path().join("ready");
    tokio::select! {
        _ = &mut call => panic!("the command ended by itself"),
        () = async { while !ready.exists() { tokio::time::sleep(Duration::from_millis(20)).await; } } => {}
    }
    drop(call);
    let pid: u64 = fs::read_to_string(dir.path().join("esc.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        gone(pid),
        "the escaped process {pid} outlived the cancelled call"
    );
}

#[tokio::test]
async fn command_output_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    let workspace = shell(dir.path(), limits);
    let value = call(
        &workspace,
        "bash",
        json!({"command": "head -c 200000 /dev/zero | tr '\\0' a; echo; echo tail-end"}),
    )
    .await;
    assert_eq!(value["success"], true, "{}", value["error"]);
    assert_eq!(value["truncated"], true);
    let stdout = value["stdout"].as_str().unwrap();
    assert!(stdout.len() < 1100, "{}", stdout.len());
    assert!(
        stdout.starts_with("aaaa")
            && stdout.ends_with("tail-end\n")
            && stdout.contains("bytes cut")
    );
}

#[tokio::test]
async fn background_processes_end_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = shell(dir.path(), Limits::default());
    let value = call(
        &workspace,
        "bash",
        json!({"command": "sleep 300 & echo $! > child.pid; wait", "background": true}),
    )
    .await;
    assert_eq!(value["success"], true, "{value}");
    assert_eq!(value["process_id"], "bg-1");
    let leader = value["pid"].as_u64().unwrap();
    let pid_file = dir.path().join("child.pid");
    assert!(
        eventually(|| fs::read_to_string(&pid_file).is_ok_and(|text| text.ends_with('\n'))).await
    );
    let child: u64 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!gone(leader) && !gone(child));
    workspace.shutdown().await;
    assert!(gone(leader));
    assert!(
        eventually(|| gone(child)).await,
        "the background command's own child must die too"
    );
}

#[tokio::test]
async fn dropping_the_workspace_ends_background_processes() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = shell(dir.path(), Limits::default());
    let value = call(
        &workspace,
        "bash",
        json!({"command": "sleep 300", "background": true}),
    )
    .await;
    let pid = value["pid"].as_u64().unwrap();
    drop(workspace);
    assert!(eventually(|| gone(pid)).await);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[tokio::test]
async fn git_operations_run_in_the_workspace_repository() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(
        dir.path(),
        &["config", "user.email", "agent@example.invalid"],
    );
    git(dir.path(), &["config", "user.name", "Agent"]);
    let workspace = shell(dir.path(), Limits::default());
    workspace
        .call("create_file", &json!({"path": "a.txt", "content": "a\n"}))
        .await;
    let value = call(
        &workspace,
        "git_operations",
        json!({"operation": "add", "args": "a.txt"}),
    )
    .await;
    assert_eq!(value["success"], true, "{value}");
    let value = call(
        &workspace,
        "git_operations",
        json!({"operation": "commit", "args": "-m 'First commit'"}),
    )
    .await;
    assert_eq!(value["success"], true, "{value}");
    let value = call(
        &workspace,
        "git_operations",
        json!({"operation": "log", "args": "--oneline"}),
    )
    .await;
    assert!(
        value["stdout"].as_str().unwrap().contains("First commit"),
        "{value}"
    );
    let value = call(
        &workspace,
        "git_operations",
        json!({"operation": "status", "args": "--short"}),
    )
    .await;
    assert_eq!(value["stdout"], "");
    let value = call(
        &workspace,
        "git_operations",
        json!({"operation": "checkout", "args": "no-such-branch"}),
    )
    .await;
    assert_eq!(value["success"], false);
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .starts_with("git checkout failed"),
        "{value}"
    );
    let value = call(&workspace, "git_operations", json!({"operation": "push"})).await;
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .contains("status, diff, log"),
        "{value}"
    );
}

#[tokio::test]
async fn git_does_not_climb_to_a_repository_above_the_workspace() {
    let outer = tempfile::tempdir().unwrap();
    git(outer.path(), &["init", "-q"]);
    let inner = outer.path().join("ws");
    fs::create_dir(&inner).unwrap();
    let workspace = shell(&inner, Limits::default());
    let value = call(&workspace, "git_operations", json!({"operation": "status"})).await;
    assert_eq!(value["success"], false, "{value}");
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .contains("not a git repository"),
        "{value}"
    );
}
