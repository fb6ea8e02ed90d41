//! The single-file tools: create, read, update, delete, make a folder, and
//! describe a path.

use std::fs;
use std::io::{Read, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::args::Args;
use super::error::{Reply, ToolError};
use super::sandbox::{Access, Resolved, Sandbox, State};

/// How many leading bytes are checked for a NUL byte to call a file binary.
pub(crate) const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// Whether `bytes` (the start of a file) look binary.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0)
}

/// `create_file(path, content, overwrite=false)`
pub(crate) fn create_file(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let path = args.string("path")?;
    let content = args.string("content")?;
    let overwrite = args.bool_or("overwrite", false)?;
    check_write_size(sandbox, content.len())?;
    let resolved = sandbox.resolve(path)?;
    let Some(name) = resolved.parts.last().cloned() else {
        return Err(ToolError::new(
            "create_file needs the path of a file, not the workspace folder",
        ));
    };
    sandbox.check_change(&resolved)?;
    match resolved.state {
        State::Missing { base, missing } => {
            let parent = sandbox.create_dirs(&base, &missing[..missing.len() - 1])?;
            let mut file = sandbox.create_new_file(&parent, &name)?;
            file.write_all(content.as_bytes())
                .map_err(|error| ToolError::io(&format!("writing '{}'", resolved.rel), &error))?;
            Ok(Reply::ok(
                json!({"path": resolved.rel, "bytes": content.len(), "overwritten": false}),
            )
            .with_created(vec![resolved.rel]))
        }
        State::Exists { real, .. } if real.is_dir() => Err(ToolError::new(format!(
            "'{}' is a folder; choose a file path",
            resolved.rel
        ))),
        State::Exists { .. } if !overwrite => Err(ToolError::new(format!(
            "'{}' already exists; pass overwrite=true to replace it, or use update_file",
            resolved.rel
        ))),
        State::Exists { real, .. } => {
            let file = sandbox.open_existing(&real, Access::Write)?;
            replace_contents(file, content.as_bytes(), &resolved.rel)?;
            Ok(Reply::ok(
                json!({"path": resolved.rel, "bytes": content.len(), "overwritten": true}),
            ))
        }
        State::BrokenLink { .. } => Err(broken_link(&resolved)),
    }
}

