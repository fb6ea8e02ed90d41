//! One module per subcommand, plus what they share.

pub(crate) mod common;
pub(crate) mod config;
pub(crate) mod fork;
pub(crate) mod inspect;
pub(crate) mod summarize;
pub(crate) mod swarm;
