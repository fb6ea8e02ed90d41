//! Where rendered markdown lines go: behind the prefixes of the block
//! quotes and list items they sit in.
//!
//! A list item's first line shows its marker (` • `, ` 1. `); later lines
//! show spaces of the same width. Quotes show a bar on every line, blank
//! ones included. However deep the nesting, at least [`MIN_CONTENT`]
//! columns stay free for content: outer prefixes are dropped first.

use crate::text::display_width;

/// Columns always left for content, however deep lists and quotes nest.
const MIN_CONTENT: usize = 10;

/// Kinds of block that prefix the lines inside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    Quote,
    Item,
}

#[derive(Debug)]
struct Container {
    kind: ContainerKind,
    /// Prefix of the first line (a list marker).
    first: String,
    /// Prefix of every later line; as wide as `first`.
    rest: String,
    first_used: bool,
}

/// The lines written so far and the containers now open.
#[derive(Debug)]
pub(crate) struct Layout {
    width: usize,
    lines: Vec<String>,
    containers: Vec<Container>,
}

impl Layout {
    pub(crate) fn new(width: usize) -> Self {
        Self {
            width,
            lines: Vec::new(),
            containers: Vec::new(),
        }
    }

    /// Opens a container; `first` and `rest` must be equally wide.
    pub(crate) fn push(&mut self, kind: ContainerKind, first: String, rest: String) {
        self.containers.push(Container {
            kind,
            first,
            rest,
            first_used: false,
        });
    }

    pub(crate) fn pop(&mut self) {
        self.containers.pop();
    }

    pub(crate) fn innermost(&self) -> Option<ContainerKind> {
        self.containers.last().map(|container| container.kind)
    }

    /// True when the innermost container has not written its first line.
    pub(crate) fn first_line_pending(&self) -> bool {
        self.containers
            .last()
            .is_some_and(|container| !container.first_used)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub(crate) fn into_lines(self) -> Vec<String> {
        self.lines
    }

    /// Columns left for content inside the current containers.
    pub(crate) fn content_width(&self) -> usize {
        let prefix: usize = self
            .prefix_pieces(false)
            .iter()
            .map(|piece| display_width(piece))
            .sum();
        self.width - prefix
    }

    /// The prefixes of the current containers, innermost last; outer ones
    /// are dropped when nesting would leave less than [`MIN_CONTENT`].
    fn prefix_pieces(&self, first_line: bool) -> Vec<String> {
        let budget = self.width - MIN_CONTENT.min(self.width);
        let mut pieces = Vec::new();
        let mut used = 0;
        for container in self.containers.iter().rev() {
            let piece = if first_line && !container.first_used {
                &container.first
            } else {
                &container.rest
            };
            let width = display_width(piece);
            if used + width > budget {
                break;
            }
            used += width;
            pieces.push(piece.clone());
        }
        pieces.reverse();
        pieces
    }

    /// Writes one line behind the container prefixes.
    pub(crate) fn emit(&mut self, line: String) {
        let mut out = self.prefix_pieces(true).concat();
        for container in &mut self.containers {
            container.first_used = true;
        }
        out.push_str(&line);
        self.lines.push(out);
    }

    /// Writes a blank line; only quote bars show on it.
    pub(crate) fn emit_blank(&mut self) {
        let mut pieces = self.prefix_pieces(false);
        // Innermost first: item indents after the last quote bar are dropped.
        let kinds = self.containers.iter().rev().take(pieces.len());
        for container in kinds {
            if container.kind == ContainerKind::Item {
                pieces.pop();
            } else {
                break;
            }
        }
        let line = pieces.concat();
        self.lines.push(line.trim_end_matches(' ').to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_marker_shows_once_then_indent() {
        let mut layout = Layout::new(40);
        layout.push(ContainerKind::Quote, "▌ ".into(), "▌ ".into());
        layout.push(ContainerKind::Item, " • ".into(), "   ".into());
        layout.emit("one".into());
        layout.emit("two".into());
        layout.emit_blank();
        assert_eq!(layout.content_width(), 35);
        assert_eq!(layout.into_lines(), ["▌  • one", "▌    two", "▌"]);
    }

    #[test]
    fn deep_nesting_keeps_room_for_content() {
        let mut layout = Layout::new(20);
        for _ in 0..10 {
            layout.push(ContainerKind::Item, " • ".into(), "   ".into());
        }
        assert!(layout.content_width() >= MIN_CONTENT);
        layout.emit("x".into());
        let lines = layout.into_lines();
        assert!(display_width(&lines[0]) <= 20 - MIN_CONTENT + 1);
    }
}
