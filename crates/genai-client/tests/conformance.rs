//! Conformance of the decoders against the recorded Gemini wire corpus.
//!
//! Every file under `../shared/fixtures/gemini-wire` (or `GEMINI_WIRE_CORPUS`)
//! is read through the adapter of its format, and the facts of each HTTP
//! response it records are compared with `conformance/expected.json`. That
//! table was derived from the raw JSON by a separate script written from the
//! wire reference, not by running this crate, so a decoding mistake shows up
//! as a difference. `notable` spells out the cases SOURCES.md calls out.
//!
//! A file SOURCES.md lists but the table lacks (or a table entry without its
//! file) fails the suite; a file SOURCES.md does not list is only decoded
//! (it must not panic) and reported. The report prints what the decoders
//! make of such a file; check every fact against the file itself before
//! adding it to the table.

mod conformance {
    pub(crate) mod adapters;
    pub(crate) mod corpus;
    pub(crate) mod facts;
    mod notable;
}

use std::collections::BTreeMap;
use std::io::Write;

use conformance::adapters::observe;
use conformance::corpus::{self, CorpusFile};
use conformance::facts::{Facts, diff};

/// Corpus path → the expected facts of each response in the file, in order.
fn expected_table() -> BTreeMap<String, Vec<Facts>> {
    serde_json::from_str(include_str!("conformance/expected.json"))
        .expect("conformance/expected.json is a map of path to facts")
}

/// Checks one file against its expected facts; returns the problems.
fn check(file: &CorpusFile, expected: &[Facts]) -> Vec<String> {
    let observations = match observe(file) {
        Ok(observations) => observations,
        Err(problem) => return vec![format!("the adapter could not read it: {problem}")],
    };
    let mut problems = Vec::new();
    if observations.len() != expected.len() {
        problems.push(format!(
            "{} responses expected, {} observed",
            expected.len(),
            observations.len()
        ));
    }
    for (observation, expected) in observations.iter().zip(expected) {
        match Facts::of_outcome(&observation.outcome) {
            Ok(actual) => {
                let lines = diff(expected, &actual);
                if let (false, Err(error)) = (lines.is_empty(), &observation.outcome) {
                    problems.push(format!("{}: decoding failed: {error}", observation.label));
                }
                problems.extend(
                    lines
                        .into_iter()
                        .map(|line| format!("{}: {line}", observation.label)),
                );
            }
            Err(problem) => problems.push(format!("{}: {problem}", observation.label)),
        }
    }
    problems
}

/// The facts of a file the table does not know, to help whoever adds it.
fn describe(file: &CorpusFile) -> String {
    let facts: Vec<_> = observe(file)
        .unwrap_or_default()
        .iter()
        .map(
            |observation| match Facts::of_outcome(&observation.outcome) {
                Ok(facts) => serde_json::to_string(&facts).expect("facts serialise"),
                Err(problem) => problem,
            },
        )
        .collect();
    facts.join("\n    ")
}

#[test]
fn every_corpus_file_gives_its_expected_facts() {
    let Some(corpus) = corpus::load_or_skip("conformance") else {
        return;
    };
    let mut table = expected_table();
    let mut failures = Vec::new();
    let mut observations = 0;
    let mut unlisted = Vec::new();
    for file in &corpus.files {
        let Some(expected) = table.remove(&file.path) else {
            if !file.listed {
                // A file SOURCES.md does not list (e.g. one added to the
                // corpus later) has no recorded facts: it must still be read
                // without a panic, and what the decoders make of it is shown.
                unlisted.push(format!("{}: {}", file.path, describe(file)));
                continue;
            }
            failures.push(format!(
                "{} ({:?}) is listed in SOURCES.md but has no entry in conformance/expected.json; the decoders say:\n    {}",
                file.path,
                file.format,
                describe(file),
            ));
            continue;
        };
        observations += expected.len();
        let problems = check(file, &expected);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", file.path, problems.join("\n  ")));
        }
    }
    failures.extend(
        table
            .keys()
            .map(|path| format!("{path} is in conformance/expected.json but not in the corpus")),
    );
    let _ = writeln!(
        std::io::stderr(),
        "conformance: {} files, {observations} observations asserted, {} unlisted files only decoded, corpus {}",
        corpus.files.len(),
        unlisted.len(),
        corpus.root.display()
    );
    for line in &unlisted {
        let _ = writeln!(std::io::stderr(), "  unlisted: {line}");
    }
    assert!(
        failures.is_empty(),
        "{} problems between {} corpus files and conformance/expected.json:\n{}",
        failures.len(),
        corpus.files.len(),
        failures.join("\n")
    );
}

#[test]
fn a_wrong_expectation_is_reported() {
    let path = "firebase-googleai/unary-success-basic-reply-short.json";
    let Some(file) = corpus::file_or_skip("conformance", path) else {
        return;
    };
    let mut expected = expected_table().remove(path).expect("the table knows it");
    assert_eq!(check(&file, &expected), Vec::<String>::new());
    expected[0].text_len += 1;
    expected[0].finish_reason = Some("MAX_TOKENS".to_owned());
    let problems = check(&file, &expected);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("body: finish_reason: expected \"MAX_TOKENS\", got \"STOP\""));
    assert!(problems[1].starts_with("body: text_len: expected"));
    expected.push(expected[0].clone());
    assert!(check(&file, &expected)[0].contains("2 responses expected, 1 observed"));
}
