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
#[derive(Debug, Clone, PartialEq)]
pub struct RefineRequest {
    /// The task.
    pub task: String,
    /// What the output must satisfy.
    pub criteria: String,
    /// Most attempts (the first included).
    pub max_iterations: u32,
    /// The agent type doing the work.
    pub agent_type: String,
    /// Reviewed attempts of an interrupted run, in order: refinement goes
    /// on from the last one instead of paying for them again.
    pub previous: Vec<Iteration>,
}

impl RefineRequest {
    /// A request with no earlier attempts.
    pub fn new(
        task: impl Into<String>,
        criteria: impl Into<String>,
        max_iterations: u32,
        agent_type: impl Into<String>,
    ) -> Self {
        Self {
            task: task.into(),
            criteria: criteria.into(),
            max_iterations,
            agent_type: agent_type.into(),
            previous: Vec::new(),
        }
    }
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    /// The attempt.
    pub output: ForkResult,
    /// The review, when one was made.
    pub verdict: Option<Verdict>,
    /// Why there is no verdict, when the review was attempted and failed
    /// (the reviewer's call failed, or its verdict was not the expected JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_error: Option<String>,
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
        self.refine_with(request, cancel, |_, _| {}).await
    }

    /// [`Orchestrator::refine`], calling `on_reviewed` with the index and
    /// the attempt each time an attempt has its verdict, so a caller can
    /// keep it (and later pass it back in [`RefineRequest::previous`]).
    /// A run the budget stopped (an attempt or a review refused) ends
    /// `budget_exhausted`.
    pub async fn refine_with(
        &self,
        request: &RefineRequest,
        cancel: &CancellationToken,
        on_reviewed: impl FnMut(usize, &Iteration),
    ) -> Result<Refinement, WorkflowError> {
        let mut run = self.refine_inner(request, cancel, on_reviewed).await?;
        run.status = run.status.or_budget_exhausted(&self.forker);
        Ok(run)
    }

    async fn refine_inner(
        &self,
        request: &RefineRequest,
        cancel: &CancellationToken,
        mut on_reviewed: impl FnMut(usize, &Iteration),
    ) -> Result<Refinement, WorkflowError> {
        let profile = self.profile(&request.agent_type)?;
        let mut refinement = Refinement {
            iterations: request.previous.clone(),
            usage: Usage::default(),
            status: WorkflowStatus::Failed,
        };
        for earlier in &request.previous {
            refinement.usage += earlier.output.usage;
        }
        let satisfied_already = request
            .previous
            .last()
            .and_then(|last| last.verdict.as_ref())
            .is_some_and(|verdict| verdict.satisfactory);
        if satisfied_already {
            refinement.status = WorkflowStatus::Completed;
            return Ok(refinement);
        }
        let first = u32::try_from(request.previous.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        for number in first..=request.max_iterations.max(1) {
            self.emit(WorkflowEvent::PhaseStarted {
                name: format!("attempt {number}"),
            });
            let task = match refinement.iterations.last() {
                None => request.task.clone(),
                Some(previous) => prompts::improve_prompt(
                    &request.task,
                    &request.criteria,
                    &previous.output.text,
                    previous
                        .verdict
                        .as_ref()
                        .map_or(&[][..], |verdict| &verdict.issues),
                ),
            };
            let output = self
                .fork(ForkRequest::new(task, profile.clone()), cancel)
                .await;
            refinement.usage += output.usage;
            if output.status != ForkStatus::Success {
                refinement.status = output.status.into();
                refinement.iterations.push(Iteration {
                    output,
                    verdict: None,
                    review_error: None,
                });
                return Ok(refinement);
            }
            self.emit(WorkflowEvent::PhaseStarted {
                name: format!("review {number}"),
            });
            let verdict = match self.review(request, &output.text, cancel).await {
                Ok((verdict, spent)) => {
                    refinement.usage += spent;
                    verdict
                }
                Err(error) => {
                    refinement.status = if matches!(error, WorkflowError::Cancelled) {
                        WorkflowStatus::Cancelled
                    } else {
                        WorkflowStatus::Failed
                    };
                    refinement.iterations.push(Iteration {
                        output,
                        verdict: None,
                        review_error: Some(error.to_string()),
                    });
                    return Ok(refinement);
                }
            };
            let satisfied = verdict.satisfactory;
            let iteration = Iteration {
                output,
                verdict: Some(verdict),
                review_error: None,
            };
            on_reviewed(refinement.iterations.len(), &iteration);
            refinement.iterations.push(iteration);
            if satisfied {
                refinement.status = WorkflowStatus::Completed;
                return Ok(refinement);
            }
        }
        Ok(refinement)
    }

    async fn review(
        &self,
        request: &RefineRequest,
        output: &str,
        cancel: &CancellationToken,
    ) -> Result<(Verdict, Usage), WorkflowError> {
        let profile =
            self.helper_profile("reviewer", "refine_reviewer", prompts::REVIEWER_INSTRUCTION);
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
