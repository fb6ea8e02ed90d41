//! Response bodies: [`GenerateContentResponse`] and [`CountTokensResponse`].
//!
//! Every field is optional and unknown fields are ignored: the wire omits
//! default values, adds fields over time, and sends `{}` where one might
//! expect content. The accessors answer what a caller usually wants.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::content::{Content, FunctionCall, ToolCall, ToolResponse};
use super::enums::{BlockReason, FinishReason};

/// A `generateContent` reply, or one chunk of a stream.
///
/// ```
/// use genai_client::GenerateContentResponse;
/// let body = r#"{"candidates":[{"content":{"role":"model","parts":[
///     {"text":"Let me think.","thought":true},{"text":"Paris."}]},"finishReason":"STOP"}],
///     "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10}}"#;
/// let response: GenerateContentResponse = serde_json::from_str(body).unwrap();
/// assert_eq!(response.text(), "Paris.");
/// assert_eq!(response.thought_text(), "Let me think.");
/// assert_eq!(response.usage().unwrap().total, 10);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    /// Candidate answers; absent or empty when the prompt was blocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// Feedback on the prompt, incl. why it was blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_feedback: Option<PromptFeedback>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<UsageMetadata>,
    /// The model version that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The server's id for this response (repeated on every stream chunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
}

impl GenerateContentResponse {
    /// The first candidate, if any.
    pub fn candidate(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    /// The first candidate's content, if any.
    pub fn content(&self) -> Option<&Content> {
        self.candidate()
            .and_then(|candidate| candidate.content.as_ref())
    }

    /// The answer text of the first candidate, thoughts excluded.
    pub fn text(&self) -> String {
        self.content().map(Content::text).unwrap_or_default()
    }

    /// The thought-summary text of the first candidate.
    pub fn thought_text(&self) -> String {
        self.content()
            .map(Content::thought_text)
            .unwrap_or_default()
    }

    /// The function calls of the first candidate, in order.
    pub fn function_calls(&self) -> Vec<&FunctionCall> {
        self.content()
            .map(|content| content.function_calls().collect())
            .unwrap_or_default()
    }

    /// The server-side tool calls of the first candidate, in order (only
    /// sent with `toolConfig.includeServerSideToolInvocations`).
    pub fn tool_calls(&self) -> Vec<&ToolCall> {
        self.content()
            .map(|content| content.tool_calls().collect())
            .unwrap_or_default()
    }

    /// The server-side tool results of the first candidate, in order.
    pub fn tool_responses(&self) -> Vec<&ToolResponse> {
        self.content()
            .map(|content| content.tool_responses().collect())
            .unwrap_or_default()
    }

    /// Token counts, when the response carried any.
    pub fn usage(&self) -> Option<Usage> {
        self.usage_metadata.as_ref().map(Usage::from)
    }

    /// Why the first candidate stopped.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.candidate()
            .and_then(|candidate| candidate.finish_reason.as_ref())
    }

    /// Why the prompt was blocked, if it was.
    pub fn block_reason(&self) -> Option<&BlockReason> {
        self.prompt_feedback
            .as_ref()
            .and_then(|feedback| feedback.block_reason.as_ref())
    }

    /// The search queries the model ran for grounding.
    pub fn grounding_queries(&self) -> Vec<&str> {
        self.grounding()
            .map(|grounding| {
                grounding
                    .web_search_queries
                    .iter()
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The sources the answer was grounded in (web pages, map places).
    pub fn grounding_sources(&self) -> Vec<GroundingSource> {
        self.grounding()
            .map(|grounding| {
                grounding
                    .grounding_chunks
                    .iter()
                    .filter_map(GroundingChunk::source)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first candidate's citations (`citationSources` or `citations`).
    pub fn citations(&self) -> &[Citation] {
        self.candidate()
            .and_then(|candidate| candidate.citation_metadata.as_ref())
            .map(|metadata| metadata.citations.as_slice())
            .unwrap_or_default()
    }

    fn grounding(&self) -> Option<&GroundingMetadata> {
        self.candidate()
            .and_then(|candidate| candidate.grounding_metadata.as_ref())
    }
}

/// One candidate answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The answer; may be missing, `{}`, or have a role but no parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Why generation stopped (final chunk only when streaming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Free-text detail on the finish reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_message: Option<String>,
    /// Candidate index; absent means 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Safety ratings (often omitted by newer models).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safety_ratings: Vec<SafetyRating>,
    /// Sources the answer recites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation_metadata: Option<CitationMetadata>,
    /// Grounding (Google Search, Maps, URL context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounding_metadata: Option<GroundingMetadata>,
    /// Status of URLs read by the URL-context tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_context_metadata: Option<Value>,
    /// Average log-probability of the candidate's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_logprobs: Option<f64>,
}

/// Feedback on the prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    /// Set when the prompt was blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<BlockReason>,
    /// Free-text detail on the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason_message: Option<String>,
    /// Safety ratings of the prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safety_ratings: Vec<SafetyRating>,
}

/// A safety rating. Category and probability are kept as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetyRating {
    /// E.g. `HARM_CATEGORY_HARASSMENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// E.g. `NEGLIGIBLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<String>,
    /// True when this rating caused the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<bool>,
}

/// Citations of a candidate. The Developer API names the list
/// `citationSources`, Vertex names it `citations`; both are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CitationMetadata {
    /// The cited sources.
    #[serde(default, rename = "citationSources", alias = "citations")]
    pub citations: Vec<Citation>,
}

/// One cited source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// Start of the cited span in the answer (absent means 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u32>,
    /// End of the cited span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_index: Option<u32>,
    /// Where the text comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The source's title (Vertex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The source's licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// Grounding of a candidate in search results, places or fetched URLs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundingMetadata {
    /// Queries the model ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub web_search_queries: Vec<String>,
    /// The sources; some may be empty objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounding_chunks: Vec<GroundingChunk>,
    /// Which spans of the answer each source supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounding_supports: Vec<Value>,
    /// HTML for the search-suggestion chips Google asks apps to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_entry_point: Option<Value>,
}

/// One grounding source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundingChunk {
    /// A web page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<GroundingSource>,
    /// A Google Maps place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maps: Option<GroundingSource>,
    /// A retrieved document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieved_context: Option<GroundingSource>,
}

