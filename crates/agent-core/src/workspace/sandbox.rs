//! Resolving the model's paths inside the workspace root.
//!
//! A path from the model is first checked as text (relative, no NUL byte,
//! bounded length, no `~`, no `..` that climbs above the root; backslashes
//! count as separators) and normalised to a list of plain components. The
//! components are then walked one by one from the canonical root: every
//! existing prefix that is a symbolic link is canonicalised and must still
//! lie inside the root, compared component-wise with [`Path::starts_with`]
//! (so a sibling folder `ws-evil` never passes for `ws`). The part of the path
//! that does not exist yet is created one folder at a time, each new folder
//! re-checked the same way.
//!
//! `..` is applied to the text before anything touches the disk: `link/..`
//! means the folder holding `link`, never the parent of the link's target.
//!
//! A file with more than one hard link is never opened: its other names
//! cannot be found from its path, and one may lie outside the workspace.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};

use super::Limits;
use super::error::ToolError;

/// The longest file or folder name accepted, in bytes.
const MAX_COMPONENT_BYTES: usize = 255;

/// The canonical workspace root and the limits its tools obey.
#[derive(Debug)]
pub(crate) struct Sandbox {
    root: PathBuf,
    limits: Limits,
}

/// Where a path from the model leads.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The normalised path relative to the root, `/`-separated; `"."` for
    /// the root itself.
    pub(crate) rel: String,
    /// The normalised components of `rel` (empty for the root).
    pub(crate) parts: Vec<String>,
    /// What is on disk there.
    pub(crate) state: State,
}

/// What is on disk at a resolved path.
#[derive(Debug, Clone)]
pub(crate) enum State {
    /// It exists. `real` is its canonical location (inside the root);
    /// `own` is where the entry itself lives (canonical parent joined with
    /// the last name), which differs from `real` only for a symbolic link.
    Exists {
        real: PathBuf,
        own: PathBuf,
        link: bool,
    },
    /// The last component is a symbolic link whose target does not exist.
    /// `own` is the link itself; `inside` tells whether its target would lie
    /// inside the root.
    BrokenLink { own: PathBuf, inside: bool },
    /// It does not exist: `base` is the canonical location of the longest
    /// existing prefix and `missing` the components below it.
    Missing { base: PathBuf, missing: Vec<String> },
}

impl Sandbox {
    /// A sandbox over `root`, which must already be canonical.
    pub(crate) fn new(root: PathBuf, limits: Limits) -> Self {
        Self { root, limits }
    }

