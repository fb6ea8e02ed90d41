//! The HTML pages: a run's report (the same page the live view serves) and
//! the list of runs.
//!
//! A page is one file: its style sheet is inline and allowed by its hash in
//! the page's Content-Security-Policy, the drawings are inline SVG, and a
//! report has no script at all. Only the live view adds one script, served
//! by the same server (`/live.js`), which the policy names.

use std::fmt::Write as _;

use agent_core::ForkResult;
use base64::Engine as _;
use planner::{RunKind, RunState};
use sha2::Digest as _;

use crate::escape::{escape, safe_href};
use crate::markdown::markdown_html;
use crate::model::{AttemptEnd, BatchJob, Instant, RunView, Unit, UnitStatus};
use crate::svg;

const STYLE: &str = include_str!("report.css");

/// How a page is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMode {
    /// A file to keep or share: no script, nothing fetched.
    Report,
    /// A page of the live view: it loads `/live.js` from its server, which
    /// follows the journal and reloads the page's `<main>` as it grows.
    Live {
        /// The access token every request of the page carries.
        token: String,
    },
}

/// The `'sha256-…'` source of the inline style sheet.
fn style_hash() -> String {
    let digest = sha2::Sha256::digest(STYLE.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The Content-Security-Policy of a page: nothing is loaded from anywhere,
/// only the inline style (by its hash) applies, and in the live view only
/// the server's own script runs and talks to the server. (The live view's
/// HTTP header adds `frame-ancestors 'none'`, which a `<meta>` cannot carry.)
pub fn content_security_policy(mode: &PageMode) -> String {
    let style = style_hash();
    match mode {
        PageMode::Report => format!(
            "default-src 'none'; style-src {style}; img-src 'none'; base-uri 'none'; form-action 'none'"
        ),
        PageMode::Live { .. } => format!(
            "default-src 'none'; style-src {style}; script-src 'self'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'"
        ),
    }
}

fn head(title: &str, mode: &PageMode) -> String {
    let live = match mode {
        PageMode::Report => String::new(),
        // The token is ours (hex), so it needs no escaping; escaped anyway.
        PageMode::Live { token } => format!(
            "<script src=\"/live.js?token={}\" defer></script>\n",
            escape(token)
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n{live}</head>\n",
        csp = content_security_policy(mode),
        title = escape(title),
    )
}

/// The run's page: a report file ([`PageMode::Report`]) or a page of the
/// live view.
pub fn report_html(view: &RunView, mode: &PageMode) -> String {
    let mut page = head(&format!("agent-fork run {}", view.id), mode);
    let live_attrs = match mode {
        PageMode::Report => String::new(),
        PageMode::Live { .. } => format!(
            " data-run=\"{}\" data-seq=\"{}\"",
            escape(&view.id),
            view.last_seq
                .map_or_else(String::new, |seq| seq.to_string())
        ),
    };
    let _ = writeln!(page, "<body{live_attrs}>");
    if let PageMode::Live { token } = mode {
        let _ = writeln!(
            page,
            "<nav><a href=\"/?token={}\">All runs</a> <span id=\"live-state\">live</span></nav>",
            escape(token)
        );
    }
    page.push_str("<main id=\"run\">\n");
    page.push_str(&run_body(view));
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// The inside of the run's `<main>` (the live view swaps it as the journal grows).
pub fn run_body(view: &RunView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<header><h1>Run <span class=\"run-id\">{id}</span> <span class=\"badge r-{state}\" id=\"run-state\">{state}</span></h1>\
         <p class=\"summary\">{summary}</p></header>",
        id = escape(&view.id),
        state = state_word(view.state),
        summary = escape(&view.summary),
    );
    totals(&mut out, view);
    if let Some(job) = &view.batch_job {
        batch_job(&mut out, job);
    }
    settings(&mut out, view);
    if let Some(analysis) = &view.analysis {
        let _ = writeln!(
            out,
            "<section id=\"analysis\"><h2>Plan</h2><details><summary>The planner's analysis</summary>{}</details></section>",
            markdown_html(analysis)
        );
    }
    if view.kind == RunKind::Plan || !view.edges.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"graph\"><h2>Steps and dependencies</h2>\
             <p class=\"legend\">Colour: status. Heavy outline: the critical path (the chain of dependencies that took longest).</p>\
             <div class=\"scroll\">{}</div></section>",
            svg::dag(view)
        );
    }
    let _ = writeln!(
        out,
        "<section id=\"timeline\"><h2>Timeline</h2>\
         <p class=\"legend\"><span class=\"key queued\"></span> queued <span class=\"key delay\"></span> retry delay \
         <span class=\"key s-completed\"></span> completed <span class=\"key s-retrying\"></span> failed, retried \
         <span class=\"key s-failed\"></span> failed <span class=\"key s-running\"></span> running \
         <span class=\"key s-interrupted\"></span> stopped</p>\
         <div class=\"scroll\">{}</div></section>",
        svg::timeline(view)
    );
    let what = if view.kind == RunKind::Plan {
        "Steps"
    } else {
        "Forks"
    };
    let _ = writeln!(out, "<section id=\"units\"><h2>{what}</h2>");
    for (index, unit) in view.units.iter().enumerate() {
        unit_section(&mut out, index, unit);
    }
    out.push_str("</section>\n");
    approvals(&mut out, view);
    if !view.warnings.is_empty() {
        out.push_str("<section id=\"warnings\"><h2>Journal warnings</h2><ul>");
        for warning in &view.warnings {
            let _ = write!(out, "<li>{}</li>", escape(warning));
        }
        out.push_str("</ul></section>\n");
    }
    out
}

/// The one word for a run's state.
pub fn state_word(state: RunState) -> &'static str {
    match state {
        RunState::Unfinished => "unfinished",
        RunState::Interrupted => "interrupted",
        RunState::Completed => "completed",
        RunState::Failed => "failed",
        RunState::BudgetExhausted => "budget exhausted",
    }
}

