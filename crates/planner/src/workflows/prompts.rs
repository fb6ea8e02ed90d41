//! The planner's prompts, written for this project.

use crate::plan::Step;

/// The planning call's system instruction.
pub(super) const PLANNER_INSTRUCTION: &str = "You plan work for a team of specialised AI agents. \
    Break the goal into a small number of concrete steps that together reach it. Each step is done \
    by one agent in one go, so make every task self-contained and specific about what to produce. \
    Declare a dependency only when a step truly needs another step's result; steps without a \
    dependency between them run in parallel.";

pub(super) fn planning_prompt(
    goal: &str,
    context: Option<&str>,
    max_steps: usize,
    agent_types: &[String],
) -> String {
    let context = context
        .map(|context| format!("\nContext: {context}\n"))
        .unwrap_or_default();
    format!(
        "Goal: {goal}\n{context}\nPlan at most {max_steps} steps. Reply with JSON: an `analysis` of \
         the goal (a few sentences), and `steps`, each with `step_id` (step_1, step_2, ...), `name` \
         (a few words), `description` (one sentence), `agent_type` (one of: {}), `task` (the full \
         instruction for the agent) and `depends_on` (the step_ids whose results it needs; empty \
         when none).",
        agent_types.join(", ")
    )
}

pub(super) fn repair_prompt(error: &str) -> String {
    format!(
        "That plan cannot be used: {error}. Reply with the corrected plan as JSON in the same shape, \
         fixing this problem and keeping everything else that was fine."
    )
}

/// What a plan step's agent is asked: its task, then its dependencies' results.
pub(super) fn step_prompt(step: &Step, dependency_context: &str) -> String {
    if dependency_context.trim().is_empty() {
        step.task.clone()
    } else {
        format!(
            "{}\n\n## Results of the steps this one builds on\n\n{dependency_context}",
            step.task
        )
    }
}

/// The context summary every plan step's agent gets.
pub(super) fn step_context(goal: &str, context: Option<&str>) -> String {
    let mut text = format!("This task is one step of a larger plan. The plan's goal: {goal}");
    if let Some(context) = context {
        text.push_str(&format!("\nContext given with the goal: {context}"));
    }
    text
}

pub(super) const CONSOLIDATOR_INSTRUCTION: &str = "You turn the results of a finished plan into one \
    final deliverable. Be faithful to the step results, keep what is concrete (code, names, \
    decisions), and say plainly what is missing.";

/// One step's result as the consolidation sees it.
pub(super) struct StepSummary<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) outcome: String,
    pub(super) text: &'a str,
}

pub(super) fn consolidation_prompt(
    goal: &str,
    context: Option<&str>,
    steps: &[StepSummary<'_>],
    cap: usize,
) -> String {
    let mut prompt = format!(
        "Every step of the plan has finished. Turn their results into the final deliverable for this \
         goal: {goal}\n"
    );
    if let Some(context) = context {
        prompt.push_str(&format!("Context: {context}\n"));
    }
    prompt.push_str(
        "\nWrite four parts: a synthesis of the work done; the deliverable itself, complete and \
         usable (code, documents or decisions, as the goal needs); issues, risks or gaps; next steps.\n",
    );
    for step in steps {
        prompt.push_str(&format!(
            "\n## {} — {} ({})\n\n",
            step.id, step.name, step.outcome
        ));
        match step.text.char_indices().nth(cap) {
            Some((cut, _)) => {
                prompt.push_str(&step.text[..cut]);
                prompt.push_str(&format!(
                    "\n\n[result cut at {cap} of {} characters]\n",
                    step.text.chars().count()
                ));
            }
            None => {
                prompt.push_str(step.text);
                prompt.push('\n');
            }
        }
    }
    prompt
}

pub(super) fn reduce_prompt(
    reduce_task: &str,
    outputs: &[(usize, &str, &str)],
    omitted: usize,
) -> String {
    let mut prompt =
        format!("{reduce_task}\n\nThe results to combine, one per item, separated by ---:\n");
    for (index, item, text) in outputs {
        prompt.push_str(&format!("\n---\nItem {}: {item}\n\n{text}\n", index + 1));
    }
    if omitted > 0 {
        prompt.push_str(&format!(
            "\n---\n({omitted} further results did not fit and are not shown.)\n"
        ));
    }
    prompt
}

pub(super) const REVIEWER_INSTRUCTION: &str = "You review work against stated criteria. Judge only \
    against the criteria, be specific about what falls short, and call the work satisfactory when it \
    meets them, even if it could be polished further.";

pub(super) fn review_prompt(task: &str, criteria: &str, output: &str) -> String {
    format!(
        "Review this output against the criteria.\n\n## Task\n\n{task}\n\n## Criteria\n\n{criteria}\n\n\
         ## Output\n\n{output}\n\nReply with JSON: `satisfactory` (true when every criterion is met), \
         `issues` (what must change, each specific; empty when satisfactory) and `summary` (one sentence)."
    )
}

pub(super) fn improve_prompt(
    task: &str,
    criteria: &str,
    output: &str,
    issues: &[String],
) -> String {
    let issues: Vec<String> = issues.iter().map(|issue| format!("- {issue}")).collect();
    format!(
        "Improve your earlier output so that it meets the criteria.\n\n## Task\n\n{task}\n\n## \
         Criteria\n\n{criteria}\n\n## Earlier output\n\n{output}\n\n## What a reviewer found\n\n{}\n\n\
         Reply with the complete improved output, not a list of changes.",
        issues.join("\n")
    )
}
