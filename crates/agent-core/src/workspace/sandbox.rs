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
//!
//! The checks above only decide; every open, create, remove and look-up
//! that follows goes through a directory handle on the root ([`cap_std`]:
//! `openat2` with `RESOLVE_BENEATH` on Linux, a checked walk elsewhere), so
//! a folder or file swapped for a symbolic link between the check and the
//! use cannot lead outside: the operation fails instead.
//!
//! Paths into `/proc`, `/sys` and `/dev` are refused whatever the root (even
//! `/`): they expose other processes' environment and memory, and devices.

use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::Limits;
use super::error::ToolError;
use super::protect::{Hidden, Protection};
use super::walk::{WalkOptions, walk};

/// The longest file or folder name accepted, in bytes.
const MAX_COMPONENT_BYTES: usize = 255;

/// The system folders no tool may reach, whatever the root.
const SYSTEM_AREAS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// The canonical workspace root, a directory handle on it, the protected
/// paths and the limits its tools obey.
#[derive(Debug)]
pub(crate) struct Sandbox {
    root: PathBuf,
    dir: Dir,
    limits: Limits,
    protection: Protection,
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

impl State {
    /// Where on disk the path is: its real location and the entry itself
    /// (a link), or where it would be created.
    fn places(&self) -> Vec<PathBuf> {
        match self {
            State::Exists { real, own, .. } => vec![real.clone(), own.clone()],
            State::BrokenLink { own, .. } => vec![own.clone()],
            State::Missing { base, missing } => {
                let mut place = base.clone();
                place.extend(missing);
                vec![place]
            }
        }
    }
}

impl Sandbox {
    /// A sandbox over `root`, which must already be canonical.
    pub(crate) fn new(root: PathBuf, limits: Limits, protection: Protection) -> io::Result<Self> {
        let dir = Dir::open_ambient_dir(&root, ambient_authority())?;
        Ok(Self {
            root,
            dir,
            limits,
            protection,
        })
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
    /// leads outside it, and any path that is, leads into or lies below a
    /// hidden location.
    pub(crate) fn resolve(&self, raw: &str) -> Result<Resolved, ToolError> {
        let resolved = self.resolve_any(raw)?;
        let hidden = self.protection.hidden();
        if hidden.is_empty() {
            return Ok(resolved);
        }
        let mut places: Vec<PathBuf> = resolved.state.places();
        places.retain(|place| place.starts_with(&self.root));
        let hides = |place: &PathBuf| hidden.hides(&self.names_below_root(place));
        if hidden.hides(&resolved.parts) || places.iter().any(hides) {
            return Err(ToolError::new(Hidden::refusal(&resolved.rel)));
        }
        Ok(resolved)
    }

    /// The names of `path` (inside the root) below the root.
    fn names_below_root(&self, path: &Path) -> Vec<String> {
        path.strip_prefix(&self.root)
            .map(|below| {
                below
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The entries below the canonical folder `dir` (see [`walk()`]), without
    /// hidden locations and links into them.
    pub(crate) fn walk(
        &self,
        dir: &Path,
        options: WalkOptions,
    ) -> impl Iterator<Item = ignore::DirEntry> {
        walk(&self.root, dir, options, self.protection.hidden().clone())
    }

    fn resolve_any(&self, raw: &str) -> Result<Resolved, ToolError> {
        let parts = self.components(raw)?;
        let rel = if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        };
        if in_system_area(&self.root) {
            return Err(system_area(&rel));
        }
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
            if in_system_area(&base) {
                return Err(system_area(&shown));
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
            match self.dir.create_dir(self.inner(&next)?) {
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
        let mut options = cap_std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        self.dir
            .open_with(self.inner(&path)?, &options)
            .map(cap_std::fs::File::into_std)
            .map_err(|error| ToolError::io(&format!("creating '{}'", self.rel(&path)), &error))
    }

    /// Opens the existing regular file at the canonical path `real` for
    /// reading or writing (never truncating on open), and checks that what
    /// was opened is still the file that was checked.
    pub(crate) fn open_existing(&self, real: &Path, access: Access) -> Result<File, ToolError> {
        let shown = self.rel(real);
        let inner = self.inner(real)?;
        #[cfg(feature = "test-hooks")]
        super::test_hooks::before_open(real);
        let before = self
            .dir
            .symlink_metadata(inner)
            .map_err(|error| ToolError::io(&format!("opening '{shown}'"), &error))?;
        if !before.file_type().is_file() {
            return Err(ToolError::new(format!("'{shown}' is not a regular file")));
        }
        let mut options = cap_std::fs::OpenOptions::new();
        match access {
            Access::Read => options.read(true),
            Access::Write => options.write(true),
            Access::Append => options.append(true),
            Access::ReadWrite => options.read(true).write(true),
        };
        let file = self
            .dir
            .open_with(inner, &options)
            .map(cap_std::fs::File::into_std)
            .map_err(|error| ToolError::io(&format!("opening '{shown}'"), &error))?;
        let opened = file
            .metadata()
            .map_err(|error| ToolError::io(&format!("opening '{shown}'"), &error))?;
        if !opened.is_file() {
            return Err(ToolError::new(format!("'{shown}' is not a regular file")));
        }
        if let Some(names) = other_names(&opened) {
            return Err(ToolError::new(format!(
                "'{shown}' is a hard link with {names} other name(s), which may lie outside the workspace, so it is not opened"
            )));
        }
        if !same_file(&before, &opened) {
            return Err(ToolError::new(format!(
                "'{shown}' changed while it was being opened; try again"
            )));
        }
        Ok(file)
    }

    /// Opens the regular file at the canonical path `path` (inside the
    /// root, from a folder walk) for reading, through the root handle.
    pub(crate) fn open_walked(&self, path: &Path) -> Option<File> {
        let inner = self.inner(path).ok()?;
        let file = self.dir.open(inner).map(cap_std::fs::File::into_std).ok()?;
        let meta = file.metadata().ok()?;
        (meta.is_file() && other_names(&meta).is_none()).then_some(file)
    }

    /// The metadata of what the canonical path `real` names, following a
    /// last link that stays inside (through the root handle).
    pub(crate) fn metadata(&self, real: &Path) -> Result<cap_std::fs::Metadata, ToolError> {
        self.dir
            .metadata(self.inner(real)?)
            .map_err(|error| ToolError::io(&format!("reading '{}'", self.rel(real)), &error))
    }

    /// The metadata of the entry at the canonical path `own` itself (a link
    /// is not followed), through the root handle.
    pub(crate) fn symlink_metadata(&self, own: &Path) -> Result<cap_std::fs::Metadata, ToolError> {
        self.dir
            .symlink_metadata(self.inner(own)?)
            .map_err(|error| ToolError::io(&format!("reading '{}'", self.rel(own)), &error))
    }

    /// Removes the file or link at `own` (the entry itself), through the
    /// root handle.
    pub(crate) fn remove_file(&self, own: &Path) -> Result<(), ToolError> {
        self.dir
            .remove_file(self.inner(own)?)
            .map_err(|error| ToolError::io(&format!("deleting '{}'", self.rel(own)), &error))
    }

    /// Removes the folder at `own` with everything in it, never following
    /// a link inside it, through the root handle.
    pub(crate) fn remove_dir_all(&self, own: &Path) -> Result<(), ToolError> {
        self.dir
            .remove_dir_all(self.inner(own)?)
            .map_err(|error| ToolError::io(&format!("deleting '{}'", self.rel(own)), &error))
    }

    /// Refuses a change to `resolved` when it, where it leads, or the link
    /// itself is a protected path.
    pub(crate) fn check_change(&self, resolved: &Resolved) -> Result<(), ToolError> {
        self.check_names(&resolved.rel, &resolved.parts)?;
        let places: Vec<PathBuf> = resolved.state.places();
        for place in places {
            if let Ok(below) = place.strip_prefix(&self.root) {
                let names: Vec<String> = below
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                self.check_names(&resolved.rel, &names)?;
            }
        }
        Ok(())
    }

    /// Refuses removing the folder `real` when anything below it is
    /// protected.
    pub(crate) fn check_tree(&self, shown: &str, real: &Path) -> Result<(), ToolError> {
        let walk = ignore::WalkBuilder::new(real)
            .standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .build();
        for entry in walk {
            let entry = entry.map_err(|error| {
                ToolError::new(format!(
                    "cannot check everything in '{shown}' before deleting it: {}",
                    super::error::first_line(&error.to_string())
                ))
            })?;
            if let Ok(below) = entry.path().strip_prefix(&self.root) {
                let names: Vec<String> = below
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if let Some(why) = self.protection.why(&names) {
                    return Err(ToolError::new(format!(
                        "'{}' holds a protected path, so it is not deleted. {}",
                        shorten(shown),
                        Protection::refusal(&self.rel(entry.path()), why)
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_names<S: AsRef<str>>(&self, shown: &str, names: &[S]) -> Result<(), ToolError> {
        match self.protection.why(names) {
            Some(why) => Err(ToolError::new(Protection::refusal(shown, why))),
            None => Ok(()),
        }
    }

    /// `path` (canonical, inside the root) relative to the root, for the
    /// root handle; `.` for the root itself.
    fn inner<'p>(&self, path: &'p Path) -> Result<&'p Path, ToolError> {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => Ok(Path::new(".")),
            Ok(rel) => Ok(rel),
            Err(_) => Err(outside(&self.rel(path))),
        }
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

/// How [`Sandbox::open_existing`] opens a file (never truncating on open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    Append,
    ReadWrite,
}

/// Whether the canonical `path` lies in `/proc`, `/sys` or `/dev`.
pub(crate) fn in_system_area(path: &Path) -> bool {
    SYSTEM_AREAS.iter().any(|area| path.starts_with(area))
}

/// The refusal for a path into `/proc`, `/sys` or `/dev`.
fn system_area(shown: &str) -> ToolError {
    ToolError::new(format!(
        "'{}' leads into /proc, /sys or /dev, which the workspace tools never touch (they expose other processes and devices)",
        shorten(shown)
    ))
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
fn same_file(before: &cap_std::fs::Metadata, opened: &fs::Metadata) -> bool {
    use cap_std::fs::MetadataExt as _;
    use std::os::unix::fs::MetadataExt as _;
    before.dev() == opened.dev() && before.ino() == opened.ino()
}

#[cfg(not(unix))]
fn same_file(_before: &cap_std::fs::Metadata, opened: &fs::Metadata) -> bool {
    opened.is_file()
}
