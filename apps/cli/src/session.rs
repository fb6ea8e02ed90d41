//! Where Gemini traffic goes: the live API, a replayed cassette on
//! loopback (`--replay FILE`), or the live API through a recording proxy
//! (`--record FILE`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use cassette::{Cassette, FixtureServer, RecordingProxy, ServerOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use genai_client::{Client, ClientConfig, HttpEvent};

use crate::exit::Failure;
use crate::output::{Output, Verbosity};
use crate::quota_memory::{self, QuotaMemory};

/// How to reach Gemini for this invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Traffic {
    /// The live API (or `GOOGLE_GEMINI_BASE_URL`).
    Live,
    /// Replay this cassette on loopback.
    Replay(PathBuf),
    /// Call the live API and record the session into this file.
    Record(PathBuf),
    /// Replay a cassette compiled into the binary (the bundled sessions).
    Bundled {
        /// The session's name.
        name: &'static str,
        /// The cassette's JSON.
        cassette: &'static str,
    },
}

/// A client and whatever serves it; [`Session::finish`] checks the replay
/// or saves the recording.
pub(crate) struct Session {
    pub(crate) client: Client,
    backend: Backend,
    /// What the run spends through this session, when a run is wired to it
    /// ([`crate::context::Context::wire`]); journalled by
    /// [`crate::finish::finish`].
    pub(crate) spending: Option<crate::context::Spending>,
    /// Model calls retried in this session: counted by the run's reporter
    /// (handed over by [`crate::context::Wiring::close`]) or by
    /// [`Session::retries_told`]; said by [`crate::finish::finish`].
    pub(crate) retried: Arc<AtomicU32>,
    /// The quota limits remembered for this endpoint and key (live traffic
    /// only, unless `remember_limits = false`); what the run learns is
    /// added at [`Session::finish`].
    quota_memory: Option<QuotaMemory>,
    /// Lines to say once on stderr: the remembered limits the run starts
    /// at, or why the file was ignored.
    quota_notices: Vec<String>,
}

enum Backend {
    Live,
    Replay {
        server: FixtureServer,
        path: PathBuf,
    },
    Record {
        proxy: RecordingProxy,
        path: PathBuf,
    },
}

impl Session {
    /// Opens a session. Without a key, the live API is refused with a line
    /// that says what to do instead.
    pub(crate) async fn open(
        traffic: &Traffic,
        settings: &crate::settings::Settings,
    ) -> Result<Session> {
        let mut config = ClientConfig::from_env()
            .with_requests_per_minute(settings.requests_per_minute.value)
            .with_input_tokens_per_minute(settings.input_tokens_per_minute.value)
            .with_cautious_start(Some(settings.cautious_start.value).filter(|start| *start > 0));
        // Only live traffic has a quota to remember, measured before a
        // recording redirects the client to its proxy.
        let live = matches!(traffic, Traffic::Live | Traffic::Record(_));
        let (quota_memory, quota_notices) = if live && settings.remember_limits.value {
            remembered_limits(&mut config)
        } else {
            (None, Vec::new())
        };
        let backend = match traffic {
            Traffic::Live => {
                require_key(&config)?;
                Backend::Live
            }
            Traffic::Replay(path) => {
                let cassette = load_cassette(path)?;
                replay(cassette, path.clone(), &mut config).await?
            }
            Traffic::Bundled { name, cassette } => {
                let cassette = Cassette::from_json(cassette).map_err(|error| {
                    Failure::usage(format!("the bundled session {name} is unreadable: {error}"))
                })?;
                let path = PathBuf::from(format!("fixtures/sessions/{name}.json"));
                replay(cassette, path, &mut config).await?
            }
            Traffic::Record(path) => {
                require_key(&config)?;
                check_writable(path)?;
                let proxy = RecordingProxy::start(&config.base_url)
                    .await
                    .map_err(|error| {
                        Failure::usage(format!("cannot start the recorder: {error}"))
                    })?;
                config = config.redirect_to(&proxy.base_url());
                Backend::Record {
                    proxy,
                    path: path.clone(),
                }
            }
        };
        let client = Client::new(config)?;
        Ok(Session {
            client,
            backend,
            spending: None,
            retried: Arc::new(AtomicU32::new(0)),
            quota_memory,
            quota_notices,
        })
    }

