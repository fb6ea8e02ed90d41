//! The tool loop.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, stream};
use genai_client::{
    Client, Content, CostTotal, FunctionCall, FunctionDeclaration, GenerateContentRequest,
    GenerateContentResponse, GenerationConfig, Part, Role, StreamAccumulator, ToolCall, ToolType,
    Usage,
};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::budget::{self, MAX_FUNCTION_RESPONSE_BYTES, MAX_REQUEST_BYTES};
use super::result::{ForkError, ForkResult, ForkStatus, SearchRun, TurnRecord};
use super::tools::{self, BuiltinRoute, ToolPlan};
use super::{ForkRequest, MAX_CALLS_PER_TURN};
use crate::approval::{ApprovalQuestion, Approvals, ToolClass};
use crate::events::{Event, EventSink};
use crate::external::{ExternalOutcome, ExternalTools};
use crate::ids::ForkId;
use crate::prompts;
use crate::workspace::Workspace;

/// Runs forks: holds the client, the workspace the tools act on (if any)
/// and where events go. Cheap to clone.
///
/// ```no_run
/// # async fn demo() {
/// use agent_core::{BuiltinAgent, EventSink, ForkRequest, Forker};
/// use tokio_util::sync::CancellationToken;
/// let client = genai_client::Client::from_env().unwrap();
/// let forker = Forker::new(client).with_events(EventSink::none());
/// let request = ForkRequest::new("Name three sorting algorithms.", BuiltinAgent::General.profile());
/// let result = forker.run(request, &CancellationToken::new()).await;
/// println!("{}: {}", result.status.as_str(), result.text);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Forker {
    client: Client,
    workspace: Option<Arc<Workspace>>,
    events: EventSink,
    budget: Option<Arc<crate::spending::Budget>>,
    approvals: Option<Arc<Approvals>>,
    external: Option<Arc<dyn ExternalTools>>,
}

impl std::fmt::Debug for dyn ExternalTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExternalTools")
    }
}

