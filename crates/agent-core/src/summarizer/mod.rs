//! The context summarizer: turns a conversation into a summary another
//! agent can build on.
//!
//! Two model calls: one writes the summary in the chosen [`SummaryStyle`];
//! one extracts key decisions, artifacts, the current task and open
//! questions as JSON under a response schema (no parsing of headed lists).
//! The result can be laid out as a fork-ready prompt or a YAML hand-off.

mod conversation;
mod handoff;
mod prompts;

use std::fmt;
use std::str::FromStr;

use genai_client::catalog::ThinkingSetting;
use genai_client::{
    Client, Content, CountTokensRequest, GenerateContentRequest, GenerationConfig, Usage,
};
use serde::{Deserialize, Serialize};

pub use conversation::{Conversation, ConversationError, Speaker, Turn, estimate_tokens};
pub use handoff::Handoff;

/// How the summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryStyle {
    /// Two or three paragraphs: discussed, decided, remaining.
    Concise,
    /// Overview, discussions, decisions, artifacts, current state, open items.
    Detailed,
    /// A YAML document.
    Structured,
    /// Task, progress, current step, blockers, next action.
    TaskFocused,
}

impl SummaryStyle {
    /// All styles.
    pub const ALL: [SummaryStyle; 4] = [
        Self::Concise,
        Self::Detailed,
        Self::Structured,
        Self::TaskFocused,
    ];

    /// The style's name, e.g. `task_focused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Concise => "concise",
            Self::Detailed => "detailed",
            Self::Structured => "structured",
            Self::TaskFocused => "task_focused",
        }
    }
}

impl fmt::Display for SummaryStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SummaryStyle {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|style| style.as_str() == text.trim().replace('-', "_"))
            .ok_or_else(|| format!("unknown summary style `{text}`; use concise, detailed, structured or task_focused"))
    }
}

/// How token counts are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenCounting {
    /// Characters / 4 (no call).
    Estimate,
    /// The `countTokens` API.
    Api,
}

/// Summarizer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryOptions {
    /// The style.
    pub style: SummaryStyle,
    /// Token budget for the summary.
    pub max_tokens: u32,
    /// The model.
    pub model: String,
    /// Its thinking setting, translated for the model by the catalog.
    pub thinking: Option<ThinkingSetting>,
    /// How tokens are counted.
    pub counting: TokenCounting,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        let (model, thinking) = crate::agent::role_default("summarizer");
        Self {
            style: SummaryStyle::Concise,
            max_tokens: 2000,
            model,
            thinking,
            counting: TokenCounting::Estimate,
        }
    }
}

/// An artifact named in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Its name.
    pub name: String,
    /// What kind of thing it is (file, model, endpoint, ...).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Its status (planned, in progress, done, ...).
    #[serde(default)]
    pub status: String,
}

/// The result of summarising.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The summary text.
    pub summary: String,
    /// Decisions made.
    pub key_decisions: Vec<String>,
    /// Artifacts named.
    pub artifacts: Vec<Artifact>,
    /// What is being worked on now.
    pub current_task: String,
    /// Questions still open.
    pub open_questions: Vec<String>,
    /// Tokens in the conversation.
    pub original_tokens: u64,
    /// Tokens in the summary.
    pub summary_tokens: u64,
    /// `original_tokens / summary_tokens`.
    pub compression_ratio: f64,
    /// The style used.
    pub style: SummaryStyle,
    /// How the token counts were obtained.
    pub counting: TokenCounting,
    /// When (RFC 3339).
    pub timestamp: String,
    /// Tokens spent on the calls.
    pub usage: Usage,
    /// Problems that did not stop the summary (e.g. an unreadable extraction).
    pub warnings: Vec<String>,
}

