//! The dependency graph of a validated plan.
//!
//! Node `i` of the graph is step `i` of the plan; edges run from a dependency
//! to its dependent. Lists of ids come back in plan order so output is stable.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Walker};

use crate::plan::{Plan, Step, StepId};

/// A plan known to be sound: unique ids, known dependencies, no cycles.
///
/// Built by [`crate::validate`].
#[derive(Debug, Clone)]
pub struct ValidPlan {
    plan: Plan,
    graph: DiGraph<(), ()>,
    positions: HashMap<StepId, usize>,
    topological: Vec<usize>,
}

/// One line of a plan tree: a step and what it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTreeRow {
    /// The step's id.
    pub id: StepId,
    /// The step's name (its id when the plan gave no name).
    pub name: String,
    /// The agent type that runs it.
    pub agent_type: String,
    /// Its dependencies, in plan order.
    pub depends_on: Vec<StepId>,
}

impl ValidPlan {
    /// Builds the graph; `positions` maps each id to its index in the plan.
    /// The caller has checked that the plan is acyclic and its ids resolve.
    pub(crate) fn build(plan: Plan, positions: HashMap<StepId, usize>) -> Self {
        let mut graph = DiGraph::with_capacity(plan.steps.len(), plan.steps.len());
        for _ in &plan.steps {
            graph.add_node(());
        }
        for (to, step) in plan.steps.iter().enumerate() {
            for dependency in &step.depends_on {
                let from = positions[dependency];
                graph.update_edge(NodeIndex::new(from), NodeIndex::new(to), ());
            }
        }
        let mut valid = Self {
            plan,
            graph,
            positions,
            topological: Vec::new(),
        };
        valid.topological = valid.kahn_order();
        valid
    }

    /// The plan this graph was built from.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The steps in plan order.
    pub fn steps(&self) -> &[Step] {
        &self.plan.steps
    }

    /// The step with this id.
    pub fn step(&self, id: &StepId) -> Option<&Step> {
        self.position(id).map(|i| &self.plan.steps[i])
    }

    /// Steps in an order where every step follows its dependencies; among
    /// steps free to go, the one earlier in the plan comes first.
    pub fn topological_order(&self) -> Vec<&StepId> {
        self.topological.iter().map(|&i| self.id(i)).collect()
    }

    /// The steps `id` depends on directly (empty for an unknown id).
    pub fn dependencies(&self, id: &StepId) -> Vec<&StepId> {
        self.ids_of(self.position(id).map(|i| self.dependency_indices(i)))
    }

    /// The steps that depend on `id` directly (empty for an unknown id).
    pub fn dependents(&self, id: &StepId) -> Vec<&StepId> {
        self.ids_of(self.position(id).map(|i| self.dependent_indices(i)))
    }

    /// Every step that depends on `id` directly or through others.
    pub fn descendants(&self, id: &StepId) -> Vec<&StepId> {
        self.ids_of(self.position(id).map(|i| self.descendant_indices(i)))
    }

    /// The length of the longest chain of dependent steps, summing each
    /// step's weight (steps missing from `weights` weigh 1).
    pub fn critical_path_len(&self, weights: &HashMap<StepId, u64>) -> u64 {
        self.remaining_paths(weights)
            .into_iter()
            .max()
            .unwrap_or_default()
    }

    /// For each step, the longest weighted chain that starts with it and runs
    /// through its descendants: how much work at least remains once it starts.
    pub fn remaining_critical_paths(&self, weights: &HashMap<StepId, u64>) -> HashMap<StepId, u64> {
        self.remaining_paths(weights)
            .into_iter()
            .enumerate()
            .map(|(i, len)| (self.id(i).clone(), len))
            .collect()
    }

    /// Rows for drawing the plan as a tree, in topological order.
    pub fn tree(&self) -> Vec<PlanTreeRow> {
        self.topological
            .iter()
            .map(|&i| {
                let step = &self.plan.steps[i];
                PlanTreeRow {
                    id: step.id.clone(),
                    name: if step.name.trim().is_empty() {
                        step.id.to_string()
                    } else {
                        step.name.clone()
                    },
                    agent_type: step.agent_type.clone(),
                    depends_on: self
                        .dependency_indices(i)
                        .into_iter()
                        .map(|d| self.id(d).clone())
                        .collect(),
                }
            })
            .collect()
    }

    pub(crate) fn position(&self, id: &StepId) -> Option<usize> {
        self.positions.get(id).copied()
    }

    pub(crate) fn id(&self, index: usize) -> &StepId {
        &self.plan.steps[index].id
    }

    pub(crate) fn topological_indices(&self) -> &[usize] {
        &self.topological
    }

    /// Direct dependencies of step `index`, ascending.
    pub(crate) fn dependency_indices(&self, index: usize) -> Vec<usize> {
        self.neighbours(index, Direction::Incoming)
    }

    /// Direct dependents of step `index`, ascending.
    pub(crate) fn dependent_indices(&self, index: usize) -> Vec<usize> {
        self.neighbours(index, Direction::Outgoing)
    }

    /// All descendants of step `index` (not the step itself), ascending.
    pub(crate) fn descendant_indices(&self, index: usize) -> Vec<usize> {
        let mut found: Vec<usize> = Dfs::new(&self.graph, NodeIndex::new(index))
            .iter(&self.graph)
            .map(NodeIndex::index)
            .filter(|&i| i != index)
            .collect();
        found.sort_unstable();
        found
    }

    /// Remaining critical path per step index.
    pub(crate) fn remaining_paths(&self, weights: &HashMap<StepId, u64>) -> Vec<u64> {
        let mut remaining = vec![0_u64; self.plan.steps.len()];
        for &i in self.topological.iter().rev() {
            let own = weights.get(self.id(i)).copied().unwrap_or(1);
            let after = self
                .dependent_indices(i)
                .into_iter()
                .map(|d| remaining[d])
                .max()
                .unwrap_or(0);
            remaining[i] = own.saturating_add(after);
        }
        remaining
    }

    fn neighbours(&self, index: usize, direction: Direction) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .graph
            .neighbors_directed(NodeIndex::new(index), direction)
            .map(NodeIndex::index)
            .collect();
        found.sort_unstable();
        found
    }

    fn ids_of(&self, indices: Option<Vec<usize>>) -> Vec<&StepId> {
        indices
            .unwrap_or_default()
            .into_iter()
            .map(|i| self.id(i))
            .collect()
    }

    /// Kahn's algorithm, always taking the free step earliest in the plan.
    fn kahn_order(&self) -> Vec<usize> {
        let count = self.plan.steps.len();
        let mut waiting: Vec<usize> = (0..count)
            .map(|i| self.dependency_indices(i).len())
            .collect();
        let mut free: BinaryHeap<Reverse<usize>> = (0..count)
            .filter(|&i| waiting[i] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(count);
        while let Some(Reverse(i)) = free.pop() {
            order.push(i);
            for d in self.dependent_indices(i) {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    free.push(Reverse(d));
                }
            }
        }
        order
    }
}
