//! `agent-fork fork TASK`: one agent, one task, with a context summary and
//! the tool loop. The answer streams as it arrives on a terminal.

use std::path::PathBuf;

use agent_core::{ForkId, ForkRequest, ForkResult, ForkStatus};
use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::commands::common::{self, AgentFlags};
use crate::context::{Context, Run};
use crate::exit::{Exit, Failure};
use crate::finish::{Outcome, finish};
use crate::json::ForkJson;
use crate::live::Scope;
use crate::output::Output;
use crate::run_record::{CommandArgs, RunRecorder};
use crate::session::Traffic;
use crate::settings::Layer;

/// Arguments of `fork`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct ForkArgs {
    /// What the agent should do.
    #[arg(value_name = "TASK")]
    pub(crate) task_text: Option<String>,
    /// The task (the original tool's spelling of TASK).
    #[arg(long = "task", value_name = "TASK", conflicts_with = "task_text")]
    pub(crate) task_flag: Option<String>,
    /// Agent type: code, research, analysis, creative, general, or one from agent-fork.toml.
    #[arg(
        long = "type",
        short = 't',
        value_name = "TYPE",
        default_value = "general"
    )]
    pub(crate) agent_type: String,
    /// A summary of earlier work for the agent to build on.
    #[arg(long, value_name = "TEXT")]
    pub(crate) context: Option<String>,
    /// Read the context summary from a file.
    #[arg(long, value_name = "FILE")]
    pub(crate) context_file: Option<PathBuf>,
    /// Ground the answer in Google Search.
    ///
    /// Alone, or with --no-tools, Google Search is sent as Gemini's built-in
    /// tool on every model. Beside the workspace's file tools it depends on
    /// the model: Gemini 3.x gets both in one request (with server-side tool
    /// invocations included; the searches it runs are shown); Gemini 2.x,
    /// which refuses that mix, gets a `web_search` function instead, whose
    /// handler asks the same model a separate question with only Google
    /// Search and hands back the answer with its sources.
    #[arg(long)]
    pub(crate) search: bool,
    /// Let the model run Python in Google's code-execution sandbox.
    ///
    /// Alone, the built-in tool on every model. Beside the file tools:
    /// Gemini 3.x gets both in one request; Gemini 2.x gets a `run_code`
    /// function whose handler asks the same model, in a separate call with
    /// only code execution, to write and run the code (the sandbox never sees
    /// the workspace files).
    #[arg(long = "code-exec")]
    pub(crate) code_exec: bool,
    /// Most model calls in the tool loop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200))]
    pub(crate) max_turns: Option<u32>,
    /// Run a swarm instead, over --tasks (the original tool's spelling of `swarm`).
    #[arg(long, requires = "tasks")]
    pub(crate) swarm: bool,
    /// The swarm's tasks, with --swarm.
    #[arg(long, num_args = 1.., value_name = "TASK", requires = "swarm")]
    pub(crate) tasks: Vec<String>,
}

/// Runs `fork`: validates the input, opens a run, forks.
pub(crate) async fn run(
    args: &ForkArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let task = args
        .task_text
        .as_deref()
        .or(args.task_flag.as_deref())
        .ok_or_else(|| {
            Failure::usage(
                "no task given: agent-fork fork \"what to do\" (see agent-fork fork --help)",
            )
        })?;
    let task = common::non_empty(task, "the task")?;
    let context = Context::resolve(layer(args, flags), traffic, output)?;
    // The context is journalled as text, so a resume never reads a path
    // from the journal.
    let mut args = args.clone();
    args.context = common::context(args.context.as_deref(), args.context_file.as_deref())?;
    args.context_file = None;
    let command = CommandArgs::Fork(args.clone());
    let run = context.open_run(&task, command, flags)?;
    run.recorder
        .delete_if_never_started(execute(&args, &run, None).await)
}

/// The settings layer of `fork`'s flags.
pub(crate) fn layer(args: &ForkArgs, flags: &AgentFlags) -> Layer {
    let mut layer = flags.layer();
    layer.max_turns = args.max_turns;
    layer
}

