//! Runs the tests draw: journal records with fixed times (authored, not
//! recorded), and the same written as a signed journal on disk.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::path::Path;

use planner::journal::JournalRecord;
use planner::{
    Journal, JournalEvent, JournalKey, Plan, RunKind, RunMeta, RunState, StepOutput, WorkflowStatus,
};
use serde_json::{Value, json};

/// The key the tests sign journals with.
pub fn key() -> JournalKey {
    JournalKey::from_bytes([7; 32])
}

/// A fork result as the journal holds it.
pub fn fork(
    index: usize,
    agent_type: &str,
    task: &str,
    text: &str,
    tools: &[&str],
    files: &[&str],
    sources: &[(&str, &str)],
) -> Value {
    json!({
        "fork_id": format!("fork_000000_{index:03}"),
        "agent_type": agent_type,
        "task": task,
        "status": "success",
        "text": text,
        "thoughts": "",
        "model": "gemini-2.5-flash",
        "model_version": "gemini-2.5-flash-001",
        "usage": {"prompt": 1200 + index as u64, "candidates": 300, "thoughts": 40, "cached": 0, "tool_use": 0, "total": 1540 + index as u64},
        "cost": {"usd": 1_250_000_000_u64 + index as u64 * 1000, "priced_calls": 2, "unpriced_calls": 0, "price_table": "2026-11-01"},
        "turns": [],
        "tools_executed": tools,
        "files_created": files,
        "search_queries": [],
        "sources": sources.iter().map(|(uri, title)| json!({"uri": uri, "title": title})).collect::<Vec<_>>(),
        "error": null,
        "started_at": "2026-11-28T07:49:03.000Z",
        "elapsed_ms": 900,
    })
}

/// A journalled approval decision of fork `index` (agent `general`).
pub fn approval(
    index: usize,
    tool: &str,
    approved: bool,
    by: agent_core::DecidedBy,
) -> JournalEvent {
    JournalEvent::ToolApproval {
        record: agent_core::ApprovalRecord {
            tool: tool.to_owned(),
            fork_id: Some(agent_core::ForkId::from_string(format!(
                "fork_000000_{index:03}"
            ))),
            agent_type: Some("general".to_owned()),
            call: agent_core::call_digest(tool, &json!({})),
            approved,
            always: false,
            // A rule's decision names the policy entry: the tool's class.
            rule: (by == agent_core::DecidedBy::Rule).then(|| {
                let class = agent_core::workspace::ToolName::parse(tool).map_or(
                    agent_core::ToolClass::Mcp,
                    agent_core::ToolClass::of_workspace,
                );
                agent_core::PolicyEntry::Class(class)
            }),
            by,
        },
    }
}

