//! The tool names, their parameters, and the dispatch of the file tools.

use super::args::Args;
use super::error::{Reply, ToolError};
use super::sandbox::Sandbox;
use super::{files, listing, project, search};

/// One of the fourteen workspace tools, by the name the model sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolName {
    /// `create_file(path, content, overwrite=false)`
    CreateFile,
    /// `read_file(path)`
    ReadFile,
    /// `update_file(path, content, mode=replace|append|prepend)`
    UpdateFile,
    /// `delete_file(path)`
    DeleteFile,
    /// `create_directory(path, parents=true)`
    CreateDirectory,
    /// `list_directory(path=".", recursive=false, include_hidden=false)`
    ListDirectory,
    /// `create_project_structure(project_name, structure)`
    CreateProjectStructure,
    /// `get_project_tree(path=".", max_depth=5)`
    GetProjectTree,
    /// `get_file_info(path)`
    GetFileInfo,
    /// `bash(command, path=".", timeout?, background=false, stream_output=false)`
    Bash,
    /// `grep_files(pattern, path=".", recursive=true, ignore_case=false, max_results=100)`
    GrepFiles,
    /// `glob_search(pattern, path=".", recursive=true)`
    GlobSearch,
    /// `git_operations(operation, args="", path=".")`
    GitOperations,
    /// `execute_batch(tasks, allowed_tools?, max_workers=4)`
    ExecuteBatch,
}

impl ToolName {
    /// Every tool, in declaration order.
    pub const ALL: [ToolName; 14] = [
        ToolName::CreateFile,
        ToolName::ReadFile,
        ToolName::UpdateFile,
        ToolName::DeleteFile,
        ToolName::CreateDirectory,
        ToolName::ListDirectory,
        ToolName::CreateProjectStructure,
        ToolName::GetProjectTree,
        ToolName::GetFileInfo,
        ToolName::Bash,
        ToolName::GrepFiles,
        ToolName::GlobSearch,
        ToolName::GitOperations,
        ToolName::ExecuteBatch,
    ];

    /// The name the model uses.
    ///
    /// ```
    /// use agent_core::workspace::ToolName;
    /// assert_eq!(ToolName::GrepFiles.as_str(), "grep_files");
    /// assert_eq!(ToolName::parse("grep_files"), Some(ToolName::GrepFiles));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::CreateFile => "create_file",
            ToolName::ReadFile => "read_file",
            ToolName::UpdateFile => "update_file",
            ToolName::DeleteFile => "delete_file",
            ToolName::CreateDirectory => "create_directory",
            ToolName::ListDirectory => "list_directory",
            ToolName::CreateProjectStructure => "create_project_structure",
            ToolName::GetProjectTree => "get_project_tree",
            ToolName::GetFileInfo => "get_file_info",
            ToolName::Bash => "bash",
            ToolName::GrepFiles => "grep_files",
            ToolName::GlobSearch => "glob_search",
            ToolName::GitOperations => "git_operations",
            ToolName::ExecuteBatch => "execute_batch",
        }
    }

    /// The tool called `name`, if any.
    pub fn parse(name: &str) -> Option<ToolName> {
        ToolName::ALL.into_iter().find(|tool| tool.as_str() == name)
    }

    /// Whether the tool runs programs and so needs [`ShellAccess::Enabled`](super::ShellAccess::Enabled).
    pub fn needs_shell(self) -> bool {
        matches!(self, ToolName::Bash | ToolName::GitOperations)
    }

    /// The parameter names, in declaration order.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            ToolName::CreateFile => &["path", "content", "overwrite"],
            ToolName::ReadFile | ToolName::DeleteFile | ToolName::GetFileInfo => &["path"],
            ToolName::UpdateFile => &["path", "content", "mode"],
            ToolName::CreateDirectory => &["path", "parents"],
            ToolName::ListDirectory => &["path", "recursive", "include_hidden"],
            ToolName::CreateProjectStructure => &["project_name", "structure"],
            ToolName::GetProjectTree => &["path", "max_depth"],
            ToolName::Bash => &["command", "path", "timeout", "background", "stream_output"],
            ToolName::GrepFiles => &["pattern", "path", "recursive", "ignore_case", "max_results"],
            ToolName::GlobSearch => &["pattern", "path", "recursive"],
            ToolName::GitOperations => &["operation", "args", "path"],
            ToolName::ExecuteBatch => &["tasks", "allowed_tools", "max_workers"],
        }
    }
}

/// Runs one of the tools that only touch files (blocking I/O).
pub(crate) fn run_file_tool(
    tool: ToolName,
    sandbox: &Sandbox,
    args: &Args<'_>,
) -> Result<Reply, ToolError> {
    match tool {
        ToolName::CreateFile => files::create_file(sandbox, args),
        ToolName::ReadFile => files::read_file(sandbox, args),
        ToolName::UpdateFile => files::update_file(sandbox, args),
        ToolName::DeleteFile => files::delete_file(sandbox, args),
        ToolName::CreateDirectory => files::create_directory(sandbox, args),
        ToolName::GetFileInfo => files::get_file_info(sandbox, args),
        ToolName::ListDirectory => listing::list_directory(sandbox, args),
        ToolName::GetProjectTree => listing::get_project_tree(sandbox, args),
        ToolName::CreateProjectStructure => project::create_project_structure(sandbox, args),
        ToolName::GrepFiles => search::grep_files(sandbox, args),
        ToolName::GlobSearch => search::glob_search(sandbox, args),
        ToolName::Bash | ToolName::GitOperations | ToolName::ExecuteBatch => Err(ToolError::new(
            format!("{} is not a file tool", tool.as_str()),
        )),
    }
}
