//! Conversation turns ([`Content`]) and their [`Part`]s.
//!
//! On the wire a part is an object with exactly one data member (`text`,
//! `functionCall`, ...) plus optional metadata (`thought`,
//! `thoughtSignature`). Here the data member is the [`PartData`] enum, so a
//! part can never hold two kinds at once. Members this version does not know
//! are kept in [`Part::extra`] and sent back unchanged, because Gemini asks
//! that model turns be replayed exactly.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::enums::{Language, Outcome, Role};

/// One turn of a conversation.
///
/// ```
/// use genai_client::Content;
/// let turn = Content::user("Explain ownership in one sentence.");
/// assert_eq!(turn.text(), "Explain ownership in one sentence.");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Who wrote the turn. Missing means `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The turn's parts, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

impl Content {
    /// A user turn holding one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Some(Role::User),
            parts: vec![Part::text(text)],
        }
    }

    /// A model turn holding one text part.
    pub fn model(text: impl Into<String>) -> Self {
        Self {
            role: Some(Role::Model),
            parts: vec![Part::text(text)],
        }
    }

    /// A turn without a role, as `systemInstruction` is usually sent.
    pub fn instruction(text: impl Into<String>) -> Self {
        Self {
            role: None,
            parts: vec![Part::text(text)],
        }
    }

    /// The answer text of this turn: every non-thought text part, joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter(|part| !part.thought)
            .filter_map(Part::as_text)
            .collect()
    }

    /// The thought-summary text of this turn: every thought part, joined.
    pub fn thought_text(&self) -> String {
        self.parts
            .iter()
            .filter(|part| part.thought)
            .filter_map(Part::as_text)
            .collect()
    }

    /// The function calls of this turn, in order.
    pub fn function_calls(&self) -> impl Iterator<Item = &FunctionCall> {
        self.parts.iter().filter_map(|part| match &part.data {
            PartData::FunctionCall(call) => Some(call),
            _ => None,
        })
    }
}

/// One piece of a turn: its data plus thought metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawPart", into = "RawPart")]
pub struct Part {
    /// What the part carries.
    pub data: PartData,
    /// True for thought-summary parts (only sent with `includeThoughts`).
    pub thought: bool,
    /// Opaque signature of the model's reasoning. It must be sent back
    /// unchanged, on the same part, in the next request.
    pub thought_signature: Option<String>,
    /// Wire members this version does not model, kept for faithful replay.
    pub extra: Map<String, Value>,
}

/// The data member of a [`Part`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PartData {
    /// Text (possibly empty, e.g. a carrier for a thought signature).
    Text(String),
    /// A call the model asks the client to run.
    FunctionCall(FunctionCall),
    /// The client's answer to a function call.
    FunctionResponse(FunctionResponse),
    /// Code the model ran with the code-execution tool.
    ExecutableCode(ExecutableCode),
    /// The result of running [`PartData::ExecutableCode`].
    CodeExecutionResult(CodeExecutionResult),
    /// Inline bytes (base64 on the wire).
    InlineData(Blob),
    /// A reference to an uploaded file.
    FileData(FileData),
    /// No data member at all (the wire sometimes sends `{}`).
    Empty,
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::from_data(PartData::Text(text.into()))
    }

    /// A part holding `data`, with no thought metadata.
    pub fn from_data(data: PartData) -> Self {
        Self {
            data,
            thought: false,
            thought_signature: None,
            extra: Map::new(),
        }
    }

    /// A function-response part answering `call` with `response`.
    ///
    /// `response` should be a JSON object; anything else is wrapped as
    /// `{"output": value}` because the API requires an object.
    pub fn function_response(call: &FunctionCall, response: Value) -> Self {
        let response = match response {
            Value::Object(_) => response,
            other => serde_json::json!({ "output": other }),
        };
        Self::from_data(PartData::FunctionResponse(FunctionResponse {
            name: call.name.clone(),
            id: call.id.clone(),
            response,
        }))
    }

    /// The text, when this is a text part.
    pub fn as_text(&self) -> Option<&str> {
        match &self.data {
            PartData::Text(text) => Some(text),
            _ => None,
        }
    }

    /// True when the part carries nothing worth keeping: no data member, no
    /// signature and no unknown members.
    pub fn is_empty(&self) -> bool {
        matches!(self.data, PartData::Empty)
            && self.thought_signature.is_none()
            && self.extra.is_empty()
    }
}

