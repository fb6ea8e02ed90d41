//! The Gemini function declarations of the tools, with descriptions written
//! for the model.
//!
//! Schemas use the OpenAPI subset of the `parameters` field (`OBJECT`,
//! `STRING`, `INTEGER`, `BOOLEAN`, `ARRAY`). Gemini rejects an `OBJECT`
//! without properties, so free-form values are declared differently:
//! `structure` is a `STRING` holding a JSON object (an object is accepted
//! too), and a batch task's `args` lists every parameter any tool takes.

use serde_json::{Map, Value, json};

use super::ToolName;

/// The declaration of `tool`.
pub(crate) fn declaration(tool: ToolName) -> Value {
    let (description, properties, required) = spec(tool);
    let mut props = Map::new();
    for (name, schema) in properties {
        props.insert(name.to_owned(), schema);
    }
    let mut parameters = json!({"type": "OBJECT", "properties": props});
    if !required.is_empty() {
        parameters["required"] = json!(required);
    }
    json!({"name": tool.as_str(), "description": description, "parameters": parameters})
}

fn string(description: &str) -> Value {
    json!({"type": "STRING", "description": description})
}

fn integer(description: &str) -> Value {
    json!({"type": "INTEGER", "description": description})
}

fn boolean(description: &str) -> Value {
    json!({"type": "BOOLEAN", "description": description})
}

const PATH: &str = "Path relative to the workspace folder, e.g. 'src/main.py'. Absolute paths and '..' out of the workspace are refused.";
const DIR: &str =
    "Folder relative to the workspace folder; '.' (the default) is the workspace itself.";

type Spec = (&'static str, Vec<(&'static str, Value)>, Vec<&'static str>);

