//! Checking a plan before anything runs.
//!
//! [`validate`] reports the first problem it finds, checking in a fixed order
//! so the same plan always gets the same message: the plan as a whole (empty,
//! too many steps), then each step in plan order (id, task, agent type), then
//! each step's dependencies in plan order, then cycles. A plan that passes
//! becomes a [`ValidPlan`], whose graph is known to be acyclic.

use std::collections::HashMap;
use std::fmt;

use crate::graph::ValidPlan;
use crate::plan::{Plan, StepId};

/// The most steps any plan may have, whatever [`ValidationRules::max_steps`]
/// says: each step is at least one model call, and a bound keeps every walk
/// over the graph (and every journal) small. Larger goals are split into
/// several plans.
pub const MAX_PLAN_STEPS: usize = 1_000;

/// What a plan must satisfy beyond being a graph without cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationRules {
    /// Agent types a step may ask for. An empty list accepts any type.
    pub known_agent_types: Vec<String>,
    /// The largest number of steps a plan may have (never more than
    /// [`MAX_PLAN_STEPS`]).
    pub max_steps: usize,
}

/// Why a plan cannot run. Each message is one line saying what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The plan has no steps.
    #[error("the plan has no steps; a plan needs at least one step")]
    EmptyPlan,
    /// The plan has more steps than allowed.
    #[error(
        "the plan has {count} steps but at most {max} are allowed; merge steps or raise the step limit"
    )]
    TooManySteps {
        /// Steps in the plan.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The plan has more steps than any plan may have ([`MAX_PLAN_STEPS`]).
    #[error(
        "the plan has {count} steps but a plan may have at most {max}; split the goal into smaller plans"
    )]
    PlanTooLarge {
        /// Steps in the plan.
        count: usize,
        /// [`MAX_PLAN_STEPS`].
        max: usize,
    },
    /// A step has an empty id.
    #[error("step number {position} has no step_id; give every step a unique id")]
    EmptyStepId {
        /// 1-based position of the step in the plan.
        position: usize,
    },
    /// Two steps share an id.
    #[error("two steps share the id {0}; give every step a unique step_id")]
    DuplicateId(StepId),
    /// A step has an empty task.
    #[error("step {0} has an empty task; say what the step should do")]
    EmptyTask(StepId),
    /// A step asks for an agent type that does not exist.
    #[error(
        "step {step} asks for agent type \"{agent_type}\", which does not exist; use one of: {}",
        known.join(", ")
    )]
    UnknownAgentType {
        /// The step.
        step: StepId,
        /// The type it asked for.
        agent_type: String,
        /// The types that exist.
        known: Vec<String>,
    },
    /// A step depends on itself.
    #[error("step {0} depends on itself; remove {0} from its depends_on")]
    SelfDependency(StepId),
    /// A step depends on a step that is not in the plan.
    #[error("step {step} depends on {missing}, which is not in the plan; fix its depends_on")]
    UnknownDependency {
        /// The step.
        step: StepId,
        /// The id it names.
        missing: StepId,
    },
    /// Steps depend on each other in a circle.
    #[error(
        "the steps depend on each other in a cycle: {} (each depends on the next); remove one of these dependencies",
        CyclePath(.0)
    )]
    Cycle(Vec<StepId>),
}

/// Writes a cycle as `a → b → a`.
struct CyclePath<'a>(&'a [StepId]);

impl fmt::Display for CyclePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" → ")?;
            }
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

