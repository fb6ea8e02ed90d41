//! `agent-fork examples [NAME|all]`: the seven seed examples.
//!
//! Each runs the same scenario as `cargo run --example NAME` through this
//! command's own code paths (fork, swarm, plan, summarize, workflows), in a
//! temporary workspace. With `GEMINI_API_KEY` set they call Gemini; without
//! it they replay the bundled recorded sessions (compiled into the binary)
//! and say so in one line.

use std::path::Path;

use anyhow::Result;
use genai_client::ThinkingLevel;
use genai_client::catalog::ThinkingSetting;
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

/// One example.
struct Example {
    name: &'static str,
    title: &'static str,
    about: &'static str,
    session: &'static str,
}

const EXAMPLES: [Example; 7] = [
    Example {
        name: "basic_fork",
        title: "Basic Agent Fork",
        about: "a general agent answers a question, streaming",
        session: include_str!("../../../../fixtures/sessions/basic_fork.json"),
    },
    Example {
        name: "code_agent",
        title: "Code Agent",
        about: "a code agent writes a retry decorator with the file tools",
        session: include_str!("../../../../fixtures/sessions/code_agent.json"),
    },
    Example {
        name: "research_agent",
        title: "Research Agent with Google Search",
        about: "a research agent answers with search grounding and sources",
        session: include_str!("../../../../fixtures/sessions/research_agent.json"),
    },
    Example {
        name: "swarm",
        title: "Parallel Agent Swarm",
        about: "three analysis agents in parallel, consolidated",
        session: include_str!("../../../../fixtures/sessions/swarm.json"),
    },
    Example {
        name: "orchestrator",
        title: "Plan-and-Execute Orchestrator",
        about: "a goal planned into a 4-step DAG and executed",
        session: include_str!("../../../../fixtures/sessions/orchestrator.json"),
    },
    Example {
        name: "summarizer",
        title: "Context Summarizer",
        about: "a conversation condensed for a hand-off",
        session: include_str!("../../../../fixtures/sessions/summarizer.json"),
    },
    Example {
        name: "research_then_code",
        title: "Research Then Code",
        about: "research findings handed to a code agent",
        session: include_str!("../../../../fixtures/sessions/research_then_code.json"),
    },
];

const TODO_API_CONVERSATION: &str =
    include_str!("../../../../fixtures/conversations/todo_api.json");

/// Runs `examples`.
pub(crate) async fn run(
    args: &ExamplesArgs,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let theme = output.theme();
    let Some(name) = args.name.as_deref() else {
        let lines: Vec<String> = EXAMPLES
            .iter()
            .map(|example| format!("  • {:<19} {}", example.name, example.about))
            .collect();
        output.line(&format!(
            "Available examples:\n{}\n  • all                 run every example in turn\n\nUsage: agent-fork examples <NAME|all>",
            lines.join("\n")
        ));
        return Ok(Exit::Success);
    };
    if name == "all" {
        let mut failed = Vec::new();
        for example in &EXAMPLES {
            output.line(&rule(&format!("Running: {}", example.name), theme));
            let exit = match run_one(example, flags, traffic, output).await {
                Ok(exit) => exit,
                Err(error) => {
                    let (exit, message) = classify(&error);
                    output.error_line(&format!("error: {message}"));
                    exit
                }
            };
            if exit == Exit::Success {
                output.line(&status_line(Status::Ok, example.name, theme));
            } else {
                output.line(&status_line(
                    Status::Failed,
                    &format!("{} (exit {})", example.name, exit.code()),
                    theme,
                ));
                failed.push(example.name);
            }
        }
        let passed = EXAMPLES.len() - failed.len();
        output.line(&rule(
            &format!("{passed}/{} examples succeeded", EXAMPLES.len()),
            theme,
        ));
        return Ok(if failed.is_empty() {
            Exit::Success
        } else {
            Exit::WorkFailed
        });
    }
    let example = EXAMPLES
        .iter()
        .find(|example| example.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = EXAMPLES.iter().map(|example| example.name).collect();
            Failure::usage(format!(
                "unknown example `{name}`; choose one of {} or all",
                names.join(", ")
            ))
        })?;
    run_one(example, flags, traffic, output).await
}

