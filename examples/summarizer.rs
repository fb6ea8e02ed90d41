//! Summarizer: condense a five-turn conversation about a todo API into a
//! detailed summary, extract its key decisions, and lay it out as a prompt
//! for the next agent.
//!
//! Run with `cargo run --example summarizer`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/summarizer.json`.

mod common;

use agent_core::{Conversation, SummaryOptions, SummaryStyle, summarize};
use render::{Panel, key_value};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = common::Demo::start("summarizer", "Context Summarizer").await?;
    let conversation = Conversation::from_json(common::TODO_API_CONVERSATION)?;
    let options = SummaryOptions {
        style: SummaryStyle::Detailed,
        ..SummaryOptions::default()
    };
    let summary = summarize(&demo.client, &conversation, &options).await?;
    demo.show(
        &Panel::markdown(&summary.summary)
            .title("📝 Summary (detailed)")
            .render(&demo.theme),
    );
    demo.show(&key_value(
        "Compression",
        &format!(
            "{}x ({} → {} tokens, estimated)",
            summary.compression_ratio, summary.original_tokens, summary.summary_tokens
        ),
        &demo.theme,
    ));
    let decisions: Vec<String> = summary
        .key_decisions
        .iter()
        .map(|decision| format!("- {decision}"))
        .collect();
    demo.show(
        &Panel::markdown(decisions.join("\n"))
            .title("Key Decisions")
            .render(&demo.theme),
    );
    let prompt = summary.fork_prompt("Add JWT authentication to the API.");
    demo.show(
        &Panel::new(prompt.trim_end())
            .title("Fork-ready prompt")
            .render(&demo.theme),
    );
    demo.finish().await
}
