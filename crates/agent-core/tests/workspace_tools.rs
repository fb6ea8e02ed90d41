//! The happy path of every workspace tool, the limits, and the declarations.

use std::fs;
use std::path::Path;

use agent_core::workspace::{Limits, ShellAccess, ToolName, Workspace, WorkspaceOptions};
use serde_json::{Value, json};
use test_support::files::write_tree;

fn open(dir: &Path) -> Workspace {
    Workspace::open(dir, WorkspaceOptions::default()).expect("the workspace opens")
}

fn open_with(dir: &Path, shell: ShellAccess, limits: Limits) -> Workspace {
    Workspace::open(
        dir,
        WorkspaceOptions {
            shell,
            limits,
            ..WorkspaceOptions::default()
        },
    )
    .expect("the workspace opens")
}

async fn ok(workspace: &Workspace, tool: &str, args: Value) -> Value {
    let outcome = workspace.call(tool, &args).await;
    assert!(outcome.ok, "{tool} {args} failed: {}", outcome.value);
    assert_eq!(outcome.value["success"], true);
    outcome.value
}

async fn refused(workspace: &Workspace, tool: &str, args: Value) -> String {
    let outcome = workspace.call(tool, &args).await;
    assert!(!outcome.ok, "{tool} {args} should fail: {}", outcome.value);
    assert_eq!(outcome.value["success"], false);
    outcome.value["error"]
        .as_str()
        .expect("an error line")
        .to_owned()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn files_are_created_read_updated_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());

    let outcome = ws
        .call(
            "create_file",
            &json!({"path": "src/app/main.py", "content": "print(1)\n"}),
        )
        .await;
    assert!(outcome.ok, "{}", outcome.value);
    assert_eq!(outcome.created, ["src/app/main.py"]);
    assert_eq!(
        fs::read_to_string(dir.path().join("src/app/main.py")).unwrap(),
        "print(1)\n"
    );

    let error = refused(
        &ws,
        "create_file",
        json!({"path": "src/app/main.py", "content": "x"}),
    )
    .await;
    assert!(error.contains("overwrite=true"), "{error}");
    let outcome = ws
        .call(
            "create_file",
            &json!({"path": "src/app/main.py", "content": "v2\n", "overwrite": true}),
        )
        .await;
    assert!(
        outcome.ok && outcome.created.is_empty(),
        "overwriting creates nothing new: {:?}",
        outcome
    );
    assert_eq!(outcome.value["overwritten"], true);

    let read = ok(&ws, "read_file", json!({"path": "./src//app/main.py"})).await;
    assert_eq!(read["content"], "v2\n");
    assert_eq!(read["path"], "src/app/main.py");
    assert_eq!(read["truncated"], false);

    ok(
        &ws,
        "update_file",
        json!({"path": "src/app/main.py", "content": "end\n", "mode": "append"}),
    )
    .await;
    ok(
        &ws,
        "update_file",
        json!({"path": "src/app/main.py", "content": "start\n", "mode": "prepend"}),
    )
    .await;
    assert_eq!(
        fs::read_to_string(dir.path().join("src/app/main.py")).unwrap(),
        "start\nv2\nend\n"
    );
    let updated = ok(
        &ws,
        "update_file",
        json!({"path": "src/app/main.py", "content": "new"}),
    )
    .await;
    assert_eq!(updated["size"], 3);
    assert_eq!(
        fs::read_to_string(dir.path().join("src/app/main.py")).unwrap(),
        "new"
    );
    let error = refused(
        &ws,
        "update_file",
        json!({"path": "src/app/main.py", "content": "x", "mode": "insert"}),
    )
    .await;
    assert!(error.contains("replace, append, prepend"), "{error}");
    let error = refused(
        &ws,
        "update_file",
        json!({"path": "missing.txt", "content": "x"}),
    )
    .await;
    assert!(error.contains("create_file"), "{error}");

    let deleted = ok(&ws, "delete_file", json!({"path": "src/app/main.py"})).await;
    assert_eq!(deleted["deleted"], "file");
    let deleted = ok(&ws, "delete_file", json!({"path": "src"})).await;
    assert_eq!(deleted["deleted"], "directory");
    assert!(!dir.path().join("src").exists());
    refused(&ws, "delete_file", json!({"path": "src"})).await;
    let error = refused(&ws, "delete_file", json!({"path": ""})).await;
    assert!(error.contains("workspace folder itself"), "{error}");
}

