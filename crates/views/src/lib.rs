//! agent-fork's library results drawn for people, with render.
//!
//! Each function takes a finished (or starting) piece of work from the
//! library crates, a fork's [`ForkResult`], a swarm's outcome, a plan and
//! its run, and returns the text a person reads: panels, status lines, a
//! plan tree and the usage line. The `agent-fork` command and the example
//! programs draw with the same functions, so they look the same.
//!
//! # Rules
//!
//! - **No I/O.** Values in, text out; the caller decides where it goes.
//!   Elapsed times are passed in, never read from a clock.
//! - **Library terms only.** A view never names a command-line flag: where
//!   a hint depends on how the caller is driven (a flag, a setting), the
//!   caller passes the words in.
//!
//! ```
//! use views::fork_header;
//! let theme = render::Theme::plain(60);
//! let panel = fork_header("fork_1", "general", "gemini-2.5-flash", "Say hi", "none", &theme);
//! assert!(panel.contains("Forking to general agent"));
//! ```

use std::time::Duration;

use agent_core::{BuiltinRoute, ForkResult, ForkStatus};
use genai_client::{CostTotal, Usage};
use render::humanize::truncate;
use render::{
    Accent, Panel, Status, Theme, UsageLine, humanize, key_value, status_line, usage_line,
};

/// The panel shown when a fork starts.
pub fn fork_header(
    fork_id: &str,
    agent_type: &str,
    model: &str,
    task: &str,
    tools: &str,
    theme: &Theme,
) -> String {
    let body = [
        format!("Forking to {agent_type} agent"),
        key_value("Model", model, theme),
        key_value("Tools", tools, theme),
        key_value("Task", &truncate(task, 100), theme),
    ]
    .join("\n");
    Panel::new(body)
        .title(format!("🔀 Fork {fork_id}"))
        .accent(Accent::Cyan)
        .render(theme)
}

/// Everything about a finished fork: status, facts, the answer, usage.
///
/// `turn_limit_hint` ends the line shown when the fork stopped at its turn
/// limit with tool calls pending: how the caller's user raises the limit
/// (the CLI names its flag; a program names its own setting).
pub fn fork_result(result: &ForkResult, turn_limit_hint: &str, theme: &Theme) -> String {
    fork_result_parts(result, turn_limit_hint, ForkParts::ALL, theme)
}

/// Which parts of a fork's result [`fork_result_parts`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkParts {
    /// The answer panel (a caller that already showed the answer, e.g.
    /// streamed and too tall to redraw, leaves it out).
    pub answer: bool,
    /// The failure line (a caller that tells errors elsewhere, e.g. on
    /// stderr with [`fork_failure`], leaves it out).
    pub failure: bool,
}

impl ForkParts {
    /// Everything.
    pub const ALL: ForkParts = ForkParts {
        answer: true,
        failure: true,
    };
}

/// Why a fork failed, in words (no internal kind names), with a red mark:
/// `✗ the fork failed: gave up after 5 attempts in 8.3 s: could not reach
/// Gemini at …`. `None` when it did not fail.
pub fn fork_failure(result: &ForkResult, theme: &Theme) -> Option<String> {
    let error = result.error.as_ref()?;
    let what = match result.status {
        ForkStatus::Cancelled => "the fork was stopped",
        _ => "the fork failed",
    };
    Some(status_line(
        Status::Failed,
        &format!("{what}: {}", error.message),
        theme,
    ))
}

