//! Terminal rendering: panels, trees, markdown, tables, progress.
