//! Protected paths: files and folders the workspace tools never change.
//!
//! Some files grant power: agent-fork's own settings decide whether a later
//! run has a shell and over which folder, git runs the programs its config
//! and hooks name, and shells, editors, CI and package managers run or trust
//! what their start-up and configuration files say. A model that could write
//! them could change what a later, unrelated run or tool may do. So every
//! tool that changes the file system refuses them; reading stays allowed.
//!
//! Matching is done on the path after the sandbox resolved it (the text path
//! with `..` applied, where a link leads, and the link itself), one name at
//! a time, ignoring case (file systems that ignore case would open the same
//! file) and trailing dots and spaces, and folding the two letters whose
//! case folding is plain ASCII (`ſ` → `s`, the Kelvin sign → `k`). A rule
//! protects the path it names *and everything below it*.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The built-in protected names, matched at any depth. Each entry is
/// `/`-separated names; a name ending in `*` matches any name starting with
/// what comes before the `*`. See [`ProtectedPaths`] for why each is here.
pub const DEFAULT_PROTECTED: &[&str] = &[
    // agent-fork: settings and the run history.
    "agent-fork.toml",
    ".agent-fork",
    // git: config and hooks run programs; `.git` may also be a file.
    ".git",
    ".gitattributes",
    ".gitmodules",
    ".hg",
    // Run on entering the folder, or loaded into the environment.
    ".envrc",
    ".env",
    ".env.*",
    // Package managers and toolchains: registries, credentials, programs
    // they run (`yarnPath`, cargo's `runner`, a toolchain's path).
    ".npmrc",
    ".yarnrc*",
    ".pnpmfile.cjs",
    ".pypirc",
    ".netrc",
    ".cargo/config",
    ".cargo/config.toml",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    "rust-toolchain",
    "rust-toolchain.toml",
    // Editors, dev containers, CI, commit hooks.
    ".vscode",
    ".idea",
    ".devcontainer",
    ".github/workflows",
    ".pre-commit-config.yaml",
    ".husky",
    ".gdbinit",
    ".exrc",
    ".nvimrc",
    // Shell start-up files.
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".zlogout",
    ".cshrc",
    ".tcshrc",
    ".kshrc",
    ".config/fish",
    // Keys and credentials when the workspace is a home folder.
    ".ssh",
    ".gnupg",
    ".aws",
    ".kube",
    ".docker",
    ".gitconfig",
    ".config/git",
];

/// Why a path is protected, for the message the model gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// agent-fork's settings or run history.
    AgentFork,
    /// git's own data.
    Git,
    /// A file other tools run or trust.
    Trusted,
    /// Protected by the user's `[workspace] protect` list.
    User,
    /// The user config file or the runs folder of this agent-fork.
    Location,
    /// A hidden location (see [`ProtectedPaths::with_hidden_location`]).
    Hidden,
}

impl Why {
    fn text(self) -> &'static str {
        match self {
            Why::AgentFork => {
                "agent-fork's own settings and run history decide what later runs may do"
            }
            Why::Git => "git's config and hooks run programs outside any sandbox",
            Why::Trusted => {
                "other tools run or trust this file (shell start-up, editor, CI, package manager or toolchain settings, credentials)"
            }
            Why::User => "the user protected it in the [workspace] protect setting",
            Why::Location => "it is agent-fork's user configuration or runs folder",
            Why::Hidden => HIDDEN_WHY,
        }
    }
}