impl Forker {
    /// A forker without workspace tools and without events.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            workspace: None,
            events: EventSink::none(),
            budget: None,
            approvals: None,
            external: None,
        }
    }

    /// The same forker putting every tool call through `approvals` before
    /// it runs (share one gate between the forks of a run). Without one,
    /// every call runs (`ApprovalPolicy::allow_all`).
    pub fn with_approvals(mut self, approvals: Arc<Approvals>) -> Self {
        self.approvals = Some(approvals);
        self
    }

    /// The same forker offering `tools` (MCP servers' tools) to agents whose
    /// profile lists their servers.
    pub fn with_external_tools(mut self, tools: Arc<dyn ExternalTools>) -> Self {
        self.external = Some(tools);
        self
    }

    /// The same forker charging every model call to `budget` (share one
    /// budget between all forks of a run).
    pub fn with_budget(mut self, budget: Arc<crate::spending::Budget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The budget calls are charged to, when there is one.
    pub fn budget(&self) -> Option<&Arc<crate::spending::Budget>> {
        self.budget.as_ref()
    }

    /// Whether the forker has a workspace (file tools can run).
    pub(crate) fn has_workspace(&self) -> bool {
        self.workspace.is_some()
    }

    /// The same forker with workspace tools over `workspace`.
    pub fn with_workspace(mut self, workspace: Arc<Workspace>) -> Self {
        self.workspace = Some(workspace);
        self
    }

    /// The same forker sending events to `events`.
    pub fn with_events(mut self, events: EventSink) -> Self {
        self.events = events;
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The event sink.
    pub fn events(&self) -> &EventSink {
        &self.events
    }

    /// Runs one fork to its end. Never fails: errors and cancellation are
    /// reported in the result's status, with what was done before.
    pub async fn run(&self, request: ForkRequest, cancel: &CancellationToken) -> ForkResult {
        let fork_id = request.fork_id.clone().unwrap_or_else(ForkId::generate);
        let started = Instant::now();
        let tools_on = (request.profile.file_tools && self.workspace.is_some())
            || self.external_declared(&request.profile);
        self.events.emit(Event::ForkStarted {
            fork_id: fork_id.clone(),
            agent_type: request.profile.name.clone(),
            model: request.profile.model.clone(),
            task: request.task.clone(),
            tools: tools_on,
        });
        let client = self
            .client
            .with_retry_observer(self.events.retry_observer(fork_id.clone()));
        let plan = self.tool_plan(&request, tools_on);
        let mut run = LoopState::new(&request, fork_id, self.events.clone());
        run.route = plan.route;
        let status = self
            .tool_loop(&client, &request, plan, &mut run, cancel)
            .await;
        run.finish(status, started.elapsed())
    }

    async fn tool_loop(
        &self,
        client: &Client,
        request: &ForkRequest,
        plan: ToolPlan,
        run: &mut LoopState,
        cancel: &CancellationToken,
    ) -> ForkStatus {
        let context = CallContext {
            client,
            model: &request.profile.model,
            stand_ins: plan.stand_ins.clone(),
            agent_type: &request.profile.name,
            servers: &request.profile.mcp_servers,
            file_tools: request.profile.file_tools,
        };
        let template = self.request_template(request, plan);
        for turn in 1..=request.max_turns.max(1) {
            let mut body = template.clone();
            body.contents.clone_from(&run.contents);
            let model = &request.profile.model;
            if let Err(refused) = crate::spending::check_input_limit(model, &body) {
                run.error = Some(ForkError {
                    kind: crate::spending::INPUT_TOO_LARGE,
                    message: refused.to_string(),
                    http_status: None,
                    auth: false,
                });
                return ForkStatus::Error;
            }
            let reservation = match &self.budget {
                Some(budget) => match budget.reserve(model, &body) {
                    Ok(reservation) => Some(reservation),
                    Err(refused) => {
                        run.error = Some(ForkError {
                            kind: crate::spending::BUDGET_EXHAUSTED,
                            message: refused.to_string(),
                            http_status: None,
                            auth: false,
                        });
                        return ForkStatus::Cancelled;
                    }
                },
                None => None,
            };
            let call = self.call_model(
                client,
                &request.profile.model,
                &body,
                request.stream,
                &run.fork_id,
            );
            let response = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    self.release(reservation);
                    return ForkStatus::Cancelled;
                }
                response = call => response,
            };
            let response = match response {
                Ok(response) => response,
                Err(error) => {
                    self.release(reservation);
                    run.error = Some(fork_error(&error));
                    return ForkStatus::Error;
                }
            };
            let calls = run.record_turn(&response);
            if let (Some(budget), Some(reservation), Some(turn)) =
                (&self.budget, reservation, run.turns.last())
            {
                budget.settle(reservation, &turn.usage, turn.cost.as_ref());
            }
            if calls.is_empty() {
                return ForkStatus::Success;
            }
            if turn == request.max_turns.max(1) {
                return ForkStatus::Partial;
            }
            let results = tokio::select! {
                biased;
                () = cancel.cancelled() => return ForkStatus::Cancelled,
                results = self.run_calls(
                    &context,
                    &run.fork_id,
                    calls,
                    request.tool_concurrency,
                ) => results,
            };
            if let Some(refused) = run.record_tool_results(results) {
                // A stand-in's separate call the budget refused stops the
                // fork as a refused turn does.
                run.error = Some(ForkError {
                    kind: crate::spending::BUDGET_EXHAUSTED,
                    message: refused.to_string(),
                    http_status: None,
                    auth: false,
                });
                return ForkStatus::Cancelled;
            }
        }
        ForkStatus::Partial
    }

    /// The tools of the fork's requests: the workspace's functions and the
    /// built-in tools asked for, combined as the model's generation allows.
    pub(crate) fn tool_plan(&self, request: &ForkRequest, tools_on: bool) -> ToolPlan {
        let profile = &request.profile;
        let mut functions: Vec<FunctionDeclaration> = match (tools_on, &self.workspace) {
            (true, Some(workspace)) if profile.file_tools => workspace
                .declarations()
                .into_iter()
                .filter_map(|declaration| serde_json::from_value(declaration).ok())
                .collect(),
            _ => Vec::new(),
        };
        if let Some(external) = &self.external {
            if !profile.mcp_servers.is_empty() {
                functions.extend(external.declarations(Some(&profile.mcp_servers)));
            }
        }
        tools::plan(
            &profile.model,
            functions,
            profile.search,
            profile.code_execution,
        )
    }

    /// Whether any external tool is offered to `profile`.
    pub(crate) fn external_declared(&self, profile: &crate::agent::AgentProfile) -> bool {
        !profile.mcp_servers.is_empty()
            && self.external.as_ref().is_some_and(|external| {
                !external.declarations(Some(&profile.mcp_servers)).is_empty()
            })
    }

    pub(crate) fn request_template(
        &self,
        request: &ForkRequest,
        plan: ToolPlan,
    ) -> GenerateContentRequest {
        let profile = &request.profile;
        let instruction = match &request.context {
            Some(context) => prompts::with_context(&profile.instruction, context),
            None => profile.instruction.clone(),
        };
        let ToolPlan {
            tools, tool_config, ..
        } = plan;
        let thinking = crate::agent::thinking_config(
            &profile.model,
            profile.thinking,
            request.include_thoughts,
        );
        GenerateContentRequest {
            system_instruction: Some(Content::instruction(instruction)),
            tools,
            tool_config,
            generation_config: thinking.map(|thinking| GenerationConfig {
                thinking_config: Some(thinking),
                ..GenerationConfig::default()
            }),
            ..GenerateContentRequest::default()
        }
    }

    fn release(&self, reservation: Option<crate::spending::Reservation>) {
        if let (Some(budget), Some(reservation)) = (&self.budget, reservation) {
            budget.release(reservation);
        }
    }

    async fn call_model(
        &self,
        client: &Client,
        model: &str,
        body: &GenerateContentRequest,
        stream: bool,
        fork_id: &ForkId,
    ) -> Result<GenerateContentResponse, genai_client::Error> {
        if !stream {
            return client.generate_content(model, body).await;
        }
        let mut chunks = client.stream_generate_content(model, body).await?;
        let mut accumulator = StreamAccumulator::default();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            let text = chunk.text();
            if !text.is_empty() {
                self.events.emit(Event::TextDelta {
                    fork_id: fork_id.clone(),
                    text,
                });
            }
            accumulator.push(&chunk);
        }
        Ok(accumulator.finish())
    }

    /// Runs the calls of one turn, at most `concurrency` at once, and returns
    /// their results in call order.
    async fn run_calls(
        &self,
        context: &CallContext<'_>,
        fork_id: &ForkId,
        calls: Vec<FunctionCall>,
        concurrency: usize,
    ) -> Vec<(FunctionCall, ToolRun)> {
        stream::iter(calls.into_iter().enumerate())
            .map(|(index, call)| async move {
                let run = if index >= MAX_CALLS_PER_TURN {
                    ToolRun::refused(format!(
                        "too many function calls in one turn; only the first {MAX_CALLS_PER_TURN} were run"
                    ))
                } else {
                    self.run_call(context, fork_id, &call).await
                };
                (call, run)
            })
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    async fn run_call(
        &self,
        context: &CallContext<'_>,
        fork_id: &ForkId,
        call: &FunctionCall,
    ) -> ToolRun {
        let args = call.args_or_empty();
        // The key (or any secret the client knows) never leaves a tool:
        // not into events, not back to the model.
        let redactor = self.client.redactor();
        let mut shown_args = args.clone();
        redactor.redact_value(&mut shown_args);
        self.events.emit(Event::ToolCall {
            fork_id: fork_id.clone(),
            name: call.name.clone(),
            args: shown_args.clone(),
        });
        let is_stand_in = context.stand_ins.contains(&call.name.as_str());
        let external = self
            .external
            .as_ref()
            .filter(|external| !is_stand_in && external.owns(&call.name, Some(context.servers)));
        let class = match (is_stand_in, external.is_some()) {
            (true, _) => ToolClass::Read,
            (false, true) => ToolClass::Mcp,
            (false, false) => crate::workspace::ToolName::parse(&call.name)
                .map_or(ToolClass::Read, ToolClass::of_workspace),
        };
        // A shell tool of a workspace without shell access is refused by
        // the workspace itself: nothing to ask about.
        let cannot_run = class == ToolClass::Shell
            && self.workspace.as_ref().is_none_or(|workspace| {
                workspace.shell_access() == crate::workspace::ShellAccess::Disabled
            });
        // The one place every call is decided, before anything runs.
        if let Some(approvals) = self.approvals.as_ref().filter(|_| !cannot_run) {
            let question = ApprovalQuestion {
                fork_id: fork_id.clone(),
                agent_type: context.agent_type.to_owned(),
                tool: call.name.clone(),
                class,
                args: shown_args.clone(),
            };
            let asked = approvals.rule_of_call(&call.name, class, &args) != crate::Rule::Allow;
            let decision = approvals.decide(question, &args).await;
            if asked {
                self.events.emit(Event::ToolApproval {
                    fork_id: fork_id.clone(),
                    name: call.name.clone(),
                    decision,
                });
            }
            if !decision.approved {
                let run = ToolRun::refused(decision.denial_message(&call.name));
                return self.finish_call(fork_id, call, run);
            }
        }
        if let Some(external) = external {
            let ExternalOutcome { outcome, failure } = external.call(&call.name, &args).await;
            if let Some(failure) = failure {
                self.events.emit(Event::ToolServerFailed {
                    fork_id: fork_id.clone(),
                    name: call.name.clone(),
                    server: failure.server,
                    kind: failure.kind,
                    message: redactor.redact(&failure.message).into_owned(),
                });
            }
            let run = ToolRun {
                ok: outcome.ok,
                value: outcome.value,
                created: Vec::new(),
                usage: Usage::default(),
                cost: None,
                search: None,
                budget_refused: None,
            };
            return self.finish_call(fork_id, call, run);
        }
        // Only a stand-in this fork declared may start a separate call: a
        // model naming `web_search` uninvited gets the unknown-tool answer.
        let stand_in = if is_stand_in {
            tools::run_stand_in(
                context.client,
                context.model,
                &call.name,
                &args,
                self.budget.as_deref(),
            )
            .await
        } else {
            None
        };
        let workspace = self.workspace.as_ref().filter(|_| context.file_tools);
        let run = match (stand_in, workspace) {
            (Some(outcome), _) => ToolRun {
                ok: outcome.ok,
                value: outcome.value,
                created: Vec::new(),
                usage: outcome.usage,
                cost: outcome.cost,
                search: outcome.search,
                budget_refused: outcome.budget_refused,
            },
            (None, Some(workspace)) => {
                let outcome = workspace.call(&call.name, &args).await;
                ToolRun {
                    ok: outcome.ok,
                    value: outcome.value,
                    created: outcome.created,
                    usage: Usage::default(),
                    cost: None,
                    search: None,
                    budget_refused: None,
                }
            }
            (None, None) => {
                ToolRun::refused("no workspace tools are available in this fork".to_owned())
            }
        };
        self.finish_call(fork_id, call, run)
    }

    /// Redacts a call's result and reports it.
    fn finish_call(&self, fork_id: &ForkId, call: &FunctionCall, mut run: ToolRun) -> ToolRun {
        self.client.redactor().redact_value(&mut run.value);
        let error = (!run.ok).then(|| {
            run.value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("failed")
                .to_owned()
        });
        self.events.emit(Event::ToolResult {
            fork_id: fork_id.clone(),
            name: call.name.clone(),
            ok: run.ok,
            error,
        });
        run
    }
}

