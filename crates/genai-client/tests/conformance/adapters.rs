//! One adapter per corpus format. Each turns a file into its observations:
//! one per HTTP response the file records (a unary reply, a stream, an error,
//! a `countTokens` reply), decoded by the crate's own decoders.
//!
//! Raw bodies go through `decode_recorded` as they are. Pre-parsed bodies
//! (replay segments, wrapper and cassette `parsed_body`) are serialised back
//! to JSON and sent down the path the client itself would take: a unary reply
//! through `decode_response` with its HTTP status, a stream re-framed as SSE
//! (`data: <json>\r\n\r\n` per chunk) through the SSE decoder.

use std::io::Read;

use base64::Engine;
use genai_client::{ApiError, Error, RecordedBody, decode_recorded, decode_response};
use serde_json::Value;

use super::corpus::{CorpusFile, Format};

/// One decoded HTTP response of a file.
#[derive(Debug)]
pub(crate) struct Observation {
    /// Which response of the file this is, for messages.
    pub(crate) label: String,
    /// What the decoders made of it.
    pub(crate) outcome: Result<RecordedBody, Error>,
}

/// The observations of a file, or why its container could not be read.
pub(crate) fn observe(file: &CorpusFile) -> Result<Vec<Observation>, String> {
    match file.format {
        Format::Json | Format::Sse | Format::Html => Ok(vec![Observation {
            label: "body".to_owned(),
            outcome: decode_recorded(&file.bytes),
        }]),
        Format::Ndjson => Ok(vec![ndjson(&file.bytes)]),
        Format::Replay => replay(&file.bytes),
        Format::Wrapper => wrapper(&file.bytes),
        Format::Vcr => cassette(&file.bytes),
    }
}

/// The Gemini method a request URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Generate,
    /// `streamGenerateContent?alt=sse`: an SSE body.
    StreamSse,
    /// `streamGenerateContent` without `alt=sse`: a JSON array of chunks.
    StreamArray,
    CountTokens,
}

impl Method {
    fn of(url: &str) -> Option<Method> {
        if url.contains(":streamGenerateContent") {
            Some(if url.contains("alt=sse") {
                Method::StreamSse
            } else {
                Method::StreamArray
            })
        } else if url.contains(":generateContent") {
            Some(Method::Generate)
        } else if url.contains(":countTokens") {
            Some(Method::CountTokens)
        } else {
            None
        }
    }
}

/// SSE framing, as the server sends it, around already-parsed chunks.
fn sse_body<'a>(chunks: impl IntoIterator<Item = &'a Value>) -> Vec<u8> {
    chunks
        .into_iter()
        .flat_map(|chunk| format!("data: {chunk}\r\n\r\n").into_bytes())
        .collect()
}

/// Decodes one recorded exchange the way the client would: a non-2xx status
/// is an error reply; a unary body goes through `decode_response`; stream
/// and `countTokens` bodies through `decode_recorded`.
fn exchange(method: Method, status: u16, body: &[u8]) -> Result<RecordedBody, Error> {
    if !(200..300).contains(&status) {
        return Ok(RecordedBody::Error(ApiError::from_body(status, body)));
    }
    match method {
        Method::Generate => match decode_response(status, body) {
            Ok(response) => Ok(RecordedBody::Response(response)),
            Err(Error::Api(api)) => Ok(RecordedBody::Error(*api)),
            Err(other) => Err(other),
        },
        Method::StreamSse | Method::StreamArray | Method::CountTokens => decode_recorded(body),
    }
}

/// `*.chunks.txt`: one chunk per line; the SSE framing is put back.
fn ndjson(bytes: &[u8]) -> Observation {
    let text = String::from_utf8_lossy(bytes);
    let framed: Vec<u8> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .flat_map(|line| format!("data: {line}\r\n\r\n").into_bytes())
        .collect();
    Observation {
        label: "stream".to_owned(),
        outcome: decode_recorded(&framed),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|error| format!("not JSON: {error}"))
}

fn field<'a>(value: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    path.iter().try_fold(value, |value, key| {
        value
            .get(key)
            .ok_or_else(|| format!("missing `{}`", path.join(".")))
    })
}

fn status_of(value: &Value) -> Result<u16, String> {
    value
        .as_u64()
        .and_then(|status| u16::try_from(status).ok())
        .ok_or_else(|| format!("bad status {value}"))
}

