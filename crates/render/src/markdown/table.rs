//! Markdown tables, drawn by comfy-table with rounded UTF-8 borders and
//! fitted to the available width.
//!
//! comfy-table is told the width and whether to style, so it never asks the
//! terminal. When even a squeezed table cannot fit, rows are written as
//! wrapped `cell │ cell` lines instead, so no line is wider than asked.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, ContentArrangement, Table};
use pulldown_cmark::Alignment;

use crate::text::{display_width, wrap};
use crate::theme::Theme;

/// A table being read from the event stream.
#[derive(Debug, Default)]
pub(crate) struct TableBuilder {
    alignments: Vec<Alignment>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
}

impl TableBuilder {
    pub(crate) fn new(alignments: Vec<Alignment>) -> Self {
        Self {
            alignments,
            ..Self::default()
        }
    }

    /// Adds a finished cell to the current row.
    pub(crate) fn cell(&mut self, text: String) {
        self.row.push(text);
    }

    /// The current row was the header.
    pub(crate) fn end_header(&mut self) {
        self.header = std::mem::take(&mut self.row);
    }

    /// The current row is complete.
    pub(crate) fn end_row(&mut self) {
        let row = std::mem::take(&mut self.row);
        self.rows.push(row);
    }

    /// Draws the table in at most `width` columns.
    pub(crate) fn render(&self, width: usize, theme: &Theme) -> Vec<String> {
        let lines = self.comfy(width, theme);
        if lines.iter().all(|line| display_width(line) <= width) {
            return lines;
        }
        self.fallback(width, theme)
    }

    fn comfy(&self, width: usize, theme: &Theme) -> Vec<String> {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .apply_modifier(comfy_table::modifiers::UTF8_ROUND_CORNERS)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(width).unwrap_or(u16::MAX));
        if theme.color() {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        if !self.header.is_empty() {
            table.set_header(self.header.iter().map(|text| {
                let cell = Cell::new(text);
                if theme.color() {
                    cell.add_attribute(Attribute::Bold)
                } else {
                    cell
                }
            }));
        }
        for row in &self.rows {
            table.add_row(row);
        }
        for (index, alignment) in self.alignments.iter().enumerate() {
            let alignment = match alignment {
                Alignment::None | Alignment::Left => CellAlignment::Left,
                Alignment::Center => CellAlignment::Center,
                Alignment::Right => CellAlignment::Right,
            };
            if let Some(column) = table.column_mut(index) {
                column.set_cell_alignment(alignment);
            }
        }
        table.lines().collect()
    }

    fn fallback(&self, width: usize, theme: &Theme) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.header.is_empty() {
            lines.extend(wrap(&theme.bold(&self.header.join(" │ ")), width));
        }
        for row in &self.rows {
            lines.extend(wrap(&row.join(" │ "), width));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TableBuilder {
        let mut table = TableBuilder::new(vec![Alignment::Left, Alignment::Right]);
        table.cell("Name".into());
        table.cell("Tokens".into());
        table.end_header();
        table.cell("prompt".into());
        table.cell("1,234".into());
        table.end_row();
        table
    }

    #[test]
    fn draws_rounded_table() {
        let lines = sample().render(40, &Theme::plain(40));
        assert_eq!(
            lines,
            [
                "╭────────┬────────╮",
                "│ Name   ┆ Tokens │",
                "╞════════╪════════╡",
                "│ prompt ┆  1,234 │",
                "╰────────┴────────╯",
            ]
        );
    }

    #[test]
    fn too_narrow_tables_fall_back_to_lines() {
        let lines = sample().render(8, &Theme::plain(40));
        assert!(
            lines.iter().all(|line| display_width(line) <= 8),
            "{lines:?}"
        );
        assert!(!lines.is_empty());
    }
}
