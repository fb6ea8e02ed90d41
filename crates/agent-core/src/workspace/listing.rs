//! `list_directory` and `get_project_tree`: bounded, sorted views of a
//! folder that never follow symbolic links.

use std::fmt::Write as _;

use ignore::DirEntry;
use serde_json::{Value, json};

use super::args::Args;
use super::error::{Reply, ToolError};
use super::sandbox::Sandbox;
use super::walk::WalkOptions;

/// Deepest `max_depth` accepted by `get_project_tree`.
const MAX_TREE_DEPTH: u64 = 20;

/// `list_directory(path=".", recursive=false, include_hidden=false)`
pub(crate) fn list_directory(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let path = args.string_or("path", ".")?;
    let recursive = args.bool_or("recursive", false)?;
    let include_hidden = args.bool_or("include_hidden", false)?;
    let (rel, real) = sandbox.existing_dir(path)?;
    let options = WalkOptions {
        max_depth: (!recursive).then_some(1),
        include_hidden,
        gitignore: false,
    };
    let limit = sandbox.limits().max_list_entries;
    let mut entries = Vec::new();
    let mut truncated = false;
    for entry in sandbox.walk(&real, options) {
        if entries.len() == limit {
            truncated = true;
            break;
        }
        let kind = kind_of(&entry);
        let mut item = json!({
            "path": sandbox.rel(entry.path()),
            "name": entry.file_name().to_string_lossy(),
            "type": kind,
        });
        if kind == "file"
            && let Ok(meta) = entry.metadata()
        {
            item["size"] = json!(meta.len());
        }
        entries.push(item);
    }
    Ok(Reply::ok(
        json!({"path": rel, "count": entries.len(), "entries": entries, "truncated": truncated}),
    ))
}

/// `get_project_tree(path=".", max_depth=5)`
pub(crate) fn get_project_tree(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let path = args.string_or("path", ".")?;
    let max_depth = args.integer_or("max_depth", 1, MAX_TREE_DEPTH, 5)? as usize;
    let (rel, real) = sandbox.existing_dir(path)?;
    let options = WalkOptions {
        max_depth: Some(max_depth),
        include_hidden: false,
        gitignore: true,
    };
    let limit = sandbox.limits().max_list_entries;

    // Entries arrive depth first, sorted within each folder; a stack of
    // open folders turns them into a tree.
    let mut stack = vec![Node::new(label_of_root(sandbox, &rel), "directory")];
    let (mut files, mut directories, mut truncated) = (0usize, 0usize, false);
    for entry in sandbox.walk(&real, options) {
        if files + directories == limit {
            truncated = true;
            break;
        }
        while stack.len() > entry.depth() {
            close_last(&mut stack);
        }
        let kind = kind_of(&entry);
        if kind == "directory" {
            directories += 1;
        } else {
            files += 1;
        }
        stack.push(Node::new(
            entry.file_name().to_string_lossy().into_owned(),
            kind,
        ));
    }
    while stack.len() > 1 {
        close_last(&mut stack);
    }
    let mut tree = String::new();
    if let Some(root) = stack.pop() {
        let _ = writeln!(tree, "{}/", root.name);
        render(&root.children, "", &mut tree);
    }
    let mut fields = json!({"path": rel, "tree": tree, "files": files, "directories": directories, "max_depth": max_depth});
    fields["truncated"] = Value::Bool(truncated);
    Ok(Reply::ok(fields))
}

struct Node {
    name: String,
    kind: &'static str,
    children: Vec<Node>,
}

impl Node {
    fn new(name: String, kind: &'static str) -> Self {
        Self {
            name,
            kind,
            children: Vec::new(),
        }
    }
}

fn close_last(stack: &mut Vec<Node>) {
    if let Some(node) = stack.pop()
        && let Some(parent) = stack.last_mut()
    {
        parent.children.push(node);
    }
}

fn render(children: &[Node], indent: &str, out: &mut String) {
    for (index, child) in children.iter().enumerate() {
        let last = index + 1 == children.len();
        let branch = if last { "└── " } else { "├── " };
        let suffix = match child.kind {
            "directory" => "/",
            "symlink" => "@",
            _ => "",
        };
        let _ = writeln!(out, "{indent}{branch}{}{suffix}", child.name);
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        render(&child.children, &deeper, out);
    }
}

fn label_of_root(sandbox: &Sandbox, rel: &str) -> String {
    if rel == "." {
        sandbox
            .root()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".to_owned())
    } else {
        rel.to_owned()
    }
}

/// "file", "directory" or "symlink" (links are never followed).
pub(crate) fn kind_of(entry: &DirEntry) -> &'static str {
    match entry.file_type() {
        Some(kind) if kind.is_symlink() => "symlink",
        Some(kind) if kind.is_dir() => "directory",
        _ => "file",
    }
}
