//! `agent-fork runs report` in a real browser, from runs the binary
//! replayed: the plan of the orchestrator example, and a swarm whose
//! authored cassette (tests/cassettes/hostile_report.json) plants script
//! tags, event handlers, javascript: and data: links, an image, SVG tricks
//! and raw HTML in a reply, its modelVersion and an error message. Headless
//! Chromium loads each report; the DOM must hold every step or fork with
//! its status and the costs, the console must stay empty, no request may
//! leave for another host, and no payload may run (also with the page's
//! Content-Security-Policy removed). Screenshots are kept under
//! target/tmp/report-browser/. Without Chromium the tests skip with a
//! message (and fail under CI=true).

#![allow(clippy::print_stderr, reason = "a skipped test says why")]

use std::path::{Path, PathBuf};

use test_support::browser::{Chromium, Loaded};

mod common;
use common::{run, stdout_of};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn browser(test: &str) -> Option<Chromium> {
    let found = Chromium::require(test);
    if found.is_none() {
        eprintln!("{test}: skipped, Chromium is not installed (set CHROMIUM or install chromium)");
    }
    found
}

fn screenshot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("report-browser")
        .join(format!("{name}.png"))
}

/// The newest run's report, written by `runs report -o`.
fn report_of_latest(dir: &Path) -> String {
    let list = stdout_of(&run(dir, &["runs", "list", "--json"], 0));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    // Newest first.
    let id = list["runs"][0]["run_id"].as_str().unwrap().to_owned();
    let path = dir.join("report.html");
    run(
        dir,
        &["runs", "report", &id, "-o", path.to_str().unwrap()],
        0,
    );
    std::fs::read_to_string(path).unwrap()
}

fn assert_clean(name: &str, loaded: &Loaded) {
    loaded.assert_clean(name);
    loaded.assert_links_safe(name);
}

#[test]
fn a_replayed_plan_in_a_browser() {
    let name = "replayed_plan";
    let Some(chromium) = browser(name) else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let cassette = repo("fixtures/sessions/orchestrator.json");
    run(
        dir,
        &[
            "--replay",
            cassette.to_str().unwrap(),
            "--json",
            "plan",
            "--goal",
            "Design a simple user authentication system for a web API",
            "--context",
            "Using Python with FastAPI framework",
            "--max-steps",
            "4",
        ],
        0,
    );
    let html = report_of_latest(dir);
    let loaded = chromium.load_html(&html, 500, &screenshot(name));
    assert_clean(name, &loaded);
    let dom = &loaded.dom;
    for step in ["step_1", "step_2", "step_3", "step_4"] {
        assert!(
            dom.contains(&format!("<span class=\"label\">{step}</span>")),
            "{step}"
        );
    }
    assert_eq!(dom.matches("data-status=\"completed\"").count(), 4);
    assert_eq!(
        dom.matches("<g class=\"node s-completed").count(),
        4,
        "the DAG"
    );
    assert!(dom.contains("<td id=\"total-cost\">$"), "the total cost");
    assert_eq!(
        dom.matches("<td class=\"cost\">$").count(),
        4,
        "each step's cost"
    );
}

#[test]
fn a_hostile_failed_swarm_in_a_browser_runs_nothing() {
    let name = "hostile_swarm";
    let Some(chromium) = browser(name) else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let cassette = repo("tests/cassettes/hostile_report.json");
    run(
        dir,
        &[
            "--replay",
            cassette.to_str().unwrap(),
            "swarm",
            "--type",
            "analysis",
            "--no-consolidate",
            "Summarise the hostile page.",
            "Fail loudly.",
        ],
        1,
    );
    let html = report_of_latest(dir);
    let loaded = chromium.load_html(&html, 500, &screenshot(name));
    assert_clean(name, &loaded);
    let dom = &loaded.dom;
    assert!(dom.contains("id=\"u-0\" data-status=\"completed\""));
    assert!(dom.contains("id=\"u-1\" data-status=\"failed\""));
    // The payloads are on the page, as text.
    assert!(dom.contains("&lt;script&gt;document.body.dataset.pwned=1&lt;/script&gt;"));
    assert!(dom.contains("gemini-3.1-pro-preview&lt;img src=x onerror="));
    assert!(dom.contains("Invalid value \"&gt;&lt;svg onload="));
    // Escaping alone holds: without the page's policy nothing runs either.
    let start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let end = start + html[start..].find('>').unwrap() + 1;
    let open = format!("{}{}", &html[..start], &html[end..]);
    let loaded = chromium.load_html(&open, 500, &screenshot("hostile_swarm_without_csp"));
    assert_clean("hostile swarm without CSP", &loaded);
}
