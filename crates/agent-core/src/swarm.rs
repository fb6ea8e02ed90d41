//! Swarms: many forks of one agent type, at most N at once.
//!
//! Tasks are pulled lazily from an iterator, so a swarm of any size holds
//! only the forks in flight, the finished results the caller asked to keep,
//! and the excerpts kept for consolidation (bounded by a character budget).
//! Each result is handed to the caller as it finishes; one failure never
//! affects the others.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use genai_client::catalog::ThinkingSetting;
use genai_client::{CostTotal, Usage};
use tokio_util::sync::CancellationToken;

use crate::agent::AgentProfile;
use crate::events::Event;
use crate::fork::{ForkError, ForkRequest, ForkResult, ForkStatus, Forker};
use crate::ids::SwarmId;
use crate::prompts::{self, Excerpt};

/// How a swarm runs.
///
/// ```
/// use agent_core::{BuiltinAgent, SwarmOptions};
/// let options = SwarmOptions::new(BuiltinAgent::Analysis.profile());
/// assert_eq!(options.concurrency, 5);
/// assert!(options.consolidate);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmOptions {
    /// The agent profile every fork uses.
    pub profile: AgentProfile,
    /// A context summary given to every fork.
    pub context: Option<String>,
    /// Most tool-loop turns per fork.
    pub max_turns: u32,
    /// Most forks running at once.
    pub concurrency: usize,
    /// Whether to consolidate the results with one more call.
    pub consolidate: bool,
    /// The consolidation call's settings.
    pub consolidation: ConsolidationOptions,
    /// Keep every result in [`SwarmOutcome::results`]; turn off for huge
    /// swarms whose results are written out as they finish.
    pub keep_results: bool,
    /// Results of an earlier, interrupted run of the same swarm (by task
    /// index): counted, kept and consolidated as if run now.
    pub previous_results: Vec<(usize, ForkResult)>,
}

impl SwarmOptions {
    /// Defaults: 5 at once, 10 turns per fork, consolidation on, results kept.
    pub fn new(profile: AgentProfile) -> Self {
        Self {
            profile,
            context: None,
            max_turns: 10,
            concurrency: 5,
            consolidate: true,
            consolidation: ConsolidationOptions::default(),
            keep_results: true,
            previous_results: Vec::new(),
        }
    }
}

/// Settings of the consolidation call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsolidationOptions {
    /// The model (a fast one by default).
    pub model: String,
    /// Its thinking setting.
    pub thinking: Option<ThinkingSetting>,
    /// Each result is cut to this many characters; the prompt says so when it cuts.
    pub per_result_cap: usize,
    /// All excerpts together stay under this many characters; results that
    /// do not fit are left out and the prompt says how many.
    pub total_budget: usize,
}

impl Default for ConsolidationOptions {
    fn default() -> Self {
        let (model, thinking) = crate::agent::role_default("swarm_consolidator");
        Self {
            model,
            thinking,
            per_result_cap: 2000,
            total_budget: 200_000,
        }
    }
}

/// The outcome of a swarm.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmOutcome {
    /// The swarm's id.
    pub swarm_id: SwarmId,
    /// Tasks run.
    pub total: usize,
    /// Forks that succeeded.
    pub completed: usize,
    /// Forks that did not (error, partial or cancelled).
    pub failed: usize,
    /// Of `failed`, the forks that were cancelled (Ctrl-C, the budget, a
    /// refused key) rather than failing on their own.
    pub cancelled_forks: usize,
    /// Every result in task order, when kept.
    pub results: Vec<(usize, ForkResult)>,
    /// The consolidation, when it ran.
    pub consolidated: Option<ForkResult>,
    /// Tokens over every fork and the consolidation (earlier results of a
    /// resumed run included).
    pub usage: Usage,
    /// Cost over every fork and the consolidation (earlier results of a
    /// resumed run included).
    pub cost: CostTotal,
    /// True when the swarm was cancelled before every task ran.
    pub cancelled: bool,
    /// True when the forker's budget refused a call: tasks not started then
    /// were left for a resumed run (status `budget_exhausted`).
    pub budget_exhausted: bool,
    /// The first fork whose key Gemini refused (401, 403,
    /// `API_KEY_INVALID`): the swarm started no task after it and cancelled
    /// the running ones, since every call with that key would fail too.
    pub auth_error: Option<ForkError>,
}

/// Runs a swarm.
pub struct Swarm<'a> {
    forker: &'a Forker,
    options: SwarmOptions,
    swarm_id: SwarmId,
}

impl<'a> Swarm<'a> {
    /// A swarm of forks made by `forker`.
    pub fn new(forker: &'a Forker, options: SwarmOptions) -> Self {
        Self {
            forker,
            options,
            swarm_id: SwarmId::generate(),
        }
    }

