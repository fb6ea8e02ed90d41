//! The pages in a real browser: headless Chromium loads the report of a
//! failed plan, a failed swarm, an interrupted plan and a hostile run
//! (each written as a signed journal and read back through planner's
//! reader), and the live view of a run; the tests check the DOM (every
//! step, its status, the costs), that the console stayed empty, that no
//! request left for another host, and that no planted payload ran.
//! Screenshots are kept under `target/tmp/run-view-browser/` for review.
//!
//! Without Chromium the tests skip with a message (and fail under CI=true).

#![allow(clippy::print_stderr, reason = "a skipped test says why")]

mod common;

use std::path::PathBuf;

use planner::journal::JournalRecord;
use planner::read_journal;
use run_view::{PageMode, RunView, report_html};
use test_support::browser::Chromium;

fn browser(test: &str) -> Option<Chromium> {
    let found = Chromium::require(test);
    if found.is_none() {
        eprintln!("{test}: skipped, Chromium is not installed (set CHROMIUM or install chromium)");
    }
    found
}

fn screenshot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("run-view-browser")
        .join(format!("{name}.png"))
}

/// The run written as a signed journal and read back, as the CLI would.
fn from_disk(records: &[JournalRecord]) -> (tempfile::TempDir, RunView) {
    let folder = tempfile::tempdir().unwrap();
    let dir = common::write_journal(folder.path(), records);
    let contents = read_journal(&dir.join("journal.jsonl"), &common::key()).unwrap();
    (folder, RunView::from_journal(&contents))
}

/// Every unit of `view` is in the DOM with its status.
fn assert_units(name: &str, view: &RunView, dom: &str) {
    assert_eq!(
        dom.matches("<article class=\"unit").count(),
        view.units.len(),
        "{name}: one article per step or fork"
    );
    for (index, unit) in view.units.iter().enumerate() {
        let expected = format!("id=\"u-{index}\" data-status=\"{}\"", unit.status.as_str());
        assert!(dom.contains(&expected), "{name}: missing {expected}");
    }
    assert!(
        dom.contains("id=\"total-cost\">$"),
        "{name}: the total cost"
    );
}

fn check_report(name: &str, records: &[JournalRecord], statuses: &[&str]) {
    let Some(chromium) = browser(name) else {
        return;
    };
    let (_folder, view) = from_disk(records);
    let got: Vec<_> = view.units.iter().map(|unit| unit.status.as_str()).collect();
    assert_eq!(got, statuses, "{name}");
    let loaded = chromium.load_html(
        &report_html(&view, &PageMode::Report),
        500,
        &screenshot(name),
    );
    loaded.assert_clean(name);
    assert_units(name, &view, &loaded.dom);
}

#[test]
fn failed_plan_report_in_a_browser() {
    let (records, _) = common::failed_plan();
    check_report(
        "failed_plan",
        &records,
        &["completed", "completed", "failed", "skipped"],
    );
}

#[test]
fn failed_swarm_report_in_a_browser() {
    let (records, _) = common::failed_swarm();
    check_report(
        "failed_swarm",
        &records,
        &["completed", "completed", "failed"],
    );
}

#[test]
fn interrupted_plan_report_in_a_browser() {
    let (records, _) = common::interrupted_plan();
    check_report("interrupted_plan", &records, &["completed", "interrupted"]);
}

#[test]
fn planted_payloads_never_run_even_without_the_csp() {
    let name = "hostile";
    let Some(chromium) = browser(name) else {
        return;
    };
    let (records, _) = common::hostile_plan();
    let (_folder, view) = from_disk(&records);
    let html = report_html(&view, &PageMode::Report);
    let loaded = chromium.load_html(&html, 500, &screenshot(name));
    loaded.assert_clean(name);
    assert_units(name, &view, &loaded.dom);
    // The payloads are on the page as text.
    assert!(
        loaded
            .dom
            .contains("&lt;script&gt;document.body.dataset.pwned=1&lt;/script&gt;")
    );
    // Escaping alone holds: the same page without its policy runs nothing
    // either (a payload that became markup would run, or fetch, here).
    let csp_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
    let open = format!("{}{}", &html[..csp_start], &html[csp_end..]);
    assert!(!open.contains("Content-Security-Policy"));
    let loaded = chromium.load_html(&open, 500, &screenshot("hostile_without_csp"));
    loaded.assert_clean("hostile without CSP");
    loaded.assert_links_safe("hostile without CSP");
}