/// [`fork_result`], drawing only the chosen `parts`.
pub fn fork_result_parts(
    result: &ForkResult,
    turn_limit_hint: &str,
    parts: ForkParts,
    theme: &Theme,
) -> String {
    let mut blocks = vec![
        key_value("Status", result.status.as_str(), theme),
        key_value("Model", &result.model, theme),
    ];
    if result.usage.thoughts > 0 {
        blocks.push(key_value(
            "Thinking tokens",
            &humanize::count(result.usage.thoughts),
            theme,
        ));
    }
    if !result.files_created.is_empty() {
        blocks.push(key_value(
            "Files created",
            &result.files_created.join(", "),
            theme,
        ));
    }
    if let Some(line) = fork_failure(result, theme).filter(|_| parts.failure) {
        blocks.push(line);
    }
    if result.status == ForkStatus::Partial {
        blocks.push(status_line(
            Status::Skipped,
            &format!(
                "stopped at the turn limit ({} turns) with tool calls pending; {turn_limit_hint}",
                result.turns.len()
            ),
            theme,
        ));
    }
    if parts.answer && !result.text.trim().is_empty() {
        blocks.push(
            Panel::markdown(&result.text)
                .title(answer_title(&result.agent_type))
                .render(theme),
        );
    }
    if !result.searches.is_empty() {
        blocks.push(
            Panel::new(searches(result))
                .title("Searches")
                .accent(Accent::Dim)
                .render(theme),
        );
    }
    if !result.sources.is_empty() {
        blocks.push(sources(result, theme));
    }
    blocks.push(usage(
        &result.usage,
        Some(&result.cost),
        Duration::from_millis(result.elapsed_ms),
        theme,
    ));
    blocks.join("\n")
}

/// The grounding sources as a list under the panels, one per line, never
/// wrapped inside a border (a URL cut across lines cannot be opened): the
/// title linked (OSC 8) when the theme allows, then the URL.
/// Titles and URLs come from the model's search: both are cleaned, and a
/// URL that is not plain is not linked (see [`Theme::link`]).
fn sources(result: &ForkResult, theme: &Theme) -> String {
    let mut lines = vec![format!("Sources ({}):", result.sources.len())];
    for (index, source) in result.sources.iter().enumerate() {
        let title = source.title.as_deref().unwrap_or("(untitled)");
        let url = source.uri.as_deref().unwrap_or_default();
        let shown_url = render::strip_controls_line(url);
        let line = format!("{} {shown_url}", theme.link(title, url));
        lines.push(format!("  {}. {}", index + 1, line.trim_end()));
    }
    lines.join("\n")
}

