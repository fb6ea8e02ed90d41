//! Durable runs: journal round trips, crash leftovers, listings, resume
//! state, atomic result files and unwritable folders.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use planner::journal::{JournalRecord, write_json_atomic};
use planner::{
    Journal, JournalError, JournalEvent, JournalKey, Plan, RunId, RunKind, RunLock, RunMeta,
    RunState, ScheduleEvent, StepOutput, WorkflowStatus, latest_unfinished, list_runs,
    load_resume_state, parse_plan, read_journal, read_result,
};
use serde_json::json;

fn meta(id: &str, created: &str, kind: RunKind) -> RunMeta {
    RunMeta {
        id: id.parse().expect("valid id"),
        kind,
        created: created.into(),
        summary: format!("summary of {id}"),
        args: json!({"goal": "test"}),
    }
}

/// The key every test journal is signed with.
fn key() -> JournalKey {
    JournalKey::from_bytes([42; 32])
}

fn sample_plan() -> Plan {
    parse_plan(
        r#"[{"step_id": "step_1", "agent_type": "code", "task": "a"},
            {"step_id": "step_2", "agent_type": "code", "task": "b", "depends_on": ["step_1"]}]"#,
    )
    .expect("plan")
}

fn journal_path(journal: &Journal) -> std::path::PathBuf {
    journal.dir().join("journal.jsonl")
}

fn events(path: &Path) -> Vec<JournalEvent> {
    read_journal(path, &key())
        .expect("readable")
        .records
        .into_iter()
        .map(|r| r.event)
        .collect()
}

#[test]
fn events_round_trip_with_sequence_numbers_and_times() {
    let base = tempfile::tempdir().expect("temp dir");
    let run_meta = meta("run_a", "2026-11-28T07:49:02.000Z", RunKind::Plan);
    let journal = Journal::create(base.path(), run_meta.clone(), &key()).expect("create");
    assert_eq!(journal.dir(), base.path().join("run_a"));
    let output = StepOutput {
        text: "result".into(),
        extra: json!({"usage": {"total_tokens": 12}}),
    };
    let written = vec![
        JournalEvent::PlanReady {
            plan: sample_plan(),
        },
        JournalEvent::StepStarted {
            id: "step_1".into(),
            attempt: 1,
        },
        JournalEvent::StepCompleted {
            id: "step_1".into(),
            output: output.clone(),
        },
        JournalEvent::StepFailed {
            id: "step_2".into(),
            error: "boom".into(),
        },
        JournalEvent::StepSkipped {
            id: "step_3".into(),
            reason: "dependency step_2 failed: boom".into(),
        },
        JournalEvent::ItemCompleted {
            index: 0,
            result: json!("ok"),
        },
        JournalEvent::ItemFailed {
            index: 1,
            error: "bad".into(),
        },
        JournalEvent::RunFinished {
            status: WorkflowStatus::Failed,
        },
    ];
    for (i, event) in written.iter().enumerate() {
        assert_eq!(journal.append(event.clone()).expect("append"), i as u64 + 1);
    }
    journal.flush().expect("flush");

    let contents = read_journal(&journal_path(&journal), &key()).expect("read");
    assert!(contents.warnings.is_empty());
    assert!(!contents.truncated_tail);
    let seqs: Vec<u64> = contents.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (0..=8).collect::<Vec<_>>());
    assert_eq!(contents.meta(), Some(&run_meta));
    assert!(
        contents
            .records
            .iter()
            .all(|r| r.at.ends_with('Z') && r.at.contains('T'))
    );
    let mut expected = vec![JournalEvent::RunStarted { meta: run_meta }];
    expected.extend(written);
    assert_eq!(events(&journal_path(&journal)), expected);
    assert_eq!(contents.state(), RunState::Failed);

    // The wire form is one tagged object per line.
    let text = std::fs::read_to_string(journal_path(&journal)).expect("read");
    let second: serde_json::Value =
        serde_json::from_str(text.lines().nth(2).expect("line")).expect("json");
    assert_eq!(
        second["event"],
        json!({"type": "step_started", "id": "step_1", "attempt": 1})
    );
}

