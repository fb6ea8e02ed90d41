//! Summarizer: condense a five-turn conversation about a todo API into a
//! detailed summary, extract its key decisions, and lay it out as a prompt
//! for the next agent.
//!
//! Run with `cargo run --example summarizer`. With `GEMINI_API_KEY` set it
//! calls Gemini; without, it replays `fixtures/sessions/summarizer.json`.
//! The conversation and next request are the `summarizer` row of the
//! scenario table (`src/lib.rs`).

mod common;

use agent_core::{Conversation, SummaryOptions, summarize};
use agent_fork_examples::Work;
use render::{Panel, key_value};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (demo, work) = common::Demo::start("summarizer").await?;
    let Work::Summarize {
        conversation,
        style,
        max_tokens,
        next_request,
    } = work
    else {
        anyhow::bail!("summarizer is a summary in the scenario table");
    };
    let conversation = Conversation::from_json(conversation)?;
    let options = SummaryOptions {
        style,
        max_tokens,
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
    let prompt = summary.fork_prompt(next_request);
    demo.show(
        &Panel::new(prompt.trim_end())
            .title("Fork-ready prompt")
            .render(&demo.theme),
    );
    demo.finish().await
}
