//! The one-line error a tool hands back to the model, and the result a tool
//! builds before it is wrapped into the `{"success": ..}` object.

use serde_json::{Map, Value};

/// Why a tool call failed, in one line the model can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolError(String);

impl ToolError {
    /// An error with this message.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// An I/O error while doing `what` (for example "reading notes.txt").
    pub(crate) fn io(what: &str, error: &std::io::Error) -> Self {
        let reason = match error.kind() {
            std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            std::io::ErrorKind::AlreadyExists => "it already exists".to_owned(),
            std::io::ErrorKind::NotADirectory => {
                "a part of the path is a file, not a folder".to_owned()
            }
            std::io::ErrorKind::IsADirectory => "it is a folder".to_owned(),
            std::io::ErrorKind::DirectoryNotEmpty => "the folder is not empty".to_owned(),
            _ => first_line(&error.to_string()),
        };
        Self(format!("{what} failed: {reason}"))
    }

    /// The message.
    pub(crate) fn message(&self) -> &str {
        &self.0
    }
}

/// The first line of `text`, for error messages that must stay on one line.
pub(crate) fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
        .to_owned()
}

/// What a tool produced: the fields for the model, whether it succeeded, and
/// the files it created.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reply {
    pub(crate) ok: bool,
    pub(crate) fields: Map<String, Value>,
    pub(crate) created: Vec<String>,
}

impl Reply {
    /// A successful reply with these fields (`fields` must be a JSON object;
    /// anything else is stored under `"result"`).
    pub(crate) fn ok(fields: Value) -> Self {
        Self {
            ok: true,
            fields: into_map(fields),
            created: Vec::new(),
        }
    }

    /// A failed reply that still carries result fields (a command that ran
    /// but exited with an error status).
    pub(crate) fn failed(error: impl Into<String>, fields: Value) -> Self {
        let mut fields = into_map(fields);
        fields.insert("error".to_owned(), Value::String(error.into()));
        Self {
            ok: false,
            fields,
            created: Vec::new(),
        }
    }

    /// The same reply recording `created` as newly created files.
    pub(crate) fn with_created(mut self, created: Vec<String>) -> Self {
        self.created = created;
        self
    }
}

fn into_map(fields: Value) -> Map<String, Value> {
    match fields {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            let mut map = Map::new();
            map.insert("result".to_owned(), other);
            map
        }
    }
}