#[test]
fn item_results_are_serialised_by_the_writer_and_read_back_as_values() {
    #[derive(serde::Serialize)]
    struct Outcome {
        text: String,
        tokens: u64,
        tools: Vec<Option<String>>,
    }
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_items", "2026-01-01T00:00:00.000Z", RunKind::Swarm),
        &key(),
    )
    .expect("create");
    let path = journal_path(&journal);
    let outcome = Outcome {
        text: "a \"quoted\"\nanswer ✓".into(),
        tokens: 130,
        tools: vec![Some("read_file".into()), None],
    };
    let expected = serde_json::to_value(&outcome).expect("json");
    assert_eq!(journal.append_item(7, outcome).expect("append"), 1);
    assert_eq!(
        journal
            .append(JournalEvent::ItemFailed {
                index: 8,
                error: "bad".into(),
            })
            .expect("append"),
        2
    );
    journal.close().expect("close");

    let contents = read_journal(&path, &key()).expect("read");
    assert!(contents.warnings.is_empty(), "{:?}", contents.warnings);
    assert_eq!(
        contents.records[1].event,
        JournalEvent::ItemCompleted {
            index: 7,
            result: expected.clone(),
        }
    );
    assert_eq!(contents.records[1].seq, 1);
    assert!(contents.records[1].at.ends_with('Z'));
    // The same wire form as any other event.
    let text = std::fs::read_to_string(&path).expect("read");
    let line: serde_json::Value =
        serde_json::from_str(text.lines().nth(1).expect("line")).expect("json");
    assert_eq!(
        line["event"],
        json!({"type": "item_completed", "index": 7, "result": expected})
    );
    let state = load_resume_state(&base.path().join("run_items"), &key()).expect("resume");
    assert_eq!(
        state.completed_items.keys().copied().collect::<Vec<_>>(),
        [7]
    );
}

#[test]
fn events_reach_the_file_without_waiting_for_a_flush() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_prompt", "2026-01-01T00:00:00.000Z", RunKind::Swarm),
        &key(),
    )
    .expect("create");
    let path = journal_path(&journal);
    for index in 0..500 {
        journal
            .append_item(index, json!({"text": format!("result {index}")}))
            .expect("append");
    }
    // The writer thread writes on its own; nobody asks it to.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let records = read_journal(&path, &key()).expect("read").records;
        if records.len() == 501 {
            let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
            assert_eq!(seqs, (0..=500).collect::<Vec<_>>());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 501 events written",
            records.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    journal.sync().expect("sync");
    drop(journal);
    assert_eq!(
        read_journal(&path, &key()).expect("read").records.len(),
        501
    );
}

#[test]
fn a_line_cut_off_mid_write_is_ignored_and_repaired_on_reopen() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_cut", "2026-01-01T00:00:00.000Z", RunKind::Plan),
        &key(),
    )
    .expect("create");
    journal
        .append(JournalEvent::StepCompleted {
            id: "step_1".into(),
            output: StepOutput::text("paid for"),
        })
        .expect("append");
    let path = journal_path(&journal);
    drop(journal);

    // Power loss halfway through the next line.
    let next = serde_json::to_string(&JournalRecord {
        seq: 2,
        at: "2026-01-01T00:00:01.000Z".into(),
        event: JournalEvent::StepCompleted {
            id: "step_2".into(),
            output: StepOutput::text("lost"),
        },
    })
    .expect("json");
    let mut file = OpenOptions::new().append(true).open(&path).expect("open");
    file.write_all(&next.as_bytes()[..next.len() / 2])
        .expect("write");
    drop(file);

    let contents = read_journal(&path, &key()).expect("a cut tail is not an error");
    assert!(contents.truncated_tail);
    assert!(contents.warnings.is_empty());
    assert_eq!(contents.records.len(), 2);
    let state = load_resume_state(&base.path().join("run_cut"), &key()).expect("resume");
    assert_eq!(state.completed_steps.len(), 1);
    assert_eq!(state.completed_steps[&"step_1".into()].text, "paid for");
    assert_eq!(state.state, RunState::Unfinished);

    // Reopening drops the cut tail so new events start on their own line.
    let journal = Journal::reopen(&base.path().join("run_cut"), &key()).expect("reopen");
    journal
        .append(JournalEvent::RunFinished {
            status: WorkflowStatus::Completed,
        })
        .expect("append");
    journal.flush().expect("flush");
    let contents = read_journal(&path, &key()).expect("read");
    assert!(!contents.truncated_tail);
    assert!(contents.warnings.is_empty());
    let seqs: Vec<u64> = contents.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    assert_eq!(contents.records[2].event, JournalEvent::RunResumed);
    assert_eq!(contents.state(), RunState::Completed);
}

