//! Plain aligned columns (`runs list`, `models`): no borders, two spaces
//! between columns.

use crate::text;

/// `rows` laid out in columns, one line each: every cell but a row's last
/// is padded to its column's widest cell (by display width) plus two
/// spaces; the last cell is cut (with an ellipsis) to what `width` leaves
/// of the line, but to no fewer than 20 columns, or kept whole without a
/// `width`. Trailing spaces are trimmed; lines are joined with `\n`.
///
/// ```
/// let rows = [["ID", "NOTE"], ["run_1", "first"]].map(|row| row.map(String::from));
/// assert_eq!(render::columns(&rows, None), "ID     NOTE\nrun_1  first");
/// ```
pub fn columns<R: AsRef<[String]>>(rows: &[R], width: Option<usize>) -> String {
    let padded = rows
        .iter()
        .map(|row| row.as_ref().len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    let mut widths = vec![0; padded];
    for row in rows {
        for (column, cell) in row.as_ref().iter().enumerate().take(padded) {
            widths[column] = widths[column].max(text::display_width(cell));
        }
    }
    let used: usize = widths.iter().map(|width| width + 2).sum();
    let room = width.map(|width| width.saturating_sub(used).max(20));
    rows.iter()
        .map(|row| {
            let row = row.as_ref();
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column + 1 < row.len() {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(widths[column] - text::display_width(cell) + 2));
                } else if let Some(room) = room {
                    line.push_str(&text::truncate(cell, room));
                } else {
                    line.push_str(cell);
                }
            }
            line.trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cells: &[&[&str]]) -> Vec<Vec<String>> {
        cells
            .iter()
            .map(|row| row.iter().map(|cell| (*cell).to_owned()).collect())
            .collect()
    }

    #[test]
    fn pads_by_display_width_and_trims() {
        let table = rows(&[&["🐝", "a", ""], &["xyz", "bb", "end"]]);
        assert_eq!(columns(&table, None), "🐝   a\nxyz  bb  end");
    }

    #[test]
    fn cuts_the_last_column_to_the_room_left() {
        let long = "a".repeat(40);
        let table = rows(&[&["ID", &long]]);
        let line = columns(&table, Some(30));
        assert_eq!(text::display_width(&line), 30);
        assert!(line.ends_with('…'), "{line}");
        // Never cut to fewer than 20 columns.
        let line = columns(&table, Some(10));
        assert_eq!(text::display_width(&line), 4 + 20);
        assert_eq!(columns(&table, None), format!("ID  {long}"));
    }
}