/// js-genai replay: `interactions[]`, each response's `bodySegments` holding
/// one parsed object per SSE event (or the one unary body).
fn replay(bytes: &[u8]) -> Result<Vec<Observation>, String> {
    let document = parse_json(bytes)?;
    let interactions = field(&document, &["interactions"])?
        .as_array()
        .ok_or("`interactions` is not a list")?;
    let mut observations = Vec::new();
    for (number, interaction) in interactions.iter().enumerate() {
        let url = field(interaction, &["request", "url"])?
            .as_str()
            .ok_or("`url` is not text")?;
        let method = Method::of(url).ok_or_else(|| format!("no Gemini method in {url}"))?;
        let status = status_of(field(interaction, &["response", "statusCode"])?)?;
        let segments = field(interaction, &["response", "bodySegments"])?
            .as_array()
            .ok_or("`bodySegments` is not a list")?;
        let streamed = matches!(method, Method::StreamSse | Method::StreamArray);
        let (method, body) = match segments.as_slice() {
            _ if streamed && (200..300).contains(&status) => {
                (Method::StreamSse, sse_body(segments))
            }
            [single] => (method, single.to_string().into_bytes()),
            _ => return Err(format!("{} segments for a unary reply", segments.len())),
        };
        observations.push(Observation {
            label: format!("interaction {number}"),
            outcome: exchange(method, status, &body),
        });
    }
    Ok(observations)
}

/// Vercel wrapper files: `{request, response: {status, body}}`, or a list of
/// such pairs under `calls`.
fn wrapper(bytes: &[u8]) -> Result<Vec<Observation>, String> {
    let document = parse_json(bytes)?;
    let calls = match document.get("calls") {
        Some(calls) => calls.as_array().ok_or("`calls` is not a list")?.clone(),
        None => vec![document],
    };
    calls
        .iter()
        .enumerate()
        .map(|(number, call)| {
            let url = field(call, &["request", "url"])?
                .as_str()
                .ok_or("`url` is not text")?;
            let method = Method::of(url).ok_or_else(|| format!("no Gemini method in {url}"))?;
            let status = status_of(field(call, &["response", "status"])?)?;
            let body = field(call, &["response", "body"])?;
            let bytes = match (method, body) {
                (Method::StreamSse, Value::Array(chunks)) => sse_body(chunks),
                (_, Value::String(raw)) => raw.clone().into_bytes(),
                _ => body.to_string().into_bytes(),
            };
            Ok(Observation {
                label: format!("call {number}"),
                outcome: exchange(method, status, &bytes),
            })
        })
        .collect()
}

/// VCR.py cassettes. The body is `response.body.string` (raw text, or
/// `!!binary` base64 of gzip) or `response.parsed_body` (YAML re-serialised
/// JSON). Exchanges with other hosts (an OAuth token exchange) are skipped.
fn cassette(bytes: &[u8]) -> Result<Vec<Observation>, String> {
    let document: serde_yaml::Value =
        serde_yaml::from_slice(bytes).map_err(|error| format!("not YAML: {error}"))?;
    let interactions = document
        .get("interactions")
        .and_then(serde_yaml::Value::as_sequence)
        .ok_or("no `interactions` list")?;
    let mut observations = Vec::new();
    for (number, interaction) in interactions.iter().enumerate() {
        let url = interaction
            .get("request")
            .and_then(|request| request.get("uri"))
            .and_then(serde_yaml::Value::as_str)
            .ok_or("an interaction without `request.uri`")?;
        let Some(method) = Method::of(url) else {
            continue;
        };
        let response = interaction
            .get("response")
            .ok_or("an interaction without `response`")?;
        let status = response
            .get("status")
            .and_then(|status| status.get("code"))
            .and_then(serde_yaml::Value::as_u64)
            .and_then(|code| u16::try_from(code).ok())
            .ok_or("no `response.status.code`")?;
        let body = match response.get("body").and_then(|body| body.get("string")) {
            Some(raw) if !is_empty_text(raw) => cassette_string(raw)?,
            _ => {
                let parsed = response
                    .get("parsed_body")
                    .ok_or("neither `body.string` nor `parsed_body`")?;
                let json: Value = serde_yaml::from_value(parsed.clone())
                    .map_err(|error| format!("parsed_body is not JSON-like: {error}"))?;
                json.to_string().into_bytes()
            }
        };
        observations.push(Observation {
            label: format!("interaction {number}"),
            outcome: exchange(method, status, &body),
        });
    }
    Ok(observations)
}

fn is_empty_text(value: &serde_yaml::Value) -> bool {
    value.as_str().is_some_and(str::is_empty)
}

/// The bytes of a cassette `body.string`. serde_yaml hands a `!!binary`
/// value over as its base64 text, so text that is base64 of gzip data (it
/// starts `H4sI`) is decoded and gunzipped; other text is the body itself.
fn cassette_string(value: &serde_yaml::Value) -> Result<Vec<u8>, String> {
    let text = match value {
        serde_yaml::Value::String(text) => text,
        serde_yaml::Value::Tagged(tagged) => tagged
            .value
            .as_str()
            .ok_or("a tagged body.string that is not text")?,
        other => return Err(format!("unexpected body.string {other:?}")),
    };
    let compact: String = text.split_whitespace().collect();
    let gzipped = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .ok()
        .filter(|bytes| bytes.starts_with(&[0x1f, 0x8b]));
    let Some(gzipped) = gzipped else {
        return Ok(text.as_bytes().to_vec());
    };
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(gzipped.as_slice())
        .read_to_end(&mut plain)
        .map_err(|error| format!("bad gzip in body.string: {error}"))?;
    Ok(plain)
}
