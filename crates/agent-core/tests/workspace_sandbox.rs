//! Hostile paths and symbolic-link tricks against the workspace sandbox:
//! every one is refused, and nothing outside the workspace is read, created
//! or changed.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use agent_core::workspace::{ShellAccess, Workspace, WorkspaceOptions};
use serde_json::{Value, json};

const SECRET: &str = "TOP-SECRET-SENTINEL";

/// A temporary parent holding the workspace `ws`, a sibling `ws-evil`, a
/// secret file and an `outside` folder, plus links from inside the
/// workspace to all of them.
struct Fixture {
    _parent: tempfile::TempDir,
    parent: PathBuf,
    ws: PathBuf,
}

fn fixture() -> Fixture {
    let parent_dir = tempfile::tempdir().expect("a temporary folder");
    let parent = parent_dir
        .path()
        .canonicalize()
        .expect("a canonical temporary folder");
    let ws = parent.join("ws");
    fs::create_dir_all(ws.join("sub")).unwrap();
    fs::create_dir_all(parent.join("ws-evil")).unwrap();
    fs::create_dir_all(parent.join("outside")).unwrap();
    fs::write(parent.join("secret.txt"), SECRET).unwrap();
    fs::write(parent.join("ws-evil/x"), SECRET).unwrap();
    fs::write(parent.join("outside/secret.txt"), SECRET).unwrap();
    fs::write(ws.join("inside.txt"), "inside").unwrap();
    fs::write(ws.join("sub/file.txt"), "sub file").unwrap();
    symlink("../outside", ws.join("link_out")).unwrap();
    symlink("../secret.txt", ws.join("link_file_out")).unwrap();
    symlink("link_out", ws.join("link_chain")).unwrap();
    symlink("..", ws.join("link_parent")).unwrap();
    symlink(parent.join("outside"), ws.join("link_abs_out")).unwrap();
    symlink("sub", ws.join("link_in")).unwrap();
    symlink("../does-not-exist", ws.join("dangling_out")).unwrap();
    symlink("sub/file.txt", ws.join("sub_link_file")).unwrap();
    Fixture {
        _parent: parent_dir,
        parent,
        ws,
    }
}

/// Every entry outside the workspace (links not followed): path to
/// (kind, content or link target, modification time).
fn snapshot_outside(
    parent: &Path,
) -> BTreeMap<PathBuf, (String, String, Option<std::time::SystemTime>)> {
    let mut seen = BTreeMap::new();
    let mut stack = vec![parent.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path == parent.join("ws") {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            let modified = meta.modified().ok();
            let record = if meta.file_type().is_symlink() {
                (
                    "link".to_owned(),
                    fs::read_link(&path).unwrap().display().to_string(),
                    modified,
                )
            } else if meta.is_dir() {
                stack.push(path.clone());
                ("dir".to_owned(), String::new(), modified)
            } else {
                (
                    "file".to_owned(),
                    fs::read_to_string(&path).unwrap_or_default(),
                    modified,
                )
            };
            seen.insert(path, record);
        }
    }
    seen
}

