//! The CLI's side of the approval gate (agent-core decides every tool call
//! in its tool loop): the policy from the settings, the terminal question
//! ([`TerminalApprover`]) and the run journal as the ledger.
//!
//! `ask` asks on the terminal only when both stdin and stderr are one;
//! otherwise (piped, background workers, CI) agent-core denies unless
//! `--yes`. Questions from parallel forks queue in agent-core: one at a
//! time, each naming its fork and agent type.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use agent_core::{
    Answer, ApprovalLedger, ApprovalQuestion, ApprovalRecord, Approvals, Approver, AskFuture,
};
use planner::JournalEvent;

use crate::output::eprint_line;
use crate::run_record::RunRecorder;
use crate::settings::Settings;

/// Longest argument value shown in a question, in characters.
const MAX_SHOWN_VALUE: usize = 200;

/// The run being recorded (the latest one opened: `examples all` runs
/// several one after another), for the ledger.
static CURRENT_RUN: Mutex<Option<Arc<RunRecorder>>> = Mutex::new(None);
/// Decisions of the run being resumed.
static EARLIER: Mutex<Vec<ApprovalRecord>> = Mutex::new(Vec::new());

/// Remembers the run whose journal keeps this process's decisions.
pub(crate) fn set_current_run(recorder: &Arc<RunRecorder>) {
    *CURRENT_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(recorder.clone());
}

/// Hands the resumed run's decisions to the gate built next.
pub(crate) fn set_earlier(records: Vec<ApprovalRecord>) {
    *EARLIER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = records;
}

/// The gate for a run with `settings`' policy and question timeout: the
/// terminal when there is one, the run's journal as the ledger, a resumed
/// run's earlier decisions.
pub(crate) fn gate(settings: &Settings) -> Arc<Approvals> {
    let earlier = std::mem::take(
        &mut *EARLIER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let approver: Option<Arc<dyn Approver>> =
        crate::output::can_ask().then(|| Arc::new(TerminalApprover) as Arc<dyn Approver>);
    let approvals = approvals(
        settings.approval.clone(),
        settings.question_timeout,
        approver,
    );
    Arc::new(approvals.with_earlier(earlier))
}

/// A gate with `policy`, giving a person `timeout` to answer `approver`,
/// journalling in the current run.
fn approvals(
    policy: agent_core::ApprovalPolicy,
    timeout: Duration,
    approver: Option<Arc<dyn Approver>>,
) -> Approvals {
    let approvals = Approvals::new(policy)
        .with_ledger(Arc::new(JournalLedger))
        .with_timeout(timeout);
    match approver {
        Some(approver) => approvals.with_approver(approver),
        None => approvals,
    }
}

/// Journals decisions in the current run.
struct JournalLedger;

impl ApprovalLedger for JournalLedger {
    fn record(&self, record: &ApprovalRecord) {
        let current = CURRENT_RUN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(recorder) = current {
            recorder.append(JournalEvent::ToolApproval {
                record: record.clone(),
            });
        }
    }
}

/// Asks on the terminal: the question on stderr, the answer from stdin.
pub(crate) struct TerminalApprover;

impl Approver for TerminalApprover {
    fn ask<'a>(&'a self, question: &'a ApprovalQuestion) -> AskFuture<'a> {
        let text = question_text(question);
        Box::pin(async move {
            // The live board would redraw over the question: it is erased
            // and held until the answer (or the timeout) ends this future.
            let _paused = crate::live::pause_display();
            eprint_line(&text);
            // The end of input: no one is there to answer.
            let line = typed_lines().lock().await.recv().await?;
            Some(parse_answer(&line))
        })
    }
}

/// The lines typed on the terminal, read by one thread for the whole
/// process (started by the first question): a question that timed out
/// leaves no reader of its own behind to swallow the answer meant for the
/// next one.
fn typed_lines() -> &'static tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>> {
    static LINES: OnceLock<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>> =
        OnceLock::new();
    LINES.get_or_init(|| {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        tokio::sync::Mutex::new(receiver)
    })
}

/// `y`/`yes`, `a`/`always`; anything else is no.
pub(crate) fn parse_answer(line: &str) -> Answer {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Yes,
        "a" | "always" => Answer::Always,
        _ => Answer::No,
    }
}

/// The question as shown: fork, agent, tool and its arguments (pretty, long
/// values cut, control characters stripped: they are the model's text).
pub(crate) fn question_text(question: &ApprovalQuestion) -> String {
    let mut args = question.args.clone();
    cut_long_values(&mut args);
    let args = serde_json::to_string_pretty(&args).unwrap_or_default();
    let args = render::strip_controls(&args);
    let tool = render::strip_controls(&question.tool);
    let agent = render::strip_controls(&question.agent_type);
    format!(
        "Approve {} tool call by fork {} ({agent})?\n  tool: {tool}\n  arguments: {}\n[y]es / [n]o / [a]lways for {tool}: ",
        question.class.as_str(),
        question.fork_id.as_str(),
        args.replace('\n', "\n  "),
    )
}

fn cut_long_values(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if text.chars().count() > MAX_SHOWN_VALUE => {
            *text = render::humanize::truncate(text, MAX_SHOWN_VALUE);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(cut_long_values),
        serde_json::Value::Object(map) => map.values_mut().for_each(cut_long_values),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_core::{ForkId, ToolClass};
    use serde_json::json;

    #[test]
    fn the_question_names_fork_agent_and_tool_and_cleans_the_arguments() {
        let question = ApprovalQuestion {
            fork_id: ForkId::generate(),
            agent_type: "code".into(),
            tool: "bash".into(),
            class: ToolClass::Shell,
            args: json!({"command": format!("echo \u{1b}[2Jhi {}", "x".repeat(500))}),
        };
        let text = question_text(&question);
        assert!(text.contains("tool: bash"), "{text}");
        assert!(text.contains("(code)"), "{text}");
        assert!(text.contains(question.fork_id.as_str()), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "a control character reached the terminal"
        );
        assert!(!text.contains(&"x".repeat(300)), "a long value was not cut");
    }

    /// The configured timeout reaches the gate (agent-core's approval
    /// tests show, with paused time, that an unanswered question denies
    /// after exactly the gate's timeout).
    #[test]
    fn the_gate_gives_a_person_the_configured_time() {
        let policy = agent_core::ApprovalPolicy::default();
        let gate = approvals(policy, Duration::from_secs(7), None);
        assert_eq!(gate.question_timeout(), Duration::from_secs(7));
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer("y\n"), Answer::Yes);
        assert_eq!(parse_answer(" Always "), Answer::Always);
        assert_eq!(parse_answer("no"), Answer::No);
        assert_eq!(parse_answer(""), Answer::No);
    }
}