/// What a tool call needs besides its arguments.
struct CallContext<'a> {
    /// The client (with the fork's retry observer), for stand-in calls.
    client: &'a Client,
    /// The fork's model, which stand-in calls use too.
    model: &'a str,
    /// The stand-in functions this fork declared.
    stand_ins: Vec<&'static str>,
    /// The fork's agent type, for approval questions.
    agent_type: &'a str,
    /// The MCP servers the fork may use.
    servers: &'a [String],
    /// Whether the workspace tools were declared to this fork.
    file_tools: bool,
}

/// The outcome of one tool call, as the loop needs it.
struct ToolRun {
    ok: bool,
    value: Value,
    created: Vec<String>,
    /// Tokens a stand-in call spent.
    usage: Usage,
    /// What a stand-in call cost.
    cost: Option<Result<genai_client::Cost, genai_client::Unpriced>>,
    /// A stand-in search's queries and sources.
    search: Option<(Vec<String>, Vec<genai_client::GroundingSource>)>,
    /// The budget refused a stand-in's separate call.
    budget_refused: Option<crate::spending::BudgetExhausted>,
}

impl ToolRun {
    fn refused(message: String) -> Self {
        Self {
            ok: false,
            value: json!({ "success": false, "error": message }),
            created: Vec::new(),
            usage: Usage::default(),
            cost: None,
            search: None,
            budget_refused: None,
        }
    }
}

