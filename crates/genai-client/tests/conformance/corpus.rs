//! Where the recorded corpus lives, which files it holds, and the format of
//! each file as `SOURCES.md` lists it.
//!
//! The corpus stays in `../shared/fixtures/gemini-wire` (next to the
//! workspace); it is never copied into the repository. `GEMINI_WIRE_CORPUS`
//! points elsewhere. When the folder is missing the suites skip, unless
//! `CI=true`, where a missing corpus fails them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a file stores its HTTP responses (the "format" column of SOURCES.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A raw unary (or error) response body.
    Json,
    /// A raw `text/event-stream` body.
    Sse,
    /// A raw HTML error page.
    Html,
    /// js-genai replay JSON: `interactions[].response.bodySegments`.
    Replay,
    /// One response object per line (SSE framing stripped).
    Ndjson,
    /// A JSON object holding captured request(s) and response(s).
    Wrapper,
    /// A VCR.py YAML cassette.
    Vcr,
}

impl Format {
    fn from_column(column: &str) -> Option<Format> {
        Some(match column {
            "JSON" => Format::Json,
            "SSE" => Format::Sse,
            "HTML" => Format::Html,
            "replay" => Format::Replay,
            "NDJSON" => Format::Ndjson,
            "wrapper" => Format::Wrapper,
            "VCR" => Format::Vcr,
            _ => return None,
        })
    }

    /// A guess from the name and content, for files SOURCES.md does not list.
    fn sniff(path: &str, bytes: &[u8]) -> Format {
        let text = String::from_utf8_lossy(bytes);
        let start = text.trim_start();
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Vcr
        } else if path.ends_with(".html") || start.starts_with('<') {
            Format::Html
        } else if path.ends_with(".chunks.txt") {
            Format::Ndjson
        } else if text.lines().any(|line| line.starts_with("data:")) {
            Format::Sse
        } else if text.contains("\"bodySegments\"") && text.contains("\"interactions\"") {
            Format::Replay
        } else if start.starts_with('{')
            && (text.contains("\"calls\"") || text.contains("\"capturedAt\""))
            && text.contains("\"request\"")
        {
            Format::Wrapper
        } else {
            Format::Json
        }
    }
}

/// One corpus file.
#[derive(Debug, Clone)]
pub(crate) struct CorpusFile {
    /// Path relative to the corpus root, `/`-separated.
    pub(crate) path: String,
    /// Its format.
    pub(crate) format: Format,
    /// False when SOURCES.md does not list the file (its format was guessed).
    pub(crate) listed: bool,
    /// The bytes.
    pub(crate) bytes: Vec<u8>,
}

/// The corpus folder and its files.
#[derive(Debug)]
pub(crate) struct Corpus {
    /// The folder.
    pub(crate) root: PathBuf,
    /// Every file but SOURCES.md, sorted by path.
    pub(crate) files: Vec<CorpusFile>,
}

use test_support::corpus::root_or_skip;

/// Every file of the corpus, or `None` when the suite skips.
pub(crate) fn load_or_skip(suite: &str) -> Option<Corpus> {
    let root = root_or_skip(suite)?;
    let formats = listed_formats(&root);
    let mut paths = Vec::new();
    walk(&root, &root, &mut paths);
    paths.sort();
    let files = paths
        .into_iter()
        .filter(|path| path != "SOURCES.md")
        .map(|path| read(&root, &formats, path))
        .collect();
    Some(Corpus { root, files })
}

/// One file of the corpus (`folder/file`), or `None` when the suite skips.
pub(crate) fn file_or_skip(suite: &str, path: &str) -> Option<CorpusFile> {
    let root = root_or_skip(suite)?;
    Some(read(&root, &listed_formats(&root), path.to_owned()))
}

fn read(root: &Path, formats: &BTreeMap<String, Format>, path: String) -> CorpusFile {
    let bytes = std::fs::read(root.join(&path))
        .unwrap_or_else(|error| panic!("cannot read corpus file {path}: {error}"));
    let listed = formats.get(&path).copied();
    CorpusFile {
        format: listed.unwrap_or_else(|| Format::sniff(&path, &bytes)),
        listed: listed.is_some(),
        path,
        bytes,
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).expect("inside the corpus");
            let parts: Vec<_> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
}

/// `folder/file` → format, from the tables of SOURCES.md: a `## folder`
/// heading, then rows `` | `file` | FORMAT | ... ``.
fn listed_formats(root: &Path) -> BTreeMap<String, Format> {
    let Ok(sources) = std::fs::read_to_string(root.join("SOURCES.md")) else {
        return BTreeMap::new();
    };
    let mut folder = String::new();
    let mut formats = BTreeMap::new();
    for line in sources.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            folder = heading.trim().to_owned();
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, file, column, ..] = cells.as_slice() {
            let name = file.trim_matches('`');
            if file.starts_with('`') && !name.is_empty() {
                if let Some(format) = Format::from_column(column) {
                    formats.insert(format!("{folder}/{name}"), format);
                }
            }
        }
    }
    formats
}
