//! Iterative refinement: an agent does the task; a reviewer judges the
//! output against the criteria with a structured verdict (JSON under a
//! response schema, not a search for a magic word); while the verdict says
//! it falls short, the agent improves it, up to a number of iterations.

use agent_core::{ForkRequest, ForkResult, ForkStatus};
use genai_client::{Content, Usage};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Orchestrator, WorkflowError, WorkflowEvent, WorkflowStatus, prompts};

/// What to refine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefineRequest {
    /// The task.
    pub task: String,
    /// What the output must satisfy.
    pub criteria: String,
    /// Most attempts (the first included).
    pub max_iterations: u32,
    /// The agent type doing the work.
    pub agent_type: String,
}

/// A reviewer's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when every criterion is met.
    pub satisfactory: bool,
    /// What must change.
    #[serde(default)]
    pub issues: Vec<String>,
    /// One sentence.
    #[serde(default)]
    pub summary: String,
}

/// One attempt and its review.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    /// The attempt.
    pub output: ForkResult,
    /// The review, when one was made.
    pub verdict: Option<Verdict>,
}

/// The outcome of refinement.
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    /// Every attempt in order.
    pub iterations: Vec<Iteration>,
    /// Tokens over attempts and reviews.
    pub usage: Usage,
    /// Completed when the last verdict was satisfactory.
    pub status: WorkflowStatus,
}

impl Refinement {
    /// The last successful attempt's text.
    pub fn final_text(&self) -> Option<&str> {
        self.iterations
            .iter()
            .rev()
            .find(|iteration| iteration.output.is_success())
            .map(|iteration| iteration.output.text.as_str())
    }
}

impl Orchestrator {
    /// Runs attempts and reviews until the reviewer is satisfied or the
    /// iterations run out.
    pub async fn refine(
        &self,
        request: &RefineRequest,
        cancel: &CancellationToken,
    ) -> Result<Refinement, WorkflowError> {
        let profile = self.profile(&request.agent_type)?;
        let mut iterations: Vec<Iteration> = Vec::new();
        let mut usage = Usage::default();
        let mut issues: Vec<String> = Vec::new();
        for number in 1..=request.max_iterations.max(1) {
            self.emit(WorkflowEvent::PhaseStarted {
                name: format!("attempt {number}"),
            });
            let task = match iterations.last() {
                None => request.task.clone(),
                Some(previous) => prompts::improve_prompt(
                    &request.task,
                    &request.criteria,
                    &previous.output.text,
                    &issues,
                ),
            };
            let output = self
                .fork(ForkRequest::new(task, profile.clone()), cancel)
                .await;
            usage += output.usage;
            if output.status != ForkStatus::Success {
                let status = if output.status == ForkStatus::Cancelled {
                    WorkflowStatus::Cancelled
                } else {
                    WorkflowStatus::Failed
                };
                iterations.push(Iteration {
                    output,
                    verdict: None,
                });
                return Ok(Refinement {
                    iterations,
                    usage,
                    status,
                });
            }
            self.emit(WorkflowEvent::PhaseStarted {
                name: format!("review {number}"),
            });
            let (verdict, spent) = match self.review(request, &output.text, cancel).await {
                Ok(review) => review,
                Err(error) => {
                    iterations.push(Iteration {
                        output,
                        verdict: None,
                    });
                    let status = if matches!(error, WorkflowError::Cancelled) {
                        WorkflowStatus::Cancelled
                    } else {
                        WorkflowStatus::Failed
                    };
                    return Ok(Refinement {
                        iterations,
                        usage,
                        status,
                    });
                }
            };
            usage += spent;
            let satisfied = verdict.satisfactory;
            issues.clone_from(&verdict.issues);
            iterations.push(Iteration {
                output,
                verdict: Some(verdict),
            });
            if satisfied {
                return Ok(Refinement {
                    iterations,
                    usage,
                    status: WorkflowStatus::Completed,
                });
            }
        }
        Ok(Refinement {
            iterations,
            usage,
            status: WorkflowStatus::Failed,
        })
    }

    async fn review(
        &self,
        request: &RefineRequest,
        output: &str,
        cancel: &CancellationToken,
    ) -> Result<(Verdict, Usage), WorkflowError> {
        let profile = self.helper_profile(
            "reviewer",
            "gemini-2.5-flash",
            1024,
            prompts::REVIEWER_INSTRUCTION,
        );
        let contents = vec![Content::user(prompts::review_prompt(
            &request.task,
            &request.criteria,
            output,
        ))];
        let reply = self
            .json_call(&profile, contents, verdict_schema(), cancel)
            .await?;
        let text = reply.text();
        let verdict: Verdict = serde_json::from_str(text.trim()).map_err(|error| {
            WorkflowError::Invalid(format!(
                "the reviewer's verdict is not the expected JSON: {error}"
            ))
        })?;
        Ok((verdict, reply.usage().unwrap_or_default()))
    }
}

/// The reviewer's response schema.
fn verdict_schema() -> serde_json::Value {
    json!({
        "type": "OBJECT",
        "properties": {
            "satisfactory": { "type": "BOOLEAN" },
            "issues": { "type": "ARRAY", "items": { "type": "STRING" } },
            "summary": { "type": "STRING" }
        },
        "required": ["satisfactory", "issues", "summary"],
        "propertyOrdering": ["satisfactory", "issues", "summary"]
    })
}