impl GroundingChunk {
    /// The source this chunk names, whatever its kind.
    pub fn source(&self) -> Option<GroundingSource> {
        [&self.web, &self.maps, &self.retrieved_context]
            .into_iter()
            .flatten()
            .find(|source| source.uri.is_some() || source.title.is_some())
            .cloned()
    }
}

/// A grounding source's address and title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundingSource {
    /// The address (a redirect link for web results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The title (for web results, the site's domain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Token counts as sent. Any counter may be missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// Tokens in the prompt (cached ones included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_token_count: Option<u64>,
    /// Tokens in the candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates_token_count: Option<u64>,
    /// Tokens spent thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoughts_token_count: Option<u64>,
    /// Tokens of tool-use prompts (search results, code output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_prompt_token_count: Option<u64>,
    /// Prompt tokens served from a cache (a subset of the prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<u64>,
    /// The total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_token_count: Option<u64>,
}

impl UsageMetadata {
    /// True when at least one counter is present (Vertex sends chunks whose
    /// usage holds only `trafficType`).
    pub fn has_counts(&self) -> bool {
        [
            self.prompt_token_count,
            self.candidates_token_count,
            self.thoughts_token_count,
            self.tool_use_prompt_token_count,
            self.cached_content_token_count,
            self.total_token_count,
        ]
        .iter()
        .any(Option::is_some)
    }
}

/// Token counts with missing counters read as zero; sums with `+`.
///
/// ```
/// use genai_client::Usage;
/// let a = Usage { prompt: 10, candidates: 5, total: 15, ..Usage::default() };
/// let b = Usage { prompt: 20, thoughts: 7, total: 27, ..Usage::default() };
/// assert_eq!((a + b).total, 42);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt: u64,
    /// Output (candidate) tokens.
    pub candidates: u64,
    /// Thinking tokens.
    pub thoughts: u64,
    /// Cached prompt tokens.
    pub cached: u64,
    /// Tool-use prompt tokens.
    pub tool_use: u64,
    /// Total tokens.
    pub total: u64,
}

impl From<&UsageMetadata> for Usage {
    fn from(metadata: &UsageMetadata) -> Self {
        Self {
            prompt: metadata.prompt_token_count.unwrap_or(0),
            candidates: metadata.candidates_token_count.unwrap_or(0),
            thoughts: metadata.thoughts_token_count.unwrap_or(0),
            cached: metadata.cached_content_token_count.unwrap_or(0),
            tool_use: metadata.tool_use_prompt_token_count.unwrap_or(0),
            total: metadata.total_token_count.unwrap_or(0),
        }
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;

    fn add(self, other: Usage) -> Usage {
        Usage {
            prompt: self.prompt + other.prompt,
            candidates: self.candidates + other.candidates,
            thoughts: self.thoughts + other.thoughts,
            cached: self.cached + other.cached,
            tool_use: self.tool_use + other.tool_use,
            total: self.total + other.total,
        }
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Usage {
    fn sum<I: Iterator<Item = Usage>>(iter: I) -> Usage {
        iter.fold(Usage::default(), |sum, usage| sum + usage)
    }
}

/// A `countTokens` reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensResponse {
    /// Tokens in the counted input.
    #[serde(default)]
    pub total_tokens: u64,
    /// Of which served from a cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<u64>,
}
