//! Big and deep plans: a 100,000-step chain is refused with one line (it
//! used to overflow the stack), and every graph walk over a chain at the
//! step limit runs on a small stack, so none of them recurses per step.

use std::collections::HashMap;

use planner::{MAX_PLAN_STEPS, Plan, PlanError, Step, StepId, ValidationRules, validate};

/// A chain: step `s{i}` depends on `s{i-1}`; with `cycle`, `s0` also
/// depends on the last step.
fn chain(len: usize, cycle: bool) -> Plan {
    let steps = (0..len)
        .map(|i| {
            let mut depends_on = Vec::new();
            if i > 0 {
                depends_on.push(StepId::from(format!("s{}", i - 1).as_str()));
            } else if cycle {
                depends_on.push(StepId::from(format!("s{}", len - 1).as_str()));
            }
            Step {
                id: StepId::from(format!("s{i}").as_str()),
                name: String::new(),
                description: String::new(),
                agent_type: "general".into(),
                task: format!("step {i}"),
                depends_on,
            }
        })
        .collect();
    Plan {
        analysis: String::new(),
        steps,
    }
}

fn rules(max_steps: usize) -> ValidationRules {
    ValidationRules {
        known_agent_types: Vec::new(),
        max_steps,
    }
}

#[test]
fn a_100_000_step_chain_is_refused_in_one_line() {
    let error = validate(&chain(100_000, false), &rules(100_000)).unwrap_err();
    assert_eq!(
        error,
        PlanError::PlanTooLarge {
            count: 100_000,
            max: MAX_PLAN_STEPS
        }
    );
    let line = error.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.contains("at most 1000"), "{line}");
}

/// Runs `work` on a thread with a 64 KiB stack: a walk that recursed once
/// per step would overflow it on a chain of `MAX_PLAN_STEPS` steps.
fn on_small_stack(work: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(work)
        .unwrap()
        .join()
        .expect("the walk finished on a small stack");
}

#[test]
fn every_walk_over_a_chain_at_the_limit_runs_on_a_small_stack() {
    on_small_stack(|| {
        let len = MAX_PLAN_STEPS;
        let valid = validate(&chain(len, false), &rules(len)).unwrap();
        let order = valid.topological_order();
        assert_eq!(order.len(), len);
        assert_eq!(order[0].as_str(), "s0");
        assert_eq!(valid.descendants(&StepId::from("s0")).len(), len - 1);
        assert_eq!(valid.critical_path_len(&HashMap::new()), len as u64);
        assert_eq!(valid.tree().len(), len);

        let cycle = validate(&chain(len, true), &rules(len)).unwrap_err();
        match cycle {
            PlanError::Cycle(steps) => assert_eq!(steps.len(), len + 1),
            other => panic!("expected a cycle, got {other}"),
        }
    });
}