#[tokio::test]
async fn folders_are_created_with_or_without_parents() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let error = refused(
        &ws,
        "create_directory",
        json!({"path": "a/b/c", "parents": false}),
    )
    .await;
    assert!(error.contains("parents=true"), "{error}");
    assert!(!dir.path().join("a").exists());
    assert_eq!(
        ok(&ws, "create_directory", json!({"path": "a/b/c"})).await["created"],
        true
    );
    assert!(dir.path().join("a/b/c").is_dir());
    assert_eq!(
        ok(&ws, "create_directory", json!({"path": "a/b/c"})).await["created"],
        false
    );
    ok(
        &ws,
        "create_directory",
        json!({"path": "a/d", "parents": false}),
    )
    .await;
    fs::write(dir.path().join("f"), "").unwrap();
    refused(&ws, "create_directory", json!({"path": "f"})).await;
    refused(&ws, "create_directory", json!({"path": "f/sub"})).await;
}

#[tokio::test]
async fn listings_are_sorted_bounded_and_hide_dot_files() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["b.txt", "a.txt", ".hidden", "dir/z.txt", "dir/y.txt"];
    write_tree(dir.path(), &names.map(|name| (name, "12345")));
    let ws = open(dir.path());
    let listing = ok(&ws, "list_directory", json!({})).await;
    let paths: Vec<&str> = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.txt", "b.txt", "dir"]);
    assert_eq!(listing["entries"][0]["size"], 5);
    assert_eq!(listing["entries"][2]["type"], "directory");

    let listing = ok(
        &ws,
        "list_directory",
        json!({"recursive": true, "include_hidden": true}),
    )
    .await;
    let paths: Vec<&str> = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [".hidden", "a.txt", "b.txt", "dir", "dir/y.txt", "dir/z.txt"]
    );

    let limits = Limits {
        max_list_entries: 2,
        ..Limits::default()
    };
    let small = open_with(dir.path(), ShellAccess::Disabled, limits);
    let listing = ok(&small, "list_directory", json!({"recursive": true})).await;
    assert_eq!(listing["count"], 2);
    assert_eq!(listing["truncated"], true);
    refused(&ws, "list_directory", json!({"path": "a.txt"})).await;
}

#[tokio::test]
async fn the_project_tree_is_drawn_to_a_depth_and_skips_ignored_files() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "src/main.rs",
        "src/util/mod.rs",
        "README.md",
        "target/debug/app",
        ".env",
        "notes.log",
    ]
    .map(|name| (name, "x"));
    write_tree(dir.path(), &names);
    fs::write(dir.path().join(".gitignore"), "target/\n*.log\n").unwrap();
    let ws = open(dir.path());
    let root_name = dir
        .path()
        .canonicalize()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let tree = ok(&ws, "get_project_tree", json!({})).await;
    let expected = format!(
        "{root_name}/\n├── README.md\n└── src/\n    ├── main.rs\n    └── util/\n        └── mod.rs\n"
    );
    assert_eq!(tree["tree"], expected);
    assert_eq!(tree["files"], 3);
    assert_eq!(tree["directories"], 2);
    let shallow = ok(
        &ws,
        "get_project_tree",
        json!({"path": "src", "max_depth": 1}),
    )
    .await;
    assert_eq!(shallow["tree"], "src/\n├── main.rs\n└── util/\n");
    refused(&ws, "get_project_tree", json!({"max_depth": 0})).await;
}

#[tokio::test]
async fn file_info_reports_type_size_times_and_readonly() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "hello").unwrap();
    let ws = open(dir.path());
    let info = ok(&ws, "get_file_info", json!({"path": "a.txt"})).await;
    assert_eq!(info["type"], "file");
    assert_eq!(info["size"], 5);
    assert_eq!(info["readonly"], false);
    let modified = info["modified"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(modified).is_ok(),
        "{modified}"
    );
    let info = ok(&ws, "get_file_info", json!({"path": "."})).await;
    assert_eq!(info["type"], "directory");
    refused(&ws, "get_file_info", json!({"path": "nope"})).await;
}

