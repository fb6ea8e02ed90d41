//! The live view's server: loopback only, the token on every request, GET
//! only with its own Host, a strict Content-Security-Policy, journals that
//! do not check out never shown, and a new journal event on a run's event
//! stream within a second of reaching the journal.

mod common;

use std::time::Duration;

use futures_util::StreamExt as _;
use planner::Journal;
use planner::JournalEvent;
use reqwest::StatusCode;
use run_view::{ServeOptions, Server};

async fn start(base: &std::path::Path) -> Server {
    run_view::serve(base.to_owned(), common::key(), ServeOptions::default())
        .await
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn only_requests_with_the_token_and_our_host_are_answered() {
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::failed_plan();
    common::write_journal(folder.path(), &records);
    let server = start(folder.path()).await;
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.token().len(), 32);
    let base = format!("http://{}", server.addr());
    let client = client();
    let status = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    };
    let id = "run_20261128_074902_ab12";
    let token = server.token().to_owned();
    assert_eq!(status(format!("{base}/")).await, StatusCode::FORBIDDEN);
    assert_eq!(
        status(format!("{base}/runs/{id}")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(format!("{base}/live.js")).await,
        StatusCode::FORBIDDEN
    );
    let last = if token.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &token[..31]);
    assert_eq!(
        status(format!("{base}/?token={wrong}")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(format!("{base}/?token={token}x")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(format!("{base}/?token={token}")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(format!("{base}/runs/{id}?token={token}")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(format!("{base}/runs/{id}/body?token={token}")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(format!("{base}/live.js?token={token}")).await,
        StatusCode::OK
    );
    // Ids are plain folder names; anything else is no run.
    assert_eq!(
        status(format!("{base}/runs/..%2F..%2Fetc?token={token}")).await,
        StatusCode::NOT_FOUND
    );
    // Read-only: nothing but GET.
    let post = client
        .post(format!("{base}/?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Another Host (a page on another site reaching loopback by DNS
    // rebinding) is refused even with the token.
    let rebound = client
        .get(format!("{base}/?token={token}"))
        .header("host", format!("evil.example:{}", server.addr().port()))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    server.shutdown().await;
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy() {
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::hostile_plan();
    common::write_journal(folder.path(), &records);
    let server = start(folder.path()).await;
    let url = format!(
        "http://{}/runs/run_20261128_074902_dead?token={}",
        server.addr(),
        server.token()
    );
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = response.text().await.unwrap();
    // The one script is the server's own.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("&lt;script&gt;document.body.dataset.pwned=1&lt;/script&gt;"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_journal_that_does_not_check_out_is_not_shown() {
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::failed_swarm();
    let dir = common::write_journal(folder.path(), &records);
    // A planted run: a copy of a real journal under another run's name.
    let planted = folder.path().join("run_20261128_074902_beef");
    std::fs::create_dir(&planted).unwrap();
    std::fs::copy(dir.join("journal.jsonl"), planted.join("journal.jsonl")).unwrap();
    let server = start(folder.path()).await;
    let base = format!("http://{}", server.addr());
    let token = server.token();
    let index = client()
        .get(format!("{base}/?token={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("run_20261128_074902_cd34"), "{index}");
    assert!(!index.contains("run_20261128_074902_beef"), "{index}");
    assert!(index.contains("1 run folder(s) hold a journal that does not check out"));
    let planted = client()
        .get(format!(
            "{base}/runs/run_20261128_074902_beef?token={token}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::FORBIDDEN);
    server.shutdown().await;
}

/// Reads server-sent events from `stream` until one named `name`, and
/// returns its data.
async fn next_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    name: &str,
) -> String {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    event = if value == name { name } else { "other" };
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = value.to_owned();
                }
            }
            if event == name {
                return data;
            }
            continue;
        }
        let chunk = stream.next().await.expect("the stream goes on").unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_new_journal_event_reaches_the_live_view_within_a_second() {
    let folder = tempfile::tempdir().unwrap();
    let (records, _) = common::interrupted_plan();
    let JournalEvent::RunStarted { meta } = &records[0].event else {
        unreachable!("a run begins with run_started")
    };
    // The run goes on: its journal stays open while the view follows it.
    let journal = Journal::create(folder.path(), meta.clone(), &common::key()).unwrap();
    for record in &records[1..records.len() - 1] {
        journal.append(record.event.clone()).unwrap();
    }
    journal.flush().unwrap();
    let server = start(folder.path()).await;
    let url = format!(
        "http://{}/runs/run_20261128_074902_ef56/events?token={}",
        server.addr(),
        server.token()
    );
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let first = next_event(&mut stream, &mut buffer, "journal").await;
    let mut seq = records.len() as u64 - 2;
    assert_eq!(first, seq.to_string(), "the last event's seq");

    for event in [
        JournalEvent::StepRetrying {
            id: "b".into(),
            attempt: 1,
            error: "503".to_owned(),
        },
        JournalEvent::StepStarted {
            id: "b".into(),
            attempt: 2,
        },
    ] {
        seq = journal.append(event).unwrap();
        // Written now; from here the live view has a second.
        journal.flush().unwrap();
        let seen = tokio::time::timeout(
            Duration::from_secs(1),
            next_event(&mut stream, &mut buffer, "journal"),
        )
        .await
        .expect("the new event reached the live view within a second");
        assert_eq!(seen, seq.to_string());
    }
    journal.close().unwrap();
    server.shutdown().await;
}
