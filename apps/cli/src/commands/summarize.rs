//! `agent-fork summarize`: condense a conversation for a hand-off.

use std::path::PathBuf;

use agent_core::{
    Conversation, Handoff, Summary, SummaryOptions, SummaryStyle, TokenCounting, summarize_within,
};
use anyhow::Result;
use genai_client::CostTotal;
use render::{Panel, key_value};

use crate::commands::common::AgentFlags;
use crate::exit::{Exit, Failure};
use crate::json::{ArtifactJson, CostJson, SummaryJson, UsageJson};
use crate::output::Output;
use crate::session::{Session, Traffic};
use crate::settings::Settings;

/// Arguments of `summarize`.
#[derive(Debug, clap::Args)]
pub(crate) struct SummarizeArgs {
    /// A conversation file: {"turns": [{"role": "user", "content": "..."}]}.
    #[arg(long, short = 'i', value_name = "FILE", conflicts_with = "history")]
    pub(crate) input: Option<PathBuf>,
    /// The conversation inline, as "role: content" entries.
    #[arg(long, num_args = 1.., value_name = "ROLE: CONTENT")]
    pub(crate) history: Vec<String>,
    /// Summary style: concise, detailed, structured or task_focused.
    #[arg(long, default_value = "concise", value_parser = parse_style)]
    pub(crate) style: SummaryStyle,
    /// Token budget for the summary.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(50..=100_000))]
    pub(crate) max_tokens: u32,
    /// Print a prompt for the next agent, ending with this request.
    #[arg(long, value_name = "REQUEST")]
    pub(crate) next_request: Option<String>,
    /// Print the YAML hand-off to this agent type instead.
    #[arg(long, value_name = "TYPE")]
    pub(crate) handoff_to: Option<String>,
    /// Count tokens with the countTokens API instead of estimating (characters / 4).
    #[arg(long)]
    pub(crate) count_tokens: bool,
}

fn parse_style(text: &str) -> Result<SummaryStyle, String> {
    text.parse()
}

/// Runs `summarize`: reads the conversation, summarises it with the
/// resolved model, and shows the summary.
pub(crate) async fn run(
    args: &SummarizeArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let conversation = conversation(args)?;
    let settings = Settings::resolve(flags.layer())?;
    let options = options(args, &settings);
    let today = crate::commands::common::today();
    settings.check_priced(&options.model, "the summarizer's model", today)?;
    crate::commands::common::preflight(
        [(options.model.as_str(), options.thinking)],
        today,
        output,
    )?;
    let session = Session::open(traffic, &settings)
        .await?
        .logged(output)
        .quota_told(output)
        .retries_told("summarizer", output);
    let started = std::time::Instant::now();
    // The calls are priced (and held to --budget-usd / --budget-tokens).
    let budget = agent_core::Budget::new(settings.budget_limits());
    let summary = summarize_within(&session.client, &conversation, &options, Some(&budget))
        .await
        .map_err(summarize_failure)?;
    let elapsed = started.elapsed();
    let cost = budget.spent_cost();
    let fork_prompt = args
        .next_request
        .as_deref()
        .map(|request| summary.fork_prompt(request));
    show(args, &summary, fork_prompt, elapsed, &cost, output)?;
    crate::finish::say_retries(session.retries(), output);
    if let Some(notice) = session.finish("summarize").await? {
        output.error_line(&notice);
    }
    Ok(Exit::Success)
}

/// Shows the summary: its JSON document, the summary alone under `-q`, or
/// the panel (with the warnings on stderr).
fn show(
    args: &SummarizeArgs,
    summary: &Summary,
    fork_prompt: Option<String>,
    elapsed: std::time::Duration,
    cost: &CostTotal,
    output: &Output,
) -> Result<()> {
    if output.json() {
        output.json_value(&summary_json(summary, cost, fork_prompt))?;
    } else if output.quiet() {
        output.line(&render::strip_controls(summary.summary.trim_end()));
    } else {
        // Warnings are for the operator: stderr.
        for warning in &summary.warnings {
            output.error_line(&format!(
                "warning: {}",
                render::strip_controls_line(warning)
            ));
        }
        let handoff = handoff(args, summary);
        output.line(&panel(
            summary,
            fork_prompt.as_deref(),
            handoff.as_deref(),
            elapsed,
            cost,
            output.theme(),
        ));
    }
    Ok(())
}

/// A failed summary as the CLI's failure: an input over the model's limit
/// is a usage error (exit 2), a spent budget a failed run (exit 1).
fn summarize_failure(error: agent_core::SummarizeError) -> anyhow::Error {
    match error {
        agent_core::SummarizeError::InputTooLarge(_) => {
            anyhow::Error::from(Failure::usage(error.to_string()))
        }
        agent_core::SummarizeError::BudgetExhausted(_) => {
            anyhow::Error::from(Failure::work(error.to_string()))
        }
        other => other.into(),
    }
}