#[tokio::test]
async fn reads_and_writes_obey_the_size_limits() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_read_bytes: 10,
        max_write_bytes: 20,
        ..Limits::default()
    };
    let ws = open_with(dir.path(), ShellAccess::Disabled, limits);
    fs::write(dir.path().join("long.txt"), "0123456789abcdef").unwrap();
    let read = ok(&ws, "read_file", json!({"path": "long.txt"})).await;
    assert_eq!(read["content"], "0123456789");
    assert_eq!(read["truncated"], true);
    assert_eq!(read["size"], 16);
    // A cut in the middle of a character is not mistaken for binary.
    fs::write(dir.path().join("utf8.txt"), "ééééééé").unwrap();
    let read = ok(&ws, "read_file", json!({"path": "utf8.txt"})).await;
    assert_eq!(read["content"], "ééééé");

    let error = refused(
        &ws,
        "create_file",
        json!({"path": "big.txt", "content": "x".repeat(21)}),
    )
    .await;
    assert!(error.contains("limit is 20 bytes"), "{error}");
    assert!(!dir.path().join("big.txt").exists());
    ok(
        &ws,
        "create_file",
        json!({"path": "small.txt", "content": "x".repeat(15)}),
    )
    .await;
    refused(
        &ws,
        "update_file",
        json!({"path": "small.txt", "content": "123456", "mode": "append"}),
    )
    .await;
    assert_eq!(
        fs::read_to_string(dir.path().join("small.txt"))
            .unwrap()
            .len(),
        15
    );
}

#[tokio::test]
async fn binary_files_are_reported_not_dumped() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("image.bin"),
        [0x89, b'P', b'N', b'G', 0, 1, 2, 3],
    )
    .unwrap();
    fs::write(
        dir.path().join("latin1.txt"),
        [b'c', b'a', b'f', 0xe9, b'!'],
    )
    .unwrap();
    let ws = open(dir.path());
    for name in ["image.bin", "latin1.txt"] {
        let read = ok(&ws, "read_file", json!({"path": name})).await;
        assert_eq!(read["binary"], true, "{name}");
        assert!(read.get("content").is_none(), "{name}");
    }
    assert_eq!(
        ok(&ws, "read_file", json!({"path": "image.bin"})).await["size"],
        8
    );
}

#[tokio::test]
async fn grep_finds_lines_and_skips_ignored_binary_and_hidden_files() {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 6] = [
        ("src/a.rs", b"fn main() {}\n// TODO: one\n"),
        ("src/b.rs", b"// todo: two\r\nlet x = 1;\n"),
        ("build/out.rs", b"// TODO: ignored\n"),
        ("blob.bin", b"TODO\0binary"),
        (".hidden/c.rs", b"// TODO: hidden\n"),
        ("long.txt", b""),
    ];
    write_tree(dir.path(), &files);
    fs::write(
        dir.path().join("long.txt"),
        format!("TODO {}\n", "y".repeat(1000)),
    )
    .unwrap();
    fs::write(dir.path().join(".gitignore"), "build/\n").unwrap();
    let ws = open(dir.path());

    let found = ok(&ws, "grep_files", json!({"pattern": "TODO"})).await;
    let hits: Vec<(String, u64)> = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_owned(),
                m["line_number"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hits,
        [("long.txt".to_owned(), 1), ("src/a.rs".to_owned(), 2)]
    );
    let long_line = found["matches"][0]["line"].as_str().unwrap();
    assert!(
        long_line.chars().count() < 500 && long_line.ends_with("[line cut]"),
        "{long_line}"
    );

    let found = ok(
        &ws,
        "grep_files",
        json!({"pattern": "todo: \\w+", "path": "src", "ignore_case": true}),
    )
    .await;
    assert_eq!(found["count"], 2);
    assert_eq!(found["matches"][1]["line"], "// todo: two");
    let found = ok(
        &ws,
        "grep_files",
        json!({"pattern": "todo", "ignore_case": true, "max_results": 1}),
    )
    .await;
    assert_eq!(found["count"], 1);
    assert_eq!(found["truncated"], true);
    // Naming an ignored folder searches it.
    let found = ok(
        &ws,
        "grep_files",
        json!({"pattern": "TODO", "path": "build"}),
    )
    .await;
    assert_eq!(found["count"], 1);
    let found = ok(
        &ws,
        "grep_files",
        json!({"pattern": "TODO", "recursive": false}),
    )
    .await;
    assert_eq!(found["count"], 1);

    let error = refused(&ws, "grep_files", json!({"pattern": "(unclosed"})).await;
    assert!(error.starts_with("invalid regular expression"), "{error}");
    refused(&ws, "grep_files", json!({"pattern": "a{1000}{1000}{1000}"})).await;
}