/// One line per search: when, how, the queries and how many sources.
fn searches(result: &ForkResult) -> String {
    result
        .searches
        .iter()
        .map(|search| {
            let how = match search.route {
                BuiltinRoute::Alone => "by Gemini",
                BuiltinRoute::BesideFunctions => "by Gemini, beside the file tools",
                BuiltinRoute::SeparateCall => "by a separate grounded call (web_search)",
            };
            let queries = if search.queries.is_empty() {
                "(no query reported)".to_owned()
            } else {
                search
                    .queries
                    .iter()
                    .map(|query| {
                        format!("\"{}\"", truncate(&render::strip_controls_line(query), 80))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sources = match search.sources.len() {
                1 => "1 source".to_owned(),
                count => format!("{count} sources"),
            };
            format!("turn {}, {how}: {queries} ({sources})", search.turn)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The title of the answer panel, by agent type (as the original's demos).
fn answer_title(agent_type: &str) -> &'static str {
    match agent_type {
        "code" => "Code Output",
        "research" => "Research Results",
        "analysis" => "Analysis",
        _ => "Response",
    }
}

/// The usage line for tokens, cost and time. The cost is left out when
/// `None` (nothing was priced, e.g. a call outside any run); a total with
/// unpriced calls says so, and one with no priced call is `unknown`.
pub fn usage(usage: &Usage, cost: Option<&CostTotal>, elapsed: Duration, theme: &Theme) -> String {
    usage_line(
        &UsageLine {
            prompt: usage.prompt,
            output: usage.candidates,
            thinking: usage.thoughts,
            cached: usage.cached,
            tool_use: usage.tool_use,
            total: usage.total,
            cost: cost.map(CostTotal::to_string),
            elapsed,
        },
        theme,
    )
}

/// The status symbol for a fork status.
pub fn fork_status(status: ForkStatus) -> Status {
    match status {
        ForkStatus::Success => Status::Ok,
        ForkStatus::Partial => Status::Skipped,
        ForkStatus::Error => Status::Failed,
        ForkStatus::Cancelled => Status::Cancelled,
    }
}

/// The panel shown when a swarm starts.
pub fn swarm_header(total: usize, agent_type: &str, concurrency: usize, theme: &Theme) -> String {
    let body = [
        "Spawning agent swarm".to_owned(),
        key_value("Tasks", &total.to_string(), theme),
        key_value("Agent type", agent_type, theme),
        key_value("Max concurrent", &concurrency.to_string(), theme),
    ]
    .join("\n");
    Panel::new(body)
        .title("🐝 Swarm")
        .accent(Accent::Yellow)
        .render(theme)
}

/// A finished swarm: counts, each result's status, the consolidated summary.
///
/// `planned` is how many tasks the swarm was given: the counts are told
/// against it, so tasks that never started (the swarm was stopped) show as
/// such instead of vanishing from the total.
pub fn swarm_result(
    outcome: &agent_core::SwarmOutcome,
    planned: usize,
    elapsed: Duration,
    theme: &Theme,
) -> String {
    let planned = planned.max(outcome.total);
    let mut blocks = vec![key_value(
        "Succeeded",
        &format!("{}/{planned}", outcome.completed),
        theme,
    )];
    let failed = outcome.failed - outcome.cancelled_forks.min(outcome.failed);
    let counts = [
        ("Failed", failed),
        ("Cancelled", outcome.cancelled_forks),
        ("Not started", planned - outcome.total),
    ];
    for (label, count) in counts {
        if count > 0 {
            blocks.push(key_value(label, &count.to_string(), theme));
        }
    }
    if outcome.budget_exhausted {
        blocks.push(status_line(
            Status::Skipped,
            "stopped by the run's budget: no task started after it was spent; resuming the run with a larger budget runs the rest",
            theme,
        ));
    }
    for (index, result) in &outcome.results {
        let mut line = format!("{}. {}", index + 1, truncate(&result.task, 70));
        if let Some(error) = &result.error {
            line.push_str(&format!(": {}", error.message));
        }
        blocks.push(status_line(fork_status(result.status), &line, theme));
    }
    match &outcome.consolidated {
        Some(consolidated) if !consolidated.text.trim().is_empty() => {
            blocks.push(
                Panel::markdown(&consolidated.text)
                    .title("Consolidated Summary")
                    .render(theme),
            );
        }
        Some(consolidated) => {
            let reason = consolidated
                .error
                .as_ref()
                .map_or("no text", |error| error.message.as_str());
            blocks.push(status_line(
                Status::Failed,
                &format!("consolidation failed: {reason}"),
                theme,
            ));
        }
        None if outcome.results.len() == 1 => {
            blocks.push(
                Panel::markdown(&outcome.results[0].1.text)
                    .title("Response")
                    .render(theme),
            );
        }
        None => {
            for (index, result) in outcome
                .results
                .iter()
                .filter(|(_, result)| result.is_success())
            {
                blocks.push(
                    Panel::markdown(&result.text)
                        .title(format!("Result {}", index + 1))
                        .render(theme),
                );
            }
        }
    }
    blocks.push(usage(&outcome.usage, Some(&outcome.cost), elapsed, theme));
    blocks.join("\n")
}

/// The panel shown when a plan-and-execute run starts.
pub fn plan_header(
    run_id: &str,
    goal: &str,
    context: Option<&str>,
    planning: Option<usize>,
    theme: &Theme,
) -> String {
    let mut lines = vec![key_value("Goal", goal, theme)];
    if let Some(context) = context {
        lines.push(key_value("Context", context, theme));
    }
    match planning {
        Some(max_steps) => lines.push(format!("Planning up to {max_steps} steps...")),
        None => lines.push("Running the given plan...".to_owned()),
    }
    Panel::new(lines.join("\n"))
        .title(format!("🎯 Plan & Execute: {run_id}"))
        .accent(Accent::Magenta)
        .render(theme)
}

/// The plan as a tree, with `(depends: step_1)` notes.
pub fn plan_tree(label: &str, plan: &planner::Plan, theme: &Theme) -> String {
    let items: Vec<render::TreeItem> = plan
        .steps
        .iter()
        .map(|step| {
            let item =
                render::TreeItem::new(format!("{} {} [{}]", step.id, step.name, step.agent_type));
            if step.depends_on.is_empty() {
                item
            } else {
                let depends: Vec<&str> = step.depends_on.iter().map(|id| id.as_str()).collect();
                item.with_note(format!("depends: {}", depends.join(", ")))
            }
        })
        .collect();
    render::tree(&format!("Plan: {label}"), &items, theme)
}

/// A finished plan: status, each step, the final result, usage.
pub fn plan_result(run: &planner::PlanRun, elapsed: Duration, theme: &Theme) -> String {
    use planner::StepStatus as S;
    let mut blocks = vec![
        key_value("Workflow Status", run.status.as_str(), theme),
        key_value("Steps", &run.steps.len().to_string(), theme),
    ];
    for step in &run.steps {
        let label = format!("{} {}", step.id, step.name);
        let line = match &step.status {
            S::Completed(_) if step.reused => status_line(
                Status::Ok,
                &format!("{label} (reused from the earlier run)"),
                theme,
            ),
            S::Completed(_) => status_line(Status::Ok, &label, theme),
            S::Failed(error) => status_line(Status::Failed, &format!("{label}: {error}"), theme),
            S::Skipped(reason) => {
                status_line(Status::Skipped, &format!("{label}: {reason}"), theme)
            }
            S::Cancelled => status_line(Status::Cancelled, &format!("{label}: cancelled"), theme),
        };
        blocks.push(line);
    }
    match &run.consolidation {
        Some(result) if !result.text.trim().is_empty() => {
            blocks.push(
                Panel::markdown(&result.text)
                    .title("Final Result")
                    .render(theme),
            );
        }
        Some(result) => {
            let reason = result
                .error
                .as_ref()
                .map_or("no text", |error| error.message.as_str());
            blocks.push(status_line(
                Status::Failed,
                &format!("final consolidation failed: {reason}"),
                theme,
            ));
        }
        None => {}
    }
    blocks.push(usage(&run.usage, Some(&run.cost), elapsed, theme));
    blocks.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use genai_client::GroundingSource;

    fn with_sources(sources: Vec<(&str, &str)>) -> ForkResult {
        ForkResult {
            fork_id: agent_core::ForkId::from_string("fork_1"),
            agent_type: "research".into(),
            task: "t".into(),
            status: ForkStatus::Success,
            text: "Answer.".into(),
            thoughts: String::new(),
            model: "m".into(),
            model_version: None,
            usage: Usage::default(),
            cost: genai_client::CostTotal::default(),
            turns: Vec::new(),
            tools_executed: Vec::new(),
            files_created: Vec::new(),
            search_queries: Vec::new(),
            sources: sources
                .into_iter()
                .map(|(title, uri)| GroundingSource {
                    uri: Some(uri.into()),
                    title: Some(title.into()),
                })
                .collect(),
            builtin_route: None,
            searches: Vec::new(),
            error: None,
            started_at: String::new(),
            elapsed_ms: 0,
        }
    }

    /// A long grounding URL stays whole on one line under the panels (it
    /// used to wrap inside the Sources panel's border, unopenable).
    #[test]
    fn sources_are_a_list_with_whole_urls() {
        let url = format!(
            "https://vertexaisearch.cloud.google.com/grounding-api-redirect/{}",
            "A".repeat(150)
        );
        let result = with_sources(vec![("example.com", &url)]);
        let shown = fork_result(&result, "", &Theme::plain(80));
        let line = shown
            .lines()
            .find(|line| line.contains("grounding-api-redirect"))
            .unwrap();
        assert_eq!(line, format!("  1. example.com {url}"));
        assert!(shown.contains("Sources (1):"));
    }

    /// With hyperlinks on, the title is an OSC 8 link; a hostile title or
    /// URL never carries a control sequence out.
    #[test]
    fn source_links_are_escaped() {
        let theme = Theme::plain(80).with_hyperlinks(true);
        let result = with_sources(vec![
            ("Good", "https://example.com/a"),
            (
                "Bad\u{1b}]52;c;aGk=\u{7}",
                "https://x.test/\u{1b}]8;;https://evil\u{7}",
            ),
        ]);
        let shown = fork_result(&result, "", &theme);
        assert!(shown.contains("  1. \u{1b}]8;;https://example.com/a\u{1b}\\Good\u{1b}]8;;\u{1b}\\ https://example.com/a"));
        let bad = shown
            .lines()
            .find(|line| line.starts_with("  2. "))
            .unwrap();
        assert!(!bad.contains('\u{1b}') && !bad.contains('\u{7}'), "{bad:?}");
    }
}