#[test]
fn a_damaged_line_in_the_middle_makes_the_journal_untrusted() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_bad", "2026-01-01T00:00:00.000Z", RunKind::Plan),
        &key(),
    )
    .expect("create");
    let path = journal_path(&journal);
    OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(b"{not json\n"))
        .expect("damage");
    journal
        .append(JournalEvent::StepCompleted {
            id: "step_2".into(),
            output: StepOutput::text("after the damage"),
        })
        .expect("append");
    journal.flush().expect("flush");
    let error = read_journal(&path, &key()).expect_err("an edited journal is refused");
    assert!(
        matches!(&error, JournalError::Untrusted { reason, .. } if reason == "line 2 carries no MAC"),
        "{error}"
    );
    drop(journal);
    assert!(matches!(
        load_resume_state(&base.path().join("run_bad"), &key()),
        Err(JournalError::Untrusted { .. })
    ));
}

#[test]
fn runs_are_listed_newest_first_with_their_state() {
    let base = tempfile::tempdir().expect("temp dir");
    let finish = |id: &str, created: &str, end: Option<JournalEvent>| {
        let journal = Journal::create(
            base.path(),
            meta(id, created, RunKind::Workflow("refine".into())),
            &key(),
        )
        .expect("create");
        if let Some(end) = end {
            journal.append(end).expect("append");
        }
    };
    finish("run_old", "2026-01-01T00:00:00.000Z", None);
    finish(
        "run_done",
        "2026-01-02T00:00:00.000Z",
        Some(JournalEvent::RunFinished {
            status: WorkflowStatus::Completed,
        }),
    );
    finish(
        "run_stopped",
        "2026-01-03T00:00:00.000Z",
        Some(JournalEvent::RunInterrupted),
    );
    finish(
        "run_failed",
        "2026-01-04T00:00:00.000Z",
        Some(JournalEvent::RunFinished {
            status: WorkflowStatus::Failed,
        }),
    );
    // Not runs: an empty folder and a stray file.
    std::fs::create_dir(base.path().join("not_a_run")).expect("dir");
    std::fs::write(base.path().join("notes.txt"), "hi").expect("file");

    // A planted journal (no MACs) is listed apart, as untrusted.
    let planted = base.path().join("run_planted");
    std::fs::create_dir(&planted).expect("dir");
    let forged = serde_json::to_string(&JournalRecord {
        seq: 0,
        at: "2999-01-01T00:00:00.000Z".into(),
        event: JournalEvent::RunStarted {
            meta: meta("run_planted", "2999-01-01T00:00:00.000Z", RunKind::Plan),
        },
    })
    .expect("json");
    std::fs::write(planted.join("journal.jsonl"), forged + "\n").expect("plant");

    let listing = list_runs(base.path(), &key()).expect("list");
    assert_eq!(listing.untrusted.len(), 1);
    assert_eq!(listing.untrusted[0].dir, planted);
    assert_eq!(listing.untrusted[0].reason, "line 1 carries no MAC");
    let runs = listing.runs;
    let listed: Vec<(&str, RunState)> = runs.iter().map(|r| (r.id.as_str(), r.state)).collect();
    assert_eq!(
        listed,
        [
            ("run_failed", RunState::Failed),
            ("run_stopped", RunState::Interrupted),
            ("run_done", RunState::Completed),
            ("run_old", RunState::Unfinished),
        ]
    );
    assert_eq!(runs[0].kind, RunKind::Workflow("refine".into()));
    assert_eq!(runs[0].summary, "summary of run_failed");
    assert_eq!(runs[0].dir, base.path().join("run_failed"));

    let latest = latest_unfinished(base.path(), &key())
        .expect("list")
        .expect("one");
    assert_eq!(latest.id.as_str(), "run_stopped");
    assert!(
        list_runs(&base.path().join("nowhere"), &key())
            .expect("missing base")
            .runs
            .is_empty()
    );
    assert!(
        latest_unfinished(&base.path().join("nowhere"), &key())
            .expect("ok")
            .is_none()
    );
}

