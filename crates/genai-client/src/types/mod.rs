//! Typed models of the Gemini v1beta wire.

pub(crate) mod batch;
pub(crate) mod content;
pub(crate) mod enums;
pub(crate) mod models;
pub(crate) mod request;
pub(crate) mod response;