/// Paths the workspace tools never create, change or delete: the
/// [built-in list](DEFAULT_PROTECTED), glob patterns the user adds, and
/// absolute locations (agent-fork's user config file, its runs folder) that
/// count when they lie inside the workspace.
///
/// The built-in list: `agent-fork.toml` and `.agent-fork/` at any depth;
/// `.git` (folder or file) and everything below it, `.gitattributes`,
/// `.gitmodules`, `.hg/`; `.envrc`, `.env`, `.env.*`; `.npmrc`, `.yarnrc*`,
/// `.pnpmfile.cjs`, `.pypirc`, `.netrc`, `.cargo/config`,
/// `.cargo/config.toml`, `.cargo/credentials(.toml)`, `rust-toolchain`,
/// `rust-toolchain.toml`; `.vscode/`, `.idea/`, `.devcontainer/`,
/// `.github/workflows/`, `.pre-commit-config.yaml`, `.husky/`, `.gdbinit`,
/// `.exrc`, `.nvimrc`; shell start-up files (`.bashrc`, `.bash_profile`,
/// `.bash_login`, `.bash_logout`, `.profile`, `.zshrc`, `.zshenv`,
/// `.zprofile`, `.zlogin`, `.zlogout`, `.cshrc`, `.tcshrc`, `.kshrc`,
/// `.config/fish/`); and `.ssh/`, `.gnupg/`, `.aws/`, `.kube/`, `.docker/`,
/// `.gitconfig`, `.config/git/`.
///
/// User patterns are globs (`*`, `?`, `[..]`, `**`), matched ignoring case:
/// a pattern without a `/` (other than a trailing one) matches a name at any
/// depth (`*.pem`, `secrets/`); one with a `/` is taken from the workspace
/// root (`deploy/prod`, `/Makefile`). Every rule protects what it names and
/// everything below it.
///
/// ```
/// use agent_core::workspace::ProtectedPaths;
/// let protected = ProtectedPaths::default()
///     .with_pattern("*.pem").unwrap()
///     .with_pattern("deploy/").unwrap();
/// assert_eq!(protected.patterns(), ["*.pem", "deploy/"]);
/// assert!(ProtectedPaths::default().with_pattern("a[").is_err());
/// ```
/// Hidden locations go further: the tools do not read, list, search or
/// change anything there (see
/// [`with_hidden_location`](ProtectedPaths::with_hidden_location)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedPaths {
    patterns: Vec<String>,
    locations: Vec<PathBuf>,
    hidden: Vec<PathBuf>,
}

/// Why a hidden location is hidden, for the model.
const HIDDEN_WHY: &str = "it is agent-fork's private per-user data (the journal key that signs run journals, user settings, run history), which the workspace tools never read, list, search or change";

/// A protect pattern that is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the protect pattern '{pattern}' is not a valid glob: {reason}")]
pub struct ProtectPatternError {
    /// The pattern given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ProtectedPaths {
    /// Adds a user glob pattern (see the type's docs for the syntax).
    pub fn with_pattern(mut self, pattern: &str) -> Result<Self, ProtectPatternError> {
        user_glob(pattern)?;
        self.patterns.push(pattern.to_owned());
        Ok(self)
    }

    /// Adds an absolute location (a file or folder, existing or not) that is
    /// protected when it lies inside the workspace, such as agent-fork's
    /// user config file or its runs folder. Relative paths are taken from
    /// the current folder when the workspace is opened.
    pub fn with_location(mut self, path: impl Into<PathBuf>) -> Self {
        self.locations.push(path.into());
        self
    }

    /// Adds an absolute location (a file or folder, existing or not) that is
    /// *hidden* when it lies inside the workspace: the tools neither read
    /// it (`read_file`, `get_file_info`, `grep_files`), nor list or find
    /// it (`list_directory`, `get_project_tree`, `glob_search` skip it and
    /// links to it), nor change it; naming it, or a path below it or a link
    /// into it, gets a refusal that says why. For secrets such as the
    /// journal key when the workspace is a home folder. Relative paths are
    /// taken from the current folder when the workspace is opened.
    ///
    /// ```
    /// use agent_core::workspace::ProtectedPaths;
    /// let protected = ProtectedPaths::default().with_hidden_location("/home/u/.config/agent-fork");
    /// assert_eq!(protected.hidden_locations().len(), 1);
    /// ```
    pub fn with_hidden_location(mut self, path: impl Into<PathBuf>) -> Self {
        self.hidden.push(path.into());
        self
    }

    /// The locations added with
    /// [`with_hidden_location`](Self::with_hidden_location).
    pub fn hidden_locations(&self) -> &[PathBuf] {
        &self.hidden
    }

    /// The user patterns, in the order added.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The locations added with [`with_location`](Self::with_location).
    pub fn locations(&self) -> &[PathBuf] {
        &self.locations
    }