fn cost_text(cost: &genai_client::CostTotal) -> String {
    match cost.known() {
        Some(usd) => format!("${:.6}", usd.dollars()),
        None => format!(
            "at least ${:.6} ({} call{} not priced)",
            cost.usd.dollars(),
            cost.unpriced_calls,
            if cost.unpriced_calls == 1 { "" } else { "s" }
        ),
    }
}

fn totals(out: &mut String, view: &RunView) {
    let count = |status: UnitStatus| {
        view.units
            .iter()
            .filter(|unit| unit.status == status)
            .count()
    };
    let (prompt, output, thinking) = view.total_tokens();
    let duration = match (view.start, view.last) {
        (Some(start), Some(last)) => {
            format!("{:.1} s", (last - start).num_milliseconds() as f64 / 1000.0)
        }
        _ => "-".to_owned(),
    };
    let _ = write!(
        out,
        "<section id=\"totals\"><h2>Totals</h2><table class=\"kv\">\
         <tr><th>Kind</th><td>{kind}</td></tr>\
         <tr><th>Created</th><td>{created}</td></tr>\
         <tr><th>Duration</th><td>{duration}</td></tr>\
         <tr><th>Completed</th><td id=\"count-completed\">{completed}</td></tr>\
         <tr><th>Failed</th><td id=\"count-failed\">{failed}</td></tr>",
        kind = escape(&view.kind.to_string()),
        created = escape(&view.created),
        completed = count(UnitStatus::Completed),
        failed = count(UnitStatus::Failed),
    );
    for (status, label) in [
        (UnitStatus::Skipped, "Skipped"),
        (UnitStatus::Running, "Running"),
        (UnitStatus::Retrying, "Retrying"),
        (UnitStatus::Interrupted, "Interrupted"),
        (UnitStatus::Waiting, "Waiting"),
    ] {
        let n = count(status);
        if n > 0 {
            let _ = write!(out, "<tr><th>{label}</th><td>{n}</td></tr>");
        }
    }
    let _ = writeln!(
        out,
        "<tr><th>Tokens</th><td>{prompt} in, {output} out, {thinking} thinking</td></tr>\
         <tr><th>Cost</th><td id=\"total-cost\">{cost}</td></tr>\
         <tr><th>Journal events</th><td>{events}</td></tr></table></section>",
        cost = cost_text(&view.total_cost()),
        events = view.events,
    );
}

