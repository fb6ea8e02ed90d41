//! The four workflows, built on agent-core's forks and swarms:
//! plan-and-execute, research-then-code, map-reduce and iterative
//! refinement.
//!
//! An [`Orchestrator`] holds what every workflow needs: the forker (client,
//! workspace, agent events), the agent types, per-run changes to them, and
//! an observer told of each [`WorkflowEvent`] (the CLI draws them and
//! journals them).

mod map_reduce;
mod plan_execute;
mod prompts;
mod refine;
mod research_then_code;

use std::sync::Arc;

use agent_core::{AgentCatalog, AgentOverrides, AgentProfile, ForkRequest, ForkResult, Forker};
use genai_client::{
    Content, GenerateContentRequest, GenerateContentResponse, GenerationConfig, Usage,
};
use tokio_util::sync::CancellationToken;

pub use map_reduce::{MapReduce, MapReduceRequest};
pub use plan_execute::{PlanExecuteOptions, PlanRun, StepRecord};
pub use refine::{Iteration, RefineRequest, Refinement, Verdict};
pub use research_then_code::ResearchThenCode;

use crate::plan::Plan;
use crate::schedule::ScheduleEvent;

/// Something a workflow did, for progress and the journal.
///
/// Not `#[non_exhaustive]`, for the reason given on [`agent_core::Event`]:
/// its consumers are in this workspace and match it exhaustively.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowEvent {
    /// The planning call started.
    PlanningStarted {
        /// The goal.
        goal: String,
        /// The step limit.
        max_steps: usize,
    },
    /// The plan failed validation; it goes back to the planner once.
    PlanRepair {
        /// What was wrong.
        error: String,
    },
    /// A valid plan is ready (new, loaded from a file, or resumed).
    PlanReady {
        /// The plan.
        plan: Plan,
    },
    /// The scheduler moved a step along.
    Step(ScheduleEvent),
    /// A step's fork finished (success or not), with its full result.
    StepFork {
        /// The step.
        id: crate::plan::StepId,
        /// Its fork's result.
        result: Box<ForkResult>,
    },
    /// A named phase began (`research`, `code`, `map`, `reduce`, `review 2`, ...).
    PhaseStarted {
        /// The phase.
        name: String,
    },
    /// The final consolidation call started.
    ConsolidationStarted,
}

/// Receives workflow events; called from many tasks at once.
pub type WorkflowObserver = Arc<dyn Fn(&WorkflowEvent) + Send + Sync>;

/// A workflow could not run at all (as opposed to running and failing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// A planning or review call failed.
    #[error("{0}")]
    Planning(String),
    /// The plan is unusable even after the repair turn.
    #[error("the planner's plan is unusable: {0}")]
    BadPlan(String),
    /// An agent type is unknown.
    #[error("{0}")]
    Catalog(#[from] agent_core::CatalogError),
    /// The request itself is wrong (e.g. a map template without `{{item}}`).
    #[error("{0}")]
    Invalid(String),
    /// Cancelled before anything useful was done.
    #[error("cancelled")]
    Cancelled,
}

/// How a run ended: a workflow, a plan, a swarm or a single fork. The one
/// outcome type: the journal records it ([`crate::JournalEvent::ending`])
/// and the CLI turns it into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// Every part succeeded.
    Completed,
    /// Some part failed.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

impl From<agent_core::ForkStatus> for WorkflowStatus {
    /// A single fork's run: only a success is completed, a cancelled fork
    /// is cancelled, anything else failed.
    fn from(status: agent_core::ForkStatus) -> Self {
        match status {
            agent_core::ForkStatus::Success => Self::Completed,
            agent_core::ForkStatus::Cancelled => Self::Cancelled,
            agent_core::ForkStatus::Partial | agent_core::ForkStatus::Error => Self::Failed,
        }
    }
}

impl WorkflowStatus {
    /// The status as a word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Runs workflows.
#[derive(Clone)]
pub struct Orchestrator {
    forker: Forker,
    catalog: AgentCatalog,
    overrides: AgentOverrides,
    observer: Option<WorkflowObserver>,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("forker", &self.forker)
            .finish_non_exhaustive()
    }
}

impl Orchestrator {
    /// An orchestrator running agents with `forker`, types from `catalog`,
    /// each profile changed by `overrides`.
    pub fn new(forker: Forker, catalog: AgentCatalog, overrides: AgentOverrides) -> Self {
        Self {
            forker,
            catalog,
            overrides,
            observer: None,
        }
    }

    /// The same orchestrator telling `observer` of every event.
    pub fn with_observer(mut self, observer: WorkflowObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The forker.
    pub fn forker(&self) -> &Forker {
        &self.forker
    }

    /// The known agent type names.
    pub fn agent_types(&self) -> Vec<String> {
        self.catalog.names().map(str::to_owned).collect()
    }

    fn emit(&self, event: WorkflowEvent) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// The profile of `agent_type` with the run's changes.
    fn profile(&self, agent_type: &str) -> Result<AgentProfile, WorkflowError> {
        Ok(self.catalog.get(agent_type)?.clone().with(&self.overrides))
    }

    /// The planner's, reviewer's and consolidator's profile: the model
    /// catalog's default for `role`, unless the run overrides the model or
    /// the thinking.
    fn helper_profile(&self, name: &str, role: &str, instruction: &str) -> AgentProfile {
        let (model, thinking) = agent_core::role_default(role);
        AgentProfile {
            name: name.to_owned(),
            thinking: match (&self.overrides.model, self.overrides.thinking) {
                (_, Some(thinking)) => Some(thinking),
                (Some(other), None) if *other != model => None,
                _ => thinking,
            },
            model: self.overrides.model.clone().unwrap_or(model),
            instruction: instruction.to_owned(),
            file_tools: false,
            search: false,
            code_execution: false,
            mcp_servers: Vec::new(),
        }
    }

    async fn fork(&self, request: ForkRequest, cancel: &CancellationToken) -> ForkResult {
        self.forker.run(request, cancel).await
    }

    /// One model call (no tools, no loop) whose answer is JSON under
    /// `schema`; used for planning and for review verdicts.
    async fn json_call(
        &self,
        profile: &AgentProfile,
        contents: Vec<Content>,
        schema: serde_json::Value,
        cancel: &CancellationToken,
    ) -> Result<GenerateContentResponse, WorkflowError> {
        let request = GenerateContentRequest {
            contents,
            system_instruction: Some(Content::instruction(profile.instruction.clone())),
            generation_config: Some(GenerationConfig {
                response_mime_type: Some("application/json".to_owned()),
                response_schema: Some(schema),
                thinking_config: agent_core::thinking_config(
                    &profile.model,
                    profile.thinking,
                    false,
                ),
                ..GenerationConfig::default()
            }),
            ..GenerateContentRequest::default()
        };
        let client = self
            .forker
            .client()
            .with_retry_observer(self.retry_observer(&profile.name));
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(WorkflowError::Cancelled),
            reply = client.generate_content(&profile.model, &request) => reply.map_err(|error| {
                WorkflowError::Planning(format!("the {} call failed: {error}", profile.name))
            }),
        }
    }
}

/// Tokens over several fork results.
pub(crate) fn total_usage<'a>(results: impl IntoIterator<Item = &'a ForkResult>) -> Usage {
    results.into_iter().map(|result| result.usage).sum()
}
