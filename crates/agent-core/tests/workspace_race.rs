//! The check-then-open race, made deterministic: a test hook (feature
//! `test-hooks`) runs between the sandbox's check of a path and the open,
//! and swaps the checked folder for a symbolic link to a folder outside
//! holding a secret under the same name. A model driving the tools through
//! a cassette must not get the secret back, and nothing outside changes.
//! Its own test binary: the hook is process-wide.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agent_core::workspace::{Workspace, WorkspaceOptions, test_hooks};
use agent_core::{BuiltinAgent, ForkRequest, ForkStatus, Forker};
use cassette::Interaction;
use genai_client::Client;
use serde_json::{Value, json};
use test_support::gemini::Reply;
use tokio_util::sync::CancellationToken;

mod support;

/// The general agent's default model, which the fork uses.
fn model() -> String {
    BuiltinAgent::General.profile().model
}
const SECRET: &str = "the secret outside the workspace";

fn reply(parts: Value) -> Value {
    Reply::parts(parts)
        .usage(10, 5, 0)
        .model_version(&model())
        .response_id("authored-race-reply")
        .json()
}

/// A reply to the request with `turns` entries in `contents`.
fn at_turn(turns: usize, body: Value) -> Interaction {
    support::at_turn(&model(), turns, body)
}

#[tokio::test]
async fn a_folder_swapped_for_a_link_between_check_and_open_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(root.join("d").join(name), "inside").unwrap();
        std::fs::write(outside.join(name), SECRET).unwrap();
    }

    // At each open: put the real `d` back, check passes, then swap `d` for
    // a link to `outside` right before the open.
    let swaps = Arc::new(AtomicUsize::new(0));
    let hook_swaps = Arc::clone(&swaps);
    let real_d = root.join("d");
    let kept = dir.path().join("kept-d");
    let outside_for_hook: PathBuf = outside.clone();
    let _guard = HOOK_LOCK.lock().await;
    test_hooks::set_before_open(Some(Box::new(move |path: &Path| {
        if path.starts_with(&real_d) && !kept.exists() {
            std::fs::rename(&real_d, &kept).unwrap();
            std::os::unix::fs::symlink(&outside_for_hook, &real_d).unwrap();
            hook_swaps.fetch_add(1, Ordering::SeqCst);
        }
    })));

    let calls = json!([
        {"functionCall": {"name": "read_file", "args": {"path": "d/a.txt"}}},
    ]);
    let server = support::lenient_server(
        "race",
        vec![
            at_turn(1, reply(calls)),
            at_turn(3, reply(json!([{"text": "Done."}]))),
        ],
    )
    .await;
    let config = support::bare_config(&server);
    let workspace = Workspace::open(&root, WorkspaceOptions::default()).unwrap();
    let forker = Forker::new(Client::new(config).unwrap()).with_workspace(Arc::new(workspace));
    let request = ForkRequest {
        max_turns: 4,
        ..ForkRequest::new("Read d/a.txt.", BuiltinAgent::General.profile())
    };
    let result = forker.run(request, &CancellationToken::new()).await;
    test_hooks::set_before_open(None);
    server.assert_clean();
    assert_eq!(result.status, ForkStatus::Success, "{:?}", result.error);
    assert_eq!(
        swaps.load(Ordering::SeqCst),
        1,
        "the hook swapped the folder"
    );

    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|request| String::from_utf8_lossy(&request.raw_body).into_owned())
        .collect();
    assert!(
        sent.iter().all(|body| !body.contains(SECRET)),
        "the secret outside reached the model"
    );
    let follow_up = sent.last().unwrap();
    assert!(follow_up.contains("\"success\":false"), "{follow_up}");
    for name in ["a.txt", "b.txt", "c.txt"] {
        assert_eq!(std::fs::read_to_string(outside.join(name)).unwrap(), SECRET);
    }
}

#[tokio::test]
async fn a_write_through_a_swapped_folder_does_not_land_outside() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("w")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("w/notes.txt"), "inside").unwrap();
    std::fs::write(outside.join("notes.txt"), SECRET).unwrap();
    let real_w = root.join("w");
    let kept = dir.path().join("kept-w");
    let target = outside.clone();
    // Tests in this binary share the hook: one at a time.
    let workspace = Workspace::open(&root, WorkspaceOptions::default()).unwrap();
    let guard = HOOK_LOCK.lock().await;
    test_hooks::set_before_open(Some(Box::new(move |path: &Path| {
        if path.starts_with(&real_w) && !kept.exists() {
            std::fs::rename(&real_w, &kept).unwrap();
            std::os::unix::fs::symlink(&target, &real_w).unwrap();
        }
    })));
    let outcome = workspace
        .call(
            "update_file",
            &json!({"path": "w/notes.txt", "content": "overwritten"}),
        )
        .await;
    test_hooks::set_before_open(None);
    drop(guard);
    assert!(!outcome.ok, "{}", outcome.value);
    assert_eq!(
        std::fs::read_to_string(outside.join("notes.txt")).unwrap(),
        SECRET
    );
}

static HOOK_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
