//! `create_project_structure`: a folder of folders and files in one call.
//! Every path is checked by the sandbox before anything is written.

use std::io::Write;

use serde_json::{Map, Value, json};

use super::args::Args;
use super::error::{Reply, ToolError};
use super::files::check_write_size;
use super::sandbox::{Sandbox, State, shorten};

/// Deepest nesting of the structure.
const MAX_NESTING: usize = 32;

enum Item {
    Folder(String),
    File(String, String),
}

/// `create_project_structure(project_name, structure)`
pub(crate) fn create_project_structure(
    sandbox: &Sandbox,
    args: &Args<'_>,
) -> Result<Reply, ToolError> {
    let project = args.string("project_name")?;
    let structure = match args.get("structure") {
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(args.error(
                    "structure",
                    "must be a JSON object (names to file contents or folders)",
                ));
            }
        },
        Some(_) => {
            return Err(args.error(
                "structure",
                "must be a JSON object (names to file contents or folders)",
            ));
        }
        None => return Err(args.error("structure", "is required")),
    };
    let project_parts = sandbox.components(project)?;
    let project_rel = if project_parts.is_empty() {
        ".".to_owned()
    } else {
        project_parts.join("/")
    };

    // Plan: flatten and check every entry before touching the disk.
    let mut items = vec![Item::Folder(project_rel.clone())];
    let mut total_bytes = 0usize;
    flatten(&structure, &project_rel, 1, &mut items, &mut total_bytes)?;
    let limits = sandbox.limits();
    if items.len() > limits.max_list_entries {
        return Err(ToolError::new(format!(
            "the structure has {} entries; the limit is {}",
            items.len(),
            limits.max_list_entries
        )));
    }
    check_write_size(sandbox, total_bytes)?;
    for item in &items {
        let resolved = match item {
            Item::Folder(rel) | Item::File(rel, _) => sandbox.resolve(rel)?,
        };
        if matches!(resolved.state, State::Missing { .. }) {
            sandbox.check_change(&resolved)?;
        }
        match (item, &resolved.state) {
            (_, State::BrokenLink { .. }) => {
                return Err(ToolError::new(format!(
                    "'{}' is a broken symbolic link; nothing was created",
                    resolved.rel
                )));
            }
            (Item::Folder(_), State::Exists { real, .. }) if !real.is_dir() => {
                return Err(ToolError::new(format!(
                    "'{}' exists and is a file; nothing was created",
                    resolved.rel
                )));
            }
            (Item::File(..), State::Exists { .. }) => {
                return Err(ToolError::new(format!(
                    "'{}' already exists; nothing was created (use update_file to change it)",
                    resolved.rel
                )));
            }
            _ => {}
        }
    }

    // Write.
    let mut files = Vec::new();
    let mut folders = Vec::new();
    for item in &items {
        let resolved = match item {
            Item::Folder(rel) | Item::File(rel, _) => sandbox.resolve(rel)?,
        };
        let State::Missing { base, missing } = resolved.state else {
            continue;
        };
        match item {
            Item::Folder(_) => {
                sandbox.create_dirs(&base, &missing)?;
                folders.push(resolved.rel);
            }
            Item::File(_, content) => {
                let parent = sandbox.create_dirs(&base, &missing[..missing.len() - 1])?;
                let name = &missing[missing.len() - 1];
                let mut file = sandbox.create_new_file(&parent, name)?;
                file.write_all(content.as_bytes()).map_err(|error| {
                    ToolError::io(&format!("writing '{}'", resolved.rel), &error)
                })?;
                files.push(resolved.rel);
            }
        }
    }
    Ok(Reply::ok(json!({
        "project": project_rel,
        "files": files,
        "directories": folders,
    }))
    .with_created(files))
}

fn flatten(
    map: &Map<String, Value>,
    prefix: &str,
    depth: usize,
    items: &mut Vec<Item>,
    total_bytes: &mut usize,
) -> Result<(), ToolError> {
    if depth > MAX_NESTING {
        return Err(ToolError::new(format!(
            "the structure is nested deeper than {MAX_NESTING} levels"
        )));
    }
    for (key, value) in map {
        check_key(key)?;
        let rel = if prefix == "." {
            key.clone()
        } else {
            format!("{prefix}/{key}")
        };
        match value {
            Value::String(content) => {
                *total_bytes += content.len();
                items.push(Item::File(rel, content.clone()));
            }
            Value::Object(children) => {
                items.push(Item::Folder(rel.clone()));
                flatten(children, &rel, depth + 1, items, total_bytes)?;
            }
            _ => {
                return Err(ToolError::new(format!(
                    "'{}': a value must be a string (file content) or an object (folder)",
                    shorten(&rel)
                )));
            }
        }
    }
    Ok(())
}

/// A key names something inside the project: relative, no `..`.
fn check_key(key: &str) -> Result<(), ToolError> {
    let text = key.replace('\\', "/");
    let names: Vec<&str> = text
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if names.is_empty()
        || text.starts_with('/')
        || text.starts_with('~')
        || super::sandbox::has_drive_prefix(&text)
        || names.contains(&"..")
        || key.contains('\0')
    {
        return Err(ToolError::new(format!(
            "'{}' is not a name inside the project: use plain relative names, without '..'; nothing was created",
            shorten(key)
        )));
    }
    Ok(())
}
