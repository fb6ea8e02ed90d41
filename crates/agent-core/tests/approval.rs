//! The approval gate in the tool loop: every policy outcome, a person's
//! yes / no / always, no one to ask, `--yes`, a question that times out,
//! decisions kept for a resume, batches judged by their tasks, and
//! questions from parallel calls one at a time. A denied call never runs
//! (checked on the file system: the file it would write is absent).

mod support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::workspace::{ShellAccess, Workspace, WorkspaceOptions};
use agent_core::{
    Answer, ApprovalLedger, ApprovalPolicy, ApprovalQuestion, ApprovalRecord, Approvals, Approver,
    AskFuture, BuiltinAgent, DecidedBy, Event, EventSink, ForkRequest, ForkStatus, Forker,
    PolicyEntry, Rule, Swarm, SwarmOptions, ToolClass,
};
use serde_json::{Value, json};
use support::*;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "gemini-3.8-flash";
const TASK: &str = "Do the thing.";

/// Answers questions from a script; `None` in the script never answers.
struct Scripted {
    answers: Mutex<VecDeque<Option<Answer>>>,
    asked: Mutex<Vec<ApprovalQuestion>>,
    inside: AtomicUsize,
    most_inside: AtomicUsize,
}

impl Scripted {
    fn new(answers: Vec<Option<Answer>>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into()),
            asked: Mutex::new(Vec::new()),
            inside: AtomicUsize::new(0),
            most_inside: AtomicUsize::new(0),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .map(|question| question.tool.clone())
            .collect()
    }
}

impl Approver for Scripted {
    fn ask<'a>(&'a self, question: &'a ApprovalQuestion) -> AskFuture<'a> {
        Box::pin(async move {
            let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_inside.fetch_max(now, Ordering::SeqCst);
            self.asked.lock().unwrap().push(question.clone());
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("asked more often than the script says");
            // Let parallel calls pile up while this question is open.
            tokio::time::sleep(Duration::from_millis(10)).await;
            let answer = match answer {
                Some(answer) => answer,
                None => std::future::pending().await,
            };
            self.inside.fetch_sub(1, Ordering::SeqCst);
            Some(answer)
        })
    }
}

#[derive(Default)]
struct Ledger(Mutex<Vec<ApprovalRecord>>);

impl ApprovalLedger for Ledger {
    fn record(&self, record: &ApprovalRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

/// A server whose model makes `calls` in one turn, then answers "done".
async fn model_calling(calls: Vec<(&str, Value)>) -> cassette::FixtureServer {
    let names: Vec<&str> = calls.iter().map(|(name, _)| *name).collect();
    let parts: Vec<Value> = calls
        .iter()
        .map(|(name, args)| call(name, args.clone()))
        .collect();
    server(
        "approval",
        vec![
            unary(MODEL, task(TASK), reply(json!(parts), usage(100, 10, 0))),
            unary(
                MODEL,
                responses(&names),
                reply(json!([{"text": "done"}]), usage(150, 2, 0)),
            ),
        ],
    )
    .await
}

struct Run {
    folder: tempfile::TempDir,
    result: agent_core::ForkResult,
    bodies: Vec<Value>,
    events: Vec<Event>,
}

impl Run {
    fn exists(&self, path: &str) -> bool {
        self.folder.path().join(path).exists()
    }

    /// The function responses of the second request, in call order.
    fn responses(&self) -> Vec<Value> {
        self.bodies[1]["contents"][2]["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .map(|part| part["functionResponse"]["response"].clone())
            .collect()
    }

    fn decisions(&self) -> Vec<(String, bool, DecidedBy)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::ToolApproval { name, decision, .. } => {
                    Some((name.clone(), decision.approved, decision.by))
                }
                _ => None,
            })
            .collect()
    }
}

async fn run(calls: Vec<(&str, Value)>, approvals: Approvals) -> Run {
    let server = model_calling(calls).await;
    let folder = tempfile::tempdir().expect("a folder");
    let options = WorkspaceOptions {
        shell: ShellAccess::Enabled,
        ..WorkspaceOptions::default()
    };
    let workspace = Workspace::open(folder.path(), options).expect("the workspace opens");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = EventSink::new({
        let events = events.clone();
        move |event| events.lock().unwrap().push(event)
    });
    let forker = Forker::new(client(&server))
        .with_workspace(Arc::new(workspace))
        .with_events(sink)
        .with_approvals(Arc::new(approvals));
    let request = ForkRequest::new(TASK, BuiltinAgent::General.profile());
    let result = forker.run(request, &CancellationToken::new()).await;
    server.assert_clean();
    let bodies = bodies(&server);
    let events = events.lock().unwrap().clone();
    Run {
        folder,
        result,
        bodies,
        events,
    }
}