/// Everything the loop accumulates.
pub(crate) struct LoopState {
    fork_id: ForkId,
    /// Priced as a Batch API call.
    pub(crate) batch: bool,
    events: EventSink,
    task: String,
    agent_type: String,
    model: String,
    contents: Vec<Content>,
    texts: Vec<String>,
    thoughts: Vec<String>,
    model_version: Option<String>,
    usage: Usage,
    cost: CostTotal,
    turns: Vec<TurnRecord>,
    tools_executed: Vec<String>,
    files_created: Vec<String>,
    search_queries: Vec<String>,
    sources: Vec<genai_client::GroundingSource>,
    route: Option<BuiltinRoute>,
    searches: Vec<SearchRun>,
    pub(crate) error: Option<ForkError>,
    started_at: String,
}

impl LoopState {
    pub(crate) fn new(request: &ForkRequest, fork_id: ForkId, events: EventSink) -> Self {
        Self {
            fork_id,
            batch: false,
            events,
            task: request.task.clone(),
            agent_type: request.profile.name.clone(),
            model: request.profile.model.clone(),
            contents: vec![Content::user(request.task.clone())],
            texts: Vec::new(),
            thoughts: Vec::new(),
            model_version: None,
            usage: Usage::default(),
            cost: CostTotal::default(),
            turns: Vec::new(),
            tools_executed: Vec::new(),
            files_created: Vec::new(),
            search_queries: Vec::new(),
            sources: Vec::new(),
            route: None,
            searches: Vec::new(),
            error: None,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// Keeps what one reply brought; returns its function calls.
    pub(crate) fn record_turn(&mut self, response: &GenerateContentResponse) -> Vec<FunctionCall> {
        let usage = response.usage().unwrap_or_default();
        self.usage += usage;
        let price = if self.batch {
            genai_client::cost_of_batch_call
        } else {
            genai_client::cost_of_call
        };
        let cost = price(
            &usage,
            response.model_version.as_deref(),
            &self.model,
            chrono::Utc::now().date_naive(),
        );
        self.cost.add_call(&cost);
        let calls: Vec<FunctionCall> = response.function_calls().into_iter().cloned().collect();
        self.turns.push(TurnRecord {
            usage,
            cost: cost.ok(),
            function_calls: calls.iter().map(|call| call.name.clone()).collect(),
            finish_reason: response.finish_reason().map(ToString::to_string),
        });
        if response.model_version.is_some() {
            self.model_version.clone_from(&response.model_version);
        }
        push_non_empty(&mut self.texts, response.text());
        push_non_empty(&mut self.thoughts, response.thought_text());
        // Searches Gemini ran while answering: server-side web-search tool
        // calls (beside function tools) and grounding metadata.
        let mut queries: Vec<String> = Vec::new();
        let searched = response
            .tool_calls()
            .into_iter()
            .filter(|call| call.tool_type == Some(ToolType::GoogleSearchWeb));
        for query in searched
            .flat_map(ToolCall::queries)
            .chain(response.grounding_queries())
        {
            if !queries.iter().any(|known| known == query) {
                queries.push(query.to_owned());
            }
        }
        let sources = response.grounding_sources();
        self.record_search(queries, sources, self.route.unwrap_or(BuiltinRoute::Alone));
        // The model turn goes back exactly as received, signatures included.
        if let Some(content) = response.content() {
            let mut turn = content.clone();
            turn.role = Some(Role::Model);
            turn.parts.retain(|part| !part.is_empty());
            if !turn.parts.is_empty() {
                self.contents.push(turn);
            }
        }
        calls
    }

    /// Keeps one search (when it ran any query or found any source) and
    /// adds its queries and sources to the fork's lists.
    fn record_search(
        &mut self,
        queries: Vec<String>,
        sources: Vec<genai_client::GroundingSource>,
        route: BuiltinRoute,
    ) {
        if queries.is_empty() && sources.is_empty() {
            return;
        }
        for query in &queries {
            if !self.search_queries.contains(query) {
                self.search_queries.push(query.clone());
            }
        }
        for source in &sources {
            if !self.sources.contains(source) {
                self.sources.push(source.clone());
            }
        }
        self.searches.push(SearchRun {
            turn: u32::try_from(self.turns.len()).unwrap_or(u32::MAX),
            route,
            queries,
            sources,
        });
    }

    /// Adds a turn's tool results, each cut to fit its share of what is
    /// left of the request budget (unused shares pass to later results),
    /// and the usage and cost of stand-ins' separate calls. Returns the
    /// budget's refusal when it refused a stand-in's call.
    fn record_tool_results(
        &mut self,
        results: Vec<(FunctionCall, ToolRun)>,
    ) -> Option<crate::spending::BudgetExhausted> {
        let mut refused = None;
        let mut parts = Vec::with_capacity(results.len());
        let mut left = MAX_REQUEST_BYTES.saturating_sub(budget::json_len(&self.contents));
        let count = results.len();
        for (index, (call, run)) in results.into_iter().enumerate() {
            let share = (left / (count - index)).min(MAX_FUNCTION_RESPONSE_BYTES);
            let value = budget::fit(run.value, share);
            left = left.saturating_sub(budget::json_len(&value));
            self.usage += run.usage;
            if let Some(cost) = &run.cost {
                self.cost.add_call(cost);
            }
            refused = refused.or(run.budget_refused);
            if let Some((queries, sources)) = run.search {
                self.record_search(queries, sources, BuiltinRoute::SeparateCall);
            }
            self.tools_executed.push(call.name.clone());
            for path in run.created {
                if !self.files_created.contains(&path) {
                    self.files_created.push(path);
                }
            }
            parts.push(Part::function_response(&call, value));
        }
        self.contents.push(Content {
            role: Some(Role::User),
            parts,
        });
        refused
    }

    pub(crate) fn finish(self, status: ForkStatus, elapsed: Duration) -> ForkResult {
        let result = ForkResult {
            fork_id: self.fork_id,
            agent_type: self.agent_type,
            task: self.task,
            status,
            text: self.texts.join("\n\n"),
            thoughts: self.thoughts.join("\n\n"),
            model: self.model,
            model_version: self.model_version,
            usage: self.usage,
            cost: self.cost,
            turns: self.turns,
            tools_executed: self.tools_executed,
            files_created: self.files_created,
            search_queries: self.search_queries,
            sources: self.sources,
            builtin_route: self.route,
            searches: self.searches,
            error: self.error,
            started_at: self.started_at,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        self.events.emit(Event::ForkFinished {
            fork_id: result.fork_id.clone(),
            status,
            usage: result.usage,
            elapsed,
            error: result.error.as_ref().map(|error| error.message.clone()),
        });
        result
    }
}

fn push_non_empty(list: &mut Vec<String>, text: String) {
    if !text.trim().is_empty() {
        list.push(text);
    }
}

/// The kept facts of a client error.
pub(crate) fn fork_error(error: &genai_client::Error) -> ForkError {
    ForkError {
        kind: error.kind().into(),
        message: error
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        http_status: error.api().map(|api| api.code),
        auth: error.is_auth(),
    }
}
