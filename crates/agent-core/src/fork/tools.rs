//! Which tools a fork's requests carry, per model generation.
//!
//! Gemini's built-in tools (Google Search, code execution) and the
//! workspace's function tools combine differently per generation, as the
//! model catalog says ([`genai_client::catalog`]):
//!
//! - **Only built-in tools, or only function tools**: sent as they are.
//! - **Both, on a model that mixes them with server-side invocations**
//!   (Gemini 3.x): every tool in one request, with
//!   `toolConfig.includeServerSideToolInvocations: true`. The model turns
//!   then carry `toolCall`/`toolResponse` parts, replayed exactly by the loop.
//! - **Both, on a model that refuses the mix** (Gemini 2.x answers 400
//!   "Tool use with function calling is unsupported"): each built-in tool is
//!   offered as a function instead (`web_search`, `run_code`) whose handler
//!   makes a separate one-turn call to the same model with only that
//!   built-in tool, and answers with the result (and, for search, its
//!   sources).

use genai_client::catalog::{self, BuiltinToolMixing};
use genai_client::{
    Client, Content, Cost, FunctionDeclaration, GenerateContentRequest, GroundingSource, PartData,
    Tool, ToolConfig, Unpriced, Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::spending::{Budget, BudgetExhausted, Reservation};

/// Longest question or task a stand-in function passes on, in characters
/// (the arguments come from the model and are not trusted).
const MAX_STAND_IN_INPUT: usize = 4_000;

/// The function that stands in for Google Search where the model cannot mix
/// it with function calling.
pub const WEB_SEARCH_FUNCTION: &str = "web_search";
/// The function that stands in for code execution where the model cannot
/// mix it with function calling.
pub const RUN_CODE_FUNCTION: &str = "run_code";

/// How a fork's built-in tools reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRoute {
    /// Built-in tools alone, without function tools.
    Alone,
    /// Beside function tools in one request, with server-side tool
    /// invocations included (Gemini 3.x).
    BesideFunctions,
    /// As functions whose handlers make a separate call with only the
    /// built-in tool (Gemini 2.x, which refuses the mix).
    SeparateCall,
}

impl BuiltinRoute {
    /// The route as a word (`alone`, `beside_functions`, `separate_call`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alone => "alone",
            Self::BesideFunctions => "beside_functions",
            Self::SeparateCall => "separate_call",
        }
    }
}

/// How built-in tools would reach `model` when a fork has function tools
/// (`with_functions`) and asks for search and/or code execution; `None`
/// when it asks for neither.
///
/// ```
/// use agent_core::{BuiltinRoute, builtin_route};
/// assert_eq!(builtin_route("gemini-3.5-flash", true, true, false), Some(BuiltinRoute::BesideFunctions));
/// assert_eq!(builtin_route("gemini-2.5-flash", true, true, false), Some(BuiltinRoute::SeparateCall));
/// assert_eq!(builtin_route("gemini-2.5-flash", false, true, false), Some(BuiltinRoute::Alone));
/// ```
pub fn builtin_route(
    model: &str,
    with_functions: bool,
    search: bool,
    code_execution: bool,
) -> Option<BuiltinRoute> {
    match (search || code_execution, with_functions) {
        (false, _) => None,
        (true, false) => Some(BuiltinRoute::Alone),
        (true, true) => Some(match catalog::lookup(model).builtin_tool_mixing {
            BuiltinToolMixing::WithServerSideInvocations => BuiltinRoute::BesideFunctions,
            BuiltinToolMixing::Unsupported => BuiltinRoute::SeparateCall,
        }),
    }
}

/// The tools part of a fork's requests.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolPlan {
    /// The `tools` array.
    pub(crate) tools: Vec<Tool>,
    /// The `toolConfig`, when one is needed.
    pub(crate) tool_config: Option<ToolConfig>,
    /// How the built-in tools are offered, when there are any.
    pub(crate) route: Option<BuiltinRoute>,
    /// The stand-in functions declared (`web_search`, `run_code`); only
    /// these may start a separate call.
    pub(crate) stand_ins: Vec<&'static str>,
}