/// The conversation of `--input` or `--history`.
fn conversation(args: &SummarizeArgs) -> Result<Conversation> {
    Ok(match (&args.input, args.history.is_empty()) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                Failure::usage(format!("cannot read --input {}: {error}", path.display()))
            })?;
            Conversation::from_json(&text)
                .map_err(|error| Failure::usage(format!("{}: {error}", path.display())))?
        }
        (None, false) => Conversation::from_lines(&args.history)
            .map_err(|error| Failure::usage(error.to_string()))?,
        (None, true) => {
            return Err(Failure::usage("no conversation given: use --input FILE or --history \"user: ...\" \"assistant: ...\"").into());
        }
    })
}

/// The summarizer's options: the flags, and the model and thinking settings.
fn options(args: &SummarizeArgs, settings: &Settings) -> SummaryOptions {
    let mut options = SummaryOptions {
        style: args.style,
        max_tokens: args.max_tokens,
        counting: if args.count_tokens {
            TokenCounting::Api
        } else {
            TokenCounting::Estimate
        },
        ..SummaryOptions::default()
    };
    if let Some(model) = settings.model.value.clone() {
        // The summarizer's default thinking belongs with its default model.
        if model != options.model {
            options.thinking = None;
        }
        options.model = model;
    }
    if let Some(thinking) = settings.thinking.value {
        options.thinking = Some(thinking);
    }
    options
}

/// The YAML hand-off of `--handoff-to`.
fn handoff(args: &SummarizeArgs, summary: &Summary) -> Option<String> {
    args.handoff_to.as_deref().map(|to| {
        Handoff {
            fork_id: agent_core::ForkId::generate().to_string(),
            from_agent: "general".to_owned(),
            to_agent: to.to_owned(),
            reason: args
                .next_request
                .clone()
                .unwrap_or_else(|| "continue the work".to_owned()),
        }
        .to_yaml(summary)
    })
}

/// The `--json` document of a summary.
fn summary_json(summary: &Summary, cost: &CostTotal, fork_prompt: Option<String>) -> SummaryJson {
    SummaryJson {
        summary: summary.summary.clone(),
        key_decisions: summary.key_decisions.clone(),
        artifacts: summary
            .artifacts
            .iter()
            .map(|artifact| ArtifactJson {
                name: artifact.name.clone(),
                kind: artifact.kind.clone(),
                status: artifact.status.clone(),
            })
            .collect(),
        current_task: summary.current_task.clone(),
        open_questions: summary.open_questions.clone(),
        original_tokens: summary.original_tokens,
        summary_tokens: summary.summary_tokens,
        compression_ratio: summary.compression_ratio,
        token_counting: match summary.counting {
            TokenCounting::Estimate => "estimate",
            TokenCounting::Api => "count_tokens_api",
        },
        style: summary.style.as_str(),
        timestamp: summary.timestamp.clone(),
        usage: UsageJson::from(&summary.usage),
        cost: CostJson::from(cost),
        fork_prompt,
        warnings: summary.warnings.clone(),
    }
}

/// A bulleted list in a markdown panel, or nothing for an empty list.
fn list_panel(title: &str, items: &[String], theme: &render::Theme) -> Option<String> {
    (!items.is_empty()).then(|| {
        let list: Vec<String> = items.iter().map(|item| format!("- {item}")).collect();
        Panel::markdown(list.join("\n")).title(title).render(theme)
    })
}

/// The summary for people: the panel, compression, decisions, task,
/// questions, the fork-ready prompt and hand-off, usage (with the call's
/// time). Warnings go to stderr.
fn panel(
    summary: &Summary,
    fork_prompt: Option<&str>,
    handoff: Option<&str>,
    elapsed: std::time::Duration,
    cost: &CostTotal,
    theme: &render::Theme,
) -> String {
    let mut blocks = vec![
        Panel::markdown(&summary.summary)
            .title(format!("📝 Summary ({})", summary.style))
            .render(theme),
    ];
    blocks.push(key_value(
        "Compression",
        &format!(
            "{}x ({} → {} tokens, {})",
            summary.compression_ratio,
            summary.original_tokens,
            summary.summary_tokens,
            if matches!(summary.counting, TokenCounting::Api) {
                "counted"
            } else {
                "estimated"
            }
        ),
        theme,
    ));
    blocks.extend(list_panel("Key Decisions", &summary.key_decisions, theme));
    if !summary.current_task.is_empty() {
        blocks.push(key_value("Current task", &summary.current_task, theme));
    }
    blocks.extend(list_panel("Open Questions", &summary.open_questions, theme));
    if let Some(prompt) = fork_prompt {
        blocks.push(
            Panel::new(render::strip_controls(prompt.trim_end()))
                .title("Fork-ready prompt")
                .render(theme),
        );
    }
    if let Some(yaml) = handoff {
        blocks.push(render::strip_controls(yaml.trim_end()));
    }
    blocks.push(views::usage(&summary.usage, Some(cost), elapsed, theme));
    blocks.join("\n")
}
