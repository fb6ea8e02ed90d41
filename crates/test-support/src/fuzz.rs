//! What the fuzz tests share: a deterministic configuration and one text
//! strategy (random text, fragments glued together, and valid samples with
//! a few characters changed, inserted, removed or the rest cut off).
//!
//! `cargo xtask fuzz-smoke` raises `FUZZ_CASES` and may set `FUZZ_SEED`.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// 256 cases with `default_seed`, or `FUZZ_CASES` / `FUZZ_SEED` when set;
/// failures are not persisted to files.
pub fn config(default_seed: u64) -> ProptestConfig {
    let number = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse::<u64>().ok())
    };
    ProptestConfig {
        cases: number("FUZZ_CASES").map_or(256, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        rng_seed: RngSeed::Fixed(number("FUZZ_SEED").unwrap_or(default_seed)),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The pieces of JSON every JSON fuzzer glues together, beside its own
/// fragments: punctuation, escapes and literals at their edges.
pub const JSON_PIECES: &[&str] = &[
    "{", "}", "[", "]", "\"", ",", ":", " ", "\n", "\\u0000", "null", "1", "-1", "1e999", "true",
];

/// Text for a JSON parser: random text of up to `random_chars` characters,
/// [`JSON_PIECES`] and `fragments` concatenated (near-valid input), or one
/// of `samples` with up to `max_edits` character edits.
pub fn text(
    fragments: &'static [&'static str],
    samples: &'static [&'static str],
    random_chars: usize,
    max_edits: usize,
) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!(".{{0,{random_chars}}}")).expect("a valid pattern"),
        prop::collection::vec(
            prop::sample::select([JSON_PIECES, fragments].concat()),
            0..40
        )
        .prop_map(|parts| parts.concat()),
        (
            prop::sample::select(samples),
            prop::collection::vec(
                (any::<prop::sample::Index>(), any::<char>(), 0..4u8),
                0..=max_edits
            ),
        )
            .prop_map(|(sample, edits)| edit(sample, &edits)),
    ]
}

/// Applies `edits` (where, what, how: replace, insert, remove, cut) to `sample`.
fn edit(sample: &str, edits: &[(prop::sample::Index, char, u8)]) -> String {
    let mut chars: Vec<char> = sample.chars().collect();
    for (at, c, op) in edits {
        if chars.is_empty() {
            chars.push(*c);
            continue;
        }
        let i = at.index(chars.len());
        match op {
            0 => chars[i] = *c,
            1 => chars.insert(i, *c),
            2 => {
                chars.remove(i);
            }
            _ => chars.truncate(i),
        }
    }
    chars.into_iter().collect()
}