/// Plans the tools for `model` given the workspace's function declarations
/// (empty when the fork has no file tools) and the built-in tools asked for.
pub(crate) fn plan(
    model: &str,
    mut functions: Vec<FunctionDeclaration>,
    search: bool,
    code_execution: bool,
) -> ToolPlan {
    let route = builtin_route(model, !functions.is_empty(), search, code_execution);
    let mut stand_ins = Vec::new();
    if route == Some(BuiltinRoute::SeparateCall) {
        if search {
            functions.push(web_search_declaration());
            stand_ins.push(WEB_SEARCH_FUNCTION);
        }
        if code_execution {
            functions.push(run_code_declaration());
            stand_ins.push(RUN_CODE_FUNCTION);
        }
    }
    let mut tools = Vec::new();
    if !functions.is_empty() {
        tools.push(Tool::FunctionDeclarations(functions));
    }
    if matches!(
        route,
        Some(BuiltinRoute::Alone | BuiltinRoute::BesideFunctions)
    ) {
        if search {
            tools.push(Tool::google_search());
        }
        if code_execution {
            tools.push(Tool::code_execution());
        }
    }
    let tool_config = (route == Some(BuiltinRoute::BesideFunctions)).then(|| ToolConfig {
        include_server_side_tool_invocations: Some(true),
        ..ToolConfig::default()
    });
    ToolPlan {
        tools,
        tool_config,
        route,
        stand_ins,
    }
}

fn web_search_declaration() -> FunctionDeclaration {
    FunctionDeclaration {
        name: WEB_SEARCH_FUNCTION.to_owned(),
        description: "Searches the web with Google Search and answers the question from what it \
                      finds. Returns the answer, the queries run and the sources (title and URL). \
                      Use it for current facts; cite the sources it returns."
            .to_owned(),
        parameters: Some(json!({
            "type": "OBJECT",
            "properties": {
                "question": {
                    "type": "STRING",
                    "description": "What to find out, as a full question."
                }
            },
            "required": ["question"]
        })),
        parameters_json_schema: None,
    }
}

fn run_code_declaration() -> FunctionDeclaration {
    FunctionDeclaration {
        name: RUN_CODE_FUNCTION.to_owned(),
        description: "Writes and runs Python in Google's code-execution sandbox (no access to \
                      the workspace files) to compute an answer. Returns the code run, its \
                      output and the answer."
            .to_owned(),
        parameters: Some(json!({
            "type": "OBJECT",
            "properties": {
                "task": {
                    "type": "STRING",
                    "description": "The computation to carry out, with every input it needs."
                }
            },
            "required": ["task"]
        })),
        parameters_json_schema: None,
    }
}

/// What a stand-in function's separate call brought back.
#[derive(Debug)]
pub(crate) struct StandInOutcome {
    /// Whether the call worked.
    pub(crate) ok: bool,
    /// The function response to send back to the model.
    pub(crate) value: Value,
    /// Tokens the separate call spent.
    pub(crate) usage: Usage,
    /// What the separate call cost (`None` when no call was made).
    pub(crate) cost: Option<Result<Cost, Unpriced>>,
    /// For `web_search`: the queries run and the sources found.
    pub(crate) search: Option<(Vec<String>, Vec<GroundingSource>)>,
    /// The run's budget refused the separate call (nothing was sent).
    pub(crate) budget_refused: Option<BudgetExhausted>,
}

/// A budget reservation given back if the call holding it is dropped
/// (the fork was cancelled mid-call) before it is settled.
struct Held<'a> {
    budget: &'a Budget,
    reservation: Option<Reservation>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(reservation) = self.reservation.take() {
            self.budget.release(reservation);
        }
    }
}