/// Forks (or, resuming, shows the result an earlier run already has).
pub(crate) async fn execute(
    args: &ForkArgs,
    run: &Run<'_>,
    earlier: Option<ForkResult>,
) -> Result<Exit> {
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let task = args
        .task_text
        .as_deref()
        .or(args.task_flag.as_deref())
        .unwrap_or_default();
    let task = common::non_empty(task, "the task")?;
    let profile = context.profile(&args.agent_type, args.search, args.code_exec)?;
    if earlier.is_none() {
        let uses = [(profile.model.as_str(), profile.thinking)];
        common::preflight(uses, common::today(), output)?;
    }
    let summary = common::context(args.context.as_deref(), args.context_file.as_deref())?;
    let workspace = context.workspace(profile.file_tools)?;
    let tools = common::tools_label(&context.settings, workspace.as_deref(), &profile);
    let (result, session, answer_kept) = match earlier {
        Some(result) => (result, None, false),
        None => {
            let wiring = context.wire(workspace, Scope::SingleFork { tools }).await?;
            let mut request = ForkRequest::new(task, profile);
            request.fork_id = Some(ForkId::generate());
            request.max_turns = context.settings.max_turns.value;
            request.stream = true;
            if let Some(summary) = summary {
                request = request.with_context(summary);
            }
            let cancel = run.cancel(&wiring.reporter);
            let result = wiring.forker.run(request, &cancel).await;
            let reporter = wiring.reporter.clone();
            let session = wiring.close().await;
            recorder.item(0, &result);
            (result, Some(session), reporter.answer_kept())
        }
    };
    let json = show(&result, recorder, answer_kept, output)?;
    finish(
        recorder,
        session,
        "fork",
        outcome_of(&result),
        &json,
        output,
    )
    .await
}

/// How a fork's run ends: its status (a refused budget ends it
/// `budget_exhausted`) and the exit code if it failed (an API error is 3,
/// an input refused before sending is 2).
fn outcome_of(result: &ForkResult) -> Outcome {
    let kind = result.error.as_ref().map(|error| error.kind);
    let api_error = kind.is_some_and(|kind| {
        kind.client()
            .is_some_and(|kind| kind != genai_client::ErrorKind::Config)
    });
    let status = match kind {
        Some(agent_core::BUDGET_EXHAUSTED) => planner::WorkflowStatus::BudgetExhausted,
        _ => result.status.into(),
    };
    Outcome {
        status,
        failed_exit: match kind {
            // Refused before sending: the input, not Gemini, was wrong.
            Some(agent_core::INPUT_TOO_LARGE) => Exit::Usage,
            _ if result.status == ForkStatus::Error && api_error => Exit::Api,
            _ => Exit::WorkFailed,
        },
    }
}

/// Shows the fork's result, and what the catalog knows of a model Gemini
/// does not serve; returns the result's JSON for the run folder.
///
/// The result goes to stdout (with `-q`, only the answer's text); why the
/// fork failed goes to stderr, in words. `answer_kept`: the streamed answer
/// is still on screen, so the result is drawn without it.
fn show(
    result: &ForkResult,
    recorder: &RunRecorder,
    answer_kept: bool,
    output: &Output,
) -> Result<ForkJson> {
    let json = ForkJson::from(result).with_run(recorder.id().as_str());
    if output.json() {
        output.json_value(&json)?;
    } else if output.quiet() {
        if !result.text.trim().is_empty() {
            output.line(&render::strip_controls(result.text.trim_end()));
        }
    } else {
        let parts = views::ForkParts {
            answer: !answer_kept,
            failure: false,
        };
        output.line(&views::fork_result_parts(
            result,
            crate::cli::TURN_LIMIT_HINT,
            parts,
            output.theme(),
        ));
    }
    let not_found = result
        .error
        .as_ref()
        .filter(|error| error.http_status == Some(404))
        .and_then(|error| common::model_not_found_line(&error.message));
    if let Some(line) = not_found {
        output.error_line(&format!("error: {line}"));
    } else if let Some(error) = &result.error {
        let what = match result.status {
            ForkStatus::Cancelled => "the fork was stopped",
            _ => "the fork failed",
        };
        output.error_line(&format!(
            "error: {what}: {}",
            render::strip_controls_line(&error.message)
        ));
    }
    Ok(json)
}
