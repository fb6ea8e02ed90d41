//! Helpers shared by the scheduler tests: synthetic plans and a recording executor.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use planner::{
    Plan, Step, StepFailure, StepId, StepInput, StepOutput, ValidPlan, ValidationRules, validate,
};
use tokio::time::Instant;

/// A plan from `(id, depends_on)` pairs.
pub fn plan_of(steps: &[(&str, &[&str])]) -> ValidPlan {
    let plan = Plan {
        analysis: String::new(),
        steps: steps
            .iter()
            .map(|(id, deps)| Step {
                id: StepId::from(*id),
                name: format!("name of {id}"),
                description: String::new(),
                agent_type: "general".into(),
                task: format!("do {id}"),
                depends_on: deps.iter().map(|d| StepId::from(*d)).collect(),
            })
            .collect(),
    };
    let rules = ValidationRules {
        known_agent_types: vec![],
        max_steps: 1000,
    };
    validate(&plan, &rules).expect("test plans are valid")
}

/// What one executor call saw.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub attempt: u32,
    pub start: Instant,
    pub end: Instant,
    pub dependency_ids: Vec<String>,
    pub dependency_texts: Vec<String>,
}

/// Records every call, the number running at once and the most ever running.
#[derive(Debug, Default)]
pub struct Log {
    pub calls: Vec<Call>,
    pub running: usize,
    pub max_running: usize,
}

/// An executor that sleeps each step's latency (virtual time), fails the
/// listed steps, and records everything in the shared log.
#[derive(Clone)]
pub struct Recorder {
    pub log: Arc<Mutex<Log>>,
    pub latency_ms: HashMap<String, u64>,
    /// Step id -> how many first attempts fail (u32::MAX = always).
    pub failures: HashMap<String, u32>,
}

impl Recorder {
    pub fn new(latency_ms: &[(&str, u64)]) -> Self {
        Self {
            log: Arc::default(),
            latency_ms: latency_ms
                .iter()
                .map(|(id, ms)| ((*id).to_owned(), *ms))
                .collect(),
            failures: HashMap::new(),
        }
    }

    pub fn failing(mut self, id: &str, times: u32) -> Self {
        self.failures.insert(id.to_owned(), times);
        self
    }

    pub fn calls(&self) -> Vec<Call> {
        self.log.lock().expect("log lock").calls.clone()
    }

    pub fn max_running(&self) -> usize {
        self.log.lock().expect("log lock").max_running
    }

    /// The executor closure to hand to `run_dag`.
    pub fn executor(
        &self,
    ) -> impl Fn(
        StepInput,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<StepOutput, StepFailure>> + Send>,
    > + use<> {
        let this = self.clone();
        move |input: StepInput| {
            let this = this.clone();
            Box::pin(async move { this.run(input).await })
        }
    }

    async fn run(&self, input: StepInput) -> Result<StepOutput, StepFailure> {
        let id = input.step.id.to_string();
        let start = Instant::now();
        {
            let mut log = self.log.lock().expect("log lock");
            log.running += 1;
            log.max_running = log.max_running.max(log.running);
        }
        let ms = self.latency_ms.get(&id).copied().unwrap_or(1);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let end = Instant::now();
        let mut log = self.log.lock().expect("log lock");
        log.running -= 1;
        log.calls.push(Call {
            id: id.clone(),
            attempt: input.attempt,
            start,
            end,
            dependency_ids: input
                .dependency_results
                .iter()
                .map(|r| r.id.to_string())
                .collect(),
            dependency_texts: input
                .dependency_results
                .iter()
                .map(|r| r.text.clone())
                .collect(),
        });
        match self.failures.get(&id) {
            Some(&times) if input.attempt <= times => Err(StepFailure::new(format!(
                "{id} broke on attempt {}",
                input.attempt
            ))),
            _ => Ok(StepOutput::text(format!("out:{id}"))),
        }
    }
}

/// Checks that every call started after all of its step's dependencies ended
/// (their successful attempts).
pub fn assert_dependencies_respected(plan: &ValidPlan, calls: &[Call]) {
    let ends: HashMap<&str, Instant> = calls.iter().map(|c| (c.id.as_str(), c.end)).collect();
    for call in calls {
        let id = StepId::from(call.id.as_str());
        for dep in plan.dependencies(&id) {
            let dep_end = ends[dep.as_str()];
            assert!(
                call.start >= dep_end,
                "{} started before its dependency {dep} ended",
                call.id
            );
        }
    }
}