    /// The same swarm under an existing id (when resuming a run).
    pub fn with_id(mut self, swarm_id: SwarmId) -> Self {
        self.swarm_id = swarm_id;
        self
    }

    /// The swarm's id.
    pub fn id(&self) -> &SwarmId {
        &self.swarm_id
    }

    /// Runs `tasks` (each with its index, which results keep), handing each
    /// result to `on_result` as it finishes. `total` is only used for
    /// progress events.
    pub async fn run<I>(
        &self,
        tasks: I,
        total: Option<usize>,
        cancel: &CancellationToken,
        mut on_result: impl FnMut(usize, &ForkResult),
    ) -> SwarmOutcome
    where
        I: IntoIterator<Item = (usize, String)>,
    {
        let options = &self.options;
        let mut tasks = tasks.into_iter();
        // Cancelled by the caller, or by the swarm itself when the key is refused.
        let stop = cancel.child_token();
        let stop = &stop;
        let mut running = FuturesUnordered::new();
        let mut collector = self.collector();
        loop {
            let budget_left = || {
                self.forker
                    .budget()
                    .is_none_or(|budget| !budget.is_exhausted())
            };
            while running.len() < options.concurrency.max(1)
                && !stop.is_cancelled()
                && budget_left()
            {
                let Some((index, task)) = tasks.next() else {
                    break;
                };
                collector.outcome.total += 1;
                let request = self.fork_request(task);
                running.push(async move { (index, self.forker.run(request, stop).await) });
                self.progress(&collector.outcome, running.len(), total);
            }
            let Some((index, result)) = running.next().await else {
                break;
            };
            collector.outcome.total -= 1;
            collector.add(index, result, running.len(), total, &mut on_result);
            if collector.outcome.auth_error.is_some() {
                // Every later call with this key would be refused too.
                stop.cancel();
            }
        }
        collector.finish(cancel).await
    }

    /// The fork request of `task` in this swarm (the agent profile, context
    /// and turn limit of its options): what a live run sends, and what a
    /// batch run turns into a batch item.
    pub fn fork_request(&self, task: String) -> ForkRequest {
        ForkRequest {
            context: self.options.context.clone(),
            max_turns: self.options.max_turns,
            ..ForkRequest::new(task, self.options.profile.clone())
        }
    }

    /// A collector of results made elsewhere (a Batch API job), counted,
    /// kept and consolidated as [`Swarm::run`] does with its own; the
    /// options' earlier results are in it already.
    pub fn collector(&self) -> SwarmCollector<'_, 'a> {
        let options = &self.options;
        let mut collector = SwarmCollector {
            swarm: self,
            outcome: SwarmOutcome {
                swarm_id: self.swarm_id.clone(),
                total: 0,
                completed: 0,
                failed: 0,
                cancelled_forks: 0,
                results: Vec::new(),
                consolidated: None,
                usage: Usage::default(),
                cost: CostTotal::default(),
                cancelled: false,
                budget_exhausted: false,
                auth_error: None,
            },
            excerpts: ExcerptBudget::new(
                options.consolidation.total_budget,
                options.consolidation.per_result_cap,
            ),
        };
        for (index, result) in &options.previous_results {
            collector.outcome.total += 1;
            // A resumed run reports the whole run: earlier tokens and cost too.
            collector.outcome.usage += result.usage;
            collector.outcome.cost += result.cost;
            collector.count(*index, result);
            if options.keep_results {
                collector.outcome.results.push((*index, result.clone()));
            }
        }
        collector
    }

    fn progress(&self, outcome: &SwarmOutcome, running: usize, total: Option<usize>) {
        self.forker.events().emit(Event::SwarmProgress {
            swarm_id: self.swarm_id.clone(),
            done: outcome.completed,
            failed: outcome.failed,
            running,
            total,
        });
    }

    async fn consolidate(
        &self,
        excerpts: &ExcerptBudget,
        cancel: &CancellationToken,
    ) -> ForkResult {
        let consolidation = &self.options.consolidation;
        self.forker.events().emit(Event::ConsolidationStarted {
            swarm_id: self.swarm_id.clone(),
            results: excerpts.kept.len(),
        });
        let prompt = excerpts.prompt();
        let profile = AgentProfile {
            name: "consolidator".to_owned(),
            model: consolidation.model.clone(),
            thinking: consolidation.thinking,
            instruction: prompts::CONSOLIDATOR_INSTRUCTION.to_owned(),
            file_tools: false,
            search: false,
            code_execution: false,
            mcp_servers: Vec::new(),
        };
        let request = ForkRequest {
            max_turns: 1,
            ..ForkRequest::new(prompt, profile)
        };
        self.forker.run(request, cancel).await
    }
}

