//! Test-only helpers shared by agent-fork's crates, so each small thing a
//! test needs is written once:
//!
//! - [`gemini`]: hand-written (authored) Gemini replies in the Developer
//!   API's wire shape, as JSON for cassettes;
//! - [`fuzz`]: the deterministic proptest configuration (`FUZZ_CASES`,
//!   `FUZZ_SEED`) and the text strategy the fuzz tests feed their parsers;
//! - [`batch`]: authored Batch API bodies (Operations, inline results,
//!   result-file lines, the uploaded `File`);
//! - [`files`]: file trees written into a test's temporary folder;
//! - [`corpus`]: where the recorded wire corpus is, or why a suite skips;
//! - [`browser`]: headless Chromium loading a page, with its DOM, console,
//!   requests to other hosts and a screenshot.
//!
//! Only ever a dev-dependency. It depends on no project crate.

pub mod batch;
pub mod browser;
pub mod corpus;
pub mod files;
pub mod fuzz;
pub mod gemini;