#[test]
fn the_live_view_in_a_browser() {
    let name = "live_view";
    let Some(chromium) = browser(name) else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::failed_plan();
    let dir = common::write_journal(folder.path(), &records);
    let contents = read_journal(&dir.join("journal.jsonl"), &common::key()).unwrap();
    let view = RunView::from_journal(&contents);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(run_view::serve(
            folder.path().to_owned(),
            common::key(),
            // Streams end after their first event, so the headless
            // browser's virtual clock (which waits for open requests) runs.
            run_view::ServeOptions::default().stream_lifetime(std::time::Duration::ZERO),
        ))
        .unwrap();
    let page = format!(
        "http://{}/runs/{}?token={}",
        server.addr(),
        view.id,
        server.token()
    );
    let loaded = chromium.load(&page, 1500, &screenshot(name));
    loaded.assert_clean(name);
    assert_units(name, &view, &loaded.dom);
    // The live script ran under the policy (only it sets these words; the
    // server renders "live") and its event stream opened and closed.
    let state_by_script = ["connected", "reconnecting", "live, event"]
        .iter()
        .any(|word| {
            loaded
                .dom
                .contains(&format!("<span id=\"live-state\">{word}"))
        });
    assert!(state_by_script, "{}", loaded.dom);
    // The run list links to the run.
    let index = chromium.load(&server.url(), 500, &screenshot("live_index"));
    index.assert_clean("live index");
    assert!(
        index.dom.contains(&format!(">{}</a>", view.id)),
        "{}",
        index.dom
    );
    runtime.block_on(server.shutdown());
}

#[test]
fn the_live_view_follows_the_journal_in_a_browser() {
    let name = "live_update";
    let Some(chromium) = browser(name) else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::interrupted_plan();
    let planner::JournalEvent::RunStarted { meta } = &records[0].event else {
        unreachable!("a run begins with run_started")
    };
    // The run goes on: step b is running, the journal stays open.
    let journal = planner::Journal::create(folder.path(), meta.clone(), &common::key()).unwrap();
    for record in &records[1..records.len() - 1] {
        journal.append(record.event.clone()).unwrap();
    }
    journal.flush().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A stream stays open a few seconds: while it is open the headless
    // browser's virtual clock stands still, so the page is still there
    // when the journal grows.
    let options =
        run_view::ServeOptions::default().stream_lifetime(std::time::Duration::from_secs(2));
    let server = runtime
        .block_on(run_view::serve(
            folder.path().to_owned(),
            common::key(),
            options,
        ))
        .unwrap();
    let page = format!(
        "http://{}/runs/{}?token={}",
        server.addr(),
        meta.id,
        server.token()
    );
    let browser = std::thread::spawn(move || chromium.load(&page, 1500, &screenshot(name)));
    // Once the page follows the run, step b completes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.streams_opened() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the page never opened its event stream"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    journal
        .append(planner::JournalEvent::StepCompleted {
            id: "b".into(),
            output: planner::StepOutput::text("Wrote the parser live."),
        })
        .unwrap();
    journal.flush().unwrap();
    let loaded = browser.join().unwrap();
    loaded.assert_clean(name);
    assert!(
        loaded.dom.contains("id=\"u-1\" data-status=\"completed\""),
        "the page did not follow the journal:\n{}",
        loaded.dom
    );
    journal.close().unwrap();
    runtime.block_on(server.shutdown());
}
