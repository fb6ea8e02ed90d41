//! Client configuration: key, base URL, timeouts, retries, rate limit.

use std::fmt;
use std::time::Duration;

use crate::limiter::LearnedLimit;
use crate::retry::RetryPolicy;

/// The public Gemini endpoint.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The first-minute allowance recommended when the cautious start is
/// turned on (see [`ClientConfig::cautious_start`]; off by default).
pub const DEFAULT_CAUTIOUS_START: u32 = 8;

/// Environment variables the client reads.
pub mod env {
    /// The API key (preferred).
    pub const GEMINI_API_KEY: &str = "GEMINI_API_KEY";
    /// The API key (fallback, as the official SDKs read it).
    pub const GOOGLE_API_KEY: &str = "GOOGLE_API_KEY";
    /// Overrides the base URL (e.g. a loopback fixture server).
    pub const GOOGLE_GEMINI_BASE_URL: &str = "GOOGLE_GEMINI_BASE_URL";
}

/// An API key. Its value never appears in `Debug` output and it has no
/// `Display`; it is sent only as the `x-goog-api-key` header.
///
/// ```
/// use genai_client::ApiKey;
/// let key = ApiKey::new("  AIza-example  ").unwrap();
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// assert!(ApiKey::new("   ").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key from text, trimmed; `None` when nothing is left.
    pub fn new(text: &str) -> Option<ApiKey> {
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| ApiKey(trimmed.to_owned()))
    }

    /// The key from `GEMINI_API_KEY`, else `GOOGLE_API_KEY`.
    pub fn from_env() -> Option<ApiKey> {
        [env::GEMINI_API_KEY, env::GOOGLE_API_KEY]
            .into_iter()
            .find_map(|name| {
                std::env::var(name)
                    .ok()
                    .and_then(|value| ApiKey::new(&value))
            })
    }

    /// The key's value, for building the header and for scrubbing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How long to wait at each phase of a call; `None` waits indefinitely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection.
    pub connect: Option<Duration>,
    /// From sending a request to its response headers (and, for unary
    /// calls, the whole body).
    pub request: Option<Duration>,
    /// Between two decoded chunks of a stream. Bytes that do not complete a
    /// chunk do not reset it, so a server trickling one byte at a time
    /// cannot keep a stream open.
    pub stream_idle: Option<Duration>,
    /// The whole of a stream, from its response headers to its last chunk,
    /// however steadily chunks arrive.
    pub stream_total: Option<Duration>,
    /// How long an idle pooled connection is kept; `None` keeps it until the
    /// server closes it.
    pub pool_idle: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(10)),
            request: Some(Duration::from_secs(300)),
            stream_idle: Some(Duration::from_secs(120)),
            stream_total: Some(Duration::from_secs(15 * 60)),
            pool_idle: Some(Duration::from_secs(90)),
        }
    }
}

impl Timeouts {
    /// No timeouts and no idle-connection timer.
    ///
    /// Meant for tests in paused tokio time: with the clock paused, tokio
    /// jumps to the next pending timer whenever every task waits, even on
    /// loopback I/O that is about to arrive, so any pending timeout can fire
    /// spuriously. Without timers, waits on I/O are plain waits.
    pub fn none() -> Self {
        Self {
            connect: None,
            request: None,
            stream_idle: None,
            stream_total: None,
            pool_idle: None,
        }
    }
}

/// The most a reply may hold. Enforced while reading: a body is never
/// buffered beyond its limit, and a `Content-Length` over the limit is
/// refused before any of the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// A unary (`generateContent`, `countTokens`, error) body, in bytes.
    pub max_body_bytes: u64,
    /// A whole `streamGenerateContent` reply, in bytes.
    pub max_stream_bytes: u64,
    /// One event of a stream (or a bare JSON object in it), in bytes.
    pub max_event_bytes: u64,
}

