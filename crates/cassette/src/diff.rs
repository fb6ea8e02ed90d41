//! A small line diff (longest common subsequence) for mismatch reports:
//! `- ` lines are what the cassette expected, `+ ` lines what arrived.

/// Above this many lines per side the diff falls back to listing both sides
/// whole, to keep the quadratic table small.
const MAX_LINES: usize = 2000;

/// A readable diff of `expected` against `actual`.
pub(crate) fn line_diff(expected: &str, actual: &str) -> String {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    if old.len() > MAX_LINES || new.len() > MAX_LINES {
        old.iter().for_each(|line| push(&mut out, '-', line));
        new.iter().for_each(|line| push(&mut out, '+', line));
        return out;
    }
    // lcs[i][j] = length of the common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        if old[i] == new[j] {
            push(&mut out, ' ', old[i]);
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            push(&mut out, '-', old[i]);
            i += 1;
        } else {
            push(&mut out, '+', new[j]);
            j += 1;
        }
    }
    old[i..].iter().for_each(|line| push(&mut out, '-', line));
    new[j..].iter().for_each(|line| push(&mut out, '+', line));
    out
}

fn push(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push(' ');
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn marks_changed_lines() {
        let diff = line_diff("a\nb\nc", "a\nx\nc");
        assert_eq!(diff, "  a\n- b\n+ x\n  c\n");
    }
}
