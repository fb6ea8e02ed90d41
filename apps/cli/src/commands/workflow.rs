//! The other workflows: `research-then-code`, `map-reduce` and `refine`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agent_core::ForkResult;
use anyhow::Result;
use genai_client::CostTotal;
use planner::{
    Iteration, MapReduce, MapReduceRequest, Orchestrator, RefineRequest, Refinement,
    ResearchThenCode, WorkflowError, WorkflowEvent, WorkflowStatus,
};
use render::{Panel, Status, key_value, status_line};
use serde::{Deserialize, Serialize};

use crate::commands::common::{self, AgentFlags};
use crate::context::{Context, Run, Spending, Wiring};
use crate::exit::{Exit, Failure};
use crate::finish::{Outcome, finish};
use crate::json::{CostJson, MapReduceJson, RefineJson, ResearchThenCodeJson};
use crate::live::Scope;
use crate::output::Output;
use crate::run_record::CommandArgs;
use crate::session::Traffic;
use crate::settings::Layer;

/// Arguments of `research-then-code`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct ResearchThenCodeArgs {
    /// What to research (with Google Search).
    #[arg(long, value_name = "QUERY")]
    pub(crate) research: String,
    /// The coding task, done with the findings as context.
    #[arg(long, value_name = "TASK")]
    pub(crate) task: String,
    /// Further context for both agents.
    #[arg(long, value_name = "TEXT")]
    pub(crate) context: Option<String>,
}

/// Arguments of `map-reduce`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct MapReduceArgs {
    /// The items to map over.
    #[arg(long, num_args = 1.., value_name = "ITEM")]
    pub(crate) items: Vec<String>,
    /// Read items from a file, one per line.
    #[arg(long, value_name = "FILE")]
    pub(crate) items_file: Option<PathBuf>,
    /// Use every file matching this glob as an item (its path), e.g. 'src/**/*.py'.
    #[arg(long, value_name = "GLOB")]
    pub(crate) items_glob: Option<String>,
    /// The map task; {item} is replaced by each item.
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) map_template: String,
    /// The reduce task, given every successful map result.
    #[arg(long = "reduce", value_name = "TASK")]
    pub(crate) reduce: String,
    /// Agent type of the map agents.
    #[arg(
        long = "type",
        short = 't',
        value_name = "TYPE",
        default_value = "analysis"
    )]
    pub(crate) agent_type: String,
    /// Most map agents at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) concurrency: Option<u32>,
    /// Map as one Gemini Batch API job (half price, within a day), then
    /// reduce live; each map task is one model call (agents that need a tool
    /// loop are refused). Without --wait it returns once the job is
    /// submitted; continue with `agent-fork resume RUN`.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) batch: bool,
    /// With --batch: wait for the map job, then reduce.
    #[arg(long, requires = "batch")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) wait: bool,
}

/// Arguments of `refine`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub(crate) struct RefineArgs {
    /// The task.
    #[arg(long, value_name = "TASK")]
    pub(crate) task: String,
    /// What the output must satisfy.
    #[arg(long, value_name = "TEXT")]
    pub(crate) criteria: String,
    /// Most attempts.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub(crate) max_iterations: u32,
    /// Agent type doing the work.
    #[arg(
        long = "type",
        short = 't',
        value_name = "TYPE",
        default_value = "general"
    )]
    pub(crate) agent_type: String,
}

/// What every workflow command sets up.
struct Setup {
    orchestrator: Orchestrator,
    wiring: Wiring,
}

