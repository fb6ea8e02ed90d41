//! Exit codes and the one error type commands return.
//!
//! Every failure reaches the user as one line (what went wrong and how to
//! fix it) and one of these exit codes.

use std::fmt;

/// The process exit codes of `agent-fork`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The work succeeded.
    Success = 0,
    /// The work ran but failed (a fork or step failed).
    WorkFailed = 1,
    /// Bad usage or bad input (a missing file, invalid JSON, a bad flag value).
    Usage = 2,
    /// The Gemini API answered with an error, or could not be reached.
    Api = 3,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

impl Exit {
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// A failure with its exit code; the message is one line.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

impl Failure {
    /// Bad usage or input (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// The work ran but failed (exit 1).
    pub(crate) fn work(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::WorkFailed,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit code and the single line to show for any error.
pub(crate) fn classify(error: &anyhow::Error) -> (Exit, String) {
    // A 404 naming a model, anywhere in the chain: say what the catalog knows.
    let missing = error.chain().find_map(|cause| {
        let api = cause.downcast_ref::<genai_client::Error>()?.api()?;
        (api.code == 404)
            .then(|| crate::commands::common::model_not_found_line(&api.message))
            .flatten()
    });
    if let Some(line) = missing {
        return (Exit::Api, line);
    }
    if let Some(failure) = error.downcast_ref::<Failure>() {
        return (failure.exit, failure.message.clone());
    }
    if let Some(client) = error.downcast_ref::<genai_client::Error>() {
        let exit = match client.kind() {
            genai_client::ErrorKind::Config => Exit::Usage,
            _ => Exit::Api,
        };
        return (exit, one_line(&format!("{error:#}")));
    }
    (Exit::WorkFailed, one_line(&format!("{error:#}")))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