    /// The session with its requests logged on stderr as `output` asks:
    /// `-v` one line per request, `-vv` also a debug log of each exchange
    /// (headers included; the key never, the client redacts it).
    pub(crate) fn logged(mut self, output: &Output) -> Session {
        let verbosity = output.verbosity();
        if verbosity < Verbosity::Requests {
            return self;
        }
        let output = output.clone();
        let observer = move |event: &HttpEvent| log_http(event, verbosity, &output);
        self.client = self.client.with_http_observer(Arc::new(observer));
        self
    }

    /// Says on stderr (not under `-q`) the remembered quota limits the
    /// session starts at, or why the file of them was ignored: for the
    /// commands whose model calls the limiter admits.
    pub(crate) fn quota_told(mut self, output: &Output) -> Session {
        if !output.quiet() {
            for line in self.quota_notices.drain(..) {
                output.error_line(&line);
            }
        }
        self
    }

    /// Tells each retried call on stderr as `who`'s (`↻ summarizer:
    /// retrying in … (attempt 2/5): 503 …`, not under `-q`) and counts it,
    /// for a command that calls Gemini without a run's reporter.
    pub(crate) fn retries_told(mut self, who: &str, output: &Output) -> Session {
        let output = output.clone();
        let retried = self.retried.clone();
        let who = who.to_owned();
        let observer = move |retry: &genai_client::RetryEvent| {
            retried.fetch_add(1, Ordering::Relaxed);
            if !output.quiet() {
                let line = render::retry_line_for(
                    &who,
                    retry.attempt + 1,
                    retry.max_attempts,
                    retry.delay,
                    &retry.reason,
                    output.theme(),
                );
                output.error_line(&format!("  {line}"));
            }
        };
        self.client = self.client.with_retry_observer(Arc::new(observer));
        self
    }

    /// Model calls retried in this session so far.
    pub(crate) fn retries(&self) -> u32 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Ends the session: a replay must have used its cassette exactly; a
    /// recording is written to its file. Returns a notice line to show.
    pub(crate) async fn finish(self, command: &str) -> Result<Option<String>> {
        let redactor = self.client.redactor().clone();
        let memory_warning = self.quota_memory.as_ref().and_then(|memory| {
            memory
                .save(&self.client.learned_limits(), chrono::Utc::now())
                .err()
        });
        match self.backend {
            Backend::Live => Ok(memory_warning),
            Backend::Replay { server, path } => {
                let verdict = server.verify();
                server.shutdown().await;
                match verdict {
                    Ok(()) => Ok(None),
                    Err(report) => Err(Failure::work(format!(
                        "the run did not match the cassette {}: {}",
                        path.display(),
                        redactor
                            .redact(&report.to_string())
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    ))
                    .into()),
                }
            }
            Backend::Record { proxy, path } => {
                let count = proxy.recorded_count();
                let mut cassette = proxy.finish(
                    command,
                    &format!("recorded by `agent-fork --record` running `{command}`"),
                );
                crate::commands::batch::replayable(&mut cassette);
                proxy.shutdown().await;
                cassette
                    .save(&path)
                    .map_err(|error| Failure::usage(error.to_string()))?;
                let recorded = format!("recorded {count} interactions into {}", path.display());
                Ok(Some(match memory_warning {
                    Some(warning) => format!("{recorded}\n{warning}"),
                    None => recorded,
                }))
            }
        }
    }
}