/// Opens the workspace and the session, and an orchestrator on them whose
/// phases show as notes under `title`.
async fn setup(context: &Context<'_>, title: &str) -> Result<Setup> {
    let workspace = context.workspace(true)?;
    common::preflight_workflow(&context.catalog, &context.overrides, context.output)?;
    let scope = Scope::Many {
        title: title.to_owned(),
        total: 0,
    };
    let wiring = context.wire(workspace, scope).await?;
    let phases = wiring.reporter.clone();
    let observer: planner::WorkflowObserver = Arc::new(move |event: &WorkflowEvent| {
        if let WorkflowEvent::PhaseStarted { name } = event {
            phases.note(&format!("▸ {name}"));
        }
    });
    let orchestrator = Orchestrator::new(
        wiring.forker.clone(),
        context.catalog.clone(),
        context.overrides.clone(),
    )
    .with_observer(observer);
    Ok(Setup {
        orchestrator,
        wiring,
    })
}

/// The settings layer of a workflow's flags (`concurrency`: map-reduce's).
pub(crate) fn layer(flags: &AgentFlags, concurrency: Option<u32>) -> Layer {
    flags.layer_with_concurrency(concurrency)
}

/// The panel that opens a workflow's human output (nothing with `--json`).
fn header(output: &Output, title: &str, rows: &[(&str, &str)]) {
    if output.json() {
        return;
    }
    let theme = output.theme();
    let body: Vec<String> = rows
        .iter()
        .map(|(key, value)| key_value(key, value, theme))
        .collect();
    output.heading(&Panel::new(body.join("\n")).title(title).render(theme));
}

fn workflow_error(error: WorkflowError) -> anyhow::Error {
    match error {
        WorkflowError::Invalid(message) => Failure::usage(message).into(),
        WorkflowError::Catalog(error) => Failure::usage(error.to_string()).into(),
        other => Failure::work(other.to_string()).into(),
    }
}

/// Runs `research-then-code`.
pub(crate) async fn research_then_code(
    args: &ResearchThenCodeArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    common::non_empty(&args.research, "--research")?;
    common::non_empty(&args.task, "--task")?;
    let context = Context::resolve(layer(flags, None), traffic, output)?;
    let command = CommandArgs::ResearchThenCode(args.clone());
    let run = context.open_run(&args.task, command, flags)?;
    run.recorder
        .delete_if_never_started(execute_research_then_code(args, &run, BTreeMap::new()).await)
}

/// Runs research-then-code, reusing a research result from an earlier run.
pub(crate) async fn execute_research_then_code(
    args: &ResearchThenCodeArgs,
    run: &Run<'_>,
    earlier: BTreeMap<usize, ForkResult>,
) -> Result<Exit> {
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let theme = output.theme();
    header(
        output,
        &format!("📚→💻 Research Then Code: {}", recorder.id()),
        &[("Research", &args.research), ("Task", &args.task)],
    );
    let setup = setup(context, "📚→💻 Research Then Code").await?;
    // The research fork (unless an earlier session did it), then the code one.
    setup
        .wiring
        .reporter
        .expect(1 + usize::from(!earlier.contains_key(&0)));
    let cancel = run.cancel(&setup.wiring.reporter);
    let result = setup
        .orchestrator
        .research_then_code(
            &args.research,
            &args.task,
            args.context.as_deref(),
            earlier.get(&0).cloned(),
            &cancel,
        )
        .await
        .map_err(workflow_error)?;
    if !earlier.contains_key(&0) {
        recorder.item(0, &result.research);
    }
    if let Some(code) = &result.code {
        recorder.item(1, code);
    }
    let id = recorder.id().as_str();
    let json = |cost: Option<&CostTotal>, elapsed| {
        let mut json = ResearchThenCodeJson::new(id, &result, elapsed);
        if let Some(cost) = cost {
            json.cost = CostJson::from(cost);
        }
        json
    };
    let view =
        |cost: Option<&CostTotal>, elapsed| research_then_code_view(&result, cost, elapsed, theme);
    let status = result.status;
    conclude(run, setup.wiring, "research-then-code", status, json, view).await
}

fn rule_line(title: &str, theme: &render::Theme) -> String {
    render::rule(title, theme)
}