async fn run_one(
    example: &Example,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
) -> Result<Exit> {
    let theme = output.theme();
    if !output.json() {
        output.line(&Panel::new(format!("Example: {}", example.title)).render(theme));
    }
    let traffic = match traffic {
        Traffic::Live if genai_client::ApiKey::from_env().is_none() => {
            output.line(&format!(
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
    scenario(example.name, &flags, &traffic, output, folder.path()).await
}

async fn scenario(
    name: &str,
    flags: &AgentFlags,
    traffic: &Traffic,
    output: &Output,
    folder: &Path,
) -> Result<Exit> {
    match name {
        "basic_fork" => {
            let args = fork(
                "general",
                "Explain the difference between async and threading in Python in 3 sentences.",
            );
            crate::commands::fork::run(&args, flags, traffic, output).await
        }
        "code_agent" => {
            let mut flags = flags.clone();
            flags.thinking = Some(ThinkingSetting::Level(ThinkingLevel::High));
            let args = fork("code", CODE_TASK);
            crate::commands::fork::run(&args, &flags, traffic, output).await
        }
        "research_agent" => {
            let args = fork(
                "research",
                "What are the key new features in the Google GenAI Python SDK? Focus on recent additions.",
            );
            crate::commands::fork::run(&args, flags, traffic, output).await
        }
        "swarm" => {
            let args = SwarmArgs {
                tasks: SWARM_TASKS.iter().map(|task| (*task).to_owned()).collect(),
                agent_type: "analysis".to_owned(),
                concurrency: Some(3),
                consolidation_cap: 2000,
                ..SwarmArgs::default()
            };
            crate::commands::swarm::run(&args, flags, traffic, output).await
        }
        "summarizer" => {
            let input = folder.join("todo_api.json");
            std::fs::write(&input, TODO_API_CONVERSATION)?;
            let args = SummarizeArgs {
                input: Some(input),
                history: Vec::new(),
                style: agent_core::SummaryStyle::Detailed,
                max_tokens: 2000,
                next_request: Some("Add JWT authentication to the API.".to_owned()),
                handoff_to: None,
                count_tokens: false,
            };
            crate::commands::summarize::run(&args, flags, traffic, output).await
        }
        "orchestrator" => {
            let args = PlanArgs {
                goal: Some("Design a simple user authentication system for a web API".to_owned()),
                context: Some("Using Python with FastAPI framework".to_owned()),
                max_steps: 4,
                dependency_cap: planner::DEFAULT_CONTEXT_CAP,
                ..PlanArgs::default()
            };
            crate::commands::plan::run(&args, flags, traffic, output).await
        }
        "research_then_code" => {
            let args = ResearchThenCodeArgs {
                research: "What is the recommended way to implement rate limiting in FastAPI applications?".to_owned(),
                task: "Implement a rate limiting middleware for a FastAPI application, following the approach the research recommends.".to_owned(),
                context: None,
            };
            crate::commands::workflow::research_then_code(&args, flags, traffic, output).await
        }
        other => Err(Failure::usage(format!("unknown example `{other}`")).into()),
    }
}

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

const CODE_TASK: &str = "Write a Python decorator that:
1. Retries a function up to 3 times on exception
2. Uses exponential backoff (1s, 2s, 4s)
3. Logs each retry attempt
4. Preserves the original function's metadata

Include type hints and a docstring.";

const SWARM_TASKS: [&str; 3] = [
    "List 3 key advantages of a microservices architecture.",
    "List 3 major challenges of a microservices architecture.",
    "List 3 best practices for communication between microservices.",
];