/// Checks a plan and builds its dependency graph.
///
/// ```
/// use planner::{parse_plan, validate, ValidationRules, PlanError};
/// let plan = parse_plan(r#"{"analysis": "", "steps": [
///   {"step_id": "a", "agent_type": "code", "task": "x", "depends_on": ["b"]},
///   {"step_id": "b", "agent_type": "code", "task": "y", "depends_on": ["a"]}]}"#)?;
/// let rules = ValidationRules { known_agent_types: vec!["code".into()], max_steps: 10 };
/// let err = validate(&plan, &rules).unwrap_err();
/// assert!(matches!(err, PlanError::Cycle(_)));
/// assert!(err.to_string().contains("a → b → a"));
/// # Ok::<(), planner::PlanParseError>(())
/// ```
pub fn validate(plan: &Plan, rules: &ValidationRules) -> Result<ValidPlan, PlanError> {
    if plan.steps.is_empty() {
        return Err(PlanError::EmptyPlan);
    }
    if plan.steps.len() > MAX_PLAN_STEPS {
        return Err(PlanError::PlanTooLarge {
            count: plan.steps.len(),
            max: MAX_PLAN_STEPS,
        });
    }
    if plan.steps.len() > rules.max_steps {
        return Err(PlanError::TooManySteps {
            count: plan.steps.len(),
            max: rules.max_steps,
        });
    }
    let mut positions = HashMap::with_capacity(plan.steps.len());
    for (position, step) in plan.steps.iter().enumerate() {
        if step.id.as_str().trim().is_empty() {
            return Err(PlanError::EmptyStepId {
                position: position + 1,
            });
        }
        if positions.insert(step.id.clone(), position).is_some() {
            return Err(PlanError::DuplicateId(step.id.clone()));
        }
        if step.task.trim().is_empty() {
            return Err(PlanError::EmptyTask(step.id.clone()));
        }
        let known = &rules.known_agent_types;
        if !known.is_empty() && !known.contains(&step.agent_type) {
            return Err(PlanError::UnknownAgentType {
                step: step.id.clone(),
                agent_type: step.agent_type.clone(),
                known: known.clone(),
            });
        }
    }
    for step in &plan.steps {
        for dependency in &step.depends_on {
            if *dependency == step.id {
                return Err(PlanError::SelfDependency(step.id.clone()));
            }
            if !positions.contains_key(dependency) {
                return Err(PlanError::UnknownDependency {
                    step: step.id.clone(),
                    missing: dependency.clone(),
                });
            }
        }
    }
    if let Some(cycle) = find_cycle(plan, &positions) {
        return Err(PlanError::Cycle(cycle));
    }
    Ok(ValidPlan::build(plan.clone(), positions))
}

/// The first cycle met by a depth-first walk in plan order, following
/// `depends_on` in the order written, rotated to start at the step that comes
/// first in the plan and closed by repeating that step.
fn find_cycle(plan: &Plan, positions: &HashMap<StepId, usize>) -> Option<Vec<StepId>> {
    let mut finished = vec![false; plan.steps.len()];
    for start in 0..plan.steps.len() {
        if let Some(mut cycle) = walk(plan, positions, start, &mut finished) {
            let first = (0..cycle.len())
                .min_by_key(|&i| cycle[i])
                .expect("a cycle has at least one step");
            cycle.rotate_left(first);
            cycle.push(cycle[0]);
            return Some(
                cycle
                    .into_iter()
                    .map(|i| plan.steps[i].id.clone())
                    .collect(),
            );
        }
    }
    None
}

/// Depth-first walk from `start` with an explicit stack (a chain of any
/// length cannot overflow the call stack); returns the positions on a cycle
/// if one is found.
fn walk(
    plan: &Plan,
    positions: &HashMap<StepId, usize>,
    start: usize,
    finished: &mut [bool],
) -> Option<Vec<usize>> {
    if finished[start] {
        return None;
    }
    // The current path, each step with the index of its next dependency to
    // follow, and where each step on the path sits in it.
    let mut path: Vec<(usize, usize)> = vec![(start, 0)];
    let mut on_path: HashMap<usize, usize> = HashMap::from([(start, 0)]);
    while let Some((node, next)) = path.last_mut() {
        let node = *node;
        let Some(dependency) = plan.steps[node].depends_on.get(*next) else {
            path.pop();
            on_path.remove(&node);
            finished[node] = true;
            continue;
        };
        *next += 1;
        let child = positions[dependency];
        if finished[child] {
            continue;
        }
        if let Some(&at) = on_path.get(&child) {
            return Some(path[at..].iter().map(|&(step, _)| step).collect());
        }
        on_path.insert(child, path.len());
        path.push((child, 0));
    }
    None
}
