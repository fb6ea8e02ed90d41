//! Trees drawn with box-drawing branches, like a plan's steps:
//!
//! ```text
//! Plan: wf_103207_001
//! ├── Project Setup & User Utilities
//! ├── Implement Login Endpoint (depends: step_1)
//! └── Implement User Registration (depends: step_1)
//! ```

use crate::text;
use crate::theme::Theme;

/// Columns taken by one level of branches (`├── `, `│   `).
const INDENT: usize = 4;
/// Columns always left for a label, however deep the tree.
const MIN_LABEL: usize = 10;

/// One node of a [`tree`]: a label, an optional dimmed note shown after it
/// in brackets, and children drawn below it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeItem {
    /// Text of the node.
    pub label: String,
    /// Extra detail shown as ` (note)`, e.g. `depends: step_1`.
    pub note: Option<String>,
    /// Nodes drawn one level deeper, below this one.
    pub children: Vec<TreeItem>,
}

impl TreeItem {
    /// A leaf with a label.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            note: None,
            children: Vec::new(),
        }
    }

    /// Sets the note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Sets the children.
    #[must_use]
    pub fn with_children(mut self, children: Vec<TreeItem>) -> Self {
        self.children = children;
        self
    }
}

/// Draws `root_label` and the items below it. Long labels wrap under
/// themselves within the theme width (a tree nested deeper than the width
/// allows keeps at least ten columns per label and may overflow).
///
/// ```
/// use render::{tree, Theme, TreeItem};
/// let items = [
///     TreeItem::new("Setup"),
///     TreeItem::new("Login").with_note("depends: step_1"),
/// ];
/// assert_eq!(
///     tree("Plan: wf_1", &items, &Theme::plain(80)),
///     "Plan: wf_1\n├── Setup\n└── Login (depends: step_1)"
/// );
/// ```
pub fn tree(root_label: &str, items: &[TreeItem], theme: &Theme) -> String {
    let mut lines = vec![theme.bold(&text::single_line(root_label))];
    draw(items, "", theme, &mut lines);
    lines.join("\n")
}

fn draw(items: &[TreeItem], prefix: &str, theme: &Theme, lines: &mut Vec<String>) {
    for (index, item) in items.iter().enumerate() {
        let last = index + 1 == items.len();
        let (branch, continuation) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let mut label = text::single_line(&item.label);
        if let Some(note) = item.note.as_deref().map(text::single_line) {
            if !note.is_empty() {
                label.push(' ');
                label.push_str(&theme.dim(&format!("({note})")));
            }
        }
        let room = theme
            .width()
            .saturating_sub(text::display_width(prefix) + INDENT)
            .max(MIN_LABEL);
        let child_prefix = format!("{prefix}{continuation}");
        let wrapped = text::wrap(&label, room);
        for (line_index, line) in wrapped.iter().enumerate() {
            let lead = if line_index == 0 {
                format!("{prefix}{branch}")
            } else {
                child_prefix.clone()
            };
            lines.push(format!("{}{line}", theme.dim(&lead)));
        }
        draw(&item.children, &child_prefix, theme, lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_children_get_continuation_bars() {
        let items = [
            TreeItem::new("a").with_children(vec![TreeItem::new("a1"), TreeItem::new("a2")]),
            TreeItem::new("b").with_children(vec![TreeItem::new("b1")]),
        ];
        assert_eq!(
            tree("root", &items, &Theme::plain(80)),
            "root\n├── a\n│   ├── a1\n│   └── a2\n└── b\n    └── b1"
        );
    }

    #[test]
    fn long_labels_wrap_within_width() {
        let items = [
            TreeItem::new("word ".repeat(20)).with_note("depends: step_1, step_2"),
            TreeItem::new("x"),
        ];
        let drawn = tree("root", &items, &Theme::plain(40));
        for line in drawn.lines() {
            assert!(text::display_width(line) <= 40, "{line:?}");
        }
        assert!(drawn.contains("\n│   word"));
    }

    #[test]
    fn empty_tree_is_just_the_root() {
        assert_eq!(tree("root", &[], &Theme::plain(80)), "root");
    }
}
