//! Research-then-code: a research agent (with Google Search) finds out how
//! something should be done; a code agent then does it, with the findings as
//! its context summary.

use agent_core::{AgentOverrides, ForkRequest, ForkResult, ForkStatus};
use genai_client::Usage;
use tokio_util::sync::CancellationToken;

use super::{Orchestrator, WorkflowError, WorkflowEvent, WorkflowStatus, total_usage};

/// The outcome of research-then-code.
#[derive(Debug, Clone, PartialEq)]
pub struct ResearchThenCode {
    /// The research fork.
    pub research: ForkResult,
    /// The code fork, when the research succeeded.
    pub code: Option<ForkResult>,
    /// Tokens over both.
    pub usage: Usage,
    /// How it ended.
    pub status: WorkflowStatus,
}

impl Orchestrator {
    /// Researches `query`, then has a code agent do `task` building on the
    /// findings. `earlier_research` (from a resumed run) skips phase one.
    /// A run the budget stopped ends `budget_exhausted`.
    pub async fn research_then_code(
        &self,
        query: &str,
        task: &str,
        context: Option<&str>,
        earlier_research: Option<ForkResult>,
        cancel: &CancellationToken,
    ) -> Result<ResearchThenCode, WorkflowError> {
        let mut run = self
            .research_then_code_inner(query, task, context, earlier_research, cancel)
            .await?;
        run.status = run.status.or_budget_exhausted(&self.forker);
        Ok(run)
    }

    async fn research_then_code_inner(
        &self,
        query: &str,
        task: &str,
        context: Option<&str>,
        earlier_research: Option<ForkResult>,
        cancel: &CancellationToken,
    ) -> Result<ResearchThenCode, WorkflowError> {
        let research = match earlier_research {
            Some(research) => research,
            None => {
                self.emit(WorkflowEvent::PhaseStarted {
                    name: "research".to_owned(),
                });
                let search_on = AgentOverrides {
                    search: Some(true),
                    ..AgentOverrides::default()
                };
                let profile = self.profile("research")?.with(&search_on);
                let mut request = ForkRequest::new(query, profile);
                if let Some(context) = context {
                    request = request.with_context(context);
                }
                self.fork(request, cancel).await
            }
        };
        if research.status != ForkStatus::Success {
            let status = WorkflowStatus::from(research.status);
            return Ok(ResearchThenCode {
                usage: research.usage,
                research,
                code: None,
                status,
            });
        }
        self.emit(WorkflowEvent::PhaseStarted {
            name: "code".to_owned(),
        });
        let mut findings = format!("Research findings on \"{query}\":\n\n{}", research.text);
        if let Some(context) = context {
            findings.push_str(&format!("\n\nFurther context: {context}"));
        }
        let request = ForkRequest::new(task, self.profile("code")?).with_context(findings);
        let code = self.fork(request, cancel).await;
        let status = WorkflowStatus::from(code.status);
        Ok(ResearchThenCode {
            usage: total_usage([&research, &code]),
            research,
            code: Some(code),
            status,
        })
    }
}
