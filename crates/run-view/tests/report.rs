//! The report's HTML: snapshots of small runs (fixed times from authored
//! journal records), the facts each page must show, and hostile model
//! output that must stay text wherever it lands.

mod common;

use planner::read_journal;
use run_view::{PageMode, RunView, report_html, run_body};

fn view(run: (Vec<planner::journal::JournalRecord>, planner::RunState)) -> RunView {
    RunView::from_records(&run.0, run.1, &[])
}

#[test]
fn failed_plan_snapshot() {
    insta::assert_snapshot!(run_body(&view(common::failed_plan())));
}

#[test]
fn failed_swarm_snapshot() {
    insta::assert_snapshot!(run_body(&view(common::failed_swarm())));
}

#[test]
fn batch_swarm_snapshot() {
    insta::assert_snapshot!(run_body(&view(common::batch_swarm())));
}

#[test]
fn a_batch_run_shows_its_job_and_a_submitted_one_says_it_is_not_polled_yet() {
    let (records, state) = common::batch_swarm();
    let html = run_body(&view((records.clone(), state)));
    assert!(
        html.contains("<td id=\"batch-name\">batches/k8j2xq</td>"),
        "{html}"
    );
    assert!(html.contains("succeeded, results collected"), "{html}");
    assert!(
        html.contains("3 in all: 2 done, 1 failed, 0 pending"),
        "{html}"
    );
    assert!(
        html.contains("<th>Collected</th><td>2026-11-28T08:49:02Z</td>"),
        "{html}"
    );
    // Cut after the job's name was journalled: submitted, never polled.
    let html = run_body(&view((
        records[..3].to_vec(),
        planner::RunState::Unfinished,
    )));
    assert!(html.contains("submitted, not polled yet"), "{html}");
    assert!(
        html.contains("<th>Submitted</th><td>2026-11-28T07:49:03Z</td>"),
        "{html}"
    );
    assert!(html.contains("<th>Collected</th><td>-</td>"), "{html}");
    // A live swarm has no batch section.
    assert!(!run_body(&view(common::failed_swarm())).contains("batch-job"));
}

#[test]
fn interrupted_plan_snapshot() {
    insta::assert_snapshot!(run_body(&view(common::interrupted_plan())));
}

#[test]
fn a_plan_shows_every_step_its_status_retries_and_the_critical_path() {
    let view = view(common::failed_plan());
    let statuses: Vec<_> = view
        .units
        .iter()
        .map(|u| (u.label.as_str(), u.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("a", "completed"),
            ("b", "completed"),
            ("c", "failed"),
            ("d", "skipped")
        ]
    );
    assert_eq!(view.units[1].attempts.len(), 2);
    assert_eq!(view.concurrency, Some(2));
    let html = report_html(&view, &PageMode::Report);
    for id in ["u-0", "u-1", "u-2", "u-3", "n-0", "n-3"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing {id}");
    }
    // a → b (retried, the longest) → d is the critical path; c is not on it.
    assert!(
        html.contains("class=\"node s-completed critical\" id=\"n-1\""),
        "{html}"
    );
    assert!(
        html.contains("class=\"node s-failed\" id=\"n-2\""),
        "{html}"
    );
    assert!(
        html.contains("class=\"bar delay\""),
        "the retry delay is drawn"
    );
    assert!(html.contains("concurrency limit 2"));
    assert!(
        html.contains("gemini-2.5-flash-001"),
        "the model that answered"
    );
    assert!(
        html.contains("<td id=\"total-cost\">$0.002500</td>"),
        "{html}"
    );
    assert!(html.contains("<details class=\"result\"><summary>Result</summary>"));
}

#[test]
fn settings_are_shown_without_secrets() {
    let html = report_html(&view(common::failed_plan()), &PageMode::Report);
    assert!(html.contains("<th>workspace</th><td>/home/dev/project</td>"));
    assert!(!html.contains("SECRET-SHOULD-NOT-SHOW"));
    assert!(!html.contains("api_key"));
}

#[test]
fn a_report_fetches_nothing_and_runs_nothing() {
    let html = report_html(&view(common::failed_plan()), &PageMode::Report);
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(!html.contains("url(http"));
    assert!(
        html.contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-")
    );
}

