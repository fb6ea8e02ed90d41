//! `cargo xtask fixture-server FILE...`: serve cassettes on loopback for
//! manual runs (`GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:PORT agent-fork ...`).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use cassette::{FixtureServer, ServerOptions};

use crate::say;

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut options = ServerOptions::default();
    let mut files = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                let value = rest.next().context("--port needs a number")?;
                options.port = value
                    .parse()
                    .with_context(|| format!("--port {value} is not a port number"))?;
            }
            "--lenient" => options.strict = false,
            "--latency-ms" => {
                let value = rest.next().context("--latency-ms needs a number")?;
                let millis: u64 = value
                    .parse()
                    .with_context(|| format!("--latency-ms {value} is not a number"))?;
                options.latency = Some(Duration::from_millis(millis));
            }
            file => files.push(file.to_owned()),
        }
    }
    if files.is_empty() {
        bail!(
            "give at least one cassette: cargo xtask fixture-server fixtures/sessions/basic_fork.json"
        );
    }
    let cassettes = crate::load_cassettes(&files)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = FixtureServer::start(cassettes, options).await?;
        say(&format!(
            "serving {} cassette(s) at {}",
            files.len(),
            server.base_url()
        ));
        say(&format!(
            "try: GOOGLE_GEMINI_BASE_URL={} agent-fork ...   (Ctrl-C stops)",
            server.base_url()
        ));
        let verdict = server
            .serve_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        match verdict {
            Ok(()) => say("every interaction was used"),
            Err(report) => say(&format!("{report}")),
        }
        Ok(())
    })
}