/// The run's Batch API job: its name, state, counts and times, as the
/// journal last saw them.
fn batch_job(out: &mut String, job: &BatchJob) {
    let time = |at: Option<Instant>| {
        at.map_or_else(
            || "-".to_owned(),
            |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    };
    let name = match &job.name {
        Some(name) if job.adopted => {
            format!("{name} (found by its display name after a lost create answer)")
        }
        Some(name) => name.clone(),
        None => {
            "not known yet (the create request was sent; its answer is not journalled)".to_owned()
        }
    };
    let state = match (&job.state, job.collected) {
        (Some(state), Some(_)) => format!("{}, results collected", state.word()),
        (Some(state), None) => state.word().to_owned(),
        (None, Some(_)) => "results collected".to_owned(),
        (None, None) => "submitted, not polled yet".to_owned(),
    };
    let state_class = job.state.as_ref().map_or("pending", |state| state.word());
    let _ = writeln!(
        out,
        "<section id=\"batch-job\"><h2>Batch job</h2><table class=\"kv\">\
         <tr><th>Job</th><td id=\"batch-name\">{name}</td></tr>\
         <tr><th>Display name</th><td>{display}</td></tr>\
         <tr><th>Model</th><td>{model}</td></tr>\
         <tr><th>State</th><td id=\"batch-state\" class=\"batch-{state_class}\">{state}</td></tr>\
         <tr><th>Requests</th><td id=\"batch-counts\">{requests} in all: {succeeded} done, {failed} failed, {pending} pending (as last polled)</td></tr>\
         <tr><th>Submitted</th><td>{submitted}</td></tr>\
         <tr><th>Last polled</th><td>{polled}</td></tr>\
         <tr><th>Collected</th><td>{collected}</td></tr></table></section>",
        name = escape(&name),
        display = escape(&job.display_name),
        model = escape(&job.model),
        state = escape(&state),
        state_class = escape(state_class),
        requests = job.requests,
        succeeded = job.succeeded,
        failed = job.failed,
        pending = job.pending,
        submitted = time(job.submitted.or(job.submitting)),
        polled = time(job.polled),
        collected = time(job.collected),
    );
}

fn settings(out: &mut String, view: &RunView) {
    if view.settings.is_empty() {
        return;
    }
    out.push_str("<section id=\"settings\"><h2>Settings</h2><table class=\"kv\">");
    for (name, value) in &view.settings {
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(value)
        );
    }
    out.push_str("</table></section>\n");
}

/// The approval decisions: when, fork, agent, tool, allowed or denied, by
/// whom (in library words: the CLI's flags are not named here; a rule's
/// decision names its policy entry). Journals from before 2026-11-30 hold
/// no calls the policy simply allowed.
fn approvals(out: &mut String, view: &RunView) {
    if view.approvals.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"approvals\"><h2>Approvals</h2>\
         <p class=\"legend\">Every tool call's decision: allowed or denied by the approval policy (the entry of it that decided in brackets), decided by a person, or approved in advance.</p>\
         <div class=\"scroll\"><table class=\"approvals\"><tr><th>When</th><th>Fork</th><th>Agent</th><th>Tool</th><th>Decision</th><th>By</th></tr>",
    );
    for entry in &view.approvals {
        let record = &entry.record;
        let decision = match (record.approved, record.always) {
            (true, true) => "allowed (always for this tool)",
            (true, false) => "allowed",
            (false, _) => "denied",
        };
        let _ = write!(
            out,
            "<tr class=\"{class}\"><td>{at}</td><td>{fork}</td><td>{agent}</td><td>{tool}</td><td>{decision}</td><td>{by}</td></tr>",
            class = if record.approved { "allowed" } else { "denied" },
            at = escape(&entry.at),
            fork = escape(record.fork_id.as_ref().map_or("-", |id| id.as_str())),
            agent = escape(record.agent_type.as_deref().unwrap_or("-")),
            tool = escape(&record.tool),
            by = match &record.rule {
                Some(rule) => format!("{} ({})", decided_by(record.by), escape(&rule.to_string())),
                None => decided_by(record.by).to_owned(),
            },
        );
    }
    out.push_str("</table></div></section>\n");
}

/// Who decided, in words.
fn decided_by(by: agent_core::DecidedBy) -> &'static str {
    use agent_core::DecidedBy as D;
    match by {
        D::Rule => "the approval policy",
        D::Person => "a person",
        D::PersonAlways => "a person (always)",
        D::AssumeYes => "approved in advance",
        D::NoTerminal => "no one to ask (denied)",
        D::Timeout => "no answer in time",
        D::Earlier => "an earlier decision",
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    let mut out = String::from("<ul class=\"inline\">");
    for item in items {
        let _ = write!(out, "<li><code>{}</code></li>", escape(item));
    }
    out.push_str("</ul>");
    out
}