/// `read_file(path)`
pub(crate) fn read_file(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let (rel, real) = sandbox.existing(args.string("path")?)?;
    if real.is_dir() {
        return Err(ToolError::new(format!(
            "'{rel}' is a folder; use list_directory to see what is in it"
        )));
    }
    let file = sandbox.open_existing(&real, Access::Read)?;
    let size = file
        .metadata()
        .map_err(|error| ToolError::io(&format!("reading '{rel}'"), &error))?
        .len();
    let limit = sandbox.limits().max_read_bytes;
    let mut bytes = Vec::new();
    file.take(limit as u64)
        .read_to_end(&mut bytes)
        .map_err(|error| ToolError::io(&format!("reading '{rel}'"), &error))?;
    let truncated = size > bytes.len() as u64;
    if looks_binary(&bytes) {
        return Ok(Reply::ok(
            json!({"path": rel, "binary": true, "size": size}),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let utf8 = error.utf8_error();
            // A cut in the middle of a character at the end is not binary.
            if truncated && utf8.error_len().is_none() {
                let mut bytes = error.into_bytes();
                bytes.truncate(utf8.valid_up_to());
                String::from_utf8(bytes).unwrap_or_default()
            } else {
                return Ok(Reply::ok(
                    json!({"path": rel, "binary": true, "size": size}),
                ));
            }
        }
    };
    let mut fields = json!({"path": rel, "content": text, "size": size, "truncated": truncated});
    if truncated {
        fields["note"] = json!(format!(
            "only the first {} bytes of {size} are shown",
            text.len()
        ));
    }
    Ok(Reply::ok(fields))
}

/// `update_file(path, content, mode=replace|append|prepend)`
pub(crate) fn update_file(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let path = args.string("path")?;
    let content = args.string("content")?;
    let mode = args.string_or("mode", "replace")?;
    if !matches!(mode, "replace" | "append" | "prepend") {
        return Err(args.error("mode", "must be one of: replace, append, prepend"));
    }
    sandbox.check_change(&sandbox.resolve(path)?)?;
    let (rel, real) = match sandbox.existing(path) {
        Ok(found) => found,
        Err(error)
            if matches!(
                sandbox.resolve(path).map(|r| r.state),
                Ok(State::Missing { .. })
            ) =>
        {
            return Err(ToolError::new(format!(
                "{}; use create_file to make a new file",
                error.message()
            )));
        }
        Err(error) => return Err(error),
    };
    if real.is_dir() {
        return Err(ToolError::new(format!(
            "'{rel}' is a folder; choose a file path"
        )));
    }
    let current = sandbox.symlink_metadata(&real)?;
    let new_size = match mode {
        "replace" => content.len() as u64,
        _ => current.len() + content.len() as u64,
    };
    check_write_size(sandbox, usize::try_from(new_size).unwrap_or(usize::MAX))?;
    match mode {
        "append" => {
            let mut file = sandbox.open_existing(&real, Access::Append)?;
            file.write_all(content.as_bytes())
                .map_err(|error| ToolError::io(&format!("appending to '{rel}'"), &error))?;
        }
        "prepend" => {
            let mut file = sandbox.open_existing(&real, Access::ReadWrite)?;
            let mut old = Vec::new();
            file.read_to_end(&mut old)
                .map_err(|error| ToolError::io(&format!("reading '{rel}'"), &error))?;
            let mut joined = content.as_bytes().to_vec();
            joined.extend_from_slice(&old);
            replace_contents(file, &joined, &rel)?;
        }
        _ => {
            let file = sandbox.open_existing(&real, Access::Write)?;
            replace_contents(file, content.as_bytes(), &rel)?;
        }
    }
    Ok(Reply::ok(
        json!({"path": rel, "mode": mode, "size": new_size}),
    ))
}

/// `delete_file(path)`: a file, a symbolic link (the link itself) or a
/// folder with everything in it.
pub(crate) fn delete_file(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let resolved = sandbox.resolve(args.string("path")?)?;
    if resolved.parts.is_empty() {
        return Err(ToolError::new(
            "refusing to delete the workspace folder itself; name something inside it",
        ));
    }
    sandbox.check_change(&resolved)?;
    let rel = &resolved.rel;
    let (own, kind) = match &resolved.state {
        State::Missing { .. } => return Err(ToolError::new(format!("'{rel}' does not exist"))),
        State::BrokenLink { inside: false, .. } => {
            return Err(ToolError::new(format!(
                "'{rel}' is a symbolic link pointing outside the workspace folder; it is left alone"
            )));
        }
        State::BrokenLink { own, inside: true } => (own, "symlink"),
        State::Exists {
            own, link: true, ..
        } => (own, "symlink"),
        State::Exists { own, real, .. } if real.is_dir() => (own, "directory"),
        State::Exists { own, .. } => (own, "file"),
    };
    if kind == "directory" {
        sandbox.check_tree(rel, own)?;
        sandbox.remove_dir_all(own)?;
    } else {
        sandbox.remove_file(own)?;
    }
    Ok(Reply::ok(json!({"path": rel, "deleted": kind})))
}

/// `create_directory(path, parents=true)`
pub(crate) fn create_directory(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let parents = args.bool_or("parents", true)?;
    let resolved = sandbox.resolve(args.string("path")?)?;
    let rel = resolved.rel.clone();
    if matches!(resolved.state, State::Missing { .. }) {
        sandbox.check_change(&resolved)?;
    }
    match resolved.state {
        State::Exists { real, .. } if real.is_dir() => {
            Ok(Reply::ok(json!({"path": rel, "created": false})))
        }
        State::Exists { .. } => Err(ToolError::new(format!("'{rel}' exists and is a file"))),
        State::BrokenLink { .. } => Err(broken_link(&resolved)),
        State::Missing { missing, .. } if !parents && missing.len() > 1 => {
            Err(ToolError::new(format!(
                "the folder holding '{rel}' does not exist; pass parents=true to create it too"
            )))
        }
        State::Missing { base, missing } => {
            sandbox.create_dirs(&base, &missing)?;
            Ok(Reply::ok(json!({"path": rel, "created": true})))
        }
    }
}

/// `get_file_info(path)`
pub(crate) fn get_file_info(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let resolved = sandbox.resolve(args.string("path")?)?;
    let rel = resolved.rel.clone();
    match resolved.state {
        State::Missing { .. } => Err(ToolError::new(format!("'{rel}' does not exist"))),
        State::BrokenLink { .. } => Ok(Reply::ok(
            json!({"path": rel, "type": "symlink", "broken": true}),
        )),
        State::Exists { real, link, .. } => {
            let meta = sandbox.metadata(&real)?;
            let kind = if link {
                "symlink"
            } else if meta.is_dir() {
                "directory"
            } else {
                "file"
            };
            let mut fields = json!({
                "path": rel,
                "type": kind,
                "size": meta.len(),
                "modified": rfc3339(meta.modified()),
                "created": rfc3339(meta.created()),
                "accessed": rfc3339(meta.accessed()),
                "readonly": meta.permissions().readonly(),
            });
            if link {
                fields["target"] = json!(sandbox.rel(&real));
                fields["target_type"] = json!(if meta.is_dir() { "directory" } else { "file" });
            }
            Ok(Reply::ok(fields))
        }
    }
}

fn rfc3339(time: std::io::Result<cap_std::time::SystemTime>) -> Value {
    match time {
        Ok(time) => Value::String(
            DateTime::<Utc>::from(time.into_std()).to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        Err(_) => Value::Null,
    }
}

fn replace_contents(mut file: fs::File, content: &[u8], rel: &str) -> Result<(), ToolError> {
    use std::io::{Seek, SeekFrom};
    file.set_len(0)
        .map_err(|error| ToolError::io(&format!("writing '{rel}'"), &error))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|error| ToolError::io(&format!("writing '{rel}'"), &error))?;
    file.write_all(content)
        .map_err(|error| ToolError::io(&format!("writing '{rel}'"), &error))
}

pub(crate) fn check_write_size(sandbox: &Sandbox, size: usize) -> Result<(), ToolError> {
    let limit = sandbox.limits().max_write_bytes;
    if size > limit {
        return Err(ToolError::new(format!(
            "the file would be {size} bytes; the limit is {limit} bytes"
        )));
    }
    Ok(())
}

fn broken_link(resolved: &Resolved) -> ToolError {
    let rel = &resolved.rel;
    match resolved.state {
        State::BrokenLink { inside: false, .. } => ToolError::new(format!(
            "'{rel}' is a symbolic link pointing outside the workspace folder; choose another name"
        )),
        _ => ToolError::new(format!(
            "'{rel}' is a symbolic link to something that does not exist; delete it first"
        )),
    }
}
