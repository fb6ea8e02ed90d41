//! The seven seed examples of agent-fork, written once.
//!
//! [`SCENARIOS`] is the one table of what each example does: its name and
//! title, the prompts, the agent type and settings, and the bundled session
//! (an authored cassette, compiled in) that replays when no API key is set.
//! Two runners read it: the example programs in this package
//! (`cargo run --example NAME`, on the library crates directly) and
//! `agent-fork examples NAME` (through the command's own code paths).
//!
//! ```
//! let basic = agent_fork_examples::scenario("basic_fork").expect("listed");
//! assert_eq!(basic.title, "Basic Agent Fork");
//! assert!(basic.session.contains("authored"));
//! ```

use agent_core::{BuiltinAgent, SummaryStyle};
use genai_client::ThinkingLevel;
use genai_client::catalog::ThinkingSetting;

/// One example: who it is for a person, and what it runs.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The name used on the command line and for the program.
    pub name: &'static str,
    /// The title shown in the example's first panel.
    pub title: &'static str,
    /// One line saying what it shows, for the list of examples.
    pub about: &'static str,
    /// The bundled session (`fixtures/sessions/NAME.json`, authored).
    pub session: &'static str,
    /// What the example runs.
    pub work: Work,
}

/// What an example runs, with every prompt and setting it uses.
#[derive(Debug, Clone, Copy)]
pub enum Work {
    /// One fork.
    Fork {
        /// The agent type.
        agent: BuiltinAgent,
        /// The task.
        task: &'static str,
        /// A thinking setting other than the agent type's default.
        thinking: Option<ThinkingSetting>,
        /// What the fork may use, as its header panel says it.
        tools: &'static str,
    },
    /// Tasks run in parallel and consolidated.
    Swarm {
        /// The agent type of every task.
        agent: BuiltinAgent,
        /// The tasks.
        tasks: &'static [&'static str],
        /// How many run at once.
        concurrency: u32,
        /// The most characters of each result handed to the consolidation.
        consolidation_cap: usize,
    },
    /// A goal planned into a DAG of steps and executed.
    Plan {
        /// The goal.
        goal: &'static str,
        /// Context for the planner and every step.
        context: &'static str,
        /// The most steps the plan may have.
        max_steps: u32,
    },
    /// A conversation condensed for a hand-off.
    Summarize {
        /// The conversation, as JSON (`fixtures/conversations/`).
        conversation: &'static str,
        /// How the summary is written.
        style: SummaryStyle,
        /// The most tokens of the summary.
        max_tokens: u32,
        /// The next request, for the fork-ready prompt.
        next_request: &'static str,
    },
    /// A research fork whose findings are a code fork's context.
    ResearchThenCode {
        /// The research question.
        research: &'static str,
        /// The coding task.
        task: &'static str,
    },
}

/// The examples, in the order `all` runs them.
pub const SCENARIOS: [Scenario; 7] = [
    Scenario {
        name: "basic_fork",
        title: "Basic Agent Fork",
        about: "a general agent answers a question, streaming",
        session: include_str!("../../fixtures/sessions/basic_fork.json"),
        work: Work::Fork {
            agent: BuiltinAgent::General,
            task: "Explain the difference between async and threading in Python in 3 sentences.",
            thinking: None,
            tools: "workspace (temporary)",
        },
    },
    Scenario {
        name: "code_agent",
        title: "Code Agent",
        about: "a code agent writes a retry decorator with the file tools",
        session: include_str!("../../fixtures/sessions/code_agent.json"),
        work: Work::Fork {
            agent: BuiltinAgent::Code,
            task: CODE_TASK,
            thinking: Some(ThinkingSetting::Level(ThinkingLevel::High)),
            tools: "workspace (temporary)",
        },
    },
    Scenario {
        name: "research_agent",
        title: "Research Agent with Google Search",
        about: "a research agent answers with search grounding and sources",
        session: include_str!("../../fixtures/sessions/research_agent.json"),
        work: Work::Fork {
            agent: BuiltinAgent::Research,
            task: "What are the key new features in the Google GenAI Python SDK? Focus on recent additions.",
            thinking: None,
            tools: "Google Search",
        },
    },
    Scenario {
        name: "swarm",
        title: "Parallel Agent Swarm",
        about: "three analysis agents in parallel, consolidated",
        session: include_str!("../../fixtures/sessions/swarm.json"),
        work: Work::Swarm {
            agent: BuiltinAgent::Analysis,
            tasks: &[
                "List 3 key advantages of a microservices architecture.",
                "List 3 major challenges of a microservices architecture.",
                "List 3 best practices for communication between microservices.",
            ],
            concurrency: 3,
            consolidation_cap: 2000,
        },
    },
    Scenario {
        name: "orchestrator",
        title: "Plan-and-Execute Orchestrator",
        about: "a goal planned into a 4-step DAG and executed",
        session: include_str!("../../fixtures/sessions/orchestrator.json"),
        work: Work::Plan {
            goal: "Design a simple user authentication system for a web API",
            context: "Using Python with FastAPI framework",
            max_steps: 4,
        },
    },
    Scenario {
        name: "summarizer",
        title: "Context Summarizer",
        about: "a conversation condensed for a hand-off",
        session: include_str!("../../fixtures/sessions/summarizer.json"),
        work: Work::Summarize {
            conversation: include_str!("../../fixtures/conversations/todo_api.json"),
            style: SummaryStyle::Detailed,
            max_tokens: 2000,
            next_request: "Add JWT authentication to the API.",
        },
    },
    Scenario {
        name: "research_then_code",
        title: "Research Then Code",
        about: "research findings handed to a code agent",
        session: include_str!("../../fixtures/sessions/research_then_code.json"),
        work: Work::ResearchThenCode {
            research: "What is the recommended way to implement rate limiting in FastAPI applications?",
            task: "Implement a rate limiting middleware for a FastAPI application, following the approach the research recommends.",
        },
    },
];

/// The example named `name`, if there is one.
pub fn scenario(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|scenario| scenario.name == name)
}

const CODE_TASK: &str = "Write a Python decorator that:
1. Retries a function up to 3 times on exception
2. Uses exponential backoff (1s, 2s, 4s)
3. Logs each retry attempt
4. Preserves the original function's metadata

Include type hints and a docstring.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_session_names_its_example() {
        let mut names: Vec<&str> = SCENARIOS.iter().map(|scenario| scenario.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCENARIOS.len());
        for scenario in &SCENARIOS {
            assert!(
                scenario.session.contains("authored"),
                "{}'s bundled session is labelled authored",
                scenario.name
            );
        }
    }
}
