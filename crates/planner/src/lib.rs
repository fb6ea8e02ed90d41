//! Plans, the DAG scheduler, workflows and durable runs.
//!
//! `planner` owns everything between "here is a goal" and "here is what every
//! step produced", except talking to a model:
//!
//! * **Plans** ([`Plan`], [`parse_plan`], [`validate`]): reading the planning
//!   model's reply leniently, checking it strictly (ids, dependencies, cycles,
//!   agent types, size) and turning it into a [`ValidPlan`] graph. Plans are
//!   saved as JSON a user can edit and run again.
//! * **The scheduler** ([`run_dag`]): every step starts as soon as its own
//!   dependencies are done, within a concurrency limit, longest remaining
//!   critical path first; a failure skips only what depends on it. It is
//!   generic over a [`StepExecutor`], so it runs agents, tests or anything else.
//! * **Workflows** ([`Orchestrator`], built on agent-core's forks and
//!   swarms): plan-and-execute, research-then-code, map-reduce and iterative
//!   refinement with a structured reviewer verdict.
//! * **Durable runs** ([`Journal`], [`load_resume_state`]): each run journals
//!   its events as they happen (a writer thread writes each at once and syncs
//!   them to disk in groups), so a crash of the process loses nothing already
//!   paid for, a power cut at most the last few milliseconds, and the run can
//!   be resumed.
//!
//! The crate never prints; callers observe events and render them.

pub mod batch;
mod graph;
pub mod journal;
mod parse;
mod plan;
pub mod schedule;
mod validate;
pub mod workflows;

pub use graph::{PlanTreeRow, ValidPlan};
pub use journal::{
    BatchRecord, BatchSeen, Journal, JournalError, JournalEvent, JournalKey, RunId, RunKind,
    RunListing, RunLock, RunMeta, RunState, RunSummary, UntrustedRun, latest_unfinished, list_runs,
    load_resume_state, read_journal, read_result,
};
pub use parse::{PlanParseError, parse_plan};
pub use plan::{Plan, PlanFileError, Step, StepId, plan_response_schema};
pub use schedule::{
    DEFAULT_CONTEXT_CAP, DependencyResult, ScheduleEvent, ScheduleOptions, ScheduleReport,
    ScheduleStatus, StepExecutor, StepFailure, StepInput, StepOutput, StepStatus,
    dependency_context, run_dag,
};
pub use validate::{MAX_PLAN_STEPS, PlanError, ValidationRules, validate};
pub use workflows::{
    Iteration, MapReduce, MapReduceRequest, Orchestrator, PlanExecuteOptions, PlanRun,
    RefineRequest, Refinement, ResearchThenCode, StepRecord, Verdict, WorkflowError, WorkflowEvent,
    WorkflowObserver, WorkflowStatus,
};
