//! The Batch API and the Files API on the wire: create, get, list, cancel
//! and delete `batchGenerateContent` jobs; upload a JSONL input file with
//! the resumable protocol, in chunks read from a stream; download a result
//! file as a stream of lines. Memory stays flat in the number of requests:
//! nothing here holds a whole file.
//!
//! Creating a job is not idempotent, so [`Client::create_batch`] makes one
//! attempt and never retries on its own: a caller that did not see the
//! answer must look for the job (by display name, [`Client::list_batches_page`])
//! before trying again. Reads, cancel and delete are retried like any call.
//!
//! Not confirmed in the SDK sources (python-genai @66807187): whether the
//! upload session URL is always on the API's own host. The session URL's
//! path and query are kept but its scheme and host are replaced with the
//! configured base URL's (as the SDK does when a base URL is set), so the
//! API key never goes to a host named by a reply.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::{Client, api_error, decode_reply, retry_after, within};
use crate::error::{ApiError, Error, ReplyPart, TimeoutPhase};
use crate::types::batch::{
    BatchName, CreateBatchRequest, File, FileName, ListBatchesResponse, Operation, ResultLine,
    UploadedFile,
};
use crate::types::request::model_resource;

/// Chunk size of resumable uploads (the SDK's: 8 MiB; the protocol wants
/// every chunk but the last to be a multiple of 256 KiB).
pub const UPLOAD_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// The most bytes an Operation body may have (inline results can be large:
/// the inline input alone may be 20 MB).
const MAX_OPERATION_BYTES: u64 = 512 * 1024 * 1024;

/// The longest line a result file may have.
pub const MAX_RESULT_LINE_BYTES: usize = 64 * 1024 * 1024;

impl Client {
    /// `POST /v1beta/{model}:batchGenerateContent`. One attempt, no retry
    /// (see the module docs): a 429 means no job was made; any other
    /// failure leaves it unknown whether one was.
    pub async fn create_batch(
        &self,
        model: &str,
        request: &CreateBatchRequest,
    ) -> Result<Operation, Error> {
        let config = &self.shared.config;
        let url = format!(
            "{}/{}/{}:batchGenerateContent",
            config.base_url,
            config.api_version,
            model_resource(model)
        );
        let result = async {
            let (_, _, body) = self.post_and_read(&url, request).await?;
            decode_reply(&body, "batches.create")
        }
        .await;
        result.map_err(|error| self.scrub(error))
    }

    /// `GET /v1beta/batches/{id}`.
    pub async fn get_batch(&self, name: &BatchName) -> Result<Operation, Error> {
        let url = self.batch_url(name, "");
        self.with_retries(
            None,
            |_| None,
            || async {
                let body = self.send_large(self.shared.http.get(&url)).await?;
                decode_reply(&body, "batches.get")
            },
        )
        .await
    }

    /// `POST /v1beta/batches/{id}:cancel`. The job keeps the results of
    /// requests already done.
    pub async fn cancel_batch(&self, name: &BatchName) -> Result<(), Error> {
        let url = self.batch_url(name, ":cancel");
        self.with_retries(
            None,
            |_| None,
            || async {
                self.send_large(self.shared.http.post(&url).json(&serde_json::json!({})))
                    .await
                    .map(drop)
            },
        )
        .await
    }

    /// `DELETE /v1beta/batches/{id}`.
    pub async fn delete_batch(&self, name: &BatchName) -> Result<(), Error> {
        let url = self.batch_url(name, "");
        self.with_retries(
            None,
            |_| None,
            || async {
                self.send_large(self.shared.http.delete(&url))
                    .await
                    .map(drop)
            },
        )
        .await
    }