    /// The matcher for a workspace whose canonical root is `root`.
    pub(crate) fn compile(&self, root: &Path) -> Result<Protection, ProtectPatternError> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.patterns {
            builder.add(user_glob(pattern)?);
        }
        let user = builder.build().map_err(|error| ProtectPatternError {
            pattern: self.patterns.join(", "),
            reason: error.to_string(),
        })?;
        let builtin = DEFAULT_PROTECTED
            .iter()
            .map(|entry| {
                let names: Vec<String> = entry.split('/').map(fold).collect();
                let why = match names[0].as_str() {
                    "agent-fork.toml" | ".agent-fork" => Why::AgentFork,
                    ".git" | ".gitattributes" | ".gitmodules" | ".hg" => Why::Git,
                    _ => Why::Trusted,
                };
                (names, why)
            })
            .collect();
        let locations = self
            .locations
            .iter()
            .filter_map(|location| inside(root, location))
            .collect();
        let hidden = self
            .hidden
            .iter()
            .filter_map(|location| inside(root, location))
            .collect::<Vec<_>>();
        Ok(Protection {
            builtin,
            user,
            locations,
            hidden: Hidden(hidden.into()),
        })
    }
}

/// A user pattern as a glob over `/`-joined, folded names.
fn user_glob(pattern: &str) -> Result<globset::Glob, ProtectPatternError> {
    let error = |reason: &str| ProtectPatternError {
        pattern: pattern.to_owned(),
        reason: reason.to_owned(),
    };
    let text = pattern.replace('\\', "/");
    let trimmed = text.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.split('/').any(|name| name == "..") {
        return Err(error("give a name or a path inside the workspace"));
    }
    let anchored = trimmed.trim_start_matches('/');
    let glob = if trimmed.contains('/') {
        anchored.to_owned()
    } else {
        format!("**/{anchored}")
    };
    GlobBuilder::new(&glob)
        .case_insensitive(true)
        .literal_separator(true)
        .build()
        .map_err(|failure| error(&failure.kind().to_string()))
}

/// `location` relative to `root`, as folded names, when it lies inside.
fn inside(root: &Path, location: &Path) -> Option<Vec<String>> {
    let absolute = if location.is_absolute() {
        location.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(location)
    };
    // Canonicalise the longest existing part; keep the rest as written.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let real = loop {
        if let Ok(real) = existing.canonicalize() {
            break real;
        }
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    };
    let mut full = real;
    for name in rest.iter().rev() {
        if name == ".." {
            full.pop();
        } else if name != "." {
            full.push(name);
        }
    }
    let below = full.strip_prefix(root).ok()?;
    let names: Vec<String> = below
        .components()
        .map(|part| fold(&part.as_os_str().to_string_lossy()))
        .collect();
    (!names.is_empty()).then_some(names)
}

/// A name as the matcher compares it: lower case, `ſ` as `s`, without
/// trailing dots and spaces (which some file systems drop).
pub(crate) fn fold(name: &str) -> String {
    let lower: String = name
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ſ' { 's' } else { c })
        .collect();
    let trimmed = lower.trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        lower
    } else {
        trimmed.to_owned()
    }
}

/// [`ProtectedPaths`] compiled for one workspace root.
#[derive(Debug)]
pub(crate) struct Protection {
    builtin: Vec<(Vec<String>, Why)>,
    user: GlobSet,
    locations: Vec<Vec<String>>,
    hidden: Hidden,
}

/// The hidden locations inside one workspace, as folded names below its
/// root; cheap to clone into a walk's filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hidden(std::sync::Arc<[Vec<String>]>);

impl Hidden {
    /// Whether the path with these names (relative to the root) is hidden.
    pub(crate) fn hides<S: AsRef<str>>(&self, names: &[S]) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let folded: Vec<String> = names.iter().map(|name| fold(name.as_ref())).collect();
        self.0.iter().any(|location| folded.starts_with(location))
    }

    /// True when nothing is hidden.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The refusal for the hidden path `shown`.
    pub(crate) fn refusal(shown: &str) -> String {
        format!(
            "'{}' is hidden from the workspace tools ({HIDDEN_WHY}); do not try to reach it another way, and tell the user if the task needs it",
            super::sandbox::shorten(shown)
        )
    }
}

impl Protection {
    /// The hidden locations.
    pub(crate) fn hidden(&self) -> &Hidden {
        &self.hidden
    }

