//! `agent-fork examples [NAME|all]`: the seven seed examples.
//!
//! Each runs its row of the one scenario table (the `agent-fork-examples`
//! package, which `cargo run --example NAME` reads too) through the
//! command's own code paths (fork, swarm, plan, summarize, workflows), in a
//! temporary workspace. With `GEMINI_API_KEY` set they call Gemini; without
//! it they replay the bundled recorded sessions (compiled into the binary)
//! and say so in one line.

use std::path::{Path, PathBuf};

use agent_core::SummaryStyle;
use agent_fork_examples::{SCENARIOS, Scenario, Work};
use anyhow::Result;
use render::{Panel, Status, rule, status_line};

use crate::commands::common::AgentFlags;
use crate::commands::fork::ForkArgs;
use crate::commands::plan::PlanArgs;
use crate::commands::summarize::SummarizeArgs;
use crate::commands::swarm::SwarmArgs;
use crate::commands::workflow::ResearchThenCodeArgs;
use crate::exit::{Exit, Failure, classify};
use crate::output::Output;
use crate::session::Traffic;

/// Arguments of `examples`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExamplesArgs {
    /// The example to run, or `all`; without one, the examples are listed.
    #[arg(value_name = "NAME")]
    pub(crate) name: Option<String>,
}

/// Runs `examples`.
pub(crate) async fn run(
    args: &ExamplesArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    if output.json() && args.name.as_deref().is_none_or(|name| name == "all") {
        // stdout under --json is one document (docs/json.md): one example's.
        return Err(Failure::usage(
            "the list of examples and `examples all` have no JSON output; name one example (`agent-fork --json examples basic_fork`)",
        )
        .into());
    }
    let Some(name) = args.name.as_deref() else {
        output.line(&list());
        return Ok(Exit::Success);
    };
    if name == "all" {
        return run_all(flags, traffic, output).await;
    }
    let example = SCENARIOS
        .iter()
        .find(|example| example.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = SCENARIOS.iter().map(|example| example.name).collect();
            Failure::usage(format!(
                "unknown example `{name}`; choose one of {} or all",
                names.join(", ")
            ))
        })?;
    run_one(example, flags, traffic, output).await
}

/// The examples, one line each, and how to run one.
fn list() -> String {
    let lines: Vec<String> = SCENARIOS
        .iter()
        .map(|example| format!("  • {:<19} {}", example.name, example.about))
        .collect();
    format!(
        "Available examples:\n{}\n  • all                 run every example in turn\n\nUsage: agent-fork examples <NAME|all>",
        lines.join("\n")
    )
}

/// `examples all`: every example in turn, each framed by a rule and its
/// verdict, then how many succeeded; exit 1 when one did not.
async fn run_all(flags: &AgentFlags, traffic: &Traffic, output: &Output) -> Result<Exit> {
    let theme = output.theme();
    let mut failed = Vec::new();
    for example in &SCENARIOS {
        frame(output, &rule(&format!("Running: {}", example.name), theme));
        let exit = match run_one(example, flags, traffic, output).await {
            Ok(exit) => exit,
            Err(error) => {
                let (exit, message) = classify(&error);
                output.error_line(&format!("error: {message}"));
                exit
            }
        };
        if exit == Exit::Success {
            frame(output, &status_line(Status::Ok, example.name, theme));
        } else {
            frame(
                output,
                &status_line(
                    Status::Failed,
                    &format!("{} (exit {})", example.name, exit.code()),
                    theme,
                ),
            );
            failed.push(example.name);
        }
    }
    let passed = SCENARIOS.len() - failed.len();
    frame(
        output,
        &rule(
            &format!("{passed}/{} examples succeeded", SCENARIOS.len()),
            theme,
        ),
    );
    Ok(if failed.is_empty() {
        Exit::Success
    } else {
        Exit::WorkFailed
    })
}

/// A line that frames the examples' results (a rule, a verdict): on stdout
/// for people, on stderr under `--json`/`--jsonl` (stdout holds only JSON:
/// one document per example).
fn frame(output: &Output, text: &str) {
    if output.json() {
        output.error_line(text);
    } else if !output.quiet() {
        output.line(text);
    }
}

