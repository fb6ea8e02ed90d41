//! `grep_files` and `glob_search`: searches that stay inside the workspace,
//! skip hidden and git-ignored files, and never follow symbolic links.

use std::fs;
use std::path::Path;

use globset::GlobBuilder;
use regex::bytes::RegexBuilder;
use serde_json::json;

use super::args::Args;
use super::error::{Reply, ToolError, first_line};
use super::files::looks_binary;
use super::sandbox::{Sandbox, has_drive_prefix, shorten};
use super::walk::WalkOptions;

/// Longest pattern accepted, in bytes.
const MAX_PATTERN_BYTES: usize = 1024;
/// Most bytes of a compiled regular expression.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest matching line returned, in characters; longer lines are cut.
const MAX_LINE_CHARS: usize = 400;
/// Files larger than this are not searched.
const MAX_GREP_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most matches `grep_files` may be asked for.
const MAX_GREP_RESULTS: u64 = 1000;

/// `grep_files(pattern, path=".", recursive=true, ignore_case=false, max_results=100)`
pub(crate) fn grep_files(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let pattern = args.string("pattern")?;
    let path = args.string_or("path", ".")?;
    let recursive = args.bool_or("recursive", true)?;
    let ignore_case = args.bool_or("ignore_case", false)?;
    let max_results = args.integer_or("max_results", 1, MAX_GREP_RESULTS, 100)? as usize;
    if pattern.is_empty() || pattern.len() > MAX_PATTERN_BYTES {
        return Err(args.error(
            "pattern",
            &format!("must be 1 to {MAX_PATTERN_BYTES} bytes long"),
        ));
    }
    let regex = RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| {
            ToolError::new(format!(
                "invalid regular expression: {}",
                first_line(&error.to_string())
            ))
        })?;
    let (rel, real) = sandbox.existing(path)?;

    let files: Box<dyn Iterator<Item = std::path::PathBuf>> = if real.is_dir() {
        let options = WalkOptions {
            max_depth: (!recursive).then_some(1),
            include_hidden: false,
            gitignore: true,
        };
        Box::new(
            sandbox
                .walk(&real, options)
                .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
                .map(|entry| entry.into_path()),
        )
    } else {
        Box::new(std::iter::once(real))
    };

    let budget = sandbox.limits().max_output_bytes;
    let mut used = 0usize;
    let mut matches = Vec::new();
    let mut searched = 0usize;
    let mut skipped = 0usize;
    let mut truncated = false;
    'files: for file in files {
        let Some(bytes) = read_searchable(sandbox, &file) else {
            skipped += 1;
            continue;
        };
        searched += 1;
        let shown = sandbox.rel(&file);
        for (index, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !regex.is_match(line) {
                continue;
            }
            if matches.len() == max_results || used > budget {
                truncated = true;
                break 'files;
            }
            let text = cut_line(&String::from_utf8_lossy(line));
            used += text.len() + shown.len() + 32;
            matches.push(json!({"path": shown, "line_number": index + 1, "line": text}));
        }
    }
    Ok(Reply::ok(json!({
        "pattern": pattern,
        "path": rel,
        "count": matches.len(),
        "matches": matches,
        "truncated": truncated,
        "files_searched": searched,
        "files_skipped": skipped,
    })))
}

/// `glob_search(pattern, path=".", recursive=true)`
pub(crate) fn glob_search(sandbox: &Sandbox, args: &Args<'_>) -> Result<Reply, ToolError> {
    let pattern = args.string("pattern")?;
    let path = args.string_or("path", ".")?;
    let recursive = args.bool_or("recursive", true)?;
    let parts = check_glob(pattern)?;
    let (rel, real) = sandbox.existing_dir(path)?;

    let normalised = parts.join("/");
    let effective = if recursive && !normalised.starts_with("**") {
        format!("**/{normalised}")
    } else {
        normalised
    };
    let matcher = GlobBuilder::new(&effective)
        .literal_separator(true)
        .build()
        .map_err(|error| {
            ToolError::new(format!(
                "invalid glob pattern: {}",
                first_line(&error.to_string())
            ))
        })?
        .compile_matcher();
    let unbounded = recursive || parts.iter().any(|part| part.contains("**"));
    let options = WalkOptions {
        max_depth: (!unbounded).then_some(parts.len()),
        include_hidden: parts.iter().any(|part| part.starts_with('.')),
        gitignore: true,
    };
    let limit = sandbox.limits().max_list_entries;
    let mut found = Vec::new();
    let mut truncated = false;
    for entry in sandbox.walk(&real, options) {
        let Ok(below) = entry.path().strip_prefix(&real) else {
            continue;
        };
        if !matcher.is_match(below) {
            continue;
        }
        if entry.path_is_symlink() && !link_stays_inside(sandbox, entry.path()) {
            continue;
        }
        if found.len() == limit {
            truncated = true;
            break;
        }
        found.push(sandbox.rel(entry.path()));
    }
    found.sort();
    Ok(Reply::ok(json!({
        "pattern": pattern,
        "path": rel,
        "count": found.len(),
        "matches": found,
        "truncated": truncated,
    })))
}

/// Checks a glob pattern: relative, no `..`, no NUL. Returns its parts.
fn check_glob(pattern: &str) -> Result<Vec<String>, ToolError> {
    if pattern.is_empty() || pattern.len() > MAX_PATTERN_BYTES {
        return Err(ToolError::new(format!(
            "glob_search: the pattern must be 1 to {MAX_PATTERN_BYTES} bytes long"
        )));
    }
    if pattern.contains('\0') {
        return Err(ToolError::new(
            "glob_search: the pattern contains a NUL byte",
        ));
    }
    let text = pattern.replace('\\', "/");
    if text.starts_with('/') || has_drive_prefix(&text) || text.starts_with('~') {
        return Err(ToolError::new(format!(
            "glob pattern '{}' is absolute; give a pattern relative to the search folder",
            shorten(pattern)
        )));
    }
    let parts: Vec<String> = text
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .map(str::to_owned)
        .collect();
    if parts.iter().any(|part| part == "..") {
        return Err(ToolError::new(format!(
            "glob pattern '{}' contains '..'; searches stay inside the workspace folder",
            shorten(pattern)
        )));
    }
    if parts.is_empty() {
        return Err(ToolError::new(
            "glob_search: the pattern names nothing; try '*' or '**/*.rs'",
        ));
    }
    Ok(parts)
}

fn link_stays_inside(sandbox: &Sandbox, link: &Path) -> bool {
    fs::canonicalize(link).is_ok_and(|real| sandbox.contains(&real))
}

/// The bytes of a text file worth searching, or `None` for binary, huge or
/// unreadable files.
/// The bytes of a text file to search, read through the root handle (so a
/// file swapped for a link after the walk cannot lead outside).
fn read_searchable(sandbox: &Sandbox, file: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let opened = sandbox.open_walked(file)?;
    if opened.metadata().ok()?.len() > MAX_GREP_FILE_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    opened
        .take(MAX_GREP_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_GREP_FILE_BYTES && !looks_binary(&bytes)).then_some(bytes)
}

fn cut_line(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() <= MAX_LINE_CHARS {
        return line.to_owned();
    }
    let cut: String = line.chars().take(MAX_LINE_CHARS).collect();
    format!("{cut}… [line cut]")
}
