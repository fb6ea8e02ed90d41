//! One place that knows the secrets: the API key and the userinfo of the
//! base URL. Errors are scrubbed with it here; callers get it from
//! [`Client::redactor`](crate::Client::redactor) to scrub anything else that
//! may echo a secret (tool results, logs, reports).

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::config::ClientConfig;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Replaces known secrets in text and JSON.
///
/// ```
/// use genai_client::{ApiKey, ClientConfig, Redactor};
/// let config = ClientConfig::default()
///     .with_base_url("https://me:hunter22@proxy.example/")
///     .with_api_key(ApiKey::new("k-123456"));
/// let redactor = Redactor::for_config(&config);
/// assert_eq!(redactor.redact("key k-123456, password hunter22"), "key [REDACTED], password [REDACTED]");
/// assert_eq!(format!("{redactor:?}"), "Redactor(3 secrets)");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// The secrets of `config`: its key, its extra secrets, and the
    /// userinfo of its base URL (whole, and the password alone).
    pub fn for_config(config: &ClientConfig) -> Redactor {
        let mut redactor = Redactor::default();
        for key in config.api_key.iter().chain(&config.extra_secrets) {
            redactor.add(key.expose());
        }
        if let Some(userinfo) = userinfo(&config.base_url) {
            redactor.add(userinfo);
            if let Some((_, password)) = userinfo.split_once(':') {
                redactor.add(password);
                if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                    redactor.add(&decoded);
                }
            }
        }
        redactor
    }

    /// Adds a secret (ignored when shorter than 4 characters: replacing
    /// such a short string everywhere would garble text and hide nothing).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < 4 || self.secrets.iter().any(|known| known == secret) {
            return;
        }
        self.secrets.push(secret.to_owned());
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// The secrets, longest first.
    pub(crate) fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// True when there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// Redacts every string (and object key) inside `value`, in place;
    /// returns whether anything was replaced. Walks without recursion.
    pub fn redact_value(&self, value: &mut Value) -> bool {
        if self.is_empty() {
            return false;
        }
        let mut changed = false;
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::String(text) => {
                    if let Cow::Owned(clean) = self.redact(text) {
                        *text = clean;
                        changed = true;
                    }
                }
                Value::Array(items) => stack.extend(items.iter_mut()),
                Value::Object(fields) => {
                    let dirty: Vec<String> = fields
                        .keys()
                        .filter(|key| matches!(self.redact(key), Cow::Owned(_)))
                        .cloned()
                        .collect();
                    for key in dirty {
                        if let Some(item) = fields.remove(&key) {
                            fields.insert(self.redact(&key).into_owned(), item);
                            changed = true;
                        }
                    }
                    stack.extend(fields.values_mut());
                }
                _ => {}
            }
        }
        changed
    }
}

/// The userinfo (`user:password`) of a URL, when it has one.
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map(|(userinfo, _)| userinfo)
        .filter(|userinfo| !userinfo.is_empty())
}

/// `url` without its userinfo (replaced by [`REDACTED`]), for messages.
///
/// ```
/// use genai_client::display_url;
/// assert_eq!(display_url("https://u:p@host:8080/x"), "https://[REDACTED]@host:8080/x");
/// assert_eq!(display_url("http://127.0.0.1:9"), "http://127.0.0.1:9");
/// ```
pub fn display_url(url: &str) -> String {
    match userinfo(url) {
        Some(info) => url.replacen(&format!("{info}@"), &format!("{REDACTED}@"), 1),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_encoded_password_is_redacted_decoded_too() {
        let config =
            ClientConfig::default().with_base_url("https://me:p%40ss%2Fword@proxy.example/");
        let redactor = Redactor::for_config(&config);
        assert_eq!(
            redactor.redact("echoed p@ss/word and p%40ss%2Fword"),
            "echoed [REDACTED] and [REDACTED]"
        );
        // An escape that is not one stays as written (nothing else to add).
        let config = ClientConfig::default().with_base_url("https://me:bad%zzpass@proxy.example/");
        assert_eq!(
            Redactor::for_config(&config).redact("bad%zzpass"),
            "[REDACTED]"
        );
    }
}