fn hostile_calls(parent: &Path) -> Vec<(&'static str, Value)> {
    let sibling = parent.join("ws-evil/x").display().to_string();
    let long_path = "a/".repeat(2500);
    let long_name = "n".repeat(300);
    vec![
        ("read_file", json!({"path": "../secret.txt"})),
        ("read_file", json!({"path": "a/../../secret.txt"})),
        ("read_file", json!({"path": "sub/../../secret.txt"})),
        ("read_file", json!({"path": "/etc/passwd"})),
        ("read_file", json!({"path": sibling})),
        ("read_file", json!({"path": "../ws-evil/x"})),
        (
            "create_file",
            json!({"path": "../ws-evil/x", "content": "pwned", "overwrite": true}),
        ),
        (
            "create_file",
            json!({"path": "../ws-evil/new", "content": "pwned"}),
        ),
        (
            "create_file",
            json!({"path": "sub/../../ws-evil/y", "content": "pwned"}),
        ),
        (
            "create_file",
            json!({"path": "..\\escaped.txt", "content": "pwned"}),
        ),
        ("read_file", json!({"path": "link_out/secret.txt"})),
        (
            "create_file",
            json!({"path": "link_out/new.txt", "content": "pwned"}),
        ),
        (
            "create_file",
            json!({"path": "link_out/deep/new.txt", "content": "pwned"}),
        ),
        (
            "create_file",
            json!({"path": "link_out/secret.txt", "content": "pwned", "overwrite": true}),
        ),
        (
            "update_file",
            json!({"path": "link_out/secret.txt", "content": "pwned"}),
        ),
        (
            "update_file",
            json!({"path": "link_out/secret.txt", "content": "pwned", "mode": "append"}),
        ),
        ("create_directory", json!({"path": "link_out/newdir"})),
        ("list_directory", json!({"path": "link_out"})),
        (
            "list_directory",
            json!({"path": "link_out", "recursive": true}),
        ),
        ("get_project_tree", json!({"path": "link_out"})),
        ("get_file_info", json!({"path": "link_out"})),
        ("get_file_info", json!({"path": "../secret.txt"})),
        ("delete_file", json!({"path": "link_out"})),
        ("delete_file", json!({"path": "link_out/secret.txt"})),
        ("glob_search", json!({"pattern": "*", "path": "link_out"})),
        (
            "grep_files",
            json!({"pattern": "SECRET", "path": "link_out"}),
        ),
        ("read_file", json!({"path": "link_file_out"})),
        (
            "create_file",
            json!({"path": "link_file_out", "content": "pwned", "overwrite": true}),
        ),
        (
            "update_file",
            json!({"path": "link_file_out", "content": "pwned", "mode": "append"}),
        ),
        (
            "grep_files",
            json!({"pattern": "SECRET", "path": "link_file_out"}),
        ),
        ("delete_file", json!({"path": "link_file_out"})),
        ("read_file", json!({"path": "link_chain/secret.txt"})),
        ("list_directory", json!({"path": "link_chain"})),
        ("list_directory", json!({"path": "link_parent"})),
        ("read_file", json!({"path": "link_parent/secret.txt"})),
        (
            "create_file",
            json!({"path": "link_parent/planted.txt", "content": "pwned"}),
        ),
        ("get_project_tree", json!({"path": "link_parent"})),
        ("read_file", json!({"path": "link_abs_out/secret.txt"})),
        ("read_file", json!({"path": "link_in/../../secret.txt"})),
        (
            "create_file",
            json!({"path": "dangling_out", "content": "pwned", "overwrite": true}),
        ),
        (
            "create_file",
            json!({"path": "dangling_out", "content": "pwned"}),
        ),
        ("delete_file", json!({"path": "dangling_out"})),
        ("read_file", json!({"path": "a\u{0}b"})),
        ("create_file", json!({"path": "a\u{0}b", "content": "x"})),
        ("read_file", json!({"path": long_path})),
        ("create_file", json!({"path": long_name, "content": "x"})),
        ("read_file", json!({"path": "C:\\Windows\\win.ini"})),
        (
            "create_file",
            json!({"path": "C:\\Windows\\x", "content": "x"}),
        ),
        ("read_file", json!({"path": "\\\\server\\share\\x"})),
        ("read_file", json!({"path": "~/.ssh/id_rsa"})),
        ("create_file", json!({"path": "~/x", "content": "x"})),
        ("glob_search", json!({"pattern": "../*"})),
        ("glob_search", json!({"pattern": "**/../../*"})),
        ("glob_search", json!({"pattern": "/etc/*"})),
        ("glob_search", json!({"pattern": "..\\*"})),
        ("glob_search", json!({"pattern": "*", "path": ".."})),
        ("grep_files", json!({"pattern": "SECRET", "path": ".."})),
        (
            "grep_files",
            json!({"pattern": "SECRET", "path": "../secret.txt"}),
        ),
        ("list_directory", json!({"path": ".."})),
        ("list_directory", json!({"path": "../ws-evil"})),
        ("get_project_tree", json!({"path": "../"})),
        ("create_directory", json!({"path": "../made-outside"})),
        ("delete_file", json!({"path": "../secret.txt"})),
        ("delete_file", json!({"path": "."})),
        (
            "create_project_structure",
            json!({"project_name": "proj", "structure": {"../escape": "x", "ok.txt": "fine"}}),
        ),
        (
            "create_project_structure",
            json!({"project_name": "proj", "structure": {"a": {"../../escape": "x"}}}),
        ),
        (
            "create_project_structure",
            json!({"project_name": "../escape", "structure": {"a.txt": "x"}}),
        ),
        (
            "create_project_structure",
            json!({"project_name": "link_out", "structure": {"a.txt": "x"}}),
        ),
        (
            "create_project_structure",
            json!({"project_name": "proj2", "structure": {"/etc/cron.d/x": "x"}}),
        ),
        (
            "execute_batch",
            json!({"tasks": [{"tool": "read_file", "args": {"path": "../secret.txt"}}]}),
        ),
        (
            "execute_batch",
            json!({"tasks": [{"tool": "create_file", "args": {"path": "link_out/b.txt", "content": "x"}}]}),
        ),
        ("bash", json!({"command": "touch ../shell-escape"})),
        ("git_operations", json!({"operation": "status"})),
    ]
}