/// Runs `name` when it is one of the stand-in functions of the
/// [`BuiltinRoute::SeparateCall`] route: one `generateContent` call to
/// `model` with only the matching built-in tool, reserved against `budget`
/// before it is sent and settled with its real usage, like every other
/// model call of the run. `None` for any other name.
pub(crate) async fn run_stand_in(
    client: &Client,
    model: &str,
    name: &str,
    args: &Value,
    budget: Option<&Budget>,
) -> Option<StandInOutcome> {
    let (tool, field, instruction) = match name {
        WEB_SEARCH_FUNCTION => (Tool::google_search(), "question", SEARCH_INSTRUCTION),
        RUN_CODE_FUNCTION => (Tool::code_execution(), "task", CODE_INSTRUCTION),
        _ => return None,
    };
    let input = match args.get(field).and_then(Value::as_str).map(str::trim) {
        Some(input) if !input.is_empty() && input.chars().count() <= MAX_STAND_IN_INPUT => input,
        Some(input) if !input.is_empty() => {
            return Some(refused(format!(
                "`{field}` is longer than {MAX_STAND_IN_INPUT} characters; ask a shorter one"
            )));
        }
        _ => return Some(refused(format!("`{field}` must be a non-empty string"))),
    };
    let request = GenerateContentRequest {
        contents: vec![Content::user(input)],
        system_instruction: Some(Content::instruction(instruction)),
        tools: vec![tool],
        ..GenerateContentRequest::default()
    };
    let mut held = match budget.map(|budget| (budget, budget.reserve(model, &request))) {
        Some((_, Err(exhausted))) => {
            let mut outcome = refused(format!(
                "the separate {name} call was not made ({exhausted})"
            ));
            outcome.budget_refused = Some(exhausted);
            return Some(outcome);
        }
        Some((budget, Ok(reservation))) => Some(Held {
            budget,
            reservation: Some(reservation),
        }),
        None => None,
    };
    let response = match client.generate_content(model, &request).await {
        Ok(response) => response,
        Err(error) => {
            // Dropping `held` gives the reservation back.
            let message = error.to_string();
            return Some(refused(format!(
                "the separate {name} call failed: {}",
                message.split_whitespace().collect::<Vec<_>>().join(" ")
            )));
        }
    };
    let usage = response.usage().unwrap_or_default();
    let cost = genai_client::cost_of_call(
        &usage,
        response.model_version.as_deref(),
        model,
        chrono::Utc::now().date_naive(),
    );
    if let Some(held) = &mut held {
        if let Some(reservation) = held.reservation.take() {
            held.budget.settle(reservation, &usage, cost.as_ref().ok());
        }
    }
    let cost = Some(cost);
    let answer = response.text();
    if name == WEB_SEARCH_FUNCTION {
        let queries: Vec<String> = response
            .grounding_queries()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let sources = response.grounding_sources();
        let value = json!({
            "success": true,
            "answer": answer,
            "queries": queries,
            "sources": sources,
        });
        return Some(StandInOutcome {
            ok: true,
            value,
            usage,
            cost,
            search: Some((queries, sources)),
            budget_refused: None,
        });
    }
    let parts = response
        .content()
        .map(|content| content.parts.as_slice())
        .unwrap_or_default();
    let mut runs: Vec<Value> = Vec::new();
    for part in parts {
        match &part.data {
            PartData::ExecutableCode(code) => runs.push(json!({ "code": code.code })),
            PartData::CodeExecutionResult(result) => {
                let run = json!({
                    "outcome": result.outcome.as_ref().map(ToString::to_string),
                    "output": result.output,
                });
                match runs.last_mut().and_then(Value::as_object_mut) {
                    Some(last) if !last.contains_key("outcome") => {
                        last.extend(run.as_object().cloned().unwrap_or_default());
                    }
                    _ => runs.push(run),
                }
            }
            _ => {}
        }
    }
    Some(StandInOutcome {
        ok: true,
        value: json!({ "success": true, "answer": answer, "runs": runs }),
        usage,
        cost,
        search: None,
        budget_refused: None,
    })
}

fn refused(message: String) -> StandInOutcome {
    StandInOutcome {
        ok: false,
        value: json!({ "success": false, "error": message }),
        usage: Usage::default(),
        cost: None,
        search: None,
        budget_refused: None,
    }
}

/// System instruction of the separate grounded call behind `web_search`.
const SEARCH_INSTRUCTION: &str = "Answer the question with Google Search. Report what the \
     sources say, briefly and factually, with dates where they matter. Say so when the \
     sources disagree or say nothing.";