#[tokio::test]
async fn glob_matches_paths_and_honours_gitignore() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "main.rs",
        "src/lib.rs",
        "src/deep/x.rs",
        "src/readme.md",
        "target/gen.rs",
        ".cache/c.rs",
    ] {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }
    fs::write(dir.path().join(".gitignore"), "target\n").unwrap();
    let ws = open(dir.path());
    let found = ok(&ws, "glob_search", json!({"pattern": "*.rs"})).await;
    assert_eq!(
        strings(&found["matches"]),
        ["main.rs", "src/deep/x.rs", "src/lib.rs"]
    );
    let found = ok(
        &ws,
        "glob_search",
        json!({"pattern": "*.rs", "recursive": false}),
    )
    .await;
    assert_eq!(strings(&found["matches"]), ["main.rs"]);
    let found = ok(
        &ws,
        "glob_search",
        json!({"pattern": "*.rs", "path": "src", "recursive": false}),
    )
    .await;
    assert_eq!(strings(&found["matches"]), ["src/lib.rs"]);
    let found = ok(
        &ws,
        "glob_search",
        json!({"pattern": "src/**/*.rs", "recursive": false}),
    )
    .await;
    assert_eq!(strings(&found["matches"]), ["src/deep/x.rs", "src/lib.rs"]);
    let found = ok(&ws, "glob_search", json!({"pattern": ".cache/*.rs"})).await;
    assert_eq!(strings(&found["matches"]), [".cache/c.rs"]);
}

#[tokio::test]
async fn project_structures_are_checked_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let structure =
        json!({"src": {"main.py": "print('hi')\n", "pkg": {}}, "README.md": "# Demo\n"});
    let outcome = ws
        .call(
            "create_project_structure",
            &json!({"project_name": "demo", "structure": structure}),
        )
        .await;
    assert!(outcome.ok, "{}", outcome.value);
    assert_eq!(outcome.created, ["demo/README.md", "demo/src/main.py"]);
    assert!(dir.path().join("demo/src/pkg").is_dir());
    assert_eq!(
        fs::read_to_string(dir.path().join("demo/src/main.py")).unwrap(),
        "print('hi')\n"
    );

    // The structure may come as JSON text.
    let text = r#"{"a.txt": "A", "b": {"c.txt": "C"}}"#;
    let outcome = ws
        .call(
            "create_project_structure",
            &json!({"project_name": "second", "structure": text}),
        )
        .await;
    assert_eq!(outcome.created, ["second/a.txt", "second/b/c.txt"]);

    // An existing file stops the whole call before any write.
    let clash = json!({"new.txt": "n", "README.md": "again"});
    let error = refused(
        &ws,
        "create_project_structure",
        json!({"project_name": "demo", "structure": clash}),
    )
    .await;
    assert!(
        error.contains("demo/README.md") && error.contains("nothing was created"),
        "{error}"
    );
    assert!(!dir.path().join("demo/new.txt").exists());
    refused(
        &ws,
        "create_project_structure",
        json!({"project_name": "x", "structure": {"n": 5}}),
    )
    .await;
    refused(
        &ws,
        "create_project_structure",
        json!({"project_name": "x", "structure": "not json"}),
    )
    .await;
}

