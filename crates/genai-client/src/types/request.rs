//! Request bodies: [`GenerateContentRequest`] and [`CountTokensRequest`].
//!
//! Every optional field is omitted from the JSON when unset, as the API
//! expects. Schemas (`parameters`, `responseSchema`) are plain JSON values:
//! the OpenAPI-subset schema language is open-ended and is passed through.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::Content;
use super::enums::FunctionCallingMode;

/// The body of `generateContent` and `streamGenerateContent`.
///
/// ```
/// use genai_client::{Content, GenerateContentRequest, GenerationConfig, ThinkingConfig};
/// let request = GenerateContentRequest {
///     contents: vec![Content::user("Name three prime numbers.")],
///     system_instruction: Some(Content::instruction("Answer briefly.")),
///     generation_config: Some(GenerationConfig {
///         thinking_config: Some(ThinkingConfig { thinking_budget: Some(1024), ..Default::default() }),
///         ..Default::default()
///     }),
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["generationConfig"]["thinkingConfig"]["thinkingBudget"], 1024);
/// assert!(json.get("tools").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    /// The conversation so far; the API is stateless, so every call sends it all.
    pub contents: Vec<Content>,
    /// The system instruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    /// Tools the model may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// How the model may use the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig>,
    /// Per-category safety thresholds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safety_settings: Vec<SafetySetting>,
    /// Sampling, output and thinking settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
    /// Name of an explicit context cache, `cachedContents/...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content: Option<String>,
}

/// One tool. Each tool object sets exactly one member on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Tool {
    /// Functions the client implements.
    FunctionDeclarations(Vec<FunctionDeclaration>),
    /// Google Search grounding.
    GoogleSearch(EmptyObject),
    /// The server-side Python sandbox.
    CodeExecution(EmptyObject),
    /// Reading the URLs named in the prompt.
    UrlContext(EmptyObject),
}

impl Tool {
    /// The Google Search tool.
    pub fn google_search() -> Self {
        Self::GoogleSearch(EmptyObject {})
    }

    /// The code-execution tool.
    pub fn code_execution() -> Self {
        Self::CodeExecution(EmptyObject {})
    }

    /// The URL-context tool.
    pub fn url_context() -> Self {
        Self::UrlContext(EmptyObject {})
    }
}

/// Serialises as `{}`; the configuration of tools that take none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyObject {}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration {
    /// The name the model calls it by.
    pub name: String,
    /// What it does; the model reads this to decide when to call it.
    #[serde(default)]
    pub description: String,
    /// Parameters as an OpenAPI-subset schema (`"type": "OBJECT"`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Parameters as plain JSON Schema (alternative to `parameters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters_json_schema: Option<Value>,
}

/// Tool-use settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    /// Function-calling settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_calling_config: Option<FunctionCallingConfig>,
    /// Ask for server-side tool invocations (`toolCall`/`toolResponse`
    /// parts) in the model's turns. Gemini 3 needs it `true` to accept
    /// built-in tools (Google Search, code execution) beside function
    /// declarations; those parts must then be replayed exactly. Not
    /// supported on Vertex AI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_server_side_tool_invocations: Option<bool>,
}

/// How the model may call functions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig {
    /// The mode; `AUTO` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FunctionCallingMode>,
    /// With `ANY`: the functions allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<String>,
}

/// A safety threshold for one harm category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetySetting {
    /// E.g. `HARM_CATEGORY_HATE_SPEECH`.
    pub category: String,
    /// E.g. `BLOCK_ONLY_HIGH`.
    pub threshold: String,
}

/// Sampling, output-format and thinking settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Number of candidates to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<u32>,
    /// Output cap in tokens (thoughts share it on thinking models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Sequences that stop generation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Seed for sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// `text/plain` (default) or `application/json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<String>,
    /// OpenAPI-subset schema of a JSON answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
    /// JSON Schema of a JSON answer (alternative to `response_schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<Value>,
    /// Output modalities, e.g. `["TEXT"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_modalities: Vec<String>,
    /// Thinking settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
    /// Fields this version does not model, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Thinking settings, nested inside [`GenerationConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    /// Token budget for thinking; `0` off where allowed, `-1` dynamic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    /// Ask for thought-summary parts in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
    /// How much to think, on Gemini 3 models (which take a level, not a
    /// budget). Never sent together with `thinking_budget`: the API refuses
    /// a request with both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<ThinkingLevel>,
}

/// A Gemini 3 thinking level (`thinkingConfig.thinkingLevel`). Each model
/// accepts its own subset; [`crate::catalog`] knows which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThinkingLevel {
    /// As little thinking as the model allows.
    Minimal,
    /// Light thinking.
    Low,
    /// Moderate thinking.
    Medium,
    /// Deep thinking.
    High,
}

impl ThinkingLevel {
    /// Every level, from least to most thinking.
    pub const ALL: [ThinkingLevel; 4] = [Self::Minimal, Self::Low, Self::Medium, Self::High];

    /// The wire spelling, e.g. `MEDIUM`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minimal => "MINIMAL",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
        }
    }

    /// The spelling users type, e.g. `medium`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl std::fmt::Display for ThinkingLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of `countTokens`.
///
/// The plain form ([`CountTokensRequest::contents`]) counts turns only; the
/// wrapped form ([`CountTokensRequest::full`]) also counts the system
/// instruction and tool declarations. The API takes one or the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contents: Vec<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generate_content_request: Option<WrappedRequest>,
}

impl CountTokensRequest {
    /// Count these turns only.
    pub fn contents(contents: Vec<Content>) -> Self {
        Self {
            contents,
            generate_content_request: None,
        }
    }

    /// Count a whole request for `model` (bare id or `models/<id>`).
    pub fn full(model: &str, request: GenerateContentRequest) -> Self {
        Self {
            contents: Vec::new(),
            generate_content_request: Some(WrappedRequest {
                model: model_resource(model),
                request,
            }),
        }
    }
}

/// A full request for counting, with its model name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WrappedRequest {
    model: String,
    #[serde(flatten)]
    request: GenerateContentRequest,
}

/// `gemini-3.8-flash` becomes `models/gemini-3.8-flash`; names already under
/// `models/` or `tunedModels/` are kept.
pub(crate) fn model_resource(model: &str) -> String {
    if model.starts_with("models/") || model.starts_with("tunedModels/") {
        model.to_owned()
    } else {
        format!("models/{model}")
    }
}
