//! The fourteen workspace tools the model can call, and the sandbox that
//! keeps them inside one folder.
//!
//! A [`Workspace`] is opened on an existing folder (the *root*, canonicalised
//! once). [`Workspace::declarations`] lists the tools for a Gemini request and
//! [`Workspace::call`] runs one call, always answering with a JSON object for
//! the model: `{"success": true, ..}` or `{"success": false, "error": ".."}`.
//! A call never panics and never returns `Err`.
//!
//! # Sandbox rules
//!
//! - Paths are relative to the root. Absolute paths (`/etc`, `C:\x`,
//!   `\\server\share`), paths starting with `~` (never expanded), NUL bytes,
//!   paths longer than [`Limits::max_path_len`] bytes and names longer than
//!   255 bytes are refused. Backslashes count as separators.
//! - `..` is applied to the text first; a path that climbs above the root is
//!   refused. Every existing prefix that is a symbolic link is canonicalised
//!   and must stay inside the root, compared component-wise (a sibling folder
//!   `ws-evil` does not pass for `ws`). Links inside the workspace that point
//!   inside it work as usual; links that point outside are refused for every
//!   tool: reading, writing, listing, searching and deleting. Deleting a link
//!   removes the link, never its target; a link pointing outside is still
//!   refused, so a link the operator made stays in place.
//! - New files are created with "create new" semantics, so a write never
//!   follows a last-component link; folders are created one at a time and
//!   each is re-checked. Existing files are opened and then checked to be the
//!   file that was resolved.
//! - Folder walks (listing, tree, grep, glob) never follow symbolic links.
//!   Tree, grep and glob honour `.gitignore` files inside the workspace (and
//!   only those) and skip hidden files.
//! - Reads and writes are bounded by [`Limits`]; binary files are reported
//!   by size, not dumped.
//! - Tools that change the file system never touch a [`ProtectedPaths`]
//!   path (agent-fork's settings and runs, `.git`, files other tools run or
//!   trust, the user's additions); reading them stays allowed. Paths into
//!   `/proc`, `/sys` and `/dev` are refused whatever the root.
//! - Every open, create, remove and look-up after the checks goes through
//!   a directory handle on the root (`cap-std`), so a file or folder
//!   swapped for a link between check and use cannot lead outside.
//! - `bash` and `git_operations` exist only with [`ShellAccess::Enabled`]:
//!   the operator's explicit opt-in. A shell command can do whatever the
//!   user running agent-fork can do; it starts in the workspace, sees only
//!   the [`ALLOWED_ENV`] variables, runs in a session of its own, has its
//!   whole process tree killed on timeout or cancellation (opening such a
//!   workspace makes this process a child subreaper and non-dumpable, on
//!   Linux), and a tiny deny-list stops a few catastrophic commands as a
//!   second line of defence only.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use agent_core::workspace::{Workspace, WorkspaceOptions};
//! use serde_json::json;
//!
//! let folder = tempfile::tempdir().unwrap();
//! let workspace = Workspace::open(folder.path(), WorkspaceOptions::default()).unwrap();
//! let outcome = workspace.call("create_file", &json!({"path": "notes/a.txt", "content": "hi"})).await;
//! assert!(outcome.ok);
//! assert_eq!(outcome.created, ["notes/a.txt"]);
//! let outcome = workspace.call("read_file", &json!({"path": "../secret"})).await;
//! assert_eq!(outcome.value["success"], false);
//! # }
//! ```

mod args;
mod batch;
mod declarations;
mod error;
mod files;
mod git;
mod listing;
mod process;
mod project;
mod protect;
mod sandbox;
mod search;
mod shell;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;
mod tools;
mod walk;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use self::args::Args;
use self::error::{Reply, ToolError};
pub use self::process::ALLOWED_ENV;
pub use self::protect::{DEFAULT_PROTECTED, ProtectPatternError, ProtectedPaths};
use self::sandbox::Sandbox;
use self::shell::Background;
pub use self::tools::ToolName;

/// Whether the shell tools (`bash`, `git_operations`) are offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShellAccess {
    /// No shell tools: they are not declared and calls to them are refused.
    #[default]
    Disabled,
    /// The operator opted in (`--allow-shell`): shell tools are declared.
    Enabled,
}

