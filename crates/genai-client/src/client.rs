//! The HTTP client: `generateContent`, `streamGenerateContent?alt=sse` and
//! `countTokens`, with timeouts, retries and an optional rate limit.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::decode::decode_response;
use crate::error::{ApiError, Error, ReplyPart, TimeoutPhase};
use crate::http_log::{HttpEvent, SharedHttpObserver};
use crate::limiter::{QuotaSettings, RateLimiter};
use crate::redact::Redactor;
use crate::retry::{Decision, RetryEvent, SharedRetryObserver, decide};
use crate::stream::ResponseStream;
use crate::types::models::{ListModelsResponse, Model};
use crate::types::request::{CountTokensRequest, GenerateContentRequest, model_resource};
use crate::types::response::{CountTokensResponse, GenerateContentResponse};

/// A Gemini client. Cheap to clone: clones share one connection pool, one
/// rate limiter and one jitter source.
///
/// ```no_run
/// # async fn demo() -> Result<(), genai_client::Error> {
/// use genai_client::{Client, ClientConfig, Content, GenerateContentRequest};
/// let client = Client::new(ClientConfig::from_env())?;
/// let request = GenerateContentRequest {
///     contents: vec![Content::user("Say hello.")],
///     ..Default::default()
/// };
/// let response = client.generate_content("gemini-3.8-flash", &request).await?;
/// println!("{}", response.text());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    observer: Option<SharedRetryObserver>,
    http_observer: Option<SharedHttpObserver>,
}

pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    pub(crate) config: ClientConfig,
    redactor: Redactor,
    /// The base URL without userinfo, for messages.
    pub(crate) shown_url: String,
    limiter: RateLimiter,
    jitter: Mutex<fastrand::Rng>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// Which method a URL is for.
#[derive(Clone, Copy)]
enum Method {
    Generate,
    Stream,
    CountTokens,
}

