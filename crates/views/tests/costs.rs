//! The panels with their costs: a priced fork, a fork whose model the
//! catalog cannot price (shown as unknown, never guessed), a total with some
//! calls unpriced, and a swarm stopped by its budget.

use agent_core::{
    BUDGET_EXHAUSTED, ForkError, ForkId, ForkResult, ForkStatus, SwarmId, SwarmOutcome,
};
use genai_client::{CostTotal, Usage, Usd};
use insta::assert_snapshot;
use render::Theme;

fn usage() -> Usage {
    Usage {
        prompt: 1_200,
        candidates: 300,
        thoughts: 500,
        total: 2_000,
        ..Usage::default()
    }
}

fn fork(task: &str, cost: CostTotal) -> ForkResult {
    ForkResult {
        fork_id: ForkId::from_string("fork_1"),
        agent_type: "general".to_owned(),
        task: task.to_owned(),
        status: ForkStatus::Success,
        text: "Done.".to_owned(),
        thoughts: String::new(),
        model: "gemini-3.8-flash".to_owned(),
        model_version: Some("gemini-3.8-flash".to_owned()),
        usage: usage(),
        cost,
        turns: Vec::new(),
        tools_executed: Vec::new(),
        files_created: Vec::new(),
        search_queries: Vec::new(),
        sources: Vec::new(),
        builtin_route: None,
        searches: Vec::new(),
        error: None,
        started_at: "2026-11-29T12:00:00Z".to_owned(),
        elapsed_ms: 1_500,
    }
}

fn priced(dollars: f64, calls: u64) -> CostTotal {
    CostTotal {
        usd: Usd::from_dollars(dollars),
        priced_calls: calls,
        ..CostTotal::default()
    }
}

#[test]
fn a_priced_fork_shows_its_cost_in_the_usage_line() {
    let shown = views::fork_result(
        &fork("Say hi", priced(0.0042, 1)),
        "raise the limit",
        &Theme::plain(100),
    );
    assert_snapshot!(shown);
}

#[test]
fn an_unpriced_model_is_unknown_and_a_partly_priced_total_says_so() {
    let unknown = CostTotal {
        unpriced_calls: 2,
        ..CostTotal::default()
    };
    let partly = CostTotal {
        unpriced_calls: 1,
        ..priced(0.25, 3)
    };
    let theme = Theme::plain(100);
    let lines = [
        views::usage(&usage(), Some(&unknown), std::time::Duration::ZERO, &theme),
        views::usage(&usage(), Some(&partly), std::time::Duration::ZERO, &theme),
        views::usage(&usage(), None, std::time::Duration::ZERO, &theme),
    ];
    assert!(lines[0].contains("cost unknown"), "{}", lines[0]);
    assert!(!lines[0].contains('$'), "an unknown cost is never a number");
    assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_swarm_stopped_by_its_budget_shows_the_run_cost() {
    let mut refused = fork("Task three", CostTotal::default());
    refused.status = ForkStatus::Cancelled;
    refused.usage = Usage::default();
    refused.text = String::new();
    refused.error = Some(ForkError {
        kind: BUDGET_EXHAUSTED,
        message: "budget exhausted: spent $0.0100 and 4,000 tokens".to_owned(),
        http_status: None,
        auth: false,
    });
    let outcome = SwarmOutcome {
        swarm_id: SwarmId::from_string("swarm_1"),
        total: 3,
        completed: 2,
        failed: 1,
        results: vec![
            (0, fork("Task one", priced(0.005, 1))),
            (1, fork("Task two", priced(0.005, 1))),
            (2, refused),
        ],
        consolidated: None,
        usage: Usage {
            prompt: 2_400,
            candidates: 600,
            thoughts: 1_000,
            total: 4_000,
            ..Usage::default()
        },
        cost: priced(0.01, 2),
        cancelled: false,
        budget_exhausted: true,
        auth_error: None,
        cancelled_forks: 1,
    };
    let shown = views::swarm_result(
        &outcome,
        3,
        std::time::Duration::from_secs(3),
        &Theme::plain(100),
    );
    assert_snapshot!(shown);
}
