//! Agent types, forks and their tool loop, the workspace sandbox, swarms and
//! the context summarizer. Emits events; never prints.