fn at(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round() as i64;
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-28T07:49:02.000Z").unwrap()
        + chrono::Duration::milliseconds(ms);
    time.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn meta(
    id: &str,
    kind: RunKind,
    summary: &str,
    command: &str,
    concurrency: Option<u32>,
) -> RunMeta {
    RunMeta {
        id: id.parse().unwrap(),
        kind,
        created: at(0.0),
        summary: summary.to_owned(),
        args: json!({
            "command": command,
            "params": {"concurrency": concurrency, "agent_type": "general", "tasks": ["Summarise A", "Summarise B", "Summarise C"]},
            "flags": {},
            "settings": {"workspace": "/home/dev/project", "concurrency": 5, "allow_shell": false, "no_tools": false, "model": null, "thinking": null, "api_key": "SECRET-SHOULD-NOT-SHOW"},
        }),
    }
}

/// Events with times in seconds from the start, numbered in order.
pub fn records(events: Vec<(f64, JournalEvent)>) -> Vec<JournalRecord> {
    events
        .into_iter()
        .enumerate()
        .map(|(seq, (time, event))| JournalRecord {
            seq: seq as u64,
            at: at(time),
            event,
        })
        .collect()
}

pub fn plan(steps: &[(&str, &str, &str, &[&str])]) -> Plan {
    serde_json::from_value(json!({
        "analysis": "Split the work in **four** steps.",
        "steps": steps.iter().map(|(id, name, agent, deps)| json!({
            "step_id": id, "name": name, "agent_type": agent,
            "task": format!("Do {name}"), "depends_on": deps,
        })).collect::<Vec<_>>(),
    }))
    .unwrap()
}

fn completed(id: &str, index: usize, text: &str) -> JournalEvent {
    JournalEvent::StepCompleted {
        id: id.into(),
        output: StepOutput {
            text: text.to_owned(),
            extra: fork(
                index,
                "code",
                &format!("Do {id}"),
                text,
                &["write_file", "read_file"],
                &["src/lib.rs"],
                &[],
            ),
        },
    }
}

/// A plan of four steps: `b` retried once, `c` failed, `d` skipped.
pub fn failed_plan() -> (Vec<JournalRecord>, RunState) {
    let plan = plan(&[
        ("a", "Survey", "research", &[]),
        ("b", "Write code", "code", &["a"]),
        ("c", "Write tests", "code", &["a"]),
        ("d", "Review", "general", &["b", "c"]),
    ]);
    let events = vec![
        (
            0.0,
            JournalEvent::RunStarted {
                meta: meta(
                    "run_20261128_074902_ab12",
                    RunKind::Plan,
                    "Add a parser",
                    "plan",
                    Some(2),
                ),
            },
        ),
        (0.5, JournalEvent::PlanReady { plan }),
        (
            0.6,
            JournalEvent::StepStarted {
                id: "a".into(),
                attempt: 1,
            },
        ),
        (
            2.0,
            completed(
                "a",
                0,
                "Found **three** modules.\n\n- `lib.rs`\n- `main.rs`",
            ),
        ),
        (
            2.1,
            JournalEvent::StepStarted {
                id: "b".into(),
                attempt: 1,
            },
        ),
        (
            2.1,
            JournalEvent::StepStarted {
                id: "c".into(),
                attempt: 1,
            },
        ),
        (
            3.0,
            JournalEvent::StepRetrying {
                id: "b".into(),
                attempt: 1,
                error: "503 the model is overloaded".to_owned(),
            },
        ),
        (
            4.0,
            JournalEvent::StepStarted {
                id: "b".into(),
                attempt: 2,
            },
        ),
        (
            4.5,
            JournalEvent::StepFailed {
                id: "c".into(),
                error: "400 the request was refused".to_owned(),
            },
        ),
        (6.0, completed("b", 1, "Wrote the parser.")),
        (
            6.0,
            JournalEvent::StepSkipped {
                id: "d".into(),
                reason: "step c failed".to_owned(),
            },
        ),
        (
            6.1,
            JournalEvent::RunFinished {
                status: WorkflowStatus::Failed,
            },
        ),
    ];
    (records(events), RunState::Failed)
}

/// A swarm of three forks: two completed, one failed.
pub fn failed_swarm() -> (Vec<JournalRecord>, RunState) {
    let events = vec![
        (
            0.0,
            JournalEvent::RunStarted {
                meta: meta(
                    "run_20261128_074902_cd34",
                    RunKind::Swarm,
                    "Three summaries",
                    "swarm",
                    Some(3),
                ),
            },
        ),
        (
            1.9,
            JournalEvent::ItemCompleted {
                index: 0,
                result: fork(
                    0,
                    "general",
                    "Summarise A",
                    "Summary of A.",
                    &[],
                    &[],
                    &[("https://example.com/a", "example.com")],
                ),
            },
        ),
        (
            1.5,
            approval(1, "docs__search", true, agent_core::DecidedBy::Person),
        ),
        (2.0, approval(2, "bash", false, agent_core::DecidedBy::Rule)),
        // A call the policy simply allowed.
        (
            2.2,
            approval(2, "read_file", true, agent_core::DecidedBy::Rule),
        ),
        (
            2.5,
            JournalEvent::ItemFailed {
                index: 2,
                error: "429 quota exhausted for gemini-2.5-flash".to_owned(),
            },
        ),
        (
            3.0,
            JournalEvent::ItemCompleted {
                index: 1,
                result: fork(
                    1,
                    "general",
                    "Summarise B",
                    "Summary of B.",
                    &["read_file"],
                    &[],
                    &[],
                ),
            },
        ),
        (
            3.1,
            JournalEvent::RunFinished {
                status: WorkflowStatus::Failed,
            },
        ),
    ];
    (records(events), RunState::Failed)
}

/// A plan stopped with Ctrl-C while its second step ran.
/// A `swarm --batch` run: submitted, polled twice, collected (one item
/// failed in the job), finished.
pub fn batch_swarm() -> (Vec<JournalRecord>, RunState) {
    use genai_client::{BatchName, BatchState};
    let events = vec![
        (
            0.0,
            JournalEvent::RunStarted {
                meta: meta(
                    "run_20261128_074902_ba7c",
                    RunKind::Swarm,
                    "Three summaries, as one batch job",
                    "swarm",
                    None,
                ),
            },
        ),
        (
            0.4,
            JournalEvent::BatchSubmitting {
                display_name: "agent-fork-run_20261128_074902_ba7c".to_owned(),
                model: "gemini-2.5-flash".to_owned(),
                requests: 3,
            },
        ),
        (
            1.2,
            JournalEvent::BatchSubmitted {
                name: BatchName::parse("batches/k8j2xq").unwrap(),
                adopted: false,
            },
        ),
        (
            6.2,
            JournalEvent::BatchPolled {
                state: BatchState::Running,
                succeeded: 1,
                failed: 0,
                pending: 2,
            },
        ),
        (
            3600.0,
            JournalEvent::BatchPolled {
                state: BatchState::Succeeded,
                succeeded: 2,
                failed: 1,
                pending: 0,
            },
        ),
        (
            3600.5,
            JournalEvent::ItemCompleted {
                index: 0,
                result: fork(0, "general", "Summarise A", "Summary of A.", &[], &[], &[]),
            },
        ),
        (
            3600.5,
            JournalEvent::ItemCompleted {
                index: 1,
                result: fork(1, "general", "Summarise B", "Summary of B.", &[], &[], &[]),
            },
        ),
        (
            3600.5,
            JournalEvent::ItemFailed {
                index: 2,
                error: "Internal error.".to_owned(),
            },
        ),
        (
            3600.6,
            JournalEvent::BatchCollected {
                state: BatchState::Succeeded,
            },
        ),
        (
            3600.7,
            JournalEvent::RunFinished {
                status: WorkflowStatus::Failed,
            },
        ),
    ];
    (records(events), RunState::Failed)
}

pub fn interrupted_plan() -> (Vec<JournalRecord>, RunState) {
    let plan = plan(&[
        ("a", "Survey", "research", &[]),
        ("b", "Write code", "code", &["a"]),
    ]);
    let events = vec![
        (
            0.0,
            JournalEvent::RunStarted {
                meta: meta(
                    "run_20261128_074902_ef56",
                    RunKind::Plan,
                    "Add a parser",
                    "plan",
                    None,
                ),
            },
        ),
        (0.2, JournalEvent::PlanReady { plan }),
        (
            0.3,
            JournalEvent::StepStarted {
                id: "a".into(),
                attempt: 1,
            },
        ),
        (1.0, completed("a", 0, "Surveyed.")),
        (
            1.1,
            JournalEvent::StepStarted {
                id: "b".into(),
                attempt: 1,
            },
        ),
        (2.0, JournalEvent::RunInterrupted),
    ];
    (records(events), RunState::Interrupted)
}

/// What a hostile model can plant in every field a page shows.
pub const PAYLOADS: &[&str] = &[
    "<script>document.body.dataset.pwned=1</script>",
    "<img src=x onerror=\"document.body.dataset.pwned=2\">",
    "\"><svg onload=document.body.dataset.pwned=3>",
    "'><iframe src=javascript:document.body.dataset.pwned=4>",
    "</textarea></style></title><script>document.body.dataset.pwned=5</script>",
    "<svg><foreignObject><body onload=document.body.dataset.pwned=6></body></foreignObject></svg>",
    "<a href=\"javascript:document.body.dataset.pwned=7\">click</a>",
    "]]><script>document.body.dataset.pwned=8</script>",
];

/// A plan whose every model-written field carries [`PAYLOADS`].
pub fn hostile_plan() -> (Vec<JournalRecord>, RunState) {
    let all = PAYLOADS.join(" ");
    let text = format!(
        "{all}\n\n[click me](javascript:document.body.dataset.pwned=9) [data](data:text/html,<script>x</script>) \
         ![img](https://tracker.example/pixel.png) <javascript:document.body.dataset.pwned=10>\n\n\
         ```\"><script>document.body.dataset.pwned=11</script>\ncode\n```\n\n<div onclick=\"document.body.dataset.pwned=12\">raw</div>\n"
    );
    let plan: Plan = serde_json::from_value(json!({
        "analysis": all,
        "steps": [
            {"step_id": "s<script>1", "name": PAYLOADS[1], "agent_type": PAYLOADS[2], "task": all, "depends_on": []},
            {"step_id": "s2", "name": PAYLOADS[3], "agent_type": "code", "task": "x", "depends_on": ["s<script>1"]},
        ],
    }))
    .unwrap();
    let mut result = fork(
        0,
        PAYLOADS[0],
        &all,
        &text,
        &[PAYLOADS[4], PAYLOADS[5]],
        &[PAYLOADS[6], "../../etc/<script>passwd"],
        &[
            ("javascript:document.body.dataset.pwned=13", PAYLOADS[7]),
            (
                "https://ok.example/\"onmouseover=\"document.body.dataset.pwned=14",
                PAYLOADS[1],
            ),
            (
                "data:text/html,<script>document.body.dataset.pwned=15</script>",
                "data",
            ),
        ],
    );
    result["model_version"] = json!(PAYLOADS[2]);
    let events = vec![
        (
            0.0,
            JournalEvent::RunStarted {
                meta: meta(
                    "run_20261128_074902_dead",
                    RunKind::Plan,
                    &all,
                    "plan",
                    Some(2),
                ),
            },
        ),
        (0.1, JournalEvent::PlanReady { plan }),
        (
            0.2,
            JournalEvent::StepStarted {
                id: "s<script>1".into(),
                attempt: 1,
            },
        ),
        (
            0.5,
            JournalEvent::StepRetrying {
                id: "s<script>1".into(),
                attempt: 1,
                error: all.clone(),
            },
        ),
        (
            0.6,
            JournalEvent::StepStarted {
                id: "s<script>1".into(),
                attempt: 2,
            },
        ),
        (
            1.0,
            JournalEvent::StepCompleted {
                id: "s<script>1".into(),
                output: StepOutput {
                    text: text.clone(),
                    extra: result,
                },
            },
        ),
        (
            1.1,
            JournalEvent::StepStarted {
                id: "s2".into(),
                attempt: 1,
            },
        ),
        (
            1.5,
            JournalEvent::StepFailed {
                id: "s2".into(),
                error: all,
            },
        ),
        (
            1.6,
            JournalEvent::RunFinished {
                status: WorkflowStatus::Failed,
            },
        ),
    ];
    (records(events), RunState::Failed)
}

/// Writes `records`' events as a signed journal in `base` (times are the
/// writer's own), returning the run folder.
pub fn write_journal(base: &Path, records: &[JournalRecord]) -> std::path::PathBuf {
    let JournalEvent::RunStarted { meta } = &records[0].event else {
        panic!("a run begins with run_started");
    };
    let journal = Journal::create(base, meta.clone(), &key()).unwrap();
    for record in &records[1..] {
        journal.append(record.event.clone()).unwrap();
    }
    let dir = journal.dir().to_owned();
    journal.close().unwrap();
    dir
}