/// Counts, keeps and consolidates a swarm's results: what [`Swarm::run`]
/// does with the forks it runs, for results that come from elsewhere (a
/// Batch API job) one at a time.
pub struct SwarmCollector<'s, 'a> {
    swarm: &'s Swarm<'a>,
    outcome: SwarmOutcome,
    excerpts: ExcerptBudget,
}

impl std::fmt::Debug for SwarmCollector<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwarmCollector")
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl SwarmCollector<'_, '_> {
    /// Takes one finished result: counted, offered for consolidation,
    /// handed to `on_result`, kept when the options say so; a progress
    /// event follows (`running` forks still out, of `total`).
    pub fn add(
        &mut self,
        index: usize,
        result: ForkResult,
        running: usize,
        total: Option<usize>,
        on_result: &mut impl FnMut(usize, &ForkResult),
    ) {
        self.outcome.total += 1;
        self.outcome.usage += result.usage;
        self.outcome.cost += result.cost;
        if let Some(error) = result.error.as_ref().filter(|error| error.auth) {
            self.outcome.auth_error.get_or_insert_with(|| error.clone());
        }
        self.count(index, &result);
        on_result(index, &result);
        if self.swarm.options.keep_results {
            self.outcome.results.push((index, result));
        }
        self.swarm.progress(&self.outcome, running, total);
    }

    /// Results taken so far (earlier ones included).
    pub fn outcome(&self) -> &SwarmOutcome {
        &self.outcome
    }

    fn count(&mut self, index: usize, result: &ForkResult) {
        if result.status == ForkStatus::Success {
            self.outcome.completed += 1;
            if self.swarm.options.consolidate {
                self.excerpts.offer(index, &result.task, &result.text);
            }
        } else {
            self.outcome.failed += 1;
            self.outcome.cancelled_forks += usize::from(result.status == ForkStatus::Cancelled);
        }
    }

    /// The outcome: results in task order, consolidated (live, one call)
    /// unless cancelled, stopped by the budget, turned off or nothing
    /// succeeded.
    pub async fn finish(self, cancel: &CancellationToken) -> SwarmOutcome {
        let swarm = self.swarm;
        let mut outcome = self.outcome;
        outcome.cancelled = cancel.is_cancelled();
        outcome.budget_exhausted = swarm
            .forker
            .budget()
            .is_some_and(|budget| budget.is_exhausted());
        outcome.results.sort_by_key(|(index, _)| *index);
        if swarm.options.consolidate
            && !outcome.cancelled
            && !outcome.budget_exhausted
            && outcome.auth_error.is_none()
            && outcome.completed > 0
        {
            let consolidated = swarm.consolidate(&self.excerpts, cancel).await;
            outcome.usage += consolidated.usage;
            outcome.cost += consolidated.cost;
            outcome.consolidated = Some(consolidated);
        }
        outcome
    }
}

/// The excerpts kept for consolidation, lowest task indices first, within a
/// character budget.
struct ExcerptBudget {
    budget: usize,
    cap: usize,
    used: usize,
    kept: BTreeMap<usize, (String, String, Option<usize>)>,
    omitted: usize,
}

impl ExcerptBudget {
    fn new(budget: usize, cap: usize) -> Self {
        Self {
            budget,
            cap: cap.max(1),
            used: 0,
            kept: BTreeMap::new(),
            omitted: 0,
        }
    }

    fn offer(&mut self, index: usize, task: &str, text: &str) {
        let length = text.chars().count();
        let (excerpt, cut_from) = match text.char_indices().nth(self.cap) {
            Some((cut, _)) => (text[..cut].to_owned(), Some(length)),
            None => (text.to_owned(), None),
        };
        self.used += excerpt.len() + task.len();
        self.kept
            .insert(index, (task.to_owned(), excerpt, cut_from));
        // Over budget: drop the highest-index excerpts, so which results make
        // it in does not depend on the order they finished in.
        while self.used > self.budget && self.kept.len() > 1 {
            if let Some((_, (task, excerpt, _))) = self.kept.pop_last() {
                self.used -= excerpt.len() + task.len();
                self.omitted += 1;
            }
        }
    }

    fn prompt(&self) -> String {
        let excerpts: Vec<Excerpt<'_>> = self
            .kept
            .values()
            .map(|(task, text, cut_from)| Excerpt {
                task,
                text,
                cut_from: *cut_from,
            })
            .collect();
        prompts::swarm_consolidation(&excerpts, self.cap, self.omitted)
    }
}