fn write(path: &str) -> (&'static str, Value) {
    ("create_file", json!({"path": path, "content": "x"}))
}

fn policy(write: Rule) -> ApprovalPolicy {
    ApprovalPolicy {
        write,
        ..ApprovalPolicy::default()
    }
}

#[tokio::test(start_paused = true)]
async fn allow_runs_the_call_without_a_question_or_an_event() {
    let approver = Scripted::new(vec![]);
    let approvals = Approvals::new(ApprovalPolicy::default()).with_approver(approver.clone());
    let run = run(vec![write("a.txt")], approvals).await;
    assert_eq!(run.result.status, ForkStatus::Success);
    assert!(run.exists("a.txt"));
    assert!(approver.asked().is_empty());
    assert!(run.decisions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn deny_never_runs_the_call_and_tells_the_model() {
    let approver = Scripted::new(vec![]);
    let approvals = Approvals::new(policy(Rule::Deny)).with_approver(approver.clone());
    let run = run(vec![write("a.txt")], approvals).await;
    assert_eq!(run.result.status, ForkStatus::Success);
    assert!(!run.exists("a.txt"), "a denied call ran");
    assert!(approver.asked().is_empty(), "deny asks no one");
    let response = &run.responses()[0];
    assert_eq!(response["success"], false);
    assert!(
        response["error"]
            .as_str()
            .unwrap()
            .contains("approval policy denies it"),
        "{response}"
    );
    assert_eq!(
        run.decisions(),
        [("create_file".to_owned(), false, DecidedBy::Rule)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_tool_rule_wins_over_its_class() {
    let mut policy = policy(Rule::Allow);
    policy.tools.insert("create_file".to_owned(), Rule::Deny);
    let run = run(vec![write("a.txt")], Approvals::new(policy)).await;
    assert!(!run.exists("a.txt"));
}

#[tokio::test(start_paused = true)]
async fn ask_with_no_one_to_ask_denies_and_says_how_to_approve() {
    let run = run(vec![write("a.txt")], Approvals::new(policy(Rule::Ask))).await;
    assert!(!run.exists("a.txt"));
    assert!(
        run.responses()[0]["error"]
            .as_str()
            .unwrap()
            .contains("no one could be asked")
    );
    assert_eq!(
        run.decisions(),
        [("create_file".to_owned(), false, DecidedBy::NoTerminal)]
    );
}

#[tokio::test(start_paused = true)]
async fn ask_with_yes_runs_without_a_question() {
    let approver = Scripted::new(vec![]);
    let policy = ApprovalPolicy {
        assume_yes: true,
        ..policy(Rule::Ask)
    };
    let approvals = Approvals::new(policy).with_approver(approver.clone());
    let run = run(vec![write("a.txt")], approvals).await;
    assert!(run.exists("a.txt"));
    assert!(approver.asked().is_empty());
    assert_eq!(
        run.decisions(),
        [("create_file".to_owned(), true, DecidedBy::AssumeYes)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_person_says_yes_then_no() {
    let approver = Scripted::new(vec![Some(Answer::Yes), Some(Answer::No)]);
    let approvals = Approvals::new(policy(Rule::Ask)).with_approver(approver.clone());
    let run = run(vec![write("a.txt"), write("b.txt")], approvals).await;
    assert!(run.exists("a.txt"));
    assert!(!run.exists("b.txt"));
    assert_eq!(approver.asked(), ["create_file", "create_file"]);
    let question = &approver.asked.lock().unwrap()[0];
    assert_eq!(question.agent_type, "general");
    assert_eq!(question.class, ToolClass::Write);
    assert_eq!(question.args["path"], "a.txt");
    assert_eq!(
        run.decisions(),
        [
            ("create_file".to_owned(), true, DecidedBy::Person),
            ("create_file".to_owned(), false, DecidedBy::Person)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn always_approves_later_calls_of_the_same_tool_without_asking() {
    let approver = Scripted::new(vec![Some(Answer::Always)]);
    let approvals = Approvals::new(policy(Rule::Ask)).with_approver(approver.clone());
    let run = run(
        vec![write("a.txt"), write("b.txt"), write("c.txt")],
        approvals,
    )
    .await;
    assert!(run.exists("a.txt") && run.exists("b.txt") && run.exists("c.txt"));
    assert_eq!(approver.asked(), ["create_file"]);
}

#[tokio::test(start_paused = true)]
async fn a_question_that_is_not_answered_in_time_denies() {
    let approver = Scripted::new(vec![None]);
    let approvals = Approvals::new(policy(Rule::Ask))
        .with_approver(approver.clone())
        .with_timeout(Duration::from_secs(30));
    assert_eq!(approvals.question_timeout(), Duration::from_secs(30));
    let started = tokio::time::Instant::now();
    let run = run(vec![write("a.txt")], approvals).await;
    // The paused clock moved by the gate's timeout, not the 5-minute default.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(60),
        "{waited:?}"
    );
    assert!(!run.exists("a.txt"));
    assert_eq!(
        run.decisions(),
        [("create_file".to_owned(), false, DecidedBy::Timeout)]
    );
}

#[tokio::test(start_paused = true)]
async fn questions_from_parallel_calls_come_one_at_a_time() {
    let approver = Scripted::new(vec![Some(Answer::Yes); 4]);
    let approvals = Approvals::new(policy(Rule::Ask)).with_approver(approver.clone());
    let calls = vec![write("a"), write("b"), write("c"), write("d")];
    let run = run(calls, approvals).await;
    assert_eq!(approver.asked().len(), 4);
    assert_eq!(approver.most_inside.load(Ordering::SeqCst), 1);
    assert!(run.exists("a") && run.exists("d"));
}

#[tokio::test(start_paused = true)]
async fn decisions_are_kept_and_a_resume_neither_asks_again_nor_undoes_a_denial() {
    let ledger = Arc::new(Ledger::default());
    let approver = Scripted::new(vec![Some(Answer::Yes), Some(Answer::No)]);
    let approvals = Approvals::new(policy(Rule::Ask))
        .with_approver(approver)
        .with_ledger(ledger.clone());
    let first = run(vec![write("a.txt"), write("b.txt")], approvals).await;
    assert!(first.exists("a.txt") && !first.exists("b.txt"));
    let records = ledger.0.lock().unwrap().clone();
    assert_eq!(records.len(), 2);
    // The ledger holds digests, never the arguments.
    assert!(
        !serde_json::to_string(&records).unwrap().contains("b.txt"),
        "{records:?}"
    );

    // The resumed run: the same calls, a person who would say yes to all.
    let approver = Scripted::new(vec![Some(Answer::Yes); 2]);
    let approvals = Approvals::new(policy(Rule::Ask))
        .with_approver(approver.clone())
        .with_earlier(records);
    let second = run(vec![write("a.txt"), write("b.txt")], approvals).await;
    assert!(approver.asked().is_empty(), "asked again after a resume");
    assert!(second.exists("a.txt"));
    assert!(!second.exists("b.txt"), "a denied call ran after a resume");
    assert_eq!(
        second.decisions(),
        [
            ("create_file".to_owned(), true, DecidedBy::Earlier),
            ("create_file".to_owned(), false, DecidedBy::Earlier)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_rules_denial_is_kept_with_its_fork_but_not_carried_into_a_resume() {
    let ledger = Arc::new(Ledger::default());
    let approvals = Approvals::new(policy(Rule::Deny)).with_ledger(ledger.clone());
    let first = run(vec![write("a.txt")], approvals).await;
    assert!(!first.exists("a.txt"));
    let records = ledger.0.lock().unwrap().clone();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        (records[0].approved, records[0].by),
        (false, DecidedBy::Rule)
    );
    assert_eq!(records[0].fork_id.as_ref(), Some(&first.result.fork_id));
    assert_eq!(records[0].agent_type.as_deref(), Some("general"));
    // Resumed under a policy that now asks, with a person saying yes: the
    // old rule does not decide for the new one.
    let approver = Scripted::new(vec![Some(Answer::Yes)]);
    let approvals = Approvals::new(policy(Rule::Ask))
        .with_approver(approver.clone())
        .with_earlier(records);
    let second = run(vec![write("a.txt")], approvals).await;
    assert_eq!(approver.asked(), ["create_file"]);
    assert!(second.exists("a.txt"));
}

/// A call the policy simply allows is kept too (it was not before):
/// compactly, with the policy entry that allowed it and its digest, and
/// no event (nothing was asked).
#[tokio::test(start_paused = true)]
async fn an_allowed_call_is_kept_with_the_policy_entry_that_allowed_it() {
    let ledger = Arc::new(Ledger::default());
    let mut by_tool = policy(Rule::Deny);
    by_tool.tools.insert("create_file".to_owned(), Rule::Allow);
    let approvals = Approvals::new(policy(Rule::Allow)).with_ledger(ledger.clone());
    let first = run(vec![write("a.txt")], approvals).await;
    let approvals = Approvals::new(by_tool).with_ledger(ledger.clone());
    let second = run(vec![write("b.txt")], approvals).await;
    assert!(first.exists("a.txt") && second.exists("b.txt"));
    assert!(first.decisions().is_empty() && second.decisions().is_empty());
    let records = ledger.0.lock().unwrap().clone();
    let kept: Vec<_> = records
        .iter()
        .map(|record| {
            (
                record.tool.as_str(),
                record.approved,
                record.by,
                record.rule.clone(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (
                "create_file",
                true,
                DecidedBy::Rule,
                Some(PolicyEntry::Class(ToolClass::Write))
            ),
            (
                "create_file",
                true,
                DecidedBy::Rule,
                Some(PolicyEntry::Tool("create_file".into()))
            ),
        ]
    );
    assert_eq!(
        records[0].call,
        agent_core::call_digest("create_file", &json!({"path": "a.txt", "content": "x"}))
    );
    assert_eq!(records[0].fork_id.as_ref(), Some(&first.result.fork_id));
    // Compact: no arguments, no `always`; the entry as the policy names it.
    let line = serde_json::to_string(&records[1]).unwrap();
    assert!(
        !line.contains("b.txt") && !line.contains("always"),
        "{line}"
    );
    assert!(line.contains(r#""rule":"tools.create_file""#), "{line}");
}

#[tokio::test(start_paused = true)]
async fn a_batch_is_judged_by_its_strictest_task() {
    let policy = ApprovalPolicy {
        shell: Rule::Deny,
        ..ApprovalPolicy::default()
    };
    let batch = || {
        (
            "execute_batch",
            json!({"tasks": [
                {"tool": "create_file", "args": {"path": "a.txt", "content": "x"}},
                {"tool": "bash", "args": {"command": "touch ran.txt"}}
            ]}),
        )
    };
    let run = run(vec![batch()], Approvals::new(policy)).await;
    assert!(!run.exists("a.txt") && !run.exists("ran.txt"));
    assert_eq!(
        run.decisions(),
        [("execute_batch".to_owned(), false, DecidedBy::Rule)]
    );
    // Kept with the entry that made it strictest.
    let ledger = Arc::new(Ledger::default());
    let policy = ApprovalPolicy {
        shell: Rule::Deny,
        ..ApprovalPolicy::default()
    };
    let approvals = Approvals::new(policy).with_ledger(ledger.clone());
    let _ = crate::run(vec![batch()], approvals).await;
    let records = ledger.0.lock().unwrap().clone();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].rule, Some(PolicyEntry::Class(ToolClass::Shell)));
}

#[tokio::test(start_paused = true)]
async fn shell_asks_by_default_and_is_denied_without_a_terminal() {
    let run = run(
        vec![("bash", json!({"command": "touch ran.txt"}))],
        Approvals::new(ApprovalPolicy::default()),
    )
    .await;
    assert!(!run.exists("ran.txt"));
    assert_eq!(
        run.decisions(),
        [("bash".to_owned(), false, DecidedBy::NoTerminal)]
    );
}

#[test]
fn rules_by_class_server_and_tool() {
    let mut policy = ApprovalPolicy::default();
    assert_eq!(policy.rule("read_file", ToolClass::Read), Rule::Allow);
    assert_eq!(policy.rule("create_file", ToolClass::Write), Rule::Allow);
    assert_eq!(policy.rule("bash", ToolClass::Shell), Rule::Ask);
    assert_eq!(policy.rule("docs__search", ToolClass::Mcp), Rule::Ask);
    policy.tools.insert("docs".to_owned(), Rule::Deny);
    policy.tools.insert("docs__search".to_owned(), Rule::Allow);
    assert_eq!(policy.rule("docs__search", ToolClass::Mcp), Rule::Allow);
    assert_eq!(policy.rule("docs__drop", ToolClass::Mcp), Rule::Deny);
    // A server rule covers MCP tools only: a workspace tool named like one
    // is judged by its class.
    assert_eq!(policy.rule("docs__x", ToolClass::Read), Rule::Allow);
    assert_eq!(
        ApprovalPolicy::allow_all().rule("bash", ToolClass::Shell),
        Rule::Allow
    );
    assert_eq!("deny".parse::<Rule>(), Ok(Rule::Deny));
    assert!("maybe".parse::<Rule>().is_err());
}

/// Answers yes, but holds its first question open until every fork of
/// the swarm has asked for its call (their `ToolCall` events are out), so
/// the other questions are certainly waiting while it is open.
struct HoldsTheFirst {
    inner: Arc<Scripted>,
    tool_calls: Arc<Mutex<usize>>,
    forks: usize,
}

impl Approver for HoldsTheFirst {
    fn ask<'a>(&'a self, question: &'a ApprovalQuestion) -> AskFuture<'a> {
        Box::pin(async move {
            if self.inner.asked.lock().unwrap().is_empty() {
                while *self.tool_calls.lock().unwrap() < self.forks {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            self.inner.ask(question).await
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_swarms_forks_ask_one_at_a_time_each_question_labelled_with_its_fork() {
    const FORKS: usize = 3;
    let task_of = |index: usize| format!("Write file number {index}.");
    let mut interactions = Vec::new();
    for index in 0..FORKS {
        let args = json!({"path": format!("file-{index}.txt"), "content": "x"});
        interactions.push(unary(
            MODEL,
            task(&task_of(index)),
            reply(json!([call("create_file", args)]), usage(100, 10, 0)),
        ));
        interactions.push(unary(
            MODEL,
            responses(&["create_file"]),
            reply(json!([{"text": "done"}]), usage(150, 2, 0)),
        ));
    }
    let server = server("swarm-approval", interactions).await;
    let folder = tempfile::tempdir().expect("a folder");
    let workspace = Workspace::open(folder.path(), WorkspaceOptions::default()).expect("opens");
    let tool_calls = Arc::new(Mutex::new(0));
    let sink = EventSink::new({
        let tool_calls = tool_calls.clone();
        move |event| {
            if let Event::ToolCall { .. } = event {
                *tool_calls.lock().unwrap() += 1;
            }
        }
    });
    let scripted = Scripted::new(vec![Some(Answer::Yes); FORKS]);
    let approver = Arc::new(HoldsTheFirst {
        inner: scripted.clone(),
        tool_calls: tool_calls.clone(),
        forks: FORKS,
    });
    // One gate for the whole swarm, as the CLI builds it.
    let approvals = Approvals::new(policy(Rule::Ask)).with_approver(approver);
    let forker = Forker::new(client(&server))
        .with_workspace(Arc::new(workspace))
        .with_events(sink)
        .with_approvals(Arc::new(approvals));
    let options = SwarmOptions {
        concurrency: FORKS,
        consolidate: false,
        ..SwarmOptions::new(BuiltinAgent::General.profile())
    };
    let tasks: Vec<(usize, String)> = (0..FORKS).map(|index| (index, task_of(index))).collect();
    let outcome = Swarm::new(&forker, options)
        .run(tasks, Some(FORKS), &CancellationToken::new(), |_, _| {})
        .await;
    server.assert_clean();
    assert_eq!(outcome.completed, FORKS);
    // Every fork asked, all at once, and the questions came one at a time.
    assert_eq!(scripted.asked().len(), FORKS);
    assert_eq!(scripted.most_inside.load(Ordering::SeqCst), 1);
    // Each question names the fork that made the call, with its agent type.
    let questions = scripted.asked.lock().unwrap().clone();
    for (index, result) in &outcome.results {
        let path = format!("file-{index}.txt");
        let asked: Vec<&ApprovalQuestion> = questions
            .iter()
            .filter(|question| question.fork_id == result.fork_id)
            .collect();
        assert_eq!(asked.len(), 1, "fork {index} asked {} times", asked.len());
        assert_eq!(asked[0].args["path"], path.as_str());
        assert_eq!(asked[0].agent_type, "general");
        assert!(folder.path().join(&path).exists(), "{path} was not written");
    }
}
