//! Batch API and Files API bodies: creating a `batchGenerateContent` job,
//! the long-running `Operation` that describes it, its results (inline or
//! in a JSONL result file), and the `File` resource of an upload.
//!
//! Wire facts, checked in googleapis/python-genai @66807187 (`batches.py`:
//! `_BatchJobSource_to_mldev`, `_InlinedRequest_to_mldev`,
//! `_BatchJobDestination_from_mldev`, `_InlinedResponse_from_mldev`;
//! `_transformers.py::t_job_state`; `_api_client.py` upload loop;
//! `files.py` download) and against the real bodies quoted in
//! `gemini-facts-2026-11.md` §1. Not confirmed in an SDK: that the
//! top-level `response` always repeats `metadata.output` (both are read,
//! `response` first), and whether inline results echo `metadata` (they do
//! in one recording and not in reports, so results fall back to position).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::request::GenerateContentRequest;
use super::response::GenerateContentResponse;

/// The name of a batch job, `batches/{id}` (the SDK's `t_batch_job_name`
/// rule: one non-empty segment after `batches/`). The id is limited to
/// ASCII letters, digits, `-` and `_`, so a name from a reply can never
/// walk out of `/v1beta/batches/` when put in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BatchName(String);

impl BatchName {
    /// Checks `name` (`batches/abc`, or a bare id `abc`, which gains the prefix).
    pub fn parse(name: &str) -> Result<BatchName, String> {
        let full = if name.starts_with("batches/") {
            name.to_owned()
        } else {
            format!("batches/{name}")
        };
        let id = &full["batches/".len()..];
        let ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if ok {
            Ok(BatchName(full))
        } else {
            Err(format!("{name:?} is not a batch name (batches/<id>)"))
        }
    }

    /// `batches/{id}`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BatchName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        BatchName::parse(&value)
    }
}

impl From<BatchName> for String {
    fn from(value: BatchName) -> String {
        value.0
    }
}

impl fmt::Display for BatchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a file, `files/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileName(String);

impl FileName {
    /// Checks `name` (`files/abc`).
    pub fn parse(name: &str) -> Result<FileName, String> {
        let id = name.strip_prefix("files/").unwrap_or_default();
        if !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        {
            Ok(FileName(name.to_owned()))
        } else {
            Err(format!("{name:?} is not a file name (files/<id>)"))
        }
    }

    /// `files/{id}`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id after `files/`.
    pub fn id(&self) -> &str {
        &self.0["files/".len()..]
    }
}

impl TryFrom<String> for FileName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        FileName::parse(&value)
    }
}

impl From<FileName> for String {
    fn from(value: FileName) -> String {
        value.0
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The body of `POST /v1beta/{model}:batchGenerateContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateBatchRequest {
    /// The job to create.
    pub batch: BatchSpec,
}

/// What a new job is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSpec {
    /// A name of our choosing; agent-fork finds a job it may have created
    /// by it after a crash.
    pub display_name: String,
    /// The requests.
    pub input_config: InputConfig,
}

/// Where a job's requests are: inline (under 20 MB in all) or an uploaded
/// JSONL file (up to 2 GB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InputConfig {
    /// `{"requests": {"requests": [...]}}`.
    Requests(InlinedRequests),
    /// `{"fileName": "files/..."}`.
    FileName(FileName),
}

/// The inline requests of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlinedRequests {
    /// One entry per request.
    pub requests: Vec<InlinedRequest>,
}

/// One inline request and its metadata (`{"key": ...}` by our convention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlinedRequest {
    /// The full `generateContent` body.
    pub request: GenerateContentRequest,
    /// Free string metadata; agent-fork puts the item's key here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl InlinedRequest {
    /// `request` tagged with `key`.
    pub fn keyed(key: impl Into<String>, request: GenerateContentRequest) -> Self {
        Self {
            request,
            metadata: BTreeMap::from([("key".to_owned(), key.into())]),
        }
    }
}

/// One line of a JSONL input file: `{"key": ..., "request": {...}}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RequestLine<'a> {
    /// The item's key, echoed in its result line.
    pub key: &'a str,
    /// The `generateContent` body.
    pub request: &'a GenerateContentRequest,
}

/// A job as the API describes it: a long-running `Operation` (create, get,
/// cancel and list all answer with these).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// `batches/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// State, counters, times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BatchMetadata>,
    /// True once the job is in a final state.
    #[serde(default)]
    pub done: bool,
    /// The results, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<BatchOutput>,
    /// Why the job failed as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
}