async fn run_one(
    example: &Scenario,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let theme = output.theme();
    if !output.json() && !output.quiet() {
        output.line(&Panel::new(format!("Example: {}", example.title)).render(theme));
    }
    let traffic = match traffic {
        Traffic::Live if genai_client::ApiKey::from_env().is_none() => {
            output.notice(&format!(
                "No GEMINI_API_KEY set: replaying the bundled session fixtures/sessions/{}.json (authored, not a live recording).",
                example.name
            ));
            Traffic::Bundled {
                name: example.name,
                cassette: example.session,
            }
        }
        other => other.clone(),
    };
    let folder = tempfile::tempdir()?;
    let mut flags = flags.clone();
    flags.workspace = Some(folder.path().to_path_buf());
    // A replay is a demonstration, not the project's work: its run is kept
    // out of the project's runs (and goes with the temporary folder).
    let replayed = matches!(traffic, Traffic::Bundled { .. } | Traffic::Replay(_));
    let runs = replayed.then(tempfile::tempdir).transpose()?;
    flags.runs_dir = runs.as_ref().map(|runs| runs.path().to_path_buf());
    scenario(example.work, &flags, &traffic, output, folder.path()).await
}

/// Runs `work` through the command that does the same for a user.
async fn scenario(
    work: Work,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
    folder: &Path,
) -> Result<Exit> {
    match work {
        Work::Fork {
            agent,
            task,
            thinking,
            tools: _,
        } => {
            // The example's thinking setting, unless it has none.
            let mut flags = flags.clone();
            flags.thinking = thinking.or(flags.thinking);
            let args = fork(agent.name(), task);
            crate::commands::fork::run(&args, &flags, traffic, output).await
        }
        Work::Swarm {
            agent,
            tasks,
            concurrency,
            consolidation_cap,
        } => {
            let args = swarm_args(agent.name(), tasks, concurrency, consolidation_cap);
            crate::commands::swarm::run(&args, flags, traffic, output).await
        }
        Work::Summarize {
            conversation,
            style,
            max_tokens,
            next_request,
        } => {
            let input = folder.join("todo_api.json");
            std::fs::write(&input, conversation)?;
            let args = summarize_args(input, style, max_tokens, next_request);
            crate::commands::summarize::run(&args, flags, traffic, output).await
        }
        Work::Plan {
            goal,
            context,
            max_steps,
        } => {
            let args = plan_args(goal, context, max_steps);
            crate::commands::plan::run(&args, flags, traffic, output).await
        }
        Work::ResearchThenCode { research, task } => {
            let args = ResearchThenCodeArgs {
                research: research.to_owned(),
                task: task.to_owned(),
                context: None,
            };
            crate::commands::workflow::research_then_code(&args, flags, traffic, output).await
        }
    }
}

/// The arguments of a swarm example.
fn swarm_args(
    agent_type: &str,
    tasks: &[&str],
    concurrency: u32,
    consolidation_cap: usize,
) -> SwarmArgs {
    SwarmArgs {
        tasks: tasks.iter().map(|task| (*task).to_owned()).collect(),
        agent_type: agent_type.to_owned(),
        concurrency: Some(concurrency),
        consolidation_cap,
        ..SwarmArgs::default()
    }
}

/// The arguments of a summarize example: the conversation in `input`.
fn summarize_args(
    input: PathBuf,
    style: SummaryStyle,
    max_tokens: u32,
    next_request: &str,
) -> SummarizeArgs {
    SummarizeArgs {
        input: Some(input),
        history: Vec::new(),
        style,
        max_tokens,
        next_request: Some(next_request.to_owned()),
        handoff_to: None,
        count_tokens: false,
    }
}

/// The arguments of a plan example.
fn plan_args(goal: &str, context: &str, max_steps: u32) -> PlanArgs {
    PlanArgs {
        goal: Some(goal.to_owned()),
        context: Some(context.to_owned()),
        max_steps,
        dependency_cap: planner::DEFAULT_CONTEXT_CAP,
        ..PlanArgs::default()
    }
}

/// The arguments of a fork example.
fn fork(agent_type: &str, task: &str) -> ForkArgs {
    ForkArgs {
        task_text: Some(task.to_owned()),
        task_flag: None,
        agent_type: agent_type.to_owned(),
        context: None,
        context_file: None,
        search: false,
        code_exec: false,
        max_turns: None,
        swarm: false,
        tasks: Vec::new(),
    }
}
