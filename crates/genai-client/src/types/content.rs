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

use super::enums::{Language, Outcome, Role, ToolType};

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

    /// The server-side tool calls of this turn (Google Search, URL context,
    /// ...), in order. They were run by Gemini, not by the client.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.parts.iter().filter_map(|part| match &part.data {
            PartData::ToolCall(call) => Some(call),
            _ => None,
        })
    }

    /// The results of the server-side tool calls of this turn, in order.
    pub fn tool_responses(&self) -> impl Iterator<Item = &ToolResponse> {
        self.parts.iter().filter_map(|part| match &part.data {
            PartData::ToolResponse(response) => Some(response),
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
    /// A server-side tool call the model made (Gemini 3 with
    /// `includeServerSideToolInvocations`); replayed, never run by the client.
    ToolCall(ToolCall),
    /// The server's result for a [`PartData::ToolCall`]; replayed as received.
    ToolResponse(ToolResponse),
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
    /// Id of this code part (newer models); its result carries the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unknown members, kept for replay.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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
    /// The id of the [`ExecutableCode`] part this result is for, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unknown members, kept for replay.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A server-side tool call (`toolCall` on the wire): a tool Gemini ran
/// itself while answering, such as a Google web search. The client does not
/// run it; it sends the part back unchanged, with its [`ToolResponse`], in
/// the next request.
///
/// ```
/// use genai_client::{Part, PartData, ToolType};
/// let wire = r#"{"toolCall":{"toolType":"GOOGLE_SEARCH_WEB","args":{"queries":["rust 2024 edition"]},"id":"s1"},"thoughtSignature":"c2ln"}"#;
/// let part: Part = serde_json::from_str(wire).unwrap();
/// let PartData::ToolCall(call) = &part.data else { panic!("a tool call") };
/// assert_eq!(call.tool_type, Some(ToolType::GoogleSearchWeb));
/// assert_eq!(call.queries(), ["rust 2024 edition"]);
/// assert_eq!(part.thought_signature.as_deref(), Some("c2ln"));
/// let back: serde_json::Value = serde_json::to_value(&part).unwrap();
/// assert_eq!(back, serde_json::from_str::<serde_json::Value>(wire).unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    /// Which tool was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_type: Option<ToolType>,
    /// The call's arguments as sent (e.g. `{"queries": [...]}` for a web search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// The call's id; the matching [`ToolResponse`] carries the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unknown members, kept for replay.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ToolCall {
    /// The search queries of a web or maps search call (`args.queries`, or
    /// a single `args.query`); empty for other calls.
    pub fn queries(&self) -> Vec<&str> {
        let Some(args) = &self.args else {
            return Vec::new();
        };
        match (args.get("queries"), args.get("query")) {
            (Some(Value::Array(queries)), _) => queries.iter().filter_map(Value::as_str).collect(),
            (_, Some(Value::String(query))) => vec![query.as_str()],
            _ => Vec::new(),
        }
    }
}

/// The result of a server-side [`ToolCall`] (`toolResponse` on the wire),
/// produced by Gemini and replayed unchanged by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResponse {
    /// Which tool answered (as in the call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_type: Option<ToolType>,
    /// The tool's output as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// The id of the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unknown members, kept for replay.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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
    tool_call: Option<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool_response: Option<ToolResponse>,
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
            tool_call,
            tool_response,
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
            tool_call.map(PartData::ToolCall),
            tool_response.map(PartData::ToolResponse),
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
            PartData::ToolCall(call) => raw.tool_call = Some(call),
            PartData::ToolResponse(response) => raw.tool_response = Some(response),
            PartData::Empty => {}
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::enums::ToolType;

    /// A Gemini 3 model turn that mixed Google Search with a function call,
    /// in the wire's shape (authored; values in our own words).
    const MIXED_TURN: &str = r#"{"role":"model","parts":[
        {"toolCall":{"toolType":"GOOGLE_SEARCH_WEB","args":{"queries":["tokio 1.44 release notes"]},"id":"srch-01"},"thoughtSignature":"U0lHLTE="},
        {"toolResponse":{"toolType":"GOOGLE_SEARCH_WEB","response":{"search_suggestions":"<div>chips</div>"},"id":"srch-01"},"thoughtSignature":"U0lHLTI="},
        {"toolCall":{"toolType":"NEW_TOOL_KIND","args":{"x":1},"id":"t2","futureMember":true}},
        {"executableCode":{"language":"PYTHON","code":"print(6*7)","id":"code-1"}},
        {"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"42\n","id":"code-1"}},
        {"functionCall":{"name":"write_file","args":{"path":"notes.md","content":"x"},"id":"fn-01"},"thoughtSignature":"U0lHLTM="},
        {"text":"","thoughtSignature":"U0lHLTQ="}
    ]}"#;

    #[test]
    fn a_mixed_server_side_turn_round_trips_exactly() {
        let wire: Value = serde_json::from_str(MIXED_TURN).unwrap();
        let turn: Content = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&turn).unwrap(), wire);
        let calls: Vec<_> = turn.tool_calls().collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].tool_type, Some(ToolType::GoogleSearchWeb));
        assert_eq!(calls[0].id.as_deref(), Some("srch-01"));
        assert_eq!(calls[0].queries(), ["tokio 1.44 release notes"]);
        assert_eq!(
            calls[1].tool_type,
            Some(ToolType::Other("NEW_TOOL_KIND".to_owned()))
        );
        assert!(calls[1].extra.contains_key("futureMember"));
        let responses: Vec<_> = turn.tool_responses().collect();
        assert_eq!(responses[0].id.as_deref(), Some("srch-01"));
        assert!(matches!(turn.parts[0].data, PartData::ToolCall(_)));
        assert!(matches!(turn.parts[1].data, PartData::ToolResponse(_)));
        assert!(
            turn.parts[1].extra.is_empty(),
            "modelled, not kept as extra"
        );
        assert_eq!(turn.parts[1].thought_signature.as_deref(), Some("U0lHLTI="));
        let PartData::ExecutableCode(code) = &turn.parts[3].data else {
            panic!("code part");
        };
        assert_eq!(code.id.as_deref(), Some("code-1"));
        assert_eq!(turn.function_calls().count(), 1);
    }

    #[test]
    fn a_tool_call_without_queries_has_none() {
        let call: ToolCall =
            serde_json::from_str(r#"{"toolType":"URL_CONTEXT","args":{"urls":["u"]}}"#).unwrap();
        assert!(call.queries().is_empty());
        let single: ToolCall =
            serde_json::from_str(r#"{"toolType":"GOOGLE_SEARCH_WEB","args":{"query":"q"}}"#)
                .unwrap();
        assert_eq!(single.queries(), ["q"]);
    }
}
