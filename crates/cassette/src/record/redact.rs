//! Redaction of API keys from everything a recording stores: the keys seen
//! in request headers and `key=` query parameters, and anything shaped like
//! a Google API key (`AIza` followed by 35 characters of `[A-Za-z0-9_-]`).

use hyper::header::HeaderMap;
use serde_json::Value;

use crate::net::parse_query;

/// What a redacted secret is replaced with.
pub(crate) const REDACTED: &str = "REDACTED";

const KEY_PREFIX: &[u8] = b"AIza";
const KEY_TAIL_LEN: usize = 35;

/// Replaces known secrets and Google-API-key lookalikes in `text`.
pub(crate) fn redact_str(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    redact_key_shapes(&out)
}

/// Redacts every string (and object key) inside `value`.
pub(crate) fn redact_value(value: &Value, secrets: &[String]) -> Value {
    match value {
        Value::String(text) => Value::String(redact_str(text, secrets)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_value(v, secrets)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (redact_str(k, secrets), redact_value(v, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_key_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

fn redact_key_shapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i + KEY_PREFIX.len() + KEY_TAIL_LEN <= bytes.len() {
        let tail = &bytes[i + KEY_PREFIX.len()..i + KEY_PREFIX.len() + KEY_TAIL_LEN];
        if bytes[i..].starts_with(KEY_PREFIX) && tail.iter().all(|b| is_key_char(*b)) {
            // All matched bytes are ASCII, so these are char boundaries.
            out.push_str(&text[copied..i]);
            out.push_str(REDACTED);
            i += KEY_PREFIX.len() + KEY_TAIL_LEN;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// `url` with its userinfo (`user:password@`) replaced, for messages.
pub(crate) fn without_userinfo(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((userinfo, _)) if !userinfo.is_empty() => {
            url.replacen(&format!("{userinfo}@"), &format!("{REDACTED}@"), 1)
        }
        _ => url.to_owned(),
    }
}

/// Secrets present in a request: `x-goog-api-key`, `x-api-key`, the
/// credentials of `authorization` and `proxy-authorization` (whole and
/// after the scheme), `cookie`, and `key=` in the query.
pub(crate) fn secrets_in(headers: &HeaderMap, query: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    for name in ["x-goog-api-key", "x-api-key", "cookie"] {
        if let Some(key) = value(name) {
            secrets.push(key.trim().to_owned());
        }
    }
    for name in ["authorization", "proxy-authorization"] {
        if let Some(auth) = value(name) {
            let token = auth.trim();
            secrets.push(token.to_owned());
            if let Some((_, rest)) = token.split_once(' ') {
                secrets.push(rest.trim().to_owned());
            }
        }
    }
    for (key, value) in parse_query(query) {
        if key == "key" {
            secrets.push(value);
        }
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_known_secrets_and_key_shapes() {
        let key_like = format!("AIza{}", "x".repeat(35));
        let text = format!("a {key_like} b s3cret-token c é");
        let redacted = redact_str(&text, &["s3cret-token".to_owned()]);
        assert_eq!(redacted, "a REDACTED b REDACTED c é");
    }

    #[test]
    fn leaves_short_lookalikes() {
        let text = format!("AIza{}!", "x".repeat(34));
        assert_eq!(redact_str(&text, &[]), text);
    }
}