#[test]
fn resume_state_collects_plan_steps_and_items() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_r", "2026-01-01T00:00:00.000Z", RunKind::Plan),
        &key(),
    )
    .expect("create");
    let plan = sample_plan();
    journal.save_plan(&plan).expect("plan");
    let scheduled = [
        ScheduleEvent::StepReused { id: "x".into() },
        ScheduleEvent::StepStarted {
            id: "step_1".into(),
            attempt: 1,
        },
        ScheduleEvent::StepCompleted {
            id: "step_1".into(),
            output: StepOutput::text("one"),
        },
        ScheduleEvent::StepStarted {
            id: "step_2".into(),
            attempt: 1,
        },
    ];
    for event in &scheduled {
        journal.record(event).expect("record");
    }
    journal
        .append(JournalEvent::ItemCompleted {
            index: 3,
            result: json!({"text": "three"}),
        })
        .expect("append");
    journal
        .append(JournalEvent::ItemFailed {
            index: 1,
            error: "no".into(),
        })
        .expect("append");
    journal.flush().expect("flush");

    let state = load_resume_state(journal.dir(), &key()).expect("resume");
    assert_eq!(state.plan.as_ref(), Some(&plan));
    assert_eq!(state.meta.id.as_str(), "run_r");
    assert_eq!(state.state, RunState::Unfinished);
    let completed: Vec<&str> = state.completed_steps.keys().map(|id| id.as_str()).collect();
    assert_eq!(completed, ["step_1"]);
    assert_eq!(
        state.completed_items.keys().copied().collect::<Vec<_>>(),
        [3]
    );
    // StepReused is not journalled again.
    assert_eq!(
        read_journal(&journal_path(&journal), &key())
            .expect("read")
            .records
            .len(),
        7
    );

    // plan.json holds the same plan, editable by hand.
    let saved = Plan::from_file(&journal.dir().join("plan.json")).expect("plan.json");
    assert_eq!(saved, plan);
}

#[test]
fn results_are_written_atomically() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_res", "2026-01-01T00:00:00.000Z", RunKind::Fork),
        &key(),
    )
    .expect("create");
    journal
        .save_result(&json!({"status": "first"}))
        .expect("save");
    journal
        .save_result(&json!({"status": "second"}))
        .expect("save again");
    let path = journal.dir().join("result.json");
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(value, json!({"status": "second"}));
    let leftovers: Vec<String> = std::fs::read_dir(journal.dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A failed write leaves the old file whole: the temp file cannot be made
    // when a folder stands in its way.
    std::fs::create_dir(journal.dir().join(".result.json.tmp")).expect("block temp");
    assert!(journal.save_result(&json!({"status": "third"})).is_err());
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(value, json!({"status": "second"}));

    let elsewhere = base.path().join("x.json");
    write_json_atomic(&elsewhere, &json!([1, 2])).expect("write");
    assert_eq!(
        std::fs::read_to_string(&elsewhere).expect("read"),
        "[\n  1,\n  2\n]\n"
    );
}

