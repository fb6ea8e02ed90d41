//! One module per subcommand, plus what they share.

pub(crate) mod batch;
pub(crate) mod common;
pub(crate) mod config;
pub(crate) mod examples;
pub(crate) mod fork;
pub(crate) mod inspect;
pub(crate) mod models;
pub(crate) mod plan;
pub(crate) mod report;
pub(crate) mod runs;
pub(crate) mod summarize;
pub(crate) mod swarm;
pub(crate) mod workflow;