/// Size and count limits the tools obey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes `read_file` returns; longer files are cut and marked
    /// `"truncated": true`. Default 1 MiB.
    pub max_read_bytes: usize,
    /// Largest file a tool writes. Default 5 MiB.
    pub max_write_bytes: usize,
    /// Most bytes kept of each output stream of a command, and of grep
    /// matches. Default 64 KiB.
    pub max_output_bytes: usize,
    /// Longest path accepted, in bytes. Default 4096.
    pub max_path_len: usize,
    /// Most tasks in one `execute_batch`. Default 32.
    pub max_batch: usize,
    /// Most tasks of a batch that run at once, whatever the model asks.
    /// Default 8.
    pub max_workers: usize,
    /// Most entries a listing, tree or glob returns. Default 2000.
    pub max_list_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_read_bytes: 1024 * 1024,
            max_write_bytes: 5 * 1024 * 1024,
            max_output_bytes: 64 * 1024,
            max_path_len: 4096,
            max_batch: 32,
            max_workers: 8,
            max_list_entries: 2000,
        }
    }
}

/// How a [`Workspace`] is opened.
///
/// ```
/// use agent_core::workspace::{ShellAccess, WorkspaceOptions};
/// let options = WorkspaceOptions { shell: ShellAccess::Enabled, ..WorkspaceOptions::default() };
/// assert_eq!(options.limits.max_batch, 32);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceOptions {
    /// Whether shell tools are offered (default: no).
    pub shell: ShellAccess,
    /// Size and count limits.
    pub limits: Limits,
    /// What the tools may never change (the built-in list plus the user's
    /// additions).
    pub protected: ProtectedPaths,
}

/// Why a workspace could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The folder does not exist or cannot be read.
    #[error("cannot open the workspace folder {}: {source}", path.display())]
    Open {
        /// The folder given.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The path exists but is not a folder.
    #[error("the workspace {} is not a folder; give a directory", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A protect pattern is not a valid glob.
    #[error(transparent)]
    Protect(#[from] ProtectPatternError),
}

/// The answer to one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// Whether the call succeeded (the same as `value["success"]`).
    pub ok: bool,
    /// The JSON object handed back to the model: `{"success": true, ..}` or
    /// `{"success": false, "error": "one line"}`.
    pub value: Value,
    /// Files this call newly created, relative to the root, `/`-separated
    /// (overwritten files are not listed).
    pub created: Vec<String>,
}

impl ToolOutcome {
    fn from_result(result: Result<Reply, ToolError>) -> Self {
        let reply = result.unwrap_or_else(|error| Reply {
            ok: false,
            fields: serde_json::Map::from_iter([(
                "error".to_owned(),
                Value::String(error.message().to_owned()),
            )]),
            created: Vec::new(),
        });
        let mut fields = reply.fields;
        fields.insert("success".to_owned(), Value::Bool(reply.ok));
        Self {
            ok: reply.ok,
            value: Value::Object(fields),
            created: reply.created,
        }
    }
}

/// The workspace tools over one folder. See the [module docs](self) for the
/// sandbox rules.
pub struct Workspace {
    sandbox: Arc<Sandbox>,
    shell: ShellAccess,
    background: Background,
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("root", &self.sandbox.root())
            .field("shell", &self.shell)
            .finish()
    }
}

impl Workspace {
    /// Opens the workspace at `root`, which must be an existing folder.
    ///
    /// ```
    /// use agent_core::workspace::{Workspace, WorkspaceOptions};
    /// let folder = tempfile::tempdir().unwrap();
    /// let workspace = Workspace::open(folder.path(), WorkspaceOptions::default()).unwrap();
    /// assert_eq!(workspace.root(), folder.path().canonicalize().unwrap());
    /// assert!(Workspace::open(folder.path().join("missing"), WorkspaceOptions::default()).is_err());
    /// ```
    pub fn open(
        root: impl AsRef<Path>,
        options: WorkspaceOptions,
    ) -> Result<Workspace, WorkspaceError> {
        let given = root.as_ref();
        let root = given
            .canonicalize()
            .map_err(|source| WorkspaceError::Open {
                path: given.to_path_buf(),
                source,
            })?;
        if !root.is_dir() {
            return Err(WorkspaceError::NotADirectory {
                path: given.to_path_buf(),
            });
        }
        let protection = options.protected.compile(&root)?;
        let sandbox = Sandbox::new(root, options.limits, protection).map_err(|source| {
            WorkspaceError::Open {
                path: given.to_path_buf(),
                source,
            }
        })?;
        if options.shell == ShellAccess::Enabled {
            process::guard_process();
        }
        Ok(Workspace {
            sandbox: Arc::new(sandbox),
            shell: options.shell,
            background: Background::default(),
        })
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        self.sandbox.root()
    }

