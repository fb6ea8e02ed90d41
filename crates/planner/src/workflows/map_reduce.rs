//! Map-reduce: one agent per item (a `{item}` template), then one analysis
//! agent combines every successful result.

use std::collections::BTreeMap;

use agent_core::{ForkRequest, ForkResult, ForkStatus, Swarm, SwarmOptions};
use genai_client::Usage;
use tokio_util::sync::CancellationToken;

use super::{Orchestrator, WorkflowError, WorkflowEvent, WorkflowStatus, prompts, total_usage};

/// What to map and how to reduce.
#[derive(Debug, Clone, PartialEq)]
pub struct MapReduceRequest {
    /// The items.
    pub items: Vec<String>,
    /// The map task; `{item}` is replaced by each item.
    pub map_template: String,
    /// The reduce task.
    pub reduce_task: String,
    /// Agent type of the map agents.
    pub map_agent_type: String,
    /// Agent type of the reducer.
    pub reduce_agent_type: String,
    /// Most map agents at once.
    pub concurrency: usize,
    /// Most characters of map results given to the reducer in all.
    pub reduce_budget: usize,
    /// Map results of an earlier run (resume), by item index.
    pub already_mapped: BTreeMap<usize, ForkResult>,
}

impl MapReduceRequest {
    /// The map task for one item.
    pub fn map_task(&self, item: &str) -> String {
        self.map_template.replace("{item}", item)
    }
}

/// The outcome of map-reduce.
#[derive(Debug, Clone, PartialEq)]
pub struct MapReduce {
    /// Every map result, by item index.
    pub mapped: BTreeMap<usize, ForkResult>,
    /// The reduce fork, when any map succeeded.
    pub reduced: Option<ForkResult>,
    /// Tokens spent by this run.
    pub usage: Usage,
    /// How it ended.
    pub status: WorkflowStatus,
}

impl Orchestrator {
    /// Runs the map phase as a swarm without consolidation, then the reduce.
    /// `on_mapped` sees each map result as it finishes (for journaling).
    /// A run the budget stopped ends `budget_exhausted`.
    pub async fn map_reduce(
        &self,
        request: &MapReduceRequest,
        cancel: &CancellationToken,
        on_mapped: impl FnMut(usize, &ForkResult),
    ) -> Result<MapReduce, WorkflowError> {
        let mut run = self.map_reduce_inner(request, cancel, on_mapped).await?;
        run.status = run.status.or_budget_exhausted(&self.forker);
        Ok(run)
    }

    async fn map_reduce_inner(
        &self,
        request: &MapReduceRequest,
        cancel: &CancellationToken,
        mut on_mapped: impl FnMut(usize, &ForkResult),
    ) -> Result<MapReduce, WorkflowError> {
        if !request.map_template.contains("{item}") {
            return Err(WorkflowError::Invalid(
                "the map template has no {item} placeholder; write it where each item goes"
                    .to_owned(),
            ));
        }
        if request.items.is_empty() {
            return Err(WorkflowError::Invalid(
                "there are no items to map".to_owned(),
            ));
        }
        self.emit(WorkflowEvent::PhaseStarted {
            name: "map".to_owned(),
        });
        let mut options = SwarmOptions::new(self.profile(&request.map_agent_type)?);
        options.concurrency = request.concurrency.max(1);
        options.consolidate = false;
        let tasks: Vec<(usize, String)> = request
            .items
            .iter()
            .enumerate()
            .filter(|(index, _)| !request.already_mapped.contains_key(index))
            .map(|(index, item)| (index, request.map_task(item)))
            .collect();
        let pending = tasks.len();
        let outcome = Swarm::new(&self.forker, options)
            .run(tasks, Some(pending), cancel, &mut on_mapped)
            .await;
        let mut mapped = request.already_mapped.clone();
        mapped.extend(outcome.results);
        // The whole run's usage: items mapped before (an earlier session, or
        // a Batch API job) count as well.
        let mut usage = outcome.usage;
        for earlier in request.already_mapped.values() {
            usage += earlier.usage;
        }
        if outcome.cancelled {
            return Ok(MapReduce {
                mapped,
                reduced: None,
                usage,
                status: WorkflowStatus::Cancelled,
            });
        }
        let successes: Vec<(usize, &str, &str)> = mapped
            .iter()
            .filter(|(_, result)| result.status == ForkStatus::Success)
            .map(|(index, result)| (*index, request.items[*index].as_str(), result.text.as_str()))
            .collect();
        if successes.is_empty() {
            return Ok(MapReduce {
                mapped,
                reduced: None,
                usage,
                status: WorkflowStatus::Failed,
            });
        }
        let mut used = 0;
        let fitting: Vec<(usize, &str, &str)> = successes
            .iter()
            .take_while(|(_, item, text)| {
                used += item.len() + text.len();
                used <= request.reduce_budget
            })
            .copied()
            .collect();
        let fitting = if fitting.is_empty() {
            successes[..1].to_vec()
        } else {
            fitting
        };
        self.emit(WorkflowEvent::PhaseStarted {
            name: "reduce".to_owned(),
        });
        let prompt = prompts::reduce_prompt(
            &request.reduce_task,
            &fitting,
            successes.len() - fitting.len(),
        );
        let reduced = self
            .fork(
                ForkRequest::new(prompt, self.profile(&request.reduce_agent_type)?),
                cancel,
            )
            .await;
        usage += total_usage([&reduced]);
        let all_mapped = mapped
            .values()
            .all(|result| result.status == ForkStatus::Success);
        let status = match reduced.status {
            ForkStatus::Success if all_mapped => WorkflowStatus::Completed,
            ForkStatus::Cancelled => WorkflowStatus::Cancelled,
            _ => WorkflowStatus::Failed,
        };
        Ok(MapReduce {
            mapped,
            reduced: Some(reduced),
            usage,
            status,
        })
    }
}