#[test]
fn an_unwritable_base_is_a_clear_error() {
    let base = tempfile::tempdir().expect("temp dir");
    // A file where a folder is needed fails even for root.
    let file = base.path().join("occupied");
    std::fs::write(&file, "").expect("file");
    let runs = file.join("runs");
    let err = Journal::create(
        &runs,
        meta("run_x", "2026-01-01T00:00:00.000Z", RunKind::Fork),
        &key(),
    )
    .expect_err("cannot create");
    assert!(matches!(err, JournalError::CreateDir { .. }));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot create the run folder {}",
            runs.join("run_x").display()
        )),
        "{message}"
    );
    assert!(
        message.ends_with("; choose a writable runs folder or fix its permissions"),
        "{message}"
    );
    assert!(!message.contains('\n'));
}

#[test]
fn folders_that_are_not_runs_are_named_in_errors() {
    let base = tempfile::tempdir().expect("temp dir");
    let err = load_resume_state(base.path(), &key())
        .expect_err("not a run")
        .to_string();
    assert_eq!(
        err,
        format!(
            "{} has no journal.jsonl, so it is not a run folder; pick a folder from the run list",
            base.path().display()
        )
    );
    std::fs::write(base.path().join("journal.jsonl"), "").expect("empty journal");
    let err = load_resume_state(base.path(), &key())
        .expect_err("no start")
        .to_string();
    assert!(
        err.ends_with(
            "does not begin with a run_started event; the journal is damaged and cannot be resumed"
        ),
        "{err}"
    );
    assert!(matches!(
        Journal::reopen(&base.path().join("nope"), &key()),
        Err(JournalError::NotARun { .. })
    ));
}

#[test]
fn run_ids_are_timestamped_folder_names() {
    let id = RunId::generate();
    let text = id.as_str();
    assert!(text.starts_with("run_"), "{text}");
    let parts: Vec<&str> = text.split('_').collect();
    assert_eq!(parts.len(), 4, "{text}");
    assert_eq!(parts[1].len(), 8);
    assert_eq!(parts[2].len(), 6);
    assert_eq!(parts[3].len(), 4);
    assert!(
        parts[1..]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
    );
    assert_eq!(text.parse::<RunId>().as_ref(), Ok(&id));
    for bad in ["", "a/b", "..", "run x"] {
        assert!(bad.parse::<RunId>().is_err(), "{bad:?}");
    }
    let fresh = RunMeta::new(RunKind::Swarm, "three tasks", json!(null));
    assert!(fresh.created.ends_with('Z'));
    assert_eq!(
        serde_json::to_value(RunKind::Workflow("map_reduce".into())).expect("json"),
        json!({"workflow": "map_reduce"})
    );
    assert_eq!(
        serde_json::to_value(RunKind::Fork).expect("json"),
        json!("fork")
    );
}

/// A finished two-event run `id` under `base`, with a saved result.
fn finished_run(base: &Path, id: &str) -> std::path::PathBuf {
    let journal = Journal::create(
        base,
        meta(id, "2026-01-01T00:00:00.000Z", RunKind::Fork),
        &key(),
    )
    .expect("create");
    journal
        .append(JournalEvent::StepCompleted {
            id: "step_1".into(),
            output: StepOutput::text("done"),
        })
        .expect("append");
    journal.save_result(&json!({"answer": 4})).expect("save");
    journal
        .append(JournalEvent::RunFinished {
            status: WorkflowStatus::Completed,
        })
        .expect("append");
    let dir = journal.dir().to_owned();
    journal.close().expect("close");
    dir
}