/// Summarizing failed.
#[derive(Debug, thiserror::Error)]
pub enum SummarizeError {
    /// A model call failed.
    #[error("the summary call failed: {0}")]
    Api(#[from] genai_client::Error),
    /// The model returned no summary text.
    #[error("the model returned an empty summary (finish reason: {0})")]
    Empty(String),
    /// The budget refused a call.
    #[error("{0}")]
    BudgetExhausted(crate::BudgetExhausted),
    /// The conversation cannot fit the model's input limit; nothing was sent.
    #[error("{0}")]
    InputTooLarge(crate::InputTooLarge),
}

/// One call of the summarizer, checked against the input limit and charged
/// to `budget` when there is one.
async fn call(
    client: &Client,
    model: &str,
    request: &GenerateContentRequest,
    budget: Option<&crate::Budget>,
) -> Result<genai_client::GenerateContentResponse, SummarizeError> {
    crate::check_input_limit(model, request).map_err(SummarizeError::InputTooLarge)?;
    let reservation = match budget {
        Some(budget) => Some(
            budget
                .reserve(model, request)
                .map_err(SummarizeError::BudgetExhausted)?,
        ),
        None => None,
    };
    let reply = client.generate_content(model, request).await;
    if let (Some(budget), Some(reservation)) = (budget, reservation) {
        match &reply {
            Ok(reply) => {
                budget.settle_reply(reservation, model, reply);
            }
            Err(_) => budget.release(reservation),
        }
    }
    Ok(reply?)
}

/// What the extraction call returns.
#[derive(Debug, Default, Deserialize)]
struct Extraction {
    #[serde(default)]
    key_decisions: Vec<String>,
    #[serde(default)]
    artifacts: Vec<Artifact>,
    #[serde(default)]
    current_task: String,
    #[serde(default)]
    open_questions: Vec<String>,
}

/// Summarises `conversation` with `client`.
pub async fn summarize(
    client: &Client,
    conversation: &Conversation,
    options: &SummaryOptions,
) -> Result<Summary, SummarizeError> {
    summarize_within(client, conversation, options, None).await
}

/// [`summarize`], charging its model calls to `budget` (a call the budget
/// refuses is [`SummarizeError::BudgetExhausted`]; nothing is sent).
pub async fn summarize_within(
    client: &Client,
    conversation: &Conversation,
    options: &SummaryOptions,
    budget: Option<&crate::Budget>,
) -> Result<Summary, SummarizeError> {
    let transcript = conversation.transcript();
    let thinking = crate::agent::thinking_config(&options.model, options.thinking, false);
    let summary_request = GenerateContentRequest {
        contents: vec![Content::user(prompts::summary_prompt(
            options.style,
            options.max_tokens,
            &transcript,
        ))],
        system_instruction: Some(Content::instruction(prompts::SUMMARIZER_INSTRUCTION)),
        generation_config: Some(GenerationConfig {
            thinking_config: thinking.clone(),
            ..GenerationConfig::default()
        }),
        ..GenerateContentRequest::default()
    };
    let reply = call(client, &options.model, &summary_request, budget).await?;
    let summary = reply.text().trim().to_owned();
    if summary.is_empty() {
        let reason = reply
            .finish_reason()
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        return Err(SummarizeError::Empty(reason));
    }
    let mut usage = reply.usage().unwrap_or_default();

    let extraction_request = GenerateContentRequest {
        contents: vec![Content::user(prompts::extraction_prompt(&transcript))],
        system_instruction: Some(Content::instruction(prompts::SUMMARIZER_INSTRUCTION)),
        generation_config: Some(GenerationConfig {
            thinking_config: thinking,
            response_mime_type: Some("application/json".to_owned()),
            response_schema: Some(prompts::extraction_schema()),
            ..GenerationConfig::default()
        }),
        ..GenerateContentRequest::default()
    };
    let extracted = call(client, &options.model, &extraction_request, budget).await?;
    usage += extracted.usage().unwrap_or_default();
    let mut warnings = Vec::new();
    let extraction = match parse_extraction(&extracted.text()) {
        Ok(extraction) => extraction,
        Err(message) => {
            warnings.push(format!("could not read the extracted decisions: {message}"));
            Extraction::default()
        }
    };

    let (original_tokens, summary_tokens) = match options.counting {
        TokenCounting::Estimate => (estimate_tokens(&transcript), estimate_tokens(&summary)),
        TokenCounting::Api => {
            let count = |text: &str| CountTokensRequest::contents(vec![Content::user(text)]);
            let original = client
                .count_tokens(&options.model, &count(&transcript))
                .await?;
            let short = client
                .count_tokens(&options.model, &count(&summary))
                .await?;
            (original.total_tokens, short.total_tokens)
        }
    };
    Ok(Summary {
        summary,
        key_decisions: extraction.key_decisions,
        artifacts: extraction.artifacts,
        current_task: extraction.current_task,
        open_questions: extraction.open_questions,
        original_tokens,
        summary_tokens,
        compression_ratio: ratio(original_tokens, summary_tokens),
        style: options.style,
        counting: options.counting,
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        usage,
        warnings,
    })
}

fn ratio(original: u64, summary: u64) -> f64 {
    if summary == 0 {
        return 0.0;
    }
    let ratio = original as f64 / summary as f64;
    (ratio * 100.0).round() / 100.0
}

/// Reads the extraction JSON, tolerating a fenced block around it.
fn parse_extraction(text: &str) -> Result<Extraction, String> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(body.trim()).map_err(|error| error.to_string())
}

impl Summary {
    /// A prompt for the next agent: the summary, decisions, current state and
    /// open questions under headings, then the next request.
    pub fn fork_prompt(&self, next_request: &str) -> String {
        prompts::fork_prompt(self, next_request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction_tolerates_fences() {
        let fenced = "```json\n{\"key_decisions\":[\"FastAPI\"],\"current_task\":\"models\"}\n```";
        let extraction = parse_extraction(fenced).unwrap();
        assert_eq!(extraction.key_decisions, vec!["FastAPI"]);
        assert_eq!(extraction.current_task, "models");
        assert!(parse_extraction("not json").is_err());
    }

    #[test]
    fn styles_parse_by_name() {
        assert_eq!(
            "task-focused".parse::<SummaryStyle>().unwrap(),
            SummaryStyle::TaskFocused
        );
        assert!("long".parse::<SummaryStyle>().is_err());
    }

    #[test]
    fn compression_ratio_is_rounded() {
        assert_eq!(ratio(1000, 300), 3.33);
        assert_eq!(ratio(10, 0), 0.0);
    }
}