/// The items of `map-reduce`, from the arguments, a file and a glob.
fn gather_items(args: &MapReduceArgs, workspace: &std::path::Path) -> Result<Vec<String>> {
    let mut items: Vec<String> = args
        .items
        .iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    if let Some(path) = &args.items_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Failure::usage(format!(
                "cannot read --items-file {}: {error}",
                path.display()
            ))
        })?;
        items.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned),
        );
    }
    if let Some(pattern) = &args.items_glob {
        items.extend(glob_items(pattern, workspace)?);
    }
    if items.is_empty() {
        return Err(Failure::usage(
            "no items given: use --items A B C, --items-file FILE or --items-glob GLOB",
        )
        .into());
    }
    Ok(items)
}

/// The files under `workspace` that match `--items-glob`, as paths from
/// it, sorted; none is a usage error.
fn glob_items(pattern: &str, workspace: &std::path::Path) -> Result<Vec<String>> {
    let matcher = globset::Glob::new(pattern)
        .map_err(|error| {
            Failure::usage(format!(
                "--items-glob {pattern} is not a valid glob: {error}"
            ))
        })?
        .compile_matcher();
    let mut found: Vec<String> = ignore::WalkBuilder::new(workspace)
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .filter_map(|entry| {
            entry
                .path()
                .strip_prefix(workspace)
                .ok()
                .map(|path| path.to_string_lossy().into_owned())
        })
        .filter(|path| matcher.is_match(path))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(Failure::usage(format!(
            "--items-glob {pattern} matches no file under {}",
            workspace.display()
        ))
        .into());
    }
    Ok(found)
}

/// Runs `map-reduce`.
pub(crate) async fn map_reduce(
    args: &MapReduceArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    if !args.map_template.contains("{item}") {
        return Err(Failure::usage(
            "--map-template has no {item} placeholder; write {item} where each item goes",
        )
        .into());
    }
    common::non_empty(&args.reduce, "--reduce")?;
    let context = Context::resolve(layer(flags, args.concurrency), traffic, output)?;
    let mut args = args.clone();
    args.items = gather_items(&args, &context.settings.workspace.value)?;
    args.items_file = None;
    args.items_glob = None;
    let command = CommandArgs::MapReduce(args.clone());
    let run = context.open_run(&args.reduce, command, flags)?;
    run.recorder
        .delete_if_never_started(execute_map_reduce(&args, &run, BTreeMap::new(), false).await)
}

/// Runs map-reduce, reusing map results of an earlier run.
pub(crate) async fn execute_map_reduce(
    args: &MapReduceArgs,
    run: &Run<'_>,
    earlier: BTreeMap<usize, ForkResult>,
    resuming: bool,
) -> Result<Exit> {
    let (context, recorder) = (run.context, &run.recorder);
    let earlier = if args.batch {
        match crate::commands::batch::map_phase(args, run, earlier, resuming).await? {
            std::ops::ControlFlow::Continue(mapped) => mapped,
            std::ops::ControlFlow::Break(exit) => return Ok(exit),
        }
    } else {
        earlier
    };
    let output = context.output;
    let theme = output.theme();
    header(
        output,
        &format!("🗺 Map-Reduce: {}", recorder.id()),
        &[
            ("Items", &args.items.len().to_string()),
            ("Map", &args.map_template),
            ("Reduce", &args.reduce),
        ],
    );
    let setup = setup(context, "🗺 Map").await?;
    // The forks this session runs: the items not mapped before, the reduce.
    let to_map = args.items.len().saturating_sub(earlier.len());
    setup.wiring.reporter.expect(to_map + 1);
    let settings = &context.settings;
    let request = MapReduceRequest {
        items: args.items.clone(),
        map_template: args.map_template.clone(),
        reduce_task: args.reduce.clone(),
        map_agent_type: args.agent_type.clone(),
        reduce_agent_type: "analysis".to_owned(),
        concurrency: settings.concurrency.value,
        reduce_budget: 400_000,
        already_mapped: earlier,
    };
    let cancel = run.cancel(&setup.wiring.reporter);
    let result = setup
        .orchestrator
        .map_reduce(&request, &cancel, |index, fork| recorder.item(index, fork))
        .await
        .map_err(workflow_error)?;
    let id = recorder.id().as_str();
    let json = |cost: Option<&CostTotal>, elapsed| {
        let mut json = MapReduceJson::new(id, &args.items, &result, elapsed);
        if let Some(cost) = cost {
            json.cost = CostJson::from(cost);
        }
        json
    };
    let view = |cost: Option<&CostTotal>, elapsed| {
        map_reduce_view(&args.items, &result, cost, elapsed, theme)
    };
    conclude(run, setup.wiring, "map-reduce", result.status, json, view).await
}