    /// Whether shell tools are offered.
    pub fn shell_access(&self) -> ShellAccess {
        self.shell
    }

    /// The tools offered: all fourteen with shell access, twelve without.
    pub fn tools(&self) -> Vec<ToolName> {
        ToolName::ALL
            .into_iter()
            .filter(|tool| self.enabled(*tool))
            .collect()
    }

    /// One Gemini `FunctionDeclaration` object per offered tool:
    /// `{"name", "description", "parameters"}` with an OpenAPI-subset schema.
    ///
    /// ```
    /// use agent_core::workspace::{Workspace, WorkspaceOptions};
    /// let folder = tempfile::tempdir().unwrap();
    /// let workspace = Workspace::open(folder.path(), WorkspaceOptions::default()).unwrap();
    /// let names: Vec<_> = workspace.declarations().iter().map(|d| d["name"].as_str().unwrap().to_owned()).collect();
    /// assert!(names.contains(&"read_file".to_owned()));
    /// assert!(!names.contains(&"bash".to_owned()));
    /// ```
    pub fn declarations(&self) -> Vec<Value> {
        self.tools()
            .into_iter()
            .map(declarations::declaration)
            .collect()
    }

    /// Runs the tool `name` with the JSON object `args`. Failures of every
    /// kind (unknown tool, bad arguments, sandbox refusals, I/O errors, shell
    /// disabled) come back as `success: false` with a one-line `error`.
    pub async fn call(&self, name: &str, args: &Value) -> ToolOutcome {
        let result = match ToolName::parse(name) {
            None => Err(self.unknown_tool(name)),
            Some(ToolName::ExecuteBatch) => batch::run(self, args).await,
            Some(tool) => self.call_single(tool, args).await,
        };
        ToolOutcome::from_result(result)
    }

    /// Ends every background process started by `bash` with
    /// `background: true` (its whole process group) and waits for them.
    pub async fn shutdown(&self) {
        self.background.shutdown().await;
    }

    /// Runs one tool other than `execute_batch`.
    async fn call_single(&self, tool: ToolName, args: &Value) -> Result<Reply, ToolError> {
        if !self.enabled(tool) {
            return Err(ToolError::new(
                "shell access is disabled; only the operator can enable it",
            ));
        }
        match tool {
            ToolName::Bash => {
                let args = Args::parse(tool.as_str(), tool.params(), args)?;
                shell::bash(&self.sandbox, &self.background, &args).await
            }
            ToolName::GitOperations => {
                let args = Args::parse(tool.as_str(), tool.params(), args)?;
                git::run(&self.sandbox, &args).await
            }
            ToolName::ExecuteBatch => Err(ToolError::new(
                "execute_batch cannot run inside execute_batch",
            )),
            _ => self.blocking(tool, args).await,
        }
    }

    /// Runs a file tool on the blocking thread pool.
    async fn blocking(&self, tool: ToolName, args: &Value) -> Result<Reply, ToolError> {
        let sandbox = Arc::clone(&self.sandbox);
        let args = args.clone();
        tokio::task::spawn_blocking(move || {
            let args = Args::parse(tool.as_str(), tool.params(), &args)?;
            tools::run_file_tool(tool, &sandbox, &args)
        })
        .await
        .map_err(|_| ToolError::new(format!("{} stopped unexpectedly; try again", tool.as_str())))?
    }

    fn enabled(&self, tool: ToolName) -> bool {
        !tool.needs_shell() || self.shell == ShellAccess::Enabled
    }

    fn unknown_tool(&self, name: &str) -> ToolError {
        let known: Vec<&str> = self.tools().into_iter().map(ToolName::as_str).collect();
        ToolError::new(format!(
            "unknown tool '{}'; the tools are: {}",
            sandbox::shorten(name),
            known.join(", ")
        ))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        self.background.kill_all_now();
    }
}