/// A function call requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCall {
    /// The declared function's name. Empty on the nameless fragments of a
    /// Vertex stream with `streamFunctionCallArguments` (`{"partialArgs":
    /// [...]}`, a closing `{}`), which continue the named call before them;
    /// [`StreamAccumulator`](crate::StreamAccumulator) folds them into that
    /// call's `args`.
    #[serde(default)]
    pub name: String,
    /// Arguments as a JSON object; absent on the wire means no arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Call id (newer models); echo it in the matching response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unknown members (e.g. Vertex `partialArgs` on a single chunk), kept
    /// for replay.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FunctionCall {
    /// The arguments, or an empty object when none were sent.
    pub fn args_or_empty(&self) -> Value {
        self.args
            .clone()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }
}

/// The client's result for a [`FunctionCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionResponse {
    /// The function's name, as in the call.
    pub name: String,
    /// The call id, copied from the call when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The result; must be a JSON object.
    #[serde(default)]
    pub response: Value,
}

/// Code generated and run by the code-execution tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutableCode {
    /// The language (always Python today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The source code.
    #[serde(default)]
    pub code: String,
}

/// Output of running an [`ExecutableCode`] part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeExecutionResult {
    /// How the run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Standard output, or the error on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// Inline bytes with their media type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    /// IANA media type, e.g. `image/png`.
    #[serde(default)]
    pub mime_type: String,
    /// Base64-encoded bytes.
    #[serde(default)]
    pub data: String,
}

/// A reference to a file uploaded through the Files API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileData {
    /// Media type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The file's URI.
    #[serde(default)]
    pub file_uri: String,
}

/// The part exactly as on the wire; converted to and from [`Part`].
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function_call: Option<FunctionCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function_response: Option<FunctionResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    executable_code: Option<ExecutableCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_execution_result: Option<CodeExecutionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inline_data: Option<Blob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file_data: Option<FileData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thought: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thought_signature: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<RawPart> for Part {
    fn from(raw: RawPart) -> Self {
        let RawPart {
            text,
            function_call,
            function_response,
            executable_code,
            code_execution_result,
            inline_data,
            file_data,
            thought,
            thought_signature,
            mut extra,
        } = raw;
        let mut members = [
            text.map(PartData::Text),
            function_call.map(PartData::FunctionCall),
            function_response.map(PartData::FunctionResponse),
            executable_code.map(PartData::ExecutableCode),
            code_execution_result.map(PartData::CodeExecutionResult),
            inline_data.map(PartData::InlineData),
            file_data.map(PartData::FileData),
        ]
        .into_iter()
        .flatten();
        let data = members.next().unwrap_or(PartData::Empty);
        // Exactly one data member is expected. Should a reply ever carry more,
        // the first wins and the others are kept as unknown members.
        for surplus in members {
            if let Ok(Value::Object(map)) = serde_json::to_value(Part::from_data(surplus)) {
                extra.extend(map);
            }
        }
        Part {
            data,
            thought: thought.unwrap_or(false),
            thought_signature,
            extra,
        }
    }
}

impl From<Part> for RawPart {
    fn from(part: Part) -> Self {
        let mut raw = RawPart {
            thought: part.thought.then_some(true),
            thought_signature: part.thought_signature,
            extra: part.extra,
            ..RawPart::default()
        };
        match part.data {
            PartData::Text(text) => raw.text = Some(text),
            PartData::FunctionCall(call) => raw.function_call = Some(call),
            PartData::FunctionResponse(response) => raw.function_response = Some(response),
            PartData::ExecutableCode(code) => raw.executable_code = Some(code),
            PartData::CodeExecutionResult(result) => raw.code_execution_result = Some(result),
            PartData::InlineData(blob) => raw.inline_data = Some(blob),
            PartData::FileData(file) => raw.file_data = Some(file),
            PartData::Empty => {}
        }
        raw
    }
}