fn lines_of(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn untrusted(dir: &Path, key: &JournalKey) -> String {
    match read_journal(&dir.join("journal.jsonl"), key) {
        Err(JournalError::Untrusted { reason, .. }) => reason,
        other => panic!("expected an untrusted journal, got {other:?}"),
    }
}

#[test]
fn lines_cannot_be_edited_dropped_reordered_spliced_or_signed_with_another_key() {
    let base = tempfile::tempdir().expect("temp dir");
    let a = finished_run(base.path(), "run_a");
    let b = finished_run(base.path(), "run_b");
    let contents = read_journal(&a.join("journal.jsonl"), &key()).expect("genuine");
    assert_eq!(contents.records.len(), 4);
    assert_eq!(
        read_result(&a, &contents).expect("result"),
        Some(json!({"answer": 4}))
    );
    let original = lines_of(&a);
    let write = |lines: &[String]| {
        std::fs::write(a.join("journal.jsonl"), lines.join("\n") + "\n").expect("write");
    };

    // Another user's key.
    let other = JournalKey::from_bytes([1; 32]);
    assert_eq!(untrusted(&a, &other), "the MAC of line 1 does not match");
    // An edited line (the MAC left as it was).
    let mut edited = original.clone();
    edited[1] = edited[1].replace("done", "DONE");
    write(&edited);
    assert_eq!(untrusted(&a, &key()), "the MAC of line 2 does not match");
    // A line dropped from the middle.
    let mut dropped = original.clone();
    dropped.remove(1);
    write(&dropped);
    assert_eq!(untrusted(&a, &key()), "the MAC of line 2 does not match");
    // Two lines swapped.
    let mut swapped = original.clone();
    swapped.swap(1, 2);
    write(&swapped);
    assert_eq!(untrusted(&a, &key()), "the MAC of line 2 does not match");
    // A line from run_b, at the same place.
    let mut spliced = original.clone();
    spliced[1] = lines_of(&b)[1].clone();
    write(&spliced);
    assert_eq!(untrusted(&a, &key()), "the MAC of line 2 does not match");
    // run_b's whole journal copied into run_a's folder.
    write(&lines_of(&b));
    assert_eq!(untrusted(&a, &key()), "the MAC of line 1 does not match");

    // The genuine journal again, with a result.json that is not the one saved.
    write(&original);
    let contents = read_journal(&a.join("journal.jsonl"), &key()).expect("genuine");
    std::fs::write(a.join("result.json"), "{\"answer\": 5}\n").expect("replace");
    assert!(matches!(
        read_result(&a, &contents),
        Err(JournalError::Untrusted { .. })
    ));
}

#[test]
fn one_process_at_a_time_works_on_a_run() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_busy", "2026-01-01T00:00:00.000Z", RunKind::Fork),
        &key(),
    )
    .expect("create");
    let dir = journal.dir().to_owned();
    assert!(matches!(
        RunLock::acquire(&dir),
        Err(JournalError::Locked { .. })
    ));
    assert!(matches!(
        Journal::reopen(&dir, &key()),
        Err(JournalError::Locked { .. })
    ));
    drop(journal);
    // The lock ends with its holder; the `.lock` file left behind blocks nobody.
    let lock = RunLock::acquire(&dir).expect("free again");
    assert!(matches!(
        Journal::reopen(&dir, &key()),
        Err(JournalError::Locked { .. })
    ));
    let journal = Journal::reopen_locked(lock, &key()).expect("reopen");
    drop(journal);
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_link_named_journal_jsonl_is_refused_without_waiting() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = base.path().join("run_fifo");
    std::fs::create_dir(&dir).expect("dir");
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("journal.jsonl"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // Reading a FIFO with no writer would wait forever; this returns at once.
    assert!(matches!(
        read_journal(&dir.join("journal.jsonl"), &key()),
        Err(JournalError::Read { .. })
    ));
    assert!(load_resume_state(&dir, &key()).is_err());
    let listing = list_runs(base.path(), &key()).expect("list");
    assert_eq!(listing.untrusted.len(), 1);
    assert!(
        listing.untrusted[0].reason.contains("not a regular file"),
        "{}",
        listing.untrusted[0].reason
    );

    let genuine = finished_run(base.path(), "run_real");
    let linked = base.path().join("run_link");
    std::fs::create_dir(&linked).expect("dir");
    std::os::unix::fs::symlink(genuine.join("journal.jsonl"), linked.join("journal.jsonl"))
        .expect("link");
    assert!(read_journal(&linked.join("journal.jsonl"), &key()).is_err());
}