#[tokio::test]
async fn hostile_paths_are_refused_and_nothing_outside_is_touched() {
    let fixture = fixture();
    let before = snapshot_outside(&fixture.parent);
    let workspace = Workspace::open(&fixture.ws, WorkspaceOptions::default()).unwrap();
    let calls = hostile_calls(&fixture.parent);
    assert!(calls.len() >= 25);
    for (tool, args) in &calls {
        let outcome = workspace.call(tool, args).await;
        let text = outcome.value.to_string();
        assert!(!outcome.ok, "{tool} {args} should be refused, got {text}");
        assert_eq!(outcome.value["success"], false, "{tool} {args}");
        let error = outcome.value["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{tool} {args}: no error in {text}"));
        assert!(
            !error.is_empty() && !error.contains('\n'),
            "{tool} {args}: error must be one line: {error:?}"
        );
        assert!(
            !text.contains(SECRET),
            "{tool} {args} leaked the secret: {text}"
        );
        assert!(
            outcome.created.is_empty(),
            "{tool} {args} reported created files"
        );
    }
    assert_eq!(
        snapshot_outside(&fixture.parent),
        before,
        "something outside the workspace changed"
    );
    // The links the operator made are still there, and nothing half-made
    // was left inside either.
    for link in [
        "link_out",
        "link_file_out",
        "link_chain",
        "link_parent",
        "link_abs_out",
        "dangling_out",
    ] {
        assert!(
            fs::symlink_metadata(fixture.ws.join(link))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{link}"
        );
    }
    assert!(
        !fixture.ws.join("proj").exists(),
        "create_project_structure must write nothing when a key escapes"
    );
    assert!(
        !fixture.ws.join("~").exists(),
        "'~' must never be created as a folder"
    );
}

#[tokio::test]
async fn shell_escapes_are_refused_while_the_shell_is_disabled() {
    let fixture = fixture();
    let workspace = Workspace::open(&fixture.ws, WorkspaceOptions::default()).unwrap();
    let outcome = workspace
        .call("bash", &json!({"command": "touch ../shell-escape"}))
        .await;
    assert_eq!(
        outcome.value["error"],
        "shell access is disabled; only the operator can enable it"
    );
    assert!(!fixture.parent.join("shell-escape").exists());
}

#[tokio::test]
async fn walks_from_the_root_never_follow_links_out() {
    let fixture = fixture();
    let workspace = Workspace::open(&fixture.ws, WorkspaceOptions::default()).unwrap();

    let listing = workspace
        .call(
            "list_directory",
            &json!({"recursive": true, "include_hidden": true}),
        )
        .await;
    assert!(listing.ok, "{}", listing.value);
    let paths: Vec<&str> = listing.value["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"link_out"),
        "links are listed as links: {paths:?}"
    );
    assert!(
        paths
            .iter()
            .all(|path| !path.starts_with("link_out/") && !path.starts_with("link_parent/")),
        "{paths:?}"
    );

    let globbed = workspace
        .call("glob_search", &json!({"pattern": "**/*"}))
        .await;
    assert!(globbed.ok, "{}", globbed.value);
    let matches = globbed.value["matches"].as_array().unwrap();
    assert!(
        matches
            .iter()
            .all(|m| !m.as_str().unwrap().contains("secret")),
        "{matches:?}"
    );
    assert!(
        !matches.contains(&json!("link_out")) && !matches.contains(&json!("link_parent")),
        "{matches:?}"
    );
    assert!(
        matches.contains(&json!("link_in")),
        "links that stay inside are found: {matches:?}"
    );

    let grepped = workspace
        .call("grep_files", &json!({"pattern": "SECRET"}))
        .await;
    assert!(grepped.ok, "{}", grepped.value);
    assert_eq!(grepped.value["count"], 0, "{}", grepped.value);

    let tree = workspace
        .call("get_project_tree", &json!({"max_depth": 10}))
        .await;
    assert!(tree.ok);
    assert!(
        !tree.value["tree"].as_str().unwrap().contains("secret"),
        "{}",
        tree.value["tree"]
    );
}

