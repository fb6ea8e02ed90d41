//! The summarizer's prompts and the layouts of its outputs.

use serde_json::{Value, json};

use super::{Summary, SummaryStyle};

pub(super) const SUMMARIZER_INSTRUCTION: &str = "You condense working conversations so that \
    another agent can pick up the work without reading them. Keep names, numbers, file names and \
    decisions exact; leave out pleasantries and repetition; never invent facts that are not in the \
    conversation.";

pub(super) fn summary_prompt(style: SummaryStyle, max_tokens: u32, transcript: &str) -> String {
    let shape = match style {
        SummaryStyle::Concise => {
            "Write two or three short paragraphs: what was discussed, what was decided, and what \
             is still to be done."
        }
        SummaryStyle::Detailed => {
            "Write a summary with these markdown sections: Overview; Key discussions; Decisions \
             (with the reason for each where the conversation gives one); Artifacts (files, code, \
             models, endpoints and their state); Current state; Open items."
        }
        SummaryStyle::Structured => {
            "Write the summary as one YAML document with these keys: topic, goal, context, \
             decisions (a list), artifacts (a list of maps with name, type and status), \
             current_state, next_steps (a list), open_questions (a list). Output only the YAML."
        }
        SummaryStyle::TaskFocused => {
            "Write the summary around the work itself, under these headings: Task; Progress so \
             far; Current step; Blockers; Next action."
        }
    };
    format!(
        "Summarise the conversation below for a hand-off to another agent. {shape} Stay within \
         about {max_tokens} tokens.\n\n--- conversation ---\n{transcript}\n--- end of conversation ---"
    )
}

pub(super) fn extraction_prompt(transcript: &str) -> String {
    format!(
        "From the conversation below, extract: the key decisions that were made (each as one \
         sentence); the artifacts that were named or produced, with their type and status; the \
         task being worked on at the end; and the questions that are still open. Use empty lists \
         or an empty string where the conversation has none.\n\n--- conversation ---\n{transcript}\n\
         --- end of conversation ---"
    )
}

/// The response schema of the extraction call (OpenAPI subset).
pub(super) fn extraction_schema() -> Value {
    let strings = json!({ "type": "ARRAY", "items": { "type": "STRING" } });
    json!({
        "type": "OBJECT",
        "properties": {
            "key_decisions": strings,
            "artifacts": {
                "type": "ARRAY",
                "items": {
                    "type": "OBJECT",
                    "properties": {
                        "name": { "type": "STRING" },
                        "type": { "type": "STRING" },
                        "status": { "type": "STRING" }
                    },
                    "required": ["name", "type", "status"]
                }
            },
            "current_task": { "type": "STRING" },
            "open_questions": strings
        },
        "required": ["key_decisions", "artifacts", "current_task", "open_questions"],
        "propertyOrdering": ["key_decisions", "artifacts", "current_task", "open_questions"]
    })
}

pub(super) fn fork_prompt(summary: &Summary, next_request: &str) -> String {
    let mut prompt = format!(
        "## Summary of the work so far\n\n{}\n",
        summary.summary.trim()
    );
    if !summary.key_decisions.is_empty() {
        prompt.push_str("\n## Decisions already made\n\n");
        for decision in &summary.key_decisions {
            prompt.push_str(&format!("- {decision}\n"));
        }
    }
    if !summary.current_task.trim().is_empty() {
        prompt.push_str(&format!(
            "\n## Where things stand\n\n{}\n",
            summary.current_task.trim()
        ));
    }
    if !summary.open_questions.is_empty() {
        prompt.push_str("\n## Open questions\n\n");
        for question in &summary.open_questions {
            prompt.push_str(&format!("- {question}\n"));
        }
    }
    prompt.push_str(&format!(
        "\n## Your task\n\n{}\n\nContinue from the work above: keep its decisions unless the task \
         says otherwise, and do not redo what is already done.\n",
        next_request.trim()
    ));
    prompt
}