/// Runs `refine`.
pub(crate) async fn refine(
    args: &RefineArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    common::non_empty(&args.task, "--task")?;
    common::non_empty(&args.criteria, "--criteria")?;
    let context = Context::resolve(layer(flags, None), traffic, output)?;
    let command = CommandArgs::Refine(args.clone());
    let run = context.open_run(&args.task, command, flags)?;
    run.recorder
        .delete_if_never_started(execute_refine(args, &run, Vec::new()).await)
}

/// Runs refine, going on from the reviewed attempts of an earlier run.
pub(crate) async fn execute_refine(
    args: &RefineArgs,
    run: &Run<'_>,
    previous: Vec<Iteration>,
) -> Result<Exit> {
    let (context, recorder) = (run.context, &run.recorder);
    let output = context.output;
    let theme = output.theme();
    header(
        output,
        &format!("🔁 Refine: {}", recorder.id()),
        &[("Task", &args.task), ("Criteria", &args.criteria)],
    );
    let setup = setup(context, "🔁 Refine").await?;
    let request = RefineRequest {
        previous,
        ..RefineRequest::new(
            args.task.clone(),
            args.criteria.clone(),
            args.max_iterations,
            args.agent_type.clone(),
        )
    };
    let cancel = run.cancel(&setup.wiring.reporter);
    // Each attempt is journalled with its verdict as soon as it has one.
    let result = setup
        .orchestrator
        .refine_with(&request, &cancel, |index, iteration| {
            recorder.item_value(index, iteration);
        })
        .await
        .map_err(workflow_error)?;
    if let Some(last) = result.iterations.last() {
        if !last.output.is_success() {
            recorder.item(result.iterations.len() - 1, &last.output);
        }
    }
    let id = recorder.id().as_str();
    let json = |cost: Option<&CostTotal>, elapsed| {
        RefineJson::new(id, &result, &cost.cloned().unwrap_or_default(), elapsed)
    };
    let view = |cost: Option<&CostTotal>, elapsed| refine_view(&result, cost, elapsed, theme);
    conclude(run, setup.wiring, "refine", result.status, json, view).await
}

/// Ends a workflow: closes its session, shows the result with the whole
/// run's cost (every session's calls, from the session's budget): under
/// `--json` the document `json` makes, else the `view` for people; then
/// finishes the run with the workflow's status.
async fn conclude<J: Serialize>(
    run: &Run<'_>,
    wiring: Wiring,
    command: &str,
    status: WorkflowStatus,
    json: impl FnOnce(Option<&CostTotal>, Duration) -> J,
    view: impl FnOnce(Option<&CostTotal>, Duration) -> String,
) -> Result<Exit> {
    let (recorder, output) = (&run.recorder, run.context.output);
    let elapsed = wiring.reporter.elapsed();
    let session = wiring.close().await;
    let cost = session.spending.as_ref().map(Spending::run_cost);
    let json = json(cost.as_ref(), elapsed);
    if output.json() {
        output.json_value(&json)?;
    } else {
        output.line(&view(cost.as_ref(), elapsed));
    }
    let outcome = Outcome::of(status);
    finish(recorder, Some(session), command, outcome, &json, output).await
}