    /// One page of `GET /v1beta/batches` (the Developer API has no filter).
    pub async fn list_batches_page(
        &self,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<ListBatchesResponse, Error> {
        let url = self.page_url("batches", page_size, page_token);
        self.with_retries(
            None,
            |_| None,
            || async {
                let body = self.send_large(self.shared.http.get(&url)).await?;
                decode_reply(&body, "batches.list")
            },
        )
        .await
    }

    /// Uploads `size` bytes read from `reader` as a file, with the
    /// resumable protocol: a `start` request (display name, size, MIME
    /// type), then chunks of `chunk_size` bytes (the last one with
    /// `upload, finalize`), each checked against `x-goog-upload-status`.
    /// Holds one chunk in memory at a time.
    pub async fn upload_file(
        &self,
        display_name: &str,
        mime_type: &str,
        size: u64,
        mut reader: impl AsyncRead + Unpin,
        chunk_size: usize,
    ) -> Result<File, Error> {
        let config = &self.shared.config;
        let start_url = format!("{}/upload/{}/files", config.base_url, config.api_version);
        let start = self
            .authed(self.shared.http.post(&start_url))
            .header("X-Goog-Upload-Protocol", "resumable")
            .header("X-Goog-Upload-Command", "start")
            .header("X-Goog-Upload-Header-Content-Length", size.to_string())
            .header("X-Goog-Upload-Header-Content-Type", mime_type)
            .json(&serde_json::json!({"file": {"displayName": display_name}}));
        let (headers, _) = self.exchange(start).await?;
        let session = headers
            .get("x-goog-upload-url")
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                Error::decode(
                    "the upload start reply has no x-goog-upload-url header".to_owned(),
                    b"",
                )
            })?;
        let session = self.on_base_origin(session)?;
        let chunk_size = chunk_size.max(1);
        let mut offset: u64 = 0;
        let mut buffer =
            BytesMut::with_capacity(chunk_size.min(usize::try_from(size).unwrap_or(usize::MAX)));
        loop {
            buffer.clear();
            let want =
                usize::try_from((size - offset).min(chunk_size as u64)).unwrap_or(chunk_size);
            buffer.resize(want, 0);
            reader
                .read_exact(&mut buffer[..])
                .await
                .map_err(|error| Error::Transport {
                    url: "the upload's source".to_owned(),
                    message: format!("could not read the file to upload: {error}"),
                })?;
            let last = offset + want as u64 >= size;
            let command = if last { "upload, finalize" } else { "upload" };
            let chunk = self
                .authed(self.shared.http.post(&session))
                .header("X-Goog-Upload-Command", command)
                .header("X-Goog-Upload-Offset", offset.to_string())
                // The chunk's memory goes with the request (no copy).
                .body(buffer.split().freeze());
            let (headers, body) = self.exchange(chunk).await?;
            offset += want as u64;
            let status = headers
                .get("x-goog-upload-status")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            match (status, last) {
                ("final", true) => {
                    let uploaded: UploadedFile = decode_reply(&body, "upload")?;
                    return Ok(uploaded.file);
                }
                ("active", false) => {}
                (other, _) => {
                    return Err(Error::decode(
                        format!(
                            "the upload stopped at byte {offset} of {size}: x-goog-upload-status is {other:?}"
                        ),
                        &body,
                    ));
                }
            }
        }
    }

    /// `GET /v1beta/files/{id}:download?alt=media`, read as result lines
    /// as they arrive.
    pub async fn download_results(&self, file: &FileName) -> Result<ResultLines, Error> {
        let config = &self.shared.config;
        let url = format!(
            "{}/{}/files/{}:download?alt=media",
            config.base_url,
            config.api_version,
            file.id()
        );
        let response = self
            .with_retries(
                None,
                |_| None,
                || async {
                    let request = self.authed(self.shared.http.get(&url));
                    let limit = self.shared.config.timeouts.request;
                    let response = within(limit, TimeoutPhase::Request, request.send())
                        .await?
                        .map_err(|error| self.transport_error(&error))?;
                    let status = response.status().as_u16();
                    if !(200..300).contains(&status) {
                        let body = self.read_body(response).await?;
                        return Err(Error::Api(Box::new(ApiError::from_body(status, &body))));
                    }
                    Ok(response)
                },
            )
            .await?;
        Ok(ResultLines {
            chunks: Box::pin(response.bytes_stream()),
            pending: BytesMut::new(),
            done: false,
            client: self.clone(),
        })
    }

    fn batch_url(&self, name: &BatchName, suffix: &str) -> String {
        let config = &self.shared.config;
        format!(
            "{}/{}/{}{suffix}",
            config.base_url,
            config.api_version,
            name.as_str()
        )
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.shared.config.api_key {
            Some(key) => request.header("x-goog-api-key", key.expose()),
            None => request,
        }
    }

    /// Sends with the key, reads the body within [`MAX_OPERATION_BYTES`];
    /// a non-2xx answer is an [`Error::Api`].
    async fn send_large(&self, request: reqwest::RequestBuilder) -> Result<Bytes, Error> {
        self.exchange(self.authed(request))
            .await
            .map(|(_, body)| body)
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, Bytes), Error> {
        let call = async {
            let response = request
                .send()
                .await
                .map_err(|error| self.transport_error(&error))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let retry_after = retry_after(&headers);
            let body = self.read_up_to(response, MAX_OPERATION_BYTES).await?;
            if !(200..300).contains(&status) {
                return Err(api_error(status, &body, retry_after));
            }
            Ok((headers, body))
        };
        let limit = self.shared.config.timeouts.request;
        within(limit, TimeoutPhase::Request, call)
            .await?
            .map_err(|error| self.scrub(error))
    }

    /// `url` with the configured base URL's scheme and host.
    fn on_base_origin(&self, url: &str) -> Result<String, Error> {
        let bad = || {
            Error::decode(
                format!("the upload session URL is not a URL: {url:.200}"),
                b"",
            )
        };
        let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
        let base = reqwest::Url::parse(&self.shared.config.base_url).map_err(|_| bad())?;
        let mut rebased = base.clone();
        rebased.set_path(parsed.path());
        rebased.set_query(parsed.query());
        Ok(rebased.to_string())
    }
}