impl Operation {
    /// The job's state (unspecified when the reply had none).
    pub fn state(&self) -> BatchState {
        self.metadata
            .as_ref()
            .and_then(|metadata| metadata.state.clone())
            .unwrap_or(BatchState::Unspecified)
    }

    /// The job's name, checked.
    pub fn batch_name(&self) -> Option<BatchName> {
        let name = self
            .name
            .as_deref()
            .or_else(|| self.metadata.as_ref()?.name.as_deref())?;
        BatchName::parse(name).ok()
    }

    /// The display name given at creation.
    pub fn display_name(&self) -> Option<&str> {
        self.metadata.as_ref()?.display_name.as_deref()
    }

    /// Counters, when given.
    pub fn stats(&self) -> BatchStats {
        self.metadata
            .as_ref()
            .and_then(|metadata| metadata.batch_stats)
            .unwrap_or_default()
    }

    /// The results: the top-level `response`, else `metadata.output` (the
    /// SDK reads the latter; both carry them in recorded bodies).
    pub fn output(&self) -> Option<&BatchOutput> {
        self.response
            .as_ref()
            .filter(|output| !output.is_empty())
            .or_else(|| self.metadata.as_ref()?.output.as_ref())
    }
}

/// The `metadata` of a job's Operation (a `GenerateContentBatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchMetadata {
    /// `batches/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `models/...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The display name given at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Where the job is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BatchState>,
    /// Request counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_stats: Option<BatchStats>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
    /// RFC 3339, once ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// The results (also at the Operation's `response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<BatchOutput>,
}

/// A job's results: a result file, or inline responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutput {
    /// `files/batch-...`: JSONL, one `{"key", "response"|"error"}` a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses_file: Option<FileName>,
    /// The inline responses, in request order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inlined_responses: Option<InlinedResponses>,
}

impl BatchOutput {
    fn is_empty(&self) -> bool {
        self.responses_file.is_none() && self.inlined_responses.is_none()
    }
}

/// `{"inlinedResponses": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InlinedResponses {
    /// One per request.
    #[serde(default)]
    pub inlined_responses: Vec<InlinedResponse>,
}

/// One inline result: a response or an error, with the request's metadata
/// when the API echoes it (not always: match by position then).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InlinedResponse {
    /// The reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<GenerateContentResponse>,
    /// Why this request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// The request's metadata, when echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
}

impl InlinedResponse {
    /// The `key` metadata, when echoed as a string.
    pub fn key(&self) -> Option<&str> {
        self.metadata.as_ref()?.get("key")?.as_str()
    }
}

/// One line of a result file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultLine {
    /// The request's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<GenerateContentResponse>,
    /// Why this request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
}

/// A `google.rpc.Status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The gRPC code (8 = resource exhausted, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Typed details, kept as JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.message, self.code) {
            (Some(message), Some(code)) => write!(f, "{message} (code {code})"),
            (Some(message), None) => f.write_str(message),
            (None, Some(code)) => write!(f, "error code {code}"),
            (None, None) => f.write_str("unknown error"),
        }
    }
}

/// Request counters of a job. The API sends its int64 counters as JSON
/// strings (`"requestCount": "4"`); numbers are read too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchStats {
    /// Requests in the job.
    #[serde(default, deserialize_with = "count")]
    pub request_count: u64,
    /// Requests answered.
    #[serde(default, deserialize_with = "count")]
    pub successful_request_count: u64,
    /// Requests that failed.
    #[serde(default, deserialize_with = "count")]
    pub failed_request_count: u64,
    /// Requests not yet done.
    #[serde(default, deserialize_with = "count")]
    pub pending_request_count: u64,
}

fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Count {
        Number(u64),
        Text(String),
    }
    match Count::deserialize(deserializer)? {
        Count::Number(n) => Ok(n),
        Count::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Where a job is. The wire says `BATCH_STATE_*`; the SDKs rename them to
/// `JOB_STATE_*` and some guides compare with those, so both read the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BatchState {
    /// No state given.
    Unspecified,
    /// Queued.
    Pending,
    /// Running.
    Running,
    /// Done; results exist.
    Succeeded,
    /// The job failed as a whole.
    Failed,
    /// Cancelled; results of requests already done may exist.
    Cancelled,
    /// Pending or running for over 48 hours; no results.
    Expired,
    /// A value this version does not know, kept as received.
    Other(String),
}

