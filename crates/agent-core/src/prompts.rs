//! The prompts of forks and swarms (the summarizer keeps its own in
//! `summarizer::prompts`).
//!
//! The texts are written for this project. Keeping them together makes it
//! easy to review what the models are told, and the recorded sessions match
//! requests on the parts that matter (the task text), not on these wordings.

use crate::agent::BuiltinAgent;

/// The system instruction of a built-in agent type.
pub(crate) fn agent_instruction(agent: BuiltinAgent) -> &'static str {
    match agent {
        BuiltinAgent::Code => {
            "You are an experienced software engineer working inside a project workspace. \
             Deliver working code, not sketches: when a task asks for code, write complete files \
             with the file tools (create_file, update_file) instead of only pasting snippets, and \
             never leave placeholders such as \"TODO\" or \"...\" in place of logic. Read existing \
             files before changing them. Prefer clear names, small functions, type hints and \
             docstrings, and handle errors explicitly. When you finish, summarise what you wrote, \
             where it is, and how to run or test it."
        }
        BuiltinAgent::Research => {
            "You are a careful researcher. Use Google Search to find current, authoritative \
             information, compare sources when they disagree, and separate established facts \
             from claims or speculation. Organise the findings for a reader who must act on them: \
             lead with the answer, then the supporting detail. Name your sources, and say plainly \
             when something could not be confirmed."
        }
        BuiltinAgent::Analysis => {
            "You are an analyst. Examine the material you are given, or the files in the \
             workspace (use the file tools to read them), and report what matters: patterns, \
             risks, trade-offs and concrete recommendations, each backed by evidence from the \
             material. Structure the report with short headings, and write it to a file when the \
             task asks for a report."
        }
        BuiltinAgent::Creative => {
            "You are a creative collaborator for ideas and writing. Offer varied, original \
             options, adapt tone and form to the request, and make each suggestion specific \
             enough to use. When asked for one piece, give one polished piece."
        }
        BuiltinAgent::General => {
            "You are a capable, concise assistant. Answer the task directly and accurately. Use \
             the workspace file tools when the task involves files, and say what you did. Ask \
             nothing back: if something is ambiguous, state the assumption you made and proceed."
        }
    }
}

/// The system instruction with a context summary appended.
pub(crate) fn with_context(instruction: &str, context: &str) -> String {
    format!(
        "{instruction}\n\n## Context handed over from earlier work\n\n{context}\n\n\
         Build on this context: keep the decisions it records unless the task says otherwise, \
         and do not repeat work it describes as done."
    )
}

/// The prompt asking for one summary of a swarm's results.
///
/// `excerpts` are `(task, result)` pairs already cut to `cap` characters
/// where `cut` says so; `omitted` results did not fit at all.
pub(crate) fn swarm_consolidation(excerpts: &[Excerpt<'_>], cap: usize, omitted: usize) -> String {
    let mut prompt = String::from(
        "Several agents worked on related tasks in parallel. Their results follow. Write one \
         consolidated summary: the main findings they share, where they differ or contradict \
         each other, and the practical conclusions a reader should take away. Do not restate \
         each result in turn; synthesise them.\n",
    );
    let cut_count = excerpts
        .iter()
        .filter(|excerpt| excerpt.cut_from.is_some())
        .count();
    if cut_count > 0 {
        prompt.push_str(&format!(
            "\nNote: to keep this request small, {cut_count} of the results below were cut to their \
             first {cap} characters; each cut one is marked. Do not treat a cut result as complete.\n"
        ));
    }
    if omitted > 0 {
        prompt.push_str(&format!(
            "\nNote: {omitted} further successful results did not fit in this request and are not shown.\n"
        ));
    }
    for (number, excerpt) in excerpts.iter().enumerate() {
        prompt.push_str(&format!(
            "\n### Result {} — task: {}\n\n{}\n",
            number + 1,
            excerpt.task,
            excerpt.text
        ));
        if let Some(total) = excerpt.cut_from {
            prompt.push_str(&format!("\n[cut: first {cap} of {total} characters]\n"));
        }
    }
    prompt
}

/// One result as shown to the consolidation call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Excerpt<'a> {
    pub(crate) task: &'a str,
    pub(crate) text: &'a str,
    /// The full length in characters, when the text was cut.
    pub(crate) cut_from: Option<usize>,
}

/// The system instruction of the consolidation call.
pub(crate) const CONSOLIDATOR_INSTRUCTION: &str = "You merge the work of several agents into one \
    clear, well-organised summary. Be faithful to the results you are given and say where they \
    disagree.";