/// The one outcome type keeps the journal's on-disk values of the two
/// enums it replaced: `run_finished` with `completed`/`failed`, and a
/// cancelled run as `run_interrupted`.
#[test]
fn run_endings_keep_their_on_disk_values() {
    let line = |status| serde_json::to_value(JournalEvent::ending(status)).unwrap();
    assert_eq!(
        line(WorkflowStatus::Completed),
        json!({"type": "run_finished", "status": "completed"})
    );
    assert_eq!(
        line(WorkflowStatus::Failed),
        json!({"type": "run_finished", "status": "failed"})
    );
    assert_eq!(
        line(WorkflowStatus::Cancelled),
        json!({"type": "run_interrupted"})
    );
}

#[test]
fn a_run_stopped_by_its_budget_is_resumable_and_its_sessions_spending_adds_up() {
    use genai_client::{CostTotal, Usd};
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_budget", "2026-11-29T07:00:00.000Z", RunKind::Plan),
        &key(),
    )
    .expect("create");
    let session = |dollars: f64, unpriced: u64| CostTotal {
        usd: Usd::from_dollars(dollars),
        priced_calls: 2,
        unpriced_calls: unpriced,
        ..CostTotal::default()
    };
    journal
        .append(JournalEvent::Spent {
            cost: session(0.25, 0),
            tokens: 1_000,
        })
        .expect("append");
    journal
        .append(JournalEvent::ending(WorkflowStatus::BudgetExhausted))
        .expect("append");
    journal.flush().expect("flush");
    let path = journal_path(&journal);
    let contents = read_journal(&path, &key()).expect("read");
    assert_eq!(contents.state(), RunState::BudgetExhausted);
    assert!(contents.state().is_unfinished());
    let latest = latest_unfinished(base.path(), &key())
        .expect("list")
        .expect("the budget-stopped run is picked by a bare resume");
    assert_eq!(latest.id.as_str(), "run_budget");
    // On disk the status is one word.
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(r#""status":"budget_exhausted""#), "{text}");
    // A second session spends more; the run's cost is the sum.
    journal.append(JournalEvent::RunResumed).expect("append");
    journal
        .append(JournalEvent::Spent {
            cost: session(0.5, 1),
            tokens: 500,
        })
        .expect("append");
    journal.flush().expect("flush");
    let state = load_resume_state(journal.dir(), &key()).expect("state");
    let (cost, tokens) = state.spent;
    assert_eq!(cost.usd, Usd::from_dollars(0.75));
    assert_eq!((cost.priced_calls, cost.unpriced_calls), (4, 1));
    assert_eq!(tokens, 1_500);
    let listed = list_runs(base.path(), &key()).expect("list");
    assert_eq!(listed.runs[0].cost, cost);
}

#[test]
fn approval_decisions_are_journalled_and_come_back_for_a_resume() {
    let base = tempfile::tempdir().expect("temp dir");
    let journal = Journal::create(
        base.path(),
        meta("run_approvals", "2026-11-29T23:00:00.000Z", RunKind::Fork),
        &key(),
    )
    .expect("create");
    let record = agent_core::ApprovalRecord {
        tool: "bash".into(),
        fork_id: Some(agent_core::ForkId::from_string("fork_1")),
        agent_type: Some("code".into()),
        call: agent_core::call_digest("bash", &json!({"command": "rm -rf secret-target"})),
        approved: false,
        always: false,
        by: agent_core::DecidedBy::Person,
        rule: None,
    };
    journal
        .append(JournalEvent::ToolApproval {
            record: record.clone(),
        })
        .expect("append");
    journal
        .append(JournalEvent::RunInterrupted)
        .expect("append");
    drop(journal);
    let text =
        std::fs::read_to_string(base.path().join("run_approvals/journal.jsonl")).expect("read");
    let line: serde_json::Value =
        serde_json::from_str(text.lines().nth(1).expect("line")).expect("json");
    assert_eq!(line["event"]["type"], "tool_approval");
    assert_eq!(line["event"]["record"]["by"], "person");
    assert!(
        !text.contains("secret-target"),
        "arguments reached the journal: {text}"
    );
    let state = load_resume_state(&base.path().join("run_approvals"), &key()).expect("resume");
    assert_eq!(state.approvals, [record]);
}