impl Client {
    /// Builds a client.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        let build_error = |error: &dyn std::fmt::Display| {
            Error::Config(format!("could not build the HTTP client: {error}"))
        };
        // A client for an `https` base URL reads the system's roots now, as
        // reqwest would; any other reads them at its first TLS handshake.
        let https = config
            .base_url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"));
        let tls = crate::tls::config(https).map_err(|error| build_error(&error))?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .pool_idle_timeout(config.timeouts.pool_idle);
        if let Some(connect) = config.timeouts.connect {
            builder = builder.connect_timeout(connect);
        }
        let http = builder
            .user_agent(concat!(
                "agent-fork-genai-client/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|error| build_error(&error))?;
        let jitter = match config.retry.jitter_seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                redactor: Redactor::for_config(&config),
                shown_url: config.display_base_url(),
                limiter: RateLimiter::new(QuotaSettings {
                    requests_per_minute: config.requests_per_minute,
                    input_tokens_per_minute: config.input_tokens_per_minute,
                    cautious_start: config.cautious_start.filter(|_| config.quota_scheduling),
                })
                .with_known(if config.quota_scheduling {
                    &config.known_limits
                } else {
                    &[]
                }),
                config,
                jitter: Mutex::new(jitter),
            }),
            observer: None,
            http_observer: None,
        })
    }

    /// The per-minute limits 429s' `quotaValue`s taught this client (and
    /// its clones) so far, by model: hand them to a later client with
    /// [`ClientConfig::with_known_limits`] so it starts at the limit
    /// instead of learning it again from a burst of 429s.
    pub fn learned_limits(&self) -> Vec<crate::LearnedLimit> {
        self.shared.limiter.learned()
    }

    /// A client configured from the environment (see [`ClientConfig::from_env`]).
    pub fn from_env() -> Result<Client, Error> {
        Client::new(ClientConfig::from_env())
    }

    /// This client (sharing its pool and limiter) with `observer` told of
    /// every retry made through it.
    pub fn with_retry_observer(&self, observer: SharedRetryObserver) -> Client {
        Client {
            shared: self.shared.clone(),
            observer: Some(observer),
            http_observer: self.http_observer.clone(),
        }
    }

    /// This client (sharing its pool and limiter) with `observer` told of
    /// every HTTP request it sends and every response (secrets redacted;
    /// see [`HttpEvent`]). Clients made from it with
    /// [`Client::with_retry_observer`] keep it.
    pub fn with_http_observer(&self, observer: SharedHttpObserver) -> Client {
        Client {
            shared: self.shared.clone(),
            observer: self.observer.clone(),
            http_observer: Some(observer),
        }
    }

    /// Tells the HTTP observer, if any, that a request is going out.
    fn log_request(&self, method: &'static str, url: &str, body_bytes: usize) -> Instant {
        if let Some(observer) = &self.http_observer {
            let mut headers = vec![(
                "user-agent".to_owned(),
                concat!("agent-fork-genai-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            )];
            if body_bytes > 0 {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
            }
            if self.shared.config.api_key.is_some() {
                headers.push(("x-goog-api-key".to_owned(), crate::REDACTED.to_owned()));
            }
            observer.on_http(&HttpEvent::Request {
                method,
                url: self.shown(url),
                headers,
                body_bytes,
            });
        }
        Instant::now()
    }

    /// Tells the HTTP observer, if any, how a request ended.
    fn log_response(
        &self,
        method: &'static str,
        url: &str,
        sent: Instant,
        response: Result<&reqwest::Response, &Error>,
    ) {
        let Some(observer) = &self.http_observer else {
            return;
        };
        let (url, elapsed) = (self.shown(url), sent.elapsed());
        let event = match response {
            Ok(response) => HttpEvent::Response {
                method,
                url,
                status: response.status().as_u16(),
                headers: response
                    .headers()
                    .iter()
                    .map(|(name, value)| {
                        let value = String::from_utf8_lossy(value.as_bytes());
                        let value = self.shared.redactor.redact(&value).into_owned();
                        (name.as_str().to_owned(), value)
                    })
                    .collect(),
                elapsed,
            },
            Err(error) => HttpEvent::Failed {
                method,
                url,
                message: self.shared.redactor.redact(&error.to_string()).into_owned(),
                elapsed,
            },
        };
        observer.on_http(&event);
    }

    /// `url` as it may be shown: no userinfo, no secret.
    fn shown(&self, url: &str) -> String {
        self.shared
            .redactor
            .redact(&crate::display_url(url))
            .into_owned()
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.shared.config
    }

    /// The redactor that knows this client's secrets (its key, extra
    /// secrets and base-URL userinfo): use it on anything that may echo one.
    pub fn redactor(&self) -> &Redactor {
        &self.shared.redactor
    }

    /// Calls `generateContent`. A blocked prompt is [`Error::PromptBlocked`].
    pub async fn generate_content(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<GenerateContentResponse, Error> {
        let url = self.url(model, Method::Generate);
        let quota = Quota::new(model, estimate_input_tokens(request));
        let response = self
            .with_retries(
                Some(quota),
                |response: &GenerateContentResponse| {
                    response
                        .usage_metadata
                        .as_ref()
                        .and_then(|usage| usage.prompt_token_count)
                },
                || async {
                    let (status, _, body) = self.post_and_read(&url, request).await?;
                    decode_response(status, &body)
                },
            )
            .await?;
        check_blocked(&response)?;
        Ok(response)
    }

    /// Calls `streamGenerateContent?alt=sse`. Retries cover everything up to
    /// the first chunk; once a chunk has been delivered, an error ends the
    /// stream instead.
    pub async fn stream_generate_content(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<ResponseStream, Error> {
        let url = self.url(model, Method::Stream);
        let quota = Quota::new(model, estimate_input_tokens(request));
        self.with_retries(
            Some(quota),
            |_| None,
            || async {
                let response = self.post(&url, request).await?;
                let status = response.status().as_u16();
                if !(200..300).contains(&status) {
                    let retry_after = retry_after(response.headers());
                    let body = self.read_body(response).await?;
                    return Err(self.scrub(api_error(status, &body, retry_after)));
                }
                let config = &self.shared.config;
                let mut stream = ResponseStream::new(
                    response,
                    config.timeouts,
                    config.limits,
                    self.shared.shown_url.clone(),
                    self.shared.redactor.clone(),
                )?;
                stream.prime().await?;
                Ok(stream)
            },
        )
        .await
    }

    /// Calls `countTokens`.
    pub async fn count_tokens(
        &self,
        model: &str,
        request: &CountTokensRequest,
    ) -> Result<CountTokensResponse, Error> {
        let url = self.url(model, Method::CountTokens);
        self.with_retries(
            None,
            |_| None,
            || async {
                // A status other than 2xx is already an API error.
                let (_, _, body) = self.post_and_read(&url, request).await?;
                decode_reply(&body, "countTokens")
            },
        )
        .await
    }

    /// The URL of one page of a list call on `collection` (`models`,
    /// `batches`): `pageSize` and `pageToken` when given.
    pub(crate) fn page_url(
        &self,
        collection: &str,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> String {
        let config = &self.shared.config;
        let mut url = format!("{}/{}/{collection}", config.base_url, config.api_version);
        let mut query = Vec::new();
        if let Some(size) = page_size {
            query.push(format!("pageSize={size}"));
        }
        if let Some(token) = page_token {
            query.push(format!("pageToken={}", encode_query(token)));
        }
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        url
    }

    /// Calls `GET /v1beta/models` for one page.
    pub async fn list_models_page(
        &self,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<ListModelsResponse, Error> {
        let url = self.page_url("models", page_size, page_token);
        self.with_retries(
            None,
            |_| None,
            || async {
                let (_, _, body) = self.get_and_read(&url).await?;
                decode_reply(&body, "models.list")
            },
        )
        .await
    }

    /// Every model this key can use: `GET /v1beta/models`, following
    /// `nextPageToken` (at most 100 pages; a token seen twice ends the walk).
    pub async fn list_models(&self, page_size: Option<u32>) -> Result<Vec<Model>, Error> {
        let mut models = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            let page = self.list_models_page(page_size, token.as_deref()).await?;
            models.extend(page.models);
            match page.next_page_token.filter(|next| !next.is_empty()) {
                Some(next) if seen.insert(next.clone()) => token = Some(next),
                _ => break,
            }
        }
        Ok(models)
    }

    pub(crate) async fn get_and_read(
        &self,
        url: &str,
    ) -> Result<(u16, Option<Duration>, bytes::Bytes), Error> {
        self.read_reply(async {
            let mut request = self.shared.http.get(url);
            if let Some(key) = &self.shared.config.api_key {
                request = request.header("x-goog-api-key", key.expose());
            }
            let sent = self.log_request("GET", url, 0);
            let response = request
                .send()
                .await
                .map_err(|error| self.transport_error(&error));
            self.log_response("GET", url, sent, response.as_ref());
            response
        })
        .await
    }

    /// Sends (`send`), then reads the whole reply, all within the request
    /// timeout; a status other than 2xx is the API error its body tells.
    async fn read_reply(
        &self,
        send: impl Future<Output = Result<reqwest::Response, Error>>,
    ) -> Result<(u16, Option<Duration>, bytes::Bytes), Error> {
        let call = async {
            let response = send.await?;
            let status = response.status().as_u16();
            let retry_after = retry_after(response.headers());
            let body = self.read_body(response).await?;
            Ok::<_, Error>((status, retry_after, body))
        };
        let limit = self.shared.config.timeouts.request;
        let (status, retry_after, body) = within(limit, TimeoutPhase::Request, call).await??;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &body, retry_after));
        }
        Ok((status, retry_after, body))
    }

    fn url(&self, model: &str, method: Method) -> String {
        let config = &self.shared.config;
        let resource = model_resource(model);
        let method = match method {
            Method::Generate => "generateContent",
            Method::Stream => "streamGenerateContent?alt=sse",
            Method::CountTokens => "countTokens",
        };
        format!(
            "{}/{}/{resource}:{method}",
            config.base_url, config.api_version
        )
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy says
    /// stop. With `quota`, each attempt first waits for the model's buckets
    /// (reserving its input tokens), a success settles the reservation with
    /// `prompt_tokens` of the reply, and a 429 teaches the limiter.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        quota: Option<Quota<'_>>,
        prompt_tokens: impl Fn(&T) -> Option<u64>,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let policy = &self.shared.config.retry;
        let limiter = &self.shared.limiter;
        let scheduling = self.shared.config.quota_scheduling;
        let started = Instant::now();
        let mut number = 1;
        loop {
            let admission = match &quota {
                Some(quota) => Some(limiter.acquire(quota.model, quota.tokens).await?),
                None => None,
            };
            let error = match attempt().await {
                Ok(value) => {
                    if let (Some(quota), Some(admission)) = (&quota, admission) {
                        limiter.settle(quota.model, admission, prompt_tokens(&value));
                    }
                    return Ok(value);
                }
                Err(error) => self.scrub(error),
            };
            if let (true, Some(quota)) = (scheduling, &quota) {
                if let Some(stop) = limiter.on_error(quota.model, &error) {
                    return Err(stop);
                }
            }
            let unit = self
                .shared
                .jitter
                .lock()
                .map(|mut rng| rng.f64())
                .unwrap_or(0.5);
            let (reason, server_delay) = (error.short_reason(), error.retry_delay());
            match decide(policy, number, started.elapsed(), error, unit) {
                Decision::GiveUp(error) => return Err(error),
                Decision::RetryAfter(delay) => {
                    if let Some(observer) = &self.observer {
                        observer.on_retry(&RetryEvent {
                            attempt: number,
                            max_attempts: policy.max_attempts,
                            delay,
                            reason,
                            server_delay,
                        });
                    }
                    tokio::time::sleep(delay).await;
                    number += 1;
                }
            }
        }
    }

    async fn post(&self, url: &str, body: &impl Serialize) -> Result<reqwest::Response, Error> {
        let body_bytes = if self.http_observer.is_some() {
            serde_json::to_vec(body).map_or(0, |bytes| bytes.len())
        } else {
            0
        };
        let mut request = self.shared.http.post(url).json(body);
        if let Some(key) = &self.shared.config.api_key {
            request = request.header("x-goog-api-key", key.expose());
        }
        let limit = self.shared.config.timeouts.request;
        let started = self.log_request("POST", url, body_bytes);
        let sent = match within(limit, TimeoutPhase::Request, request.send()).await {
            Ok(sent) => sent.map_err(|error| self.transport_error(&error)),
            Err(timeout) => Err(timeout),
        };
        self.log_response("POST", url, started, sent.as_ref());
        sent
    }

    pub(crate) async fn post_and_read(
        &self,
        url: &str,
        body: &impl Serialize,
    ) -> Result<(u16, Option<Duration>, bytes::Bytes), Error> {
        self.read_reply(self.post(url, body)).await
    }

    /// Reads a whole body, stopping with [`Error::TooLarge`] as soon as it
    /// (or its announced `Content-Length`) exceeds the unary limit.
    pub(crate) async fn read_body(
        &self,
        response: reqwest::Response,
    ) -> Result<bytes::Bytes, Error> {
        self.read_up_to(response, self.shared.config.limits.max_body_bytes)
            .await
    }

    /// Reads a whole body, stopping with [`Error::TooLarge`] as soon as it
    /// (or its announced `Content-Length`) exceeds `limit` bytes.
    pub(crate) async fn read_up_to(
        &self,
        response: reqwest::Response,
        limit: u64,
    ) -> Result<bytes::Bytes, Error> {
        let too_large = || Error::TooLarge {
            part: ReplyPart::Body,
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(too_large());
        }
        let mut body = bytes::BytesMut::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|error| self.transport_error(&error))?;
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    pub(crate) fn transport_error(&self, error: &reqwest::Error) -> Error {
        if let (true, Some(after)) = (
            error.is_connect() && error.is_timeout(),
            self.shared.config.timeouts.connect,
        ) {
            return Error::Timeout {
                phase: TimeoutPhase::Connect,
                after,
            };
        }
        Error::Transport {
            url: self.shared.shown_url.clone(),
            message: root_cause(error),
        }
    }

    /// Removes every secret (key, extra secrets, base-URL userinfo) from
    /// anything the server or the transport echoed back.
    pub(crate) fn scrub(&self, error: Error) -> Error {
        scrub_error(&self.shared.redactor, error)
    }
}

/// `error` with every secret `redactor` knows replaced.
pub(crate) fn scrub_error(redactor: &Redactor, error: Error) -> Error {
    if redactor.is_empty() {
        return error;
    }
    let clean = |text: String| redactor.redact(&text).into_owned();
    match error {
        Error::Api(mut api) => {
            api.scrub(redactor);
            Error::Api(api)
        }
        Error::Decode { message, snippet } => Error::Decode {
            message: clean(message),
            snippet: clean(snippet),
        },
        Error::Transport { url, message } => Error::Transport {
            url: clean(url),
            message: clean(message),
        },
        Error::PromptBlocked { reason, message } => Error::PromptBlocked {
            reason,
            message: message.map(clean),
        },
        Error::RetriesExhausted {
            attempts,
            elapsed,
            last,
        } => Error::RetriesExhausted {
            attempts,
            elapsed,
            last: Box::new(scrub_error(redactor, *last)),
        },
        Error::Config(message) => Error::Config(clean(message)),
        other => other,
    }
}

/// Runs `future` within `limit`, if there is one.
pub(crate) async fn within<T>(
    limit: Option<Duration>,
    phase: TimeoutPhase,
    future: impl Future<Output = T>,
) -> Result<T, Error> {
    match limit {
        Some(after) => tokio::time::timeout(after, future)
            .await
            .map_err(|_| Error::Timeout { phase, after }),
        None => Ok(future.await),
    }
}

pub(crate) fn check_blocked(response: &GenerateContentResponse) -> Result<(), Error> {
    match (&response.prompt_feedback, response.candidates.is_empty()) {
        (Some(feedback), true) => match &feedback.block_reason {
            Some(reason) => Err(Error::PromptBlocked {
                reason: reason.clone(),
                message: feedback.block_reason_message.clone(),
            }),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The `Retry-After` header in seconds, when present.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A reply with a status other than 2xx as the API error its body tells,
/// with the server's `Retry-After`.
pub(crate) fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
    let mut api = ApiError::from_body(status, body);
    api.retry_after = retry_after;
    Error::Api(Box::new(api))
}

/// A reply's body decoded as `T`; another shape is [`Error::Decode`] naming
/// the call (`what`, e.g. `models.list`).
pub(crate) fn decode_reply<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(body)
        .map_err(|error| Error::decode(format!("unexpected {what} reply ({error})"), body))
}

/// The innermost cause of a reqwest error, e.g. "Connection refused".
pub(crate) fn root_cause(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message = cause.to_string();
        source = cause.source();
    }
    message
}

/// Percent-encodes a query value (page tokens are opaque and may hold `=`
/// or `+`).
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The model and estimated input tokens of a call the limiter admits.
pub(crate) struct Quota<'a> {
    model: &'a str,
    tokens: u64,
}

impl<'a> Quota<'a> {
    fn new(model: &'a str, tokens: u64) -> Self {
        Self {
            model: model.strip_prefix("models/").unwrap_or(model),
            tokens,
        }
    }
}

/// Input tokens of a request, estimated as a quarter of its JSON bytes
/// (reconciled with `promptTokenCount` after the reply).
pub(crate) fn estimate_input_tokens(request: &GenerateContentRequest) -> u64 {
    serde_json::to_vec(request).map_or(0, |bytes| (bytes.len() as u64).div_ceil(4))
}
