//! Forks as Batch API items: the one request a fork would send on its first
//! turn, and the fork result made from the one reply (or error) the batch
//! gave back. A batch item is a single model call, so a fork that needs a
//! tool loop (workspace tools, or built-in tools offered as stand-in
//! functions on Gemini 2.x) cannot be one and is refused.

use std::time::Duration;

use genai_client::{Content, GenerateContentRequest, GenerateContentResponse};

use super::ForkRequest;
use super::result::{ForkError, ForkErrorKind, ForkResult, ForkStatus};
use super::run::{Forker, LoopState};
use crate::ids::ForkId;

/// Why a fork cannot be a batch item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchRefusal {
    /// The agent works with workspace tools: a multi-turn tool loop.
    #[error(
        "agent type {agent} uses workspace tools (a multi-turn tool loop), which a batch item cannot have; choose an agent type without file tools, or run it live"
    )]
    ToolLoop {
        /// The agent type.
        agent: String,
    },
    /// Built-in tools would be offered as functions the client answers
    /// (Gemini 2.x cannot mix them with function tools), which needs a
    /// second turn.
    #[error(
        "agent type {agent} on {model} offers {functions} as functions answered by agent-fork (a second turn), which a batch item cannot have; turn search and code execution off, or run it live"
    )]
    StandInTools {
        /// The agent type.
        agent: String,
        /// The model.
        model: String,
        /// The stand-in functions.
        functions: String,
    },
    /// The catalog does not list the model as served by the Batch API.
    #[error(
        "{model} is not served by the Batch API (per the model catalog); choose another model, or run it live"
    )]
    ModelNotBatchable {
        /// The model.
        model: String,
    },
}

impl Forker {
    /// The `generateContent` body `request` would send on its first (and,
    /// as a batch item, only) turn: system instruction with any context,
    /// the task, thinking, built-in tools the model takes server-side.
    ///
    /// # Errors
    ///
    /// [`BatchRefusal`] when the fork needs more than one turn or the model
    /// is not served by the Batch API.
    pub fn batch_request(
        &self,
        request: &ForkRequest,
    ) -> Result<GenerateContentRequest, BatchRefusal> {
        let profile = &request.profile;
        if !genai_client::supports_batch(&profile.model) {
            return Err(BatchRefusal::ModelNotBatchable {
                model: profile.model.clone(),
            });
        }
        if (profile.file_tools && self.has_workspace()) || self.external_declared(profile) {
            return Err(BatchRefusal::ToolLoop {
                agent: profile.name.clone(),
            });
        }
        let plan = self.tool_plan(request, false);
        if !plan.stand_ins.is_empty() {
            return Err(BatchRefusal::StandInTools {
                agent: profile.name.clone(),
                model: profile.model.clone(),
                functions: plan.stand_ins.join(", "),
            });
        }
        let mut body = self.request_template(request, plan);
        body.contents = vec![Content::user(request.task.clone())];
        Ok(body)
    }
}

/// The fork result of a batch item: `reply` is the item's response, or the
/// message of its per-item error. Priced at the batch rate; the status is
/// success, partial when the model asked for a function (it cannot be
/// answered in a batch), or error.
pub fn batch_fork_result(
    request: &ForkRequest,
    fork_id: ForkId,
    reply: Result<&GenerateContentResponse, String>,
) -> ForkResult {
    let mut state = LoopState::new(request, fork_id, crate::events::EventSink::none());
    state.batch = true;
    let status = match reply {
        Ok(response) => {
            if response.candidates.is_empty() && response.prompt_feedback.is_some() {
                state.record_turn(response);
                state.error = Some(ForkError {
                    kind: ForkErrorKind::Client(genai_client::ErrorKind::PromptBlocked),
                    message: "the prompt was blocked".to_owned(),
                    http_status: None,
                    auth: false,
                });
                ForkStatus::Error
            } else if state.record_turn(response).is_empty() {
                ForkStatus::Success
            } else {
                ForkStatus::Partial
            }
        }
        Err(message) => {
            state.error = Some(ForkError {
                kind: ForkErrorKind::Client(genai_client::ErrorKind::Api),
                message,
                http_status: None,
                auth: false,
            });
            ForkStatus::Error
        }
    };
    state.finish(status, Duration::ZERO)
}