fn fork_rows(out: &mut String, fork: &ForkResult) {
    let model = fork.model_version.as_deref().unwrap_or(&fork.model);
    let _ = write!(
        out,
        "<tr><th>Model</th><td class=\"model\">{model}</td></tr>\
         <tr><th>Tokens</th><td>{p} in, {c} out, {t} thinking</td></tr>\
         <tr><th>Cost</th><td class=\"cost\">{cost}</td></tr>\
         <tr><th>Turns</th><td>{turns}</td></tr>\
         <tr><th>Tools called</th><td>{tools}</td></tr>\
         <tr><th>Files created</th><td>{files}</td></tr>",
        model = escape(model),
        p = fork.usage.prompt,
        c = fork.usage.candidates,
        t = fork.usage.thoughts,
        cost = cost_text(&fork.cost),
        turns = fork.turns.len(),
        tools = list(&fork.tools_executed),
        files = list(&fork.files_created),
    );
    let sources: Vec<_> = fork
        .sources
        .iter()
        .chain(fork.searches.iter().flat_map(|search| &search.sources))
        .collect();
    if !sources.is_empty() {
        out.push_str("<tr><th>Sources</th><td><ul>");
        for source in sources {
            let uri = source.uri.as_deref().unwrap_or("");
            let title = source.title.as_deref().unwrap_or(uri);
            match safe_href(uri) {
                Some(href) => {
                    let _ = write!(
                        out,
                        "<li><a href=\"{href}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">{}</a></li>",
                        escape(title)
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "<li>{} <code class=\"unsafe-link\">{}</code></li>",
                        escape(title),
                        escape(uri)
                    );
                }
            }
        }
        out.push_str("</ul></td></tr>");
    }
}

fn unit_section(out: &mut String, index: usize, unit: &Unit) {
    let status = unit.status.as_str();
    let _ = write!(
        out,
        "<article class=\"unit s-{status}\" id=\"u-{index}\" data-status=\"{status}\">\
         <h3><span class=\"label\">{label}</span> {name}<span class=\"badge s-{status}\">{status}</span></h3>\
         <table class=\"kv\"><tr><th>Agent type</th><td>{agent}</td></tr>",
        label = escape(&unit.label),
        name = if unit.name.is_empty() {
            String::new()
        } else {
            format!("<span class=\"name\">{}</span> ", escape(&unit.name))
        },
        agent = escape(&unit.agent_type),
    );
    if let Some(fork) = &unit.fork {
        fork_rows(out, fork);
    }
    let retries = unit
        .attempts
        .iter()
        .filter(|attempt| matches!(attempt.outcome, AttemptEnd::Retried(_)))
        .count();
    if unit.attempts.len() > 1 || retries > 0 {
        let _ = write!(
            out,
            "<tr><th>Attempts</th><td>{} ({retries} retried)</td></tr>",
            unit.attempts.len()
        );
    }
    if let Some(error) = &unit.error {
        let what = if unit.status == UnitStatus::Skipped {
            "Skipped because"
        } else {
            "Error"
        };
        let _ = write!(
            out,
            "<tr><th>{what}</th><td class=\"error\">{}</td></tr>",
            escape(error)
        );
    }
    out.push_str("</table>");
    if !unit.task.is_empty() {
        let _ = write!(
            out,
            "<details class=\"task\"><summary>Task</summary><pre>{}</pre></details>",
            escape(&unit.task)
        );
    }
    if let Some(fork) = unit.fork.as_ref().filter(|fork| !fork.text.is_empty()) {
        let _ = write!(
            out,
            "<details class=\"result\"><summary>Result</summary><div class=\"markdown\">{}</div></details>",
            markdown_html(&fork.text)
        );
    }
    out.push_str("</article>\n");
}

/// One run in [`index_html`]'s list.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// The run's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// When it was created.
    pub created: String,
    /// Where it stands.
    pub state: RunState,
    /// What it was asked.
    pub summary: String,
}

/// The live view's first page: every run, newest first, each a link to its page.
pub fn index_html(runs: &[IndexEntry], untrusted: usize, token: &str) -> String {
    let mode = PageMode::Live {
        token: token.to_owned(),
    };
    let mut page = head("agent-fork runs", &mode);
    page.push_str("<body data-index=\"1\">\n<main id=\"runs\">\n<h1>Runs</h1>\n");
    if runs.is_empty() {
        page.push_str("<p>No runs yet.</p>\n");
    } else {
        page.push_str("<table class=\"runs\"><tr><th>Run</th><th>State</th><th>Kind</th><th>Created</th><th>Asked</th></tr>\n");
        for run in runs {
            let _ = writeln!(
                page,
                "<tr><td><a href=\"/runs/{id}?token={token}\">{id}</a></td><td><span class=\"badge r-{state}\">{state}</span></td><td>{kind}</td><td>{created}</td><td>{summary}</td></tr>",
                id = escape(&run.id),
                token = escape(token),
                state = state_word(run.state),
                kind = escape(&run.kind),
                created = escape(&run.created),
                summary = escape(&run.summary),
            );
        }
        page.push_str("</table>\n");
    }
    if untrusted > 0 {
        let _ = writeln!(
            page,
            "<p class=\"warning\">{untrusted} run folder(s) hold a journal that does not check out under your key; they are not shown.</p>"
        );
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}