fn spec(tool: ToolName) -> Spec {
    match tool {
        ToolName::CreateFile => (
            "Write a new text file with the complete content given, creating missing parent folders. Fails if the file exists unless overwrite is true.",
            vec![
                ("path", string(PATH)),
                (
                    "content",
                    string(
                        "The full text of the file. Write complete, working content, never placeholders.",
                    ),
                ),
                (
                    "overwrite",
                    boolean("Replace the file if it already exists. Default false."),
                ),
            ],
            vec!["path", "content"],
        ),
        ToolName::ReadFile => (
            "Read a text file from the workspace. Large files come back cut, with truncated=true; binary files are reported by size only.",
            vec![("path", string(PATH))],
            vec!["path"],
        ),
        ToolName::UpdateFile => (
            "Change an existing file: replace its whole content, or append or prepend text.",
            vec![
                ("path", string(PATH)),
                ("content", string("The text to write.")),
                (
                    "mode",
                    string("One of 'replace' (default), 'append' or 'prepend'."),
                ),
            ],
            vec!["path", "content"],
        ),
        ToolName::DeleteFile => (
            "Delete a file or a folder (with everything in it) inside the workspace. A symbolic link is removed, not its target.",
            vec![("path", string(PATH))],
            vec!["path"],
        ),
        ToolName::CreateDirectory => (
            "Create a folder in the workspace.",
            vec![
                ("path", string(PATH)),
                (
                    "parents",
                    boolean("Also create missing parent folders. Default true."),
                ),
            ],
            vec!["path"],
        ),
        ToolName::ListDirectory => (
            "List the files and folders in a workspace folder, sorted by name, with sizes.",
            vec![
                ("path", string(DIR)),
                (
                    "recursive",
                    boolean(
                        "Include everything below, not just the folder's own entries. Default false.",
                    ),
                ),
                (
                    "include_hidden",
                    boolean("Include names starting with a dot. Default false."),
                ),
            ],
            vec![],
        ),
        ToolName::CreateProjectStructure => (
            "Create a project folder with many folders and files in one call. Every path is checked before anything is written; existing files are never replaced.",
            vec![
                (
                    "project_name",
                    string(
                        "Folder of the project, relative to the workspace folder ('.' for the workspace itself).",
                    ),
                ),
                (
                    "structure",
                    string(
                        "A JSON object describing the content: each key is a file or folder name; a string value is the file's full text, an object value is a folder described the same way. Example: {\"src\": {\"main.py\": \"print('hi')\"}, \"README.md\": \"# Demo\"}",
                    ),
                ),
            ],
            vec!["project_name", "structure"],
        ),
        ToolName::GetProjectTree => (
            "Show the folder tree of the workspace (or a folder in it) as text, skipping hidden and git-ignored files.",
            vec![
                ("path", string(DIR)),
                (
                    "max_depth",
                    integer("How many levels to show, 1 to 20. Default 5."),
                ),
            ],
            vec![],
        ),
        ToolName::GetFileInfo => (
            "Describe a file or folder: type (file, directory or symlink), size in bytes, modified and created times (RFC 3339), read-only flag.",
            vec![("path", string(PATH))],
            vec!["path"],
        ),
        ToolName::Bash => (
            "Run a shell command (bash) in the workspace folder and return its exit code, stdout and stderr (long output is cut in the middle). Without a timeout, installs get 600 s, builds and tests 300 s, quick file commands 30 s, anything else 120 s.",
            vec![
                ("command", string("The shell command line.")),
                (
                    "path",
                    string("Folder to run in, relative to the workspace folder. Default '.'."),
                ),
                (
                    "timeout",
                    integer("Seconds before the command is stopped, 1 to 3600."),
                ),
                (
                    "background",
                    boolean(
                        "Start the command and return at once with a process id; its output is discarded, so redirect it to a file if needed. Default false.",
                    ),
                ),
                (
                    "stream_output",
                    boolean(
                        "Accepted for compatibility; output is returned when the command ends. Default false.",
                    ),
                ),
            ],
            vec!["command"],
        ),
        ToolName::GrepFiles => (
            "Search file contents with a regular expression (Rust regex syntax). Returns path, line_number and line for each match; skips binary, hidden and git-ignored files.",
            vec![
                ("pattern", string("The regular expression.")),
                (
                    "path",
                    string(
                        "File or folder to search, relative to the workspace folder. Default '.'.",
                    ),
                ),
                (
                    "recursive",
                    boolean("Search sub-folders too. Default true."),
                ),
                (
                    "ignore_case",
                    boolean("Match without regard to case. Default false."),
                ),
                (
                    "max_results",
                    integer("Most matches to return, 1 to 1000. Default 100."),
                ),
            ],
            vec!["pattern"],
        ),
        ToolName::GlobSearch => (
            "Find files and folders whose path matches a glob pattern such as '*.py' or 'src/**/*.rs'. Skips hidden and git-ignored files.",
            vec![
                (
                    "pattern",
                    string(
                        "Glob pattern relative to the search folder; '..' and absolute patterns are refused.",
                    ),
                ),
                (
                    "path",
                    string("Folder to search in, relative to the workspace folder. Default '.'."),
                ),
                (
                    "recursive",
                    boolean("Match at any depth below the folder. Default true."),
                ),
            ],
            vec!["pattern"],
        ),
        ToolName::GitOperations => (
            "Run a git command in the workspace: status, diff, log, add, commit, branch or checkout. Arguments are split like a shell would but nothing is expanded.",
            vec![
                (
                    "operation",
                    string("One of: status, diff, log, add, commit, branch, checkout."),
                ),
                (
                    "args",
                    string(
                        "Extra arguments, e.g. \"-m 'Add parser'\" for commit or \"--oneline -n 5\" for log. Default empty.",
                    ),
                ),
                (
                    "path",
                    string("Folder to run in, relative to the workspace folder. Default '.'."),
                ),
            ],
            vec!["operation"],
        ),
        ToolName::ExecuteBatch => (
            "Run several of the other tools at once, in parallel, and get every result in the order of the tasks. Useful for reading or writing many files in one step.",
            vec![
                (
                    "tasks",
                    json!({
                        "type": "ARRAY",
                        "description": "The calls to make, each {\"tool\": name, \"args\": {...}}. execute_batch itself cannot be nested.",
                        "items": {
                            "type": "OBJECT",
                            "properties": {
                                "tool": string("Name of the tool to call."),
                                "args": batch_args(),
                            },
                            "required": ["tool"],
                        },
                    }),
                ),
                (
                    "allowed_tools",
                    json!({
                        "type": "ARRAY",
                        "description": "If given, only these tools may run in this batch.",
                        "items": {"type": "STRING"},
                    }),
                ),
                (
                    "max_workers",
                    integer("How many tasks run at the same time. Default 4."),
                ),
            ],
            vec!["tasks"],
        ),
    }
}

/// The `args` of a batch task: every parameter of every other tool, typed as
/// in that tool's own declaration (the names never clash in type).
fn batch_args() -> Value {
    let mut props = Map::new();
    for tool in ToolName::ALL {
        if tool == ToolName::ExecuteBatch {
            continue;
        }
        let (_, properties, _) = spec(tool);
        for (name, schema) in properties {
            props.entry(name.to_owned()).or_insert_with(|| {
                let kind = schema.get("type").cloned().unwrap_or(Value::Null);
                json!({"type": kind})
            });
        }
    }
    json!({"type": "OBJECT", "description": "The arguments of that tool, as in its own declaration.", "properties": props})
}