impl Default for ReplyLimits {
    /// 32 MiB for a unary body, 64 MiB for a stream, 16 MiB for one event:
    /// far above the largest real reply (65,536 output tokens are well under
    /// 1 MiB of text; inline images are a few MiB), far below what would
    /// exhaust memory.
    fn default() -> Self {
        Self {
            max_body_bytes: 32 * MIB,
            max_stream_bytes: 64 * MIB,
            max_event_bytes: 16 * MIB,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// Everything a [`Client`](crate::Client) is built from: start from
/// [`ClientConfig::default`] or [`ClientConfig::from_env`] and change what
/// you need with the `with_*` methods (new settings may be added, so the
/// struct cannot be written out field by field outside this crate).
///
/// ```
/// use genai_client::{ClientConfig, RetryPolicy, Timeouts};
/// let config = ClientConfig::default()
///     .with_base_url("http://127.0.0.1:8080/")
///     .with_timeouts(Timeouts::none())
///     .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() })
///     .with_requests_per_minute(Some(60));
/// assert_eq!(config.base_url, "http://127.0.0.1:8080");
/// assert!(config.api_key.is_none());
/// assert_eq!(config.retry.max_attempts, 1);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The API key; calls go out without one when `None` (fine for a
    /// loopback fixture server, refused by Gemini).
    pub api_key: Option<ApiKey>,
    /// Scheme, host and port, without a trailing slash.
    pub base_url: String,
    /// The API version path segment.
    pub api_version: String,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Size limits of replies.
    pub limits: ReplyLimits,
    /// Optional limit of requests started per minute per model, shared by
    /// all clones (429 bodies can lower it).
    pub requests_per_minute: Option<u32>,
    /// Optional limit of input tokens per minute per model, shared by all
    /// clones (429 bodies can lower it).
    pub input_tokens_per_minute: Option<u64>,
    /// Quota-aware scheduling: learn limits from 429 bodies, hold a model
    /// as `RetryInfo` says, park it for the day on a per-day violation and
    /// fail fast on a zero limit. On by default; off leaves only the
    /// settings' limits and plain retries.
    pub quota_scheduling: bool,
    /// A cautious start for models whose limits are not known yet (no
    /// setting, no 429 taught them): admit at most this many requests in
    /// the model's first minute, and 1.1 more for every success, until a
    /// 429's `quotaValue` says the real limit. Off by default (`None`);
    /// [`DEFAULT_CAUTIOUS_START`] is the recommended allowance when on. It keeps a swarm
    /// far above its quota from opening with a burst of requests that can
    /// only be refused (the 429s are at most the start plus a tenth of the
    /// limit, instead of everything beyond the limit in the first burst),
    /// at the price of a ramp for a swarm well within its quota: the
    /// requests in flight grow from the start by a tenth of each round
    /// trip's successes plus the start. A configured limit
    /// (`requests_per_minute`, `input_tokens_per_minute`) turns it off.
    /// Needs `quota_scheduling`.
    pub cautious_start: Option<u32>,
    /// Per-model limits known before the first call, such as those an
    /// earlier client learned from 429s ([`Client::learned_limits`](crate::Client::learned_limits)):
    /// each model is admitted at the lower of its known limit and the
    /// setting from its first request, with no cautious start. Empty by
    /// default. Needs `quota_scheduling`.
    pub known_limits: Vec<LearnedLimit>,
    /// Further secrets to scrub from errors and to hand to callers through
    /// [`Client::redactor`](crate::Client::redactor), though not sent: e.g.
    /// the user's key while a session is replayed without it.
    pub extra_secrets: Vec<ApiKey>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &crate::redact::display_url(&self.base_url))
            .field("api_version", &self.api_version)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("limits", &self.limits)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("input_tokens_per_minute", &self.input_tokens_per_minute)
            .field("quota_scheduling", &self.quota_scheduling)
            .field("cautious_start", &self.cautious_start)
            .field("known_limits", &self.known_limits)
            .field("extra_secrets", &self.extra_secrets.len())
            .finish()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: "v1beta".to_owned(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            limits: ReplyLimits::default(),
            requests_per_minute: None,
            input_tokens_per_minute: None,
            quota_scheduling: true,
            cautious_start: None,
            known_limits: Vec::new(),
            extra_secrets: Vec::new(),
        }
    }
}