    /// The canonical root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The limits.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Checks `raw` as text and returns its normalised components.
    pub(crate) fn components(&self, raw: &str) -> Result<Vec<String>, ToolError> {
        if raw.len() > self.limits.max_path_len {
            return Err(ToolError::new(format!(
                "the path is {} bytes long; the limit is {} bytes",
                raw.len(),
                self.limits.max_path_len
            )));
        }
        if raw.contains('\0') {
            return Err(ToolError::new("the path contains a NUL byte; remove it"));
        }
        let text = raw.replace('\\', "/");
        if text.starts_with('/') || has_drive_prefix(&text) {
            return Err(ToolError::new(format!(
                "'{}' is an absolute path; give a path relative to the workspace folder",
                shorten(raw)
            )));
        }
        if text.starts_with('~') {
            return Err(ToolError::new(format!(
                "'{}' starts with '~', which is not expanded here; give a path relative to the workspace folder",
                shorten(raw)
            )));
        }
        let mut parts: Vec<String> = Vec::new();
        for part in text.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(ToolError::new(format!(
                            "'{}' leads outside the workspace folder; stay inside it",
                            shorten(raw)
                        )));
                    }
                }
                name if name.len() > MAX_COMPONENT_BYTES => {
                    return Err(ToolError::new(format!(
                        "a name in the path is {} bytes long; the limit is {MAX_COMPONENT_BYTES} bytes",
                        name.len()
                    )));
                }
                name => parts.push(name.to_owned()),
            }
        }
        Ok(parts)
    }

    /// Resolves `raw` inside the root, refusing any path whose existing part
    /// leads outside it.
    pub(crate) fn resolve(&self, raw: &str) -> Result<Resolved, ToolError> {
        let parts = self.components(raw)?;
        let rel = if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        };
        let mut base = self.root.clone();
        let mut own = self.root.clone();
        let mut link = false;
        for (index, part) in parts.iter().enumerate() {
            let last = index + 1 == parts.len();
            let shown = parts[..=index].join("/");
            let candidate = base.join(part);
            own.clone_from(&candidate);
            let meta = match fs::symlink_metadata(&candidate) {
                Ok(meta) => meta,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    let missing = parts[index..].to_vec();
                    return Ok(Resolved {
                        rel,
                        parts,
                        state: State::Missing { base, missing },
                    });
                }
                Err(error) => return Err(ToolError::io(&format!("looking up '{shown}'"), &error)),
            };
            link = meta.file_type().is_symlink();
            if link {
                match fs::canonicalize(&candidate) {
                    Ok(real) => {
                        if !self.contains(&real) {
                            return Err(outside(&shown));
                        }
                        base = real;
                    }
                    Err(error) if error.kind() == io::ErrorKind::NotFound && last => {
                        let inside = self.link_target_inside(&candidate);
                        return Ok(Resolved {
                            rel,
                            parts,
                            state: State::BrokenLink {
                                own: candidate,
                                inside,
                            },
                        });
                    }
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {
                        return Err(ToolError::new(format!(
                            "'{shown}' is a symbolic link to something that does not exist"
                        )));
                    }
                    Err(error) => {
                        return Err(ToolError::io(
                            &format!("following the link '{shown}'"),
                            &error,
                        ));
                    }
                }
            } else {
                base = candidate;
            }
            if !last && !base.is_dir() {
                return Err(ToolError::new(format!("'{shown}' is a file, not a folder")));
            }
        }
        Ok(Resolved {
            rel,
            parts,
            state: State::Exists {
                real: base,
                own,
                link,
            },
        })
    }

    /// Resolves `raw`, which must exist.
    pub(crate) fn existing(&self, raw: &str) -> Result<(String, PathBuf), ToolError> {
        let resolved = self.resolve(raw)?;
        match resolved.state {
            State::Exists { real, .. } => Ok((resolved.rel, real)),
            State::BrokenLink { .. } => Err(ToolError::new(format!(
                "'{}' is a symbolic link to something that does not exist",
                resolved.rel
            ))),
            State::Missing { .. } => {
                Err(ToolError::new(format!("'{}' does not exist", resolved.rel)))
            }
        }
    }

    /// Resolves `raw` (empty means the root), which must be an existing
    /// folder.
    pub(crate) fn existing_dir(&self, raw: &str) -> Result<(String, PathBuf), ToolError> {
        let (rel, real) = self.existing(raw)?;
        if !real.is_dir() {
            return Err(ToolError::new(format!("'{rel}' is a file, not a folder")));
        }
        Ok((rel, real))
    }

    /// Creates the folders `missing` below the canonical folder `base`, one
    /// at a time, checking each new folder is inside the root. Returns the
    /// canonical location of the deepest one (or `base` when none is missing).
    pub(crate) fn create_dirs(
        &self,
        base: &Path,
        missing: &[String],
    ) -> Result<PathBuf, ToolError> {
        let mut current = base.to_path_buf();
        for name in missing {
            let next = current.join(name);
            match fs::create_dir(&next) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(ToolError::io(
                        &format!("creating the folder '{}'", self.rel(&next)),
                        &error,
                    ));
                }
            }
            let real = fs::canonicalize(&next).map_err(|error| {
                ToolError::io(
                    &format!("checking the folder '{}'", self.rel(&next)),
                    &error,
                )
            })?;
            if !self.contains(&real) || !real.is_dir() {
                return Err(outside(&self.rel(&next)));
            }
            current = real;
        }
        Ok(current)
    }

    /// Creates the new file `name` in the canonical folder `parent`. Fails
    /// if anything (even a dangling symbolic link) already has that name, so
    /// the open never follows a link.
    pub(crate) fn create_new_file(&self, parent: &Path, name: &str) -> Result<File, ToolError> {
        let path = parent.join(name);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|error| ToolError::io(&format!("creating '{}'", self.rel(&path)), &error))
    }

    /// Opens the existing regular file at the canonical path `real` for
    /// reading or writing (never truncating on open), and checks that what
    /// was opened is still the file that was checked.
    pub(crate) fn open_existing(
        &self,
        real: &Path,
        options: &OpenOptions,
    ) -> Result<File, ToolError> {
        let shown = self.rel(real);
        let before = fs::symlink_metadata(real)
            .map_err(|error| ToolError::io(&format!("opening '{shown}'"), &error))?;
        if !before.file_type().is_file() {
            return Err(ToolError::new(format!("'{shown}' is not a regular file")));
        }
        if let Some(names) = other_names(&before) {
            return Err(ToolError::new(format!(
                "'{shown}' is a hard link with {names} other name(s), which may lie outside the workspace, so it is not opened"
            )));
        }
        let file = options
            .open(real)
            .map_err(|error| ToolError::io(&format!("opening '{shown}'"), &error))?;
        let opened = file
            .metadata()
            .map_err(|error| ToolError::io(&format!("opening '{shown}'"), &error))?;
        if !same_file(&before, &opened) {
            return Err(ToolError::new(format!(
                "'{shown}' changed while it was being opened; try again"
            )));
        }
        Ok(file)
    }

    /// Whether the canonical path `path` is the root or inside it.
    pub(crate) fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.root)
    }

    /// `path` (inside the root) relative to the root, `/`-separated; `"."`
    /// for the root itself.
    pub(crate) fn rel(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
            Ok(rel) => rel
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    /// Whether the target of the (dangling) link at `link` would lie inside
    /// the root, judged on the text of the target.
    fn link_target_inside(&self, link: &Path) -> bool {
        let Ok(target) = fs::read_link(link) else {
            return false;
        };
        let Some(parent) = link.parent() else {
            return false;
        };
        let joined = if target.is_absolute() {
            target
        } else {
            parent.join(target)
        };
        let mut normal = PathBuf::new();
        for component in joined.components() {
            match component {
                Component::ParentDir => {
                    if !normal.pop() {
                        return false;
                    }
                }
                Component::CurDir => {}
                other => normal.push(other.as_os_str()),
            }
        }
        self.contains(&normal)
    }
}

/// The refusal for a path that leads outside the root.
pub(crate) fn outside(shown: &str) -> ToolError {
    ToolError::new(format!(
        "'{}' leads outside the workspace folder (through a symbolic link); stay inside it",
        shorten(shown)
    ))
}

/// Whether `text` starts like a Windows drive path (`C:`).
pub(crate) fn has_drive_prefix(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// `text` cut to a length that fits in a one-line error.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// How many other hard links share the file's data, if any. A path check
/// cannot tell where they are: one may be outside the workspace, and
/// reading or writing through the inside name would reach it.
#[cfg(unix)]
pub(crate) fn other_names(meta: &fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    (meta.is_file() && meta.nlink() > 1).then(|| meta.nlink() - 1)
}

#[cfg(not(unix))]
pub(crate) fn other_names(_meta: &fs::Metadata) -> Option<u64> {
    None
}

#[cfg(unix)]
fn same_file(before: &fs::Metadata, opened: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    before.dev() == opened.dev() && before.ino() == opened.ino()
}

#[cfg(not(unix))]
fn same_file(_before: &fs::Metadata, opened: &fs::Metadata) -> bool {
    opened.is_file()
}