#[tokio::test]
async fn bad_calls_become_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let error = refused(&ws, "rm_rf", json!({})).await;
    assert!(
        error.starts_with("unknown tool 'rm_rf'; the tools are: create_file, read_file"),
        "{error}"
    );
    let error = refused(&ws, "read_file", json!({})).await;
    assert_eq!(error, "read_file: argument 'path' is required");
    let error = refused(&ws, "read_file", json!({"path": 7})).await;
    assert_eq!(error, "read_file: argument 'path' must be a string");
    let error = refused(
        &ws,
        "create_file",
        json!({"path": "a", "content": "b", "overwrite": "yes"}),
    )
    .await;
    assert_eq!(
        error,
        "create_file: argument 'overwrite' must be true or false"
    );
    let error = refused(&ws, "read_file", json!({"file_path": "a"})).await;
    assert!(
        error.starts_with("read_file: unknown argument 'file_path'"),
        "{error}"
    );
    let error = refused(&ws, "read_file", json!(["a"])).await;
    assert!(error.contains("must be a JSON object"), "{error}");
    refused(&ws, "get_project_tree", json!({"max_depth": 2.5})).await;
    ok(&ws, "get_project_tree", json!({"max_depth": 2.0})).await;
    ok(&ws, "list_directory", Value::Null).await;
}

#[tokio::test]
async fn batches_keep_task_order_and_refuse_what_they_must() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let tasks: Vec<Value> =
        (0..6).map(|i| json!({"tool": "create_file", "args": {"path": format!("f{i}.txt"), "content": format!("{i}")}})).collect();
    let outcome = ws
        .call("execute_batch", &json!({"tasks": tasks, "max_workers": 3}))
        .await;
    assert!(outcome.ok, "{}", outcome.value);
    assert_eq!(
        outcome.created,
        ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "f5.txt"]
    );
    let reads: Vec<Value> = (0..6)
        .rev()
        .map(|i| json!({"tool": "read_file", "args": {"path": format!("f{i}.txt")}}))
        .collect();
    let outcome = ws.call("execute_batch", &json!({"tasks": reads})).await;
    let contents: Vec<&str> = outcome.value["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["5", "4", "3", "2", "1", "0"]);
    assert_eq!(outcome.value["workers"], 4);

    let mixed = json!([
        {"tool": "read_file", "args": {"path": "f0.txt"}},
        {"tool": "execute_batch", "args": {"tasks": []}},
        {"tool": "delete_file", "args": {"path": "f0.txt"}},
        {"tool": "bash", "args": {"command": "ls"}},
    ]);
    let outcome = ws
        .call(
            "execute_batch",
            &json!({"tasks": mixed, "allowed_tools": ["read_file", "execute_batch", "bash"]}),
        )
        .await;
    assert!(!outcome.ok);
    assert_eq!(outcome.value["failed"], 3);
    let results = outcome.value["results"].as_array().unwrap();
    assert_eq!(results[0]["success"], true);
    assert!(
        results[1]["error"]
            .as_str()
            .unwrap()
            .contains("cannot run inside execute_batch")
    );
    assert!(
        results[2]["error"]
            .as_str()
            .unwrap()
            .contains("not in allowed_tools")
    );
    assert!(
        results[3]["error"]
            .as_str()
            .unwrap()
            .contains("shell access is disabled")
    );
    assert!(dir.path().join("f0.txt").exists());

    let too_many: Vec<Value> = (0..33).map(|_| json!({"tool": "list_directory"})).collect();
    let error = refused(&ws, "execute_batch", json!({"tasks": too_many})).await;
    assert!(error.contains("limit is 32"), "{error}");
    let as_text = json!({"tasks": "[{\"tool\": \"list_directory\", \"args\": {}}]"});
    ok(&ws, "execute_batch", as_text).await;
}