/// The lines of a result file, decoded one at a time as the body arrives
/// (blank lines skipped). A line longer than [`MAX_RESULT_LINE_BYTES`] is an
/// error.
pub struct ResultLines {
    chunks:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, reqwest::Error>> + Send>>,
    pending: BytesMut,
    done: bool,
    client: Client,
}

impl std::fmt::Debug for ResultLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultLines")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ResultLines {
    /// The next line, or `None` at the end of the file.
    pub async fn next_line(&mut self) -> Option<Result<ResultLine, Error>> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line = self.pending.split_to(end + 1);
                match decode_line(&line) {
                    Some(result) => return Some(result),
                    None => continue,
                }
            }
            if self.pending.len() > MAX_RESULT_LINE_BYTES {
                self.done = true;
                self.pending.clear();
                return Some(Err(Error::TooLarge {
                    part: ReplyPart::Event,
                    limit: MAX_RESULT_LINE_BYTES as u64,
                }));
            }
            if self.done {
                if self.pending.is_empty() {
                    return None;
                }
                let line = self.pending.split();
                if let Some(result) = decode_line(&line) {
                    return Some(result);
                }
                continue;
            }
            match self.chunks.next().await {
                Some(Ok(chunk)) => self.pending.extend_from_slice(&chunk),
                Some(Err(error)) => {
                    self.done = true;
                    self.pending.clear();
                    return Some(Err(self.client.scrub(self.client.transport_error(&error))));
                }
                None => self.done = true,
            }
        }
    }
}

fn decode_line(line: &[u8]) -> Option<Result<ResultLine, Error>> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(trimmed).map_err(|error| {
            Error::decode(format!("unexpected result-file line ({error})"), trimmed)
        }),
    )
}