impl ClientConfig {
    /// Defaults, with the key and base URL taken from the environment
    /// (`GEMINI_API_KEY` / `GOOGLE_API_KEY`, `GOOGLE_GEMINI_BASE_URL`).
    pub fn from_env() -> Self {
        let mut config = Self {
            api_key: ApiKey::from_env(),
            ..Self::default()
        };
        if let Ok(url) = std::env::var(env::GOOGLE_GEMINI_BASE_URL) {
            if !url.trim().is_empty() {
                config = config.with_base_url(url.trim());
            }
        }
        config
    }

    /// Replaces the base URL (a trailing slash is dropped).
    pub fn with_base_url(mut self, url: &str) -> Self {
        self.base_url = url.trim_end_matches('/').to_owned();
        self
    }

    /// Points the client at `url` (a local recording proxy or replay
    /// server) while keeping the secrets of the current base URL's userinfo
    /// in [`extra_secrets`](Self::extra_secrets), so that anything echoing
    /// them (an upstream behind the proxy) is still scrubbed.
    pub fn redirect_to(mut self, url: &str) -> Self {
        let old = crate::redact::Redactor::for_config(&ClientConfig {
            api_key: None,
            extra_secrets: Vec::new(),
            ..self.clone()
        });
        self.extra_secrets.extend(
            old.secrets()
                .iter()
                .filter_map(|secret| ApiKey::new(secret)),
        );
        self.with_base_url(url)
    }

    /// The key moves to [`extra_secrets`](Self::extra_secrets): no longer
    /// sent, still scrubbed (a replayed session needs no key, but a tool may
    /// still read the user's key from a file).
    pub fn keep_key_unsent(mut self) -> Self {
        self.extra_secrets.extend(self.api_key.take());
        self
    }

    /// Replaces the key.
    pub fn with_api_key(mut self, key: Option<ApiKey>) -> Self {
        self.api_key = key;
        self
    }

    /// Replaces the API version path segment (default `v1beta`).
    pub fn with_api_version(mut self, version: &str) -> Self {
        version.clone_into(&mut self.api_version);
        self
    }

    /// Replaces the timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Replaces the retry settings.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the size limits of replies.
    pub fn with_limits(mut self, limits: ReplyLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets (or, with `None`, lifts) the limit of requests per minute.
    pub fn with_requests_per_minute(mut self, limit: Option<u32>) -> Self {
        self.requests_per_minute = limit;
        self
    }

    /// Sets (or, with `None`, lifts) the limit of input tokens per minute.
    pub fn with_input_tokens_per_minute(mut self, limit: Option<u64>) -> Self {
        self.input_tokens_per_minute = limit;
        self
    }

    /// Turns quota-aware scheduling on or off (see
    /// [`quota_scheduling`](Self::quota_scheduling)).
    pub fn with_quota_scheduling(mut self, on: bool) -> Self {
        self.quota_scheduling = on;
        self
    }

    /// Sets the per-model limits known before the first call (see
    /// [`known_limits`](Self::known_limits)).
    pub fn with_known_limits(mut self, limits: Vec<LearnedLimit>) -> Self {
        self.known_limits = limits;
        self
    }

    /// Sets (or, with `None`, turns off) the cautious start (see
    /// [`cautious_start`](Self::cautious_start)).
    pub fn with_cautious_start(mut self, first_minute: Option<u32>) -> Self {
        self.cautious_start = first_minute;
        self
    }

    /// Adds secrets to scrub (see [`extra_secrets`](Self::extra_secrets)).
    pub fn with_extra_secrets(mut self, secrets: impl IntoIterator<Item = ApiKey>) -> Self {
        self.extra_secrets.extend(secrets);
        self
    }

    /// The base URL as it may be shown: without its userinfo.
    pub fn display_base_url(&self) -> String {
        crate::redact::display_url(&self.base_url)
    }

    /// True when the base URL is the public Gemini endpoint.
    pub fn targets_public_endpoint(&self) -> bool {
        self.base_url == DEFAULT_BASE_URL
    }
}