#[tokio::test]
async fn links_that_stay_inside_work() {
    let fixture = fixture();
    let workspace = Workspace::open(&fixture.ws, WorkspaceOptions::default()).unwrap();
    let read = workspace
        .call("read_file", &json!({"path": "link_in/file.txt"}))
        .await;
    assert_eq!(read.value["content"], "sub file", "{}", read.value);
    let read = workspace
        .call("read_file", &json!({"path": "sub_link_file"}))
        .await;
    assert_eq!(read.value["content"], "sub file", "{}", read.value);
    let info = workspace
        .call("get_file_info", &json!({"path": "sub_link_file"}))
        .await;
    assert_eq!(info.value["type"], "symlink");
    assert_eq!(info.value["target"], "sub/file.txt");
    let created = workspace
        .call(
            "create_file",
            &json!({"path": "link_in/new.txt", "content": "n"}),
        )
        .await;
    assert!(created.ok, "{}", created.value);
    assert_eq!(
        fs::read_to_string(fixture.ws.join("sub/new.txt")).unwrap(),
        "n"
    );
    // Deleting a link removes the link, not its target.
    let deleted = workspace
        .call("delete_file", &json!({"path": "sub_link_file"}))
        .await;
    assert_eq!(deleted.value["deleted"], "symlink", "{}", deleted.value);
    assert!(fixture.ws.join("sub/file.txt").exists());
}

#[tokio::test]
async fn a_sibling_named_like_the_workspace_is_outside() {
    let fixture = fixture();
    let workspace = Workspace::open(&fixture.ws, WorkspaceOptions::default()).unwrap();
    // A link into the sibling: a string-prefix check would let it pass.
    symlink("../ws-evil", fixture.ws.join("evil")).unwrap();
    let outcome = workspace
        .call("read_file", &json!({"path": "evil/x"}))
        .await;
    assert!(!outcome.ok);
    assert!(
        outcome.value["error"]
            .as_str()
            .unwrap()
            .contains("outside the workspace"),
        "{}",
        outcome.value
    );
}

#[tokio::test]
async fn shell_enabled_escape_attempts_through_tools_are_still_refused() {
    let fixture = fixture();
    let options = WorkspaceOptions {
        shell: ShellAccess::Enabled,
        ..WorkspaceOptions::default()
    };
    let workspace = Workspace::open(&fixture.ws, options).unwrap();
    let before = snapshot_outside(&fixture.parent);
    for (tool, args) in [
        ("bash", json!({"command": "pwd", "path": ".."})),
        ("bash", json!({"command": "pwd", "path": "link_out"})),
        (
            "git_operations",
            json!({"operation": "status", "path": "link_parent"}),
        ),
        (
            "git_operations",
            json!({"operation": "diff", "args": "--no-index ../secret.txt inside.txt"}),
        ),
        (
            "git_operations",
            json!({"operation": "log", "args": "--output=../log.txt"}),
        ),
        (
            "git_operations",
            json!({"operation": "commit", "args": "-F ../secret.txt"}),
        ),
        ("git_operations", json!({"operation": "push"})),
    ] {
        let outcome = workspace.call(tool, &args).await;
        assert!(!outcome.ok, "{tool} {args}: {}", outcome.value);
        assert!(!outcome.value.to_string().contains(SECRET), "{tool} {args}");
    }
    assert_eq!(snapshot_outside(&fixture.parent), before);
}

#[tokio::test]
async fn a_hard_link_to_a_file_outside_is_neither_read_nor_written() {
    let fixture = fixture();
    let outside = fixture.parent.join("outside/secret.txt");
    fs::hard_link(&outside, fixture.ws.join("hard.txt")).unwrap();
    let before = snapshot_outside(&fixture.parent);
    let workspace = Workspace::open(&fixture.ws, WorkspaceOptions::default()).unwrap();
    for (tool, args) in [
        ("read_file", json!({"path": "hard.txt"})),
        (
            "update_file",
            json!({"path": "hard.txt", "content": "pwned"}),
        ),
        (
            "update_file",
            json!({"path": "hard.txt", "content": "pwned", "mode": "append"}),
        ),
    ] {
        let outcome = workspace.call(tool, &args).await;
        assert!(!outcome.ok, "{tool} {args}: {}", outcome.value);
        let error = outcome.value["error"].as_str().unwrap();
        assert!(error.contains("hard link"), "{tool}: {error}");
        assert!(!outcome.value.to_string().contains(SECRET));
    }
    let grepped = workspace
        .call("grep_files", &json!({"pattern": "SECRET"}))
        .await;
    assert!(grepped.ok, "{}", grepped.value);
    assert_eq!(grepped.value["count"], 0, "{}", grepped.value);
    assert_eq!(snapshot_outside(&fixture.parent), before);
    assert_eq!(fs::read_to_string(&outside).unwrap(), SECRET);
}