/// Research-then-code for people: each phase's fork, then the status.
fn research_then_code_view(
    result: &ResearchThenCode,
    cost: Option<&genai_client::CostTotal>,
    elapsed: std::time::Duration,
    theme: &render::Theme,
) -> String {
    let mut lines = vec![
        rule_line("Phase 1: research", theme),
        views::fork_result(&result.research, crate::cli::TURN_LIMIT_HINT, theme),
    ];
    if let Some(code) = &result.code {
        lines.push(rule_line("Phase 2: code", theme));
        lines.push(views::fork_result(code, crate::cli::TURN_LIMIT_HINT, theme));
    }
    lines.push(key_value("Workflow Status", result.status.as_str(), theme));
    lines.push(views::usage(&result.usage, cost, elapsed, theme));
    lines.join("\n")
}

/// Map-reduce for people: a line per item, the reduction, status and usage.
fn map_reduce_view(
    items: &[String],
    result: &MapReduce,
    cost: Option<&genai_client::CostTotal>,
    elapsed: std::time::Duration,
    theme: &render::Theme,
) -> String {
    let mut lines: Vec<String> = result
        .mapped
        .iter()
        .map(|(index, fork)| {
            let status = views::fork_status(fork.status);
            status_line(status, &format!("{}. {}", index + 1, items[*index]), theme)
        })
        .collect();
    if let Some(reduced) = &result.reduced {
        lines.push(views::fork_result(
            reduced,
            crate::cli::TURN_LIMIT_HINT,
            theme,
        ));
    }
    lines.push(key_value("Workflow Status", result.status.as_str(), theme));
    lines.push(views::usage(&result.usage, cost, elapsed, theme));
    lines.join("\n")
}

/// Refinement for people: a line per attempt and its verdict, the final
/// output, status and usage.
fn refine_view(
    result: &Refinement,
    cost: Option<&genai_client::CostTotal>,
    elapsed: std::time::Duration,
    theme: &render::Theme,
) -> String {
    let mut lines: Vec<String> = result
        .iterations
        .iter()
        .enumerate()
        .map(|(index, iteration)| attempt_line(index + 1, iteration, theme))
        .collect();
    if let Some(text) = result.final_text() {
        lines.push(Panel::markdown(text).title("Final Output").render(theme));
    }
    lines.push(key_value("Workflow Status", result.status.as_str(), theme));
    lines.push(views::usage(&result.usage, cost, elapsed, theme));
    lines.join("\n")
}

/// One refine attempt (`number`, from 1) as a status line: its verdict, or
/// why it has none.
fn attempt_line(number: usize, iteration: &Iteration, theme: &render::Theme) -> String {
    match &iteration.verdict {
        Some(verdict) if verdict.satisfactory => status_line(
            Status::Ok,
            &format!("attempt {number}: satisfactory: {}", verdict.summary),
            theme,
        ),
        Some(verdict) => status_line(
            Status::Skipped,
            &format!(
                "attempt {number}: {} ({} issues)",
                verdict.summary,
                verdict.issues.len()
            ),
            theme,
        ),
        None => match (&iteration.review_error, &iteration.output.error) {
            (Some(error), _) => status_line(
                Status::Failed,
                &format!(
                    "attempt {number}: done, but the review failed: {}",
                    render::strip_controls_line(error)
                ),
                theme,
            ),
            (None, Some(error)) => status_line(
                views::fork_status(iteration.output.status),
                &format!(
                    "attempt {number}: {}",
                    render::strip_controls_line(&error.message)
                ),
                theme,
            ),
            (None, None) => status_line(
                views::fork_status(iteration.output.status),
                &format!(
                    "attempt {number}: not reviewed ({})",
                    iteration.output.status.as_str()
                ),
                theme,
            ),
        },
    }
}