impl BatchState {
    /// The wire spelling (`BATCH_STATE_*`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unspecified => "BATCH_STATE_UNSPECIFIED",
            Self::Pending => "BATCH_STATE_PENDING",
            Self::Running => "BATCH_STATE_RUNNING",
            Self::Succeeded => "BATCH_STATE_SUCCEEDED",
            Self::Failed => "BATCH_STATE_FAILED",
            Self::Cancelled => "BATCH_STATE_CANCELLED",
            Self::Expired => "BATCH_STATE_EXPIRED",
            Self::Other(value) => value,
        }
    }

    /// A short lower-case word for people and JSON: `pending`, `running`, ...
    pub fn word(&self) -> &str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Other(value) => value,
        }
    }

    /// Whether the job will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::Expired
        )
    }
}

impl From<&str> for BatchState {
    fn from(value: &str) -> Self {
        let bare = value
            .strip_prefix("BATCH_STATE_")
            .or_else(|| value.strip_prefix("JOB_STATE_"));
        match bare {
            Some("UNSPECIFIED") => Self::Unspecified,
            Some("PENDING" | "QUEUED") => Self::Pending,
            Some("RUNNING") => Self::Running,
            Some("SUCCEEDED") => Self::Succeeded,
            Some("FAILED") => Self::Failed,
            Some("CANCELLED") => Self::Cancelled,
            Some("EXPIRED") => Self::Expired,
            _ => Self::Other(value.to_owned()),
        }
    }
}

impl fmt::Display for BatchState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for BatchState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BatchState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::from(value.as_ref()))
    }
}

/// A page of `GET /v1beta/batches`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBatchesResponse {
    /// The jobs on this page.
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// The next page's token; absent or empty on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A file of the Files API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    /// `files/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<FileName>,
    /// The display name given at upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its size (a string on the wire).
    #[serde(default, deserialize_with = "optional_count")]
    pub size_bytes: Option<u64>,
    /// `PROCESSING`, `ACTIVE`, `FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// RFC 3339; files live 48 hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<String>,
}

fn optional_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    count(deserializer).map(Some)
}

/// `{"file": File}`, the answer to an upload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// The file.
    #[serde(default)]
    pub file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_state_spellings_read_the_same() {
        for (wire, state) in [
            ("BATCH_STATE_PENDING", BatchState::Pending),
            ("JOB_STATE_PENDING", BatchState::Pending),
            ("BATCH_STATE_SUCCEEDED", BatchState::Succeeded),
            ("JOB_STATE_SUCCEEDED", BatchState::Succeeded),
            ("JOB_STATE_EXPIRED", BatchState::Expired),
            ("BATCH_STATE_CANCELLED", BatchState::Cancelled),
        ] {
            assert_eq!(BatchState::from(wire), state, "{wire}");
        }
        assert_eq!(
            BatchState::from("BATCH_STATE_PAUSED"),
            BatchState::Other("BATCH_STATE_PAUSED".into())
        );
        assert!(BatchState::Expired.is_terminal());
        assert!(!BatchState::Running.is_terminal());
    }

    #[test]
    fn counters_arrive_as_strings_or_numbers() {
        let stats: BatchStats = serde_json::from_str(
            r#"{"requestCount":"4","successfulRequestCount":1,"pendingRequestCount":"3"}"#,
        )
        .unwrap();
        assert_eq!(
            stats,
            BatchStats {
                request_count: 4,
                successful_request_count: 1,
                failed_request_count: 0,
                pending_request_count: 3
            }
        );
        assert!(serde_json::from_str::<BatchStats>(r#"{"requestCount":"x"}"#).is_err());
    }

    #[test]
    fn the_create_body_has_the_wire_shape() {
        let body = CreateBatchRequest {
            batch: BatchSpec {
                display_name: "agent-fork-r1".into(),
                input_config: InputConfig::Requests(InlinedRequests {
                    requests: vec![InlinedRequest::keyed(
                        "0",
                        GenerateContentRequest::default(),
                    )],
                }),
            },
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"batch": {"displayName": "agent-fork-r1", "inputConfig": {
                "requests": {"requests": [{"request": {"contents": []}, "metadata": {"key": "0"}}]}}}})
        );
        let file = InputConfig::FileName(FileName::parse("files/abc").unwrap());
        assert_eq!(
            serde_json::to_value(&file).unwrap(),
            serde_json::json!({"fileName": "files/abc"})
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(BatchName::parse("abc").unwrap().as_str(), "batches/abc");
        assert!(BatchName::parse("batches/").is_err());
        assert!(BatchName::parse("batches/a/b").is_err());
        assert!(BatchName::parse("batches/../x").is_err());
        assert!(BatchName::parse("batches/..").is_err());
        assert!(FileName::parse("files/batch-1").is_ok());
        assert!(FileName::parse("files/a?x").is_err());
    }
}