/// System instruction of the separate call behind `run_code`.
const CODE_INSTRUCTION: &str = "Carry out the computation by writing and running Python with \
     the code-execution tool, then state the result in one or two sentences.";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn file_tools() -> Vec<FunctionDeclaration> {
        vec![FunctionDeclaration {
            name: "read_file".to_owned(),
            description: "Reads a file.".to_owned(),
            parameters: None,
            parameters_json_schema: None,
        }]
    }

    /// The `tools` members in order (function names for declarations) and
    /// the `toolConfig`, as sent.
    fn sent(plan: &ToolPlan) -> (Vec<String>, Value) {
        let tools = serde_json::to_value(&plan.tools).expect("tools serialise");
        let members = tools
            .as_array()
            .expect("an array")
            .iter()
            .map(|tool| {
                let (member, value) = tool
                    .as_object()
                    .and_then(|object| object.iter().next())
                    .expect("one member per tool");
                match value.as_array() {
                    Some(functions) => format!(
                        "{member}:{}",
                        functions
                            .iter()
                            .map(|f| f["name"].as_str().unwrap_or("?"))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    None => format!("{member}:{value}"),
                }
            })
            .collect();
        let config = serde_json::to_value(&plan.tool_config).expect("config serialises");
        (members, config)
    }

    /// (model, file tools, search, code execution) and the expected tools,
    /// toolConfig and route.
    type Case = (
        &'static str,
        bool,
        bool,
        bool,
        Vec<&'static str>,
        Value,
        Option<BuiltinRoute>,
    );

    #[test]
    fn tools_and_tool_config_per_generation_and_combination() {
        let beside = json!({"includeServerSideToolInvocations": true});
        // (model, files, search, code) => (tools, toolConfig, route)
        let table: Vec<Case> = vec![
            // Gemini 3.x
            (
                "gemini-3.5-flash",
                false,
                false,
                false,
                vec![],
                Value::Null,
                None,
            ),
            (
                "gemini-3.5-flash",
                true,
                false,
                false,
                vec!["functionDeclarations:read_file"],
                Value::Null,
                None,
            ),
            (
                "gemini-3.5-flash",
                false,
                true,
                false,
                vec!["googleSearch:{}"],
                Value::Null,
                Some(BuiltinRoute::Alone),
            ),
            (
                "gemini-3.5-flash",
                false,
                false,
                true,
                vec!["codeExecution:{}"],
                Value::Null,
                Some(BuiltinRoute::Alone),
            ),
            (
                "gemini-3.5-flash",
                false,
                true,
                true,
                vec!["googleSearch:{}", "codeExecution:{}"],
                Value::Null,
                Some(BuiltinRoute::Alone),
            ),
            (
                "gemini-3.5-flash",
                true,
                true,
                false,
                vec!["functionDeclarations:read_file", "googleSearch:{}"],
                beside.clone(),
                Some(BuiltinRoute::BesideFunctions),
            ),
            (
                "gemini-3.1-pro-preview",
                true,
                false,
                true,
                vec!["functionDeclarations:read_file", "codeExecution:{}"],
                beside.clone(),
                Some(BuiltinRoute::BesideFunctions),
            ),
            (
                "models/gemini-3.8-flash",
                true,
                true,
                true,
                vec![
                    "functionDeclarations:read_file",
                    "googleSearch:{}",
                    "codeExecution:{}",
                ],
                beside.clone(),
                Some(BuiltinRoute::BesideFunctions),
            ),
            // Gemini 2.5
            (
                "gemini-2.5-flash",
                false,
                false,
                false,
                vec![],
                Value::Null,
                None,
            ),
            (
                "gemini-2.5-flash",
                true,
                false,
                false,
                vec!["functionDeclarations:read_file"],
                Value::Null,
                None,
            ),
            (
                "gemini-2.5-flash",
                false,
                true,
                false,
                vec!["googleSearch:{}"],
                Value::Null,
                Some(BuiltinRoute::Alone),
            ),
            (
                "gemini-2.5-pro",
                false,
                false,
                true,
                vec!["codeExecution:{}"],
                Value::Null,
                Some(BuiltinRoute::Alone),
            ),
            (
                "gemini-2.5-flash",
                false,
                true,
                true,
                vec!["googleSearch:{}", "codeExecution:{}"],
                Value::Null,
                Some(BuiltinRoute::Alone),
            ),
            (
                "gemini-2.5-flash",
                true,
                true,
                false,
                vec!["functionDeclarations:read_file,web_search"],
                Value::Null,
                Some(BuiltinRoute::SeparateCall),
            ),
            (
                "gemini-2.5-pro",
                true,
                false,
                true,
                vec!["functionDeclarations:read_file,run_code"],
                Value::Null,
                Some(BuiltinRoute::SeparateCall),
            ),
            (
                "gemini-2.5-flash-lite",
                true,
                true,
                true,
                vec!["functionDeclarations:read_file,web_search,run_code"],
                Value::Null,
                Some(BuiltinRoute::SeparateCall),
            ),
        ];
        for (model, files, search, code, tools, config, route) in table {
            let functions = if files { file_tools() } else { Vec::new() };
            let plan = plan(model, functions, search, code);
            let case = format!("{model} files={files} search={search} code={code}");
            let (sent_tools, sent_config) = sent(&plan);
            assert_eq!(sent_tools, tools, "tools for {case}");
            assert_eq!(sent_config, config, "toolConfig for {case}");
            assert_eq!(plan.route, route, "route for {case}");
        }
    }

    #[test]
    fn the_stand_in_functions_use_only_v1beta_schema_fields() {
        for declaration in [web_search_declaration(), run_code_declaration()] {
            let value = serde_json::to_value(&declaration).expect("serialises");
            let keys: Vec<&str> = value
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["description", "name", "parameters"]);
            assert_eq!(value["parameters"]["type"], "OBJECT");
        }
    }
}
