//! File trees for tests, written into a folder the test owns.

use std::path::Path;

/// Writes each `(relative path, content)` below `root`, creating folders.
///
/// ```
/// let folder = std::env::temp_dir().join(format!("test-support-doc-{}", std::process::id()));
/// test_support::files::write_tree(&folder, &[("a/b.txt", "hi"), ("c.bin", "\0")]);
/// assert_eq!(std::fs::read_to_string(folder.join("a/b.txt")).unwrap(), "hi");
/// std::fs::remove_dir_all(&folder).unwrap();
/// ```
///
/// # Panics
///
/// When a file cannot be written: a test's fixture must exist.
pub fn write_tree<C: AsRef<[u8]>>(root: &Path, files: &[(&str, C)]) {
    for (relative, content) in files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the fixture's folders");
        }
        std::fs::write(&path, content.as_ref()).expect("write a fixture file");
    }
}
