//! Folder walks that never follow symbolic links and, when asked, honour
//! the `.gitignore` files of the workspace (and only of the workspace: ignore
//! files above the root are never read).

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, Match, WalkBuilder};

use super::protect::Hidden;
use super::sandbox::in_system_area;

/// How to walk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WalkOptions {
    /// Deepest level below the start folder (1 = its direct entries).
    pub(crate) max_depth: Option<usize>,
    /// Include names starting with a dot.
    pub(crate) include_hidden: bool,
    /// Skip what `.gitignore` / `.ignore` files inside the workspace ignore.
    pub(crate) gitignore: bool,
}

/// The entries below `dir` (a canonical folder inside `root`), sorted by
/// name within each folder, depth first, without `dir` itself, and without
/// what `hidden` hides (nor links that lead there).
pub(crate) fn walk(
    root: &Path,
    dir: &Path,
    options: WalkOptions,
    hidden: Hidden,
) -> impl Iterator<Item = DirEntry> {
    let mut builder = WalkBuilder::new(dir);
    builder
        .standard_filters(false)
        .hidden(!options.include_hidden)
        .follow_links(false)
        .max_depth(options.max_depth)
        .sort_by_file_name(|a, b| a.cmp(b));
    let ancestors = if options.gitignore {
        builder
            .git_ignore(true)
            .ignore(true)
            .require_git(false)
            .parents(false);
        ancestor_ignores(root, dir)
    } else {
        Vec::new()
    };
    // `/proc`, `/sys` and `/dev` are never entered, even from a root of `/`.
    let start = dir.to_path_buf();
    let root = root.to_path_buf();
    builder.filter_entry(move |entry| {
        if in_system_area(entry.path()) {
            return false;
        }
        if !hidden.is_empty() && is_hidden(&root, &hidden, entry) {
            return false;
        }
        let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
        entry.path() == start || !ignored_by(&ancestors, entry.path(), is_dir)
    });
    builder
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.depth() > 0)
}

/// The ignore files of the folders from `root` down to the parent of `dir`,
/// deepest first (the walk itself reads those of `dir` and below).
fn ancestor_ignores(root: &Path, dir: &Path) -> Vec<Gitignore> {
    let folders: Vec<PathBuf> = dir
        .ancestors()
        .skip(1)
        .take_while(|folder| folder.starts_with(root))
        .map(Path::to_path_buf)
        .collect();
    let mut matchers = Vec::new();
    for folder in folders {
        let mut builder = GitignoreBuilder::new(&folder);
        let mut any = false;
        for name in [".gitignore", ".ignore"] {
            let file = folder.join(name);
            if file.is_file() && builder.add(&file).is_none() {
                any = true;
            }
        }
        if any && let Ok(matcher) = builder.build() {
            matchers.push(matcher);
        }
    }
    matchers
}

fn ignored_by(matchers: &[Gitignore], path: &Path, is_dir: bool) -> bool {
    for matcher in matchers {
        match matcher.matched(path, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}

/// Whether the walked `entry`, or where it leads when it is a link, is
/// hidden.
fn is_hidden(root: &Path, hidden: &Hidden, entry: &DirEntry) -> bool {
    let names = |path: &Path| -> Option<Vec<String>> {
        let below = path.strip_prefix(root).ok()?;
        Some(
            below
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect(),
        )
    };
    if names(entry.path()).is_some_and(|names| hidden.hides(&names)) {
        return true;
    }
    entry.path_is_symlink()
        && std::fs::canonicalize(entry.path())
            .ok()
            .and_then(|real| names(&real))
            .is_some_and(|names| hidden.hides(&names))
}