#[tokio::test]
async fn batches_run_no_more_tasks_at_once_than_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_workers: 2,
        ..Limits::default()
    };
    let ws = open_with(dir.path(), ShellAccess::Enabled, limits);
    // Each task logs its start and end around a short pause; with at most
    // two workers, the log never shows three tasks open at once.
    let tasks: Vec<Value> = (0..6)
        .map(|i| json!({"tool": "bash", "args": {"command": format!("echo start >> log; sleep 0.1; echo end >> log; echo {i}")}}))
        .collect();
    let outcome = ws
        .call("execute_batch", &json!({"tasks": tasks, "max_workers": 10}))
        .await;
    assert!(outcome.ok, "{}", outcome.value);
    assert_eq!(outcome.value["workers"], 2);
    let order: Vec<String> = outcome.value["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stdout"].as_str().unwrap().trim().to_owned())
        .collect();
    assert_eq!(order, ["0", "1", "2", "3", "4", "5"]);
    let log = fs::read_to_string(dir.path().join("log")).unwrap();
    let (mut open, mut most) = (0i32, 0i32);
    for line in log.lines() {
        open += if line == "start" { 1 } else { -1 };
        most = most.max(open);
    }
    assert_eq!(log.lines().count(), 12);
    assert!(most <= 2, "{most} tasks ran at once:\n{log}");

    let serial = open_with(dir.path(), ShellAccess::Enabled, Limits::default());
    fs::remove_file(dir.path().join("log")).unwrap();
    let tasks: Vec<Value> = (0..3)
        .map(|_| json!({"tool": "bash", "args": {"command": "echo start >> log; sleep 0.05; echo end >> log"}}))
        .collect();
    ok(
        &serial,
        "execute_batch",
        json!({"tasks": tasks, "max_workers": 1}),
    )
    .await;
    assert_eq!(
        fs::read_to_string(dir.path().join("log")).unwrap(),
        "start\nend\n".repeat(3)
    );
}

#[test]
fn declarations_are_valid_schemas_with_the_exact_names() {
    let dir = tempfile::tempdir().unwrap();
    let all = [
        "create_file",
        "read_file",
        "update_file",
        "delete_file",
        "create_directory",
        "list_directory",
        "create_project_structure",
        "get_project_tree",
        "get_file_info",
        "bash",
        "grep_files",
        "glob_search",
        "git_operations",
        "execute_batch",
    ];
    let enabled = open_with(dir.path(), ShellAccess::Enabled, Limits::default());
    let declarations = enabled.declarations();
    let names: Vec<&str> = declarations
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, all);
    for declaration in &declarations {
        let name = declaration["name"].as_str().unwrap();
        let keys: Vec<&str> = declaration
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["description", "name", "parameters"], "{name}");
        assert!(
            declaration["description"].as_str().unwrap().len() > 20,
            "{name}"
        );
        check_schema(&declaration["parameters"], name);
        let params: Vec<&str> = declaration["parameters"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: Vec<&str> = ToolName::parse(name).unwrap().params().to_vec();
        expected.sort_unstable();
        assert_eq!(params, expected, "{name}");
    }
    let disabled = open(dir.path());
    let names: Vec<String> = disabled
        .declarations()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<&str> = all
        .into_iter()
        .filter(|n| *n != "bash" && *n != "git_operations")
        .collect();
    assert_eq!(names, expected);
}

/// Checks the OpenAPI subset Gemini accepts: known types, descriptions on
/// properties, non-empty properties on every OBJECT, `required` naming
/// existing properties, `items` on every ARRAY.
fn check_schema(schema: &Value, at: &str) {
    let kind = schema["type"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: no type"));
    assert!(
        ["OBJECT", "STRING", "INTEGER", "BOOLEAN", "ARRAY", "NUMBER"].contains(&kind),
        "{at}: {kind}"
    );
    match kind {
        "OBJECT" => {
            let properties = schema["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: no properties"));
            assert!(
                !properties.is_empty(),
                "{at}: Gemini rejects an OBJECT without properties"
            );
            for (name, property) in properties {
                check_schema(property, &format!("{at}.{name}"));
            }
            if let Some(required) = schema.get("required") {
                for name in required.as_array().unwrap() {
                    assert!(
                        properties.contains_key(name.as_str().unwrap()),
                        "{at}: required {name}"
                    );
                }
            }
        }
        "ARRAY" => check_schema(&schema["items"], &format!("{at}[]")),
        _ => {}
    }
}

#[test]
fn the_call_future_can_move_between_threads() {
    fn assert_send<T: Send>(_: T) {}
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let args = json!({});
    assert_send(ws.call("list_directory", &args));
    assert_send(ws.shutdown());
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Workspace>();
}

#[test]
fn opening_needs_an_existing_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), "").unwrap();
    let error = Workspace::open(dir.path().join("file"), WorkspaceOptions::default()).unwrap_err();
    assert!(error.to_string().contains("is not a folder"), "{error}");
    let error =
        Workspace::open(dir.path().join("missing"), WorkspaceOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot open the workspace folder"),
        "{error}"
    );
}