    /// Why the path with these names (relative to the root) is protected,
    /// if it is.
    pub(crate) fn why<S: AsRef<str>>(&self, names: &[S]) -> Option<Why> {
        if self.hidden.hides(names) {
            return Some(Why::Hidden);
        }
        let folded: Vec<String> = names.iter().map(|name| fold(name.as_ref())).collect();
        for (rule, why) in &self.builtin {
            if folded.windows(rule.len()).any(|window| {
                window
                    .iter()
                    .zip(rule)
                    .all(|(name, rule)| matches(name, rule))
            }) {
                return Some(*why);
            }
        }
        for location in &self.locations {
            if folded.starts_with(location) {
                return Some(Why::Location);
            }
        }
        if !self.user.is_empty() {
            let mut joined = String::new();
            for name in &folded {
                if !joined.is_empty() {
                    joined.push('/');
                }
                joined.push_str(name);
                if self.user.is_match(&joined) {
                    return Some(Why::User);
                }
            }
        }
        None
    }

    /// The refusal for the protected path `shown`.
    pub(crate) fn refusal(shown: &str, why: Why) -> String {
        format!(
            "'{}' is protected ({}): only the user may change it, the workspace tools never do; if it needs changing, tell the user what to change and why",
            super::sandbox::shorten(shown),
            why.text()
        )
    }
}

fn matches(name: &str, rule: &str) -> bool {
    match rule.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == rule,
    }
}

#[cfg(test)]
mod tests {
    use super::{ProtectedPaths, Why, fold};

    fn names(path: &str) -> Vec<&str> {
        path.split('/').collect()
    }

    #[test]
    fn the_builtin_list_matches_at_any_depth_and_below() {
        let root = std::env::temp_dir();
        let protection = ProtectedPaths::default().compile(&root).unwrap();
        for path in [
            "agent-fork.toml",
            "sub/agent-fork.toml",
            ".agent-fork/runs/x/journal.jsonl",
            ".git",
            ".git/config",
            "vendor/lib/.git/hooks/pre-commit",
            ".env",
            ".env.local",
            "app/.envrc",
            ".yarnrc.yml",
            ".cargo/config.toml",
            ".github/workflows/ci.yml",
            ".vscode/settings.json",
            ".ssh/authorized_keys",
            ".config/fish/config.fish",
        ] {
            assert!(protection.why(&names(path)).is_some(), "{path}");
        }
        for path in [
            "src/main.rs",
            ".github/ISSUE_TEMPLATE.md",
            ".gitignore",
            "environment.txt",
            "cargo/config.toml",
            ".config/nvim/init.lua",
            "git/config",
        ] {
            assert_eq!(protection.why(&names(path)), None, "{path}");
        }
        assert_eq!(protection.why(&names(".git/config")), Some(Why::Git));
        assert_eq!(
            protection.why(&names("agent-fork.toml")),
            Some(Why::AgentFork)
        );
    }

    #[test]
    fn case_and_lookalike_spellings_are_matched() {
        let root = std::env::temp_dir();
        let protection = ProtectedPaths::default().compile(&root).unwrap();
        for path in [
            "Agent-Fork.TOML",
            ".GIT/config",
            ".Git/HOOKS/x",
            ".envrc.",
            ".env ",
            ".ſſh/id_rsa",
            ".VSCode/tasks.json",
        ] {
            assert!(protection.why(&names(path)).is_some(), "{path}");
        }
        assert_eq!(fold("ABC. "), "abc");
        assert_eq!(fold(".."), "..");
    }

    #[test]
    fn user_patterns_and_locations_are_added() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let protection = ProtectedPaths::default()
            .with_pattern("*.pem")
            .unwrap()
            .with_pattern("deploy/")
            .unwrap()
            .with_pattern("/docs/api")
            .unwrap()
            .with_location(root.join("state/runs"))
            .with_location("/somewhere/else")
            .compile(&root)
            .unwrap();
        for path in [
            "certs/server.PEM",
            "deploy",
            "app/deploy/prod.sh",
            "docs/api/index.md",
            "state/runs/r1/journal.jsonl",
        ] {
            assert!(protection.why(&names(path)).is_some(), "{path}");
        }
        for path in ["docs/guide.md", "other/docs/api", "state/notes.txt"] {
            assert_eq!(protection.why(&names(path)), None, "{path}");
        }
        assert!(ProtectedPaths::default().with_pattern("../x").is_err());
        assert!(ProtectedPaths::default().with_pattern("/").is_err());
    }
}