#[test]
fn the_same_journal_read_from_disk_gives_the_same_units() {
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::failed_plan();
    let dir = common::write_journal(folder.path(), &records);
    let contents = read_journal(&dir.join("journal.jsonl"), &common::key()).unwrap();
    let from_disk = RunView::from_journal(&contents);
    let authored = view(common::failed_plan());
    assert_eq!(from_disk.state, planner::RunState::Failed);
    let shape = |view: &RunView| {
        view.units
            .iter()
            .map(|unit| {
                (
                    unit.label.clone(),
                    unit.status,
                    unit.attempts.len(),
                    unit.fork.is_some(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&from_disk), shape(&authored));
    assert_eq!(from_disk.edges, authored.edges);
}

/// Every tag in `html` with its attributes: (name, [(attribute, value)]).
/// Text never holds a raw `<` in our pages, so every `<` opens a tag.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>').expect("every tag closes");
        let inside = &after[..close];
        rest = &after[close + 1..];
        if inside.starts_with('!') || inside.starts_with('/') {
            continue;
        }
        let mut chars = inside.trim_end_matches('/').chars().peekable();
        let name: String = chars.by_ref().take_while(|c| !c.is_whitespace()).collect();
        let mut attributes = Vec::new();
        let rest_of_tag: String = chars.collect();
        let mut text = rest_of_tag.trim();
        while !text.is_empty() {
            let end = text
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(text.len());
            let attribute = text[..end].to_owned();
            text = text[end..].trim_start();
            let mut value = String::new();
            if let Some(after_eq) = text.strip_prefix('=') {
                let after_eq = after_eq.trim_start();
                let quote = after_eq.chars().next().expect("a value");
                assert!(
                    quote == '"',
                    "unquoted attribute value in <{name} {inside}>"
                );
                let end = after_eq[1..].find('"').expect("closing quote");
                value = after_eq[1..1 + end].to_owned();
                text = after_eq[end + 2..].trim_start();
            }
            attributes.push((attribute, value));
        }
        found.push((name.to_ascii_lowercase(), attributes));
    }
    found
}

const ALLOWED_TAGS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "nav",
    "header",
    "section",
    "article",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "span",
    "div",
    "table",
    "thead",
    "tr",
    "th",
    "td",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "details",
    "summary",
    "a",
    "em",
    "strong",
    "del",
    "sup",
    "sub",
    "blockquote",
    "br",
    "hr",
    "svg",
    "defs",
    "marker",
    "path",
    "g",
    "rect",
    "text",
    "title",
    "polyline",
    "line",
];

const ALLOWED_ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "class",
    "id",
    "href",
    "rel",
    "target",
    "data-status",
    "data-lang",
    "start",
    "xmlns",
    "width",
    "height",
    "viewbox",
    "role",
    "aria-label",
    "refx",
    "markerunits",
    "refy",
    "markerwidth",
    "markerheight",
    "orient",
    "d",
    "marker-end",
    "x",
    "y",
    "rx",
    "points",
    "x1",
    "x2",
    "y1",
    "y2",
    "data-run",
    "data-seq",
];

fn assert_inert(html: &str) {
    for (name, attributes) in tags(html) {
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "tag <{name}> in the page"
        );
        for (attribute, value) in attributes {
            let attribute = attribute.to_ascii_lowercase();
            assert!(
                ALLOWED_ATTRIBUTES.contains(&attribute.as_str()),
                "attribute {attribute}=\"{value}\" on <{name}>"
            );
            if attribute == "href" {
                assert!(
                    value.starts_with('#')
                        || value.starts_with("/?token=")
                        || value.starts_with("https://")
                        || value.starts_with("http://"),
                    "link to {value:?}"
                );
                assert!(!value.contains('"') && !value.contains('<'), "{value:?}");
            }
        }
    }
    assert!(
        !html.to_ascii_lowercase().contains("javascript:window") || {
            // Allowed only as escaped text, never inside a tag.
            tags(html).iter().all(|(_, attributes)| {
                attributes
                    .iter()
                    .all(|(_, value)| !value.to_ascii_lowercase().contains("javascript:"))
            })
        }
    );
}

#[test]
fn hostile_model_output_stays_text_everywhere() {
    let view = view(common::hostile_plan());
    let html = report_html(&view, &PageMode::Report);
    assert_inert(&html);
    // The payloads are there, as text.
    assert!(html.contains("&lt;script&gt;document.body.dataset.pwned=1&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=&quot;document.body.dataset.pwned=2&quot;&gt;"));
    // Only the one safe source is a link, with its quote escaped.
    assert!(html.contains(
        "href=\"https://ok.example/&quot;onmouseover=&quot;document.body.dataset.pwned=14\""
    ));
    let live = report_html(
        &view,
        &PageMode::Live {
            token: "abc123".to_owned(),
        },
    );
    assert_inert(&live.replace("<script src=\"/live.js?token=abc123\" defer></script>", ""));
}

#[test]
fn the_tag_checker_catches_a_planted_tag() {
    let result = std::panic::catch_unwind(|| assert_inert("<p>ok</p><img src=x onerror=alert(1)>"));
    assert!(result.is_err());
    let result = std::panic::catch_unwind(|| assert_inert("<a href=\"javascript:alert(1)\">x</a>"));
    assert!(result.is_err());
}

#[test]
fn approvals_are_listed_with_fork_agent_decision_who_and_when() {
    let view = view(common::failed_swarm());
    assert_eq!(view.approvals.len(), 3);
    let html = run_body(&view);
    let section = &html[html
        .find("<section id=\"approvals\">")
        .expect("an approvals section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("<td>2026-11-28T07:49:03.500Z</td><td>fork_000000_001</td><td>general</td><td>docs__search</td><td>allowed</td><td>a person</td>"), "{section}");
    assert!(section.contains("<td>fork_000000_002</td><td>general</td><td>bash</td><td>denied</td><td>the approval policy (shell)</td>"), "{section}");
    assert!(section.contains("<td>fork_000000_002</td><td>general</td><td>read_file</td><td>allowed</td><td>the approval policy (read)</td>"), "{section}");
}

#[test]
fn a_run_without_approvals_has_no_approvals_section_and_hostile_tool_names_stay_text() {
    let html = run_body(&view(common::interrupted_plan()));
    assert!(!html.contains("id=\"approvals\""));
    let (mut records, state) = common::failed_swarm();
    let mut hostile = records[1].clone();
    hostile.event = common::approval(
        3,
        "<img src=x onerror=alert(1)>",
        false,
        agent_core::DecidedBy::Person,
    );
    records.insert(2, hostile);
    let html = run_body(&view((records, state)));
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "not escaped"
    );
    assert_inert(&html);
}
