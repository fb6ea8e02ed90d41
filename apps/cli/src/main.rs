//! The `agent-fork` command.
fn main() {}