/// One HTTP event on stderr: the request line (`-v`) and, with `-vv`, a
/// tracing-style debug line per event with its headers.
fn log_http(event: &HttpEvent, verbosity: Verbosity, output: &Output) {
    if verbosity >= Verbosity::Debug {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let fields = |headers: &[(String, String)]| {
            headers
                .iter()
                .map(|(name, value)| format!(" header.{name}={value:?}"))
                .collect::<String>()
        };
        let line = match event {
            HttpEvent::Request {
                method,
                url,
                headers,
                body_bytes,
            } => format!(
                "{now} DEBUG http: request method={method} url={url} body_bytes={body_bytes}{}",
                fields(headers)
            ),
            HttpEvent::Response {
                method,
                url,
                status,
                headers,
                elapsed,
            } => format!(
                "{now} DEBUG http: response method={method} url={url} status={status} elapsed_ms={}{}",
                elapsed.as_millis(),
                fields(headers)
            ),
            HttpEvent::Failed {
                method,
                url,
                message,
                elapsed,
            } => format!(
                "{now} DEBUG http: failed method={method} url={url} elapsed_ms={} error={message:?}",
                elapsed.as_millis()
            ),
            _ => return,
        };
        output.error_line(&render::strip_controls_line(&line));
    }
    let line = match event {
        HttpEvent::Response {
            method,
            url,
            status,
            elapsed,
            ..
        } => format!(
            "→ {method} {url} {status} ({})",
            render::humanize::duration(*elapsed)
        ),
        HttpEvent::Failed {
            method,
            url,
            message,
            elapsed,
        } => format!(
            "→ {method} {url} failed after {}: {message}",
            render::humanize::duration(*elapsed)
        ),
        _ => return,
    };
    output.error_line(&render::strip_controls_line(&line));
}

/// The quota limits remembered for `config`'s endpoint and key, given to
/// it; with the lines to say (the limits, or why the file was ignored).
fn remembered_limits(config: &mut ClientConfig) -> (Option<QuotaMemory>, Vec<String>) {
    let Some(path) = quota_memory::default_path() else {
        return (None, Vec::new());
    };
    let endpoint = quota_memory::endpoint_fingerprint(config);
    let (memory, warning) = QuotaMemory::load(path, endpoint, chrono::Utc::now());
    let known = memory.known();
    *config = config
        .clone()
        .with_known_limits(known.iter().map(|known| known.limit.clone()).collect());
    let notices = warning
        .into_iter()
        .chain(quota_memory::notice(&known))
        .collect();
    (Some(memory), notices)
}

/// Serves `cassette` on loopback and points `config` at it (no key needed).
async fn replay(cassette: Cassette, path: PathBuf, config: &mut ClientConfig) -> Result<Backend> {
    let server = FixtureServer::start(vec![cassette], ServerOptions::default())
        .await
        .map_err(|error| Failure::usage(format!("cannot start the replay server: {error}")))?;
    // The key is not sent to a replay, but stays known so it is scrubbed.
    *config = config
        .clone()
        .redirect_to(&server.base_url())
        .keep_key_unsent();
    Ok(Backend::Replay { server, path })
}

fn require_key(config: &ClientConfig) -> Result<()> {
    if config.api_key.is_none() && config.targets_public_endpoint() {
        return Err(Failure::usage(
            "GEMINI_API_KEY is not set: export GEMINI_API_KEY=<your key> to call Gemini, \
             or add --replay FILE to replay a recorded session, or run `agent-fork examples` \
             to see the bundled sessions",
        )
        .into());
    }
    Ok(())
}

fn load_cassette(path: &Path) -> Result<Cassette> {
    Cassette::load(path).map_err(|error| Failure::usage(format!("cannot replay: {error}")).into())
}

fn check_writable(path: &Path) -> Result<()> {
    let folder = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Failure::usage(format!(
            "cannot record into {}: the folder {} does not exist",
            path.display(),
            folder.display()
        ))
        .into());
    }
    Ok(())
}
