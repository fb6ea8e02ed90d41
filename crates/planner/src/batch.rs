//! Durable Batch API runs: submit a run's items as one job, journalled so
//! that nothing is paid for twice, wait for it across process restarts,
//! and collect its results as a stream.
//!
//! The order of a submit, and why:
//! 1. the input is written to a JSONL file in the run folder, streamed
//!    (key = the item's index), never held whole;
//! 2. [`JournalEvent::BatchSubmitting`] (display name, model, count) is
//!    journalled and synced *before* the create request, because creating
//!    is not idempotent;
//! 3. the input goes inline (under the inline limit) or is uploaded as a
//!    file (resumable, in chunks, read from the JSONL file);
//! 4. the create request: a 429 means no job was made and is retried with
//!    backoff; any other failure leaves it unknown, so the jobs are listed
//!    and one with our display name is adopted instead of a second create;
//! 5. [`JournalEvent::BatchSubmitted`] with the job's name, synced.
//!
//! A run whose journal has `BatchSubmitting` without `BatchSubmitted` (the
//! process died between create and answer) is continued by
//! [`submit_or_adopt`]: it lists the jobs first and adopts ours; only when
//! none exists does it create one from the same input file.
//!
//! Results: inline responses are matched by their echoed `metadata.key`
//! when present, by position otherwise (the API does not always echo it);
//! result-file lines by `key`. A request without a result (a cancelled,
//! failed or expired job) gets an error item saying so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use genai_client::{
    BatchName, BatchSpec, BatchState, Client, CreateBatchRequest, GenerateContentRequest,
    GenerateContentResponse, InlinedRequest, InlinedRequests, InputConfig, Operation, RequestLine,
};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::journal::{BatchRecord, Journal, JournalError, JournalEvent};

/// The inline input limit the API sets is 20 MB in all; inline input stays
/// well under it (the body also holds the JSON around the requests).
pub const INLINE_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// Upload chunk size: 1 MiB (a multiple of the protocol's 256 KiB), so a
/// run's memory does not grow by the SDK's 8 MiB chunk (plus its copy in
/// flight) when its input is large enough to be uploaded.
pub const UPLOAD_CHUNK_BYTES: usize = 1024 * 1024;

/// The input file's name in the run folder.
pub const BATCH_INPUT_FILE: &str = "batch-input.jsonl";

/// How a job is submitted and polled.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOptions {
    /// The model every request goes to.
    pub model: String,
    /// The job's display name (unique to the run, e.g. `agent-fork-<run id>`).
    pub display_name: String,
    /// Input up to this many bytes goes inline, more as an uploaded file.
    pub inline_limit: u64,
    /// Upload chunk size.
    pub chunk_size: usize,
    /// Polling.
    pub poll: PollPolicy,
    /// Most create attempts on 429.
    pub create_attempts: u32,
}

impl BatchOptions {
    /// Defaults: 16 MiB inline limit, 1 MiB chunks, [`PollPolicy::default`],
    /// 5 create attempts.
    pub fn new(model: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            display_name: display_name.into(),
            inline_limit: INLINE_LIMIT_BYTES,
            chunk_size: UPLOAD_CHUNK_BYTES,
            poll: PollPolicy::default(),
            create_attempts: 5,
        }
    }
}

/// Polling with backoff: the first wait, growing by `factor` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// The first wait.
    pub first: Duration,
    /// Growth per poll.
    pub factor: f64,
    /// The longest wait.
    pub max: Duration,
}

impl Default for PollPolicy {
    /// 5 s, ×1.5, at most 2 min (jobs take minutes to hours).
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            factor: 1.5,
            max: Duration::from_secs(120),
        }
    }
}

impl PollPolicy {
    /// The wait after `wait`.
    pub fn next(&self, wait: Duration) -> Duration {
        wait.mul_f64(self.factor.max(1.0)).min(self.max)
    }
}

/// Why a batch step failed.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A call to the API failed.
    #[error(transparent)]
    Client(#[from] genai_client::Error),
    /// The journal could not be written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The input file could not be written or read.
    #[error("batch input file {}: {message}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The create answer named no job.
    #[error("the batch create reply names no job (batches/...)")]
    NoName,
}

/// What waiting ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum Waited {
    /// The job reached a final state.
    Ended(Box<Operation>),
    /// The caller stopped waiting (the job keeps running).
    Detached,
}

/// Writes the input file: one `{"key", "request"}` line per item (key =
/// its index), streamed. Returns how many items and bytes.
///
/// # Errors
///
/// [`BatchError::Input`] when the file cannot be written.
pub fn write_input(
    path: &Path,
    items: impl IntoIterator<Item = (usize, GenerateContentRequest)>,
) -> Result<(usize, u64), BatchError> {
    use std::io::Write as _;
    let fail = |error: &dyn std::fmt::Display| BatchError::Input {
        path: path.to_owned(),
        message: error.to_string(),
    };
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let mut out = std::io::BufWriter::new(file);
    let mut count = 0;
    for (index, request) in items {
        let key = index.to_string();
        serde_json::to_writer(
            &mut out,
            &RequestLine {
                key: &key,
                request: &request,
            },
        )
        .map_err(|e| fail(&e))?;
        out.write_all(b"\n").map_err(|e| fail(&e))?;
        count += 1;
    }
    out.flush().map_err(|e| fail(&e))?;
    let file = out.into_inner().map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))?;
    let bytes = file.metadata().map_err(|e| fail(&e))?.len();
    Ok((count, bytes))
}

/// Submits the run's job, or finds the one an earlier process created:
/// `record` is what the journal holds (`None`: nothing submitted yet, and
/// `items` are written to `input` first). See the module docs.
///
/// # Errors
///
/// [`BatchError`] when the input, the journal or the API fails; a failed
/// create leaves the run resumable (the journal says "submitting").
pub async fn submit_or_adopt<I>(
    client: &Client,
    journal: &Journal,
    options: &BatchOptions,
    record: Option<&BatchRecord>,
    input: &Path,
    items: impl FnOnce() -> I,
) -> Result<BatchName, BatchError>
where
    I: IntoIterator<Item = (usize, GenerateContentRequest)>,
{
    let (display_name, model) = match record {
        Some(BatchRecord {
            name: Some(name), ..
        }) => return Ok(name.clone()),
        Some(record) => {
            if let Some(name) = adopt(client, &record.display_name).await? {
                journal.append(JournalEvent::BatchSubmitted {
                    name: name.clone(),
                    adopted: true,
                })?;
                journal.sync()?;
                return Ok(name);
            }
            (record.display_name.clone(), record.model.clone())
        }
        None => {
            let (requests, _) = write_input(input, items())?;
            journal.append(JournalEvent::BatchSubmitting {
                display_name: options.display_name.clone(),
                model: options.model.clone(),
                requests,
            })?;
            journal.sync()?;
            (options.display_name.clone(), options.model.clone())
        }
    };
    let options = BatchOptions {
        display_name,
        model,
        ..options.clone()
    };
    let name = create(client, &options, input).await?;
    journal.append(JournalEvent::BatchSubmitted {
        name: name.clone(),
        adopted: false,
    })?;
    journal.sync()?;
    Ok(name)
}

/// Creates the job from `input` (inline or uploaded), retrying 429s; any
/// other failure looks for the job by display name before giving up.
async fn create(
    client: &Client,
    options: &BatchOptions,
    input: &Path,
) -> Result<BatchName, BatchError> {
    let input_config = input_config(client, options, input).await?;
    let body = CreateBatchRequest {
        batch: BatchSpec {
            display_name: options.display_name.clone(),
            input_config,
        },
    };
    let mut wait = Duration::from_secs(10);
    let mut attempt = 1;
    loop {
        match client.create_batch(&options.model, &body).await {
            Ok(operation) => return operation.batch_name().ok_or(BatchError::NoName),
            Err(genai_client::Error::Api(api))
                if api.code == 429 && attempt < options.create_attempts =>
            {
                let delay = api.retry_after.unwrap_or(wait);
                tokio::time::sleep(delay).await;
                wait = (wait * 2).min(Duration::from_secs(300));
                attempt += 1;
            }
            Err(error @ genai_client::Error::Api(_)) if is_rejection(&error) => {
                return Err(error.into());
            }
            Err(error) => {
                // The job may exist: find it rather than pay twice.
                return match adopt(client, &options.display_name).await {
                    Ok(Some(name)) => Ok(name),
                    _ => Err(error.into()),
                };
            }
        }
    }
}

/// A 4xx answer: the request was refused and no job was made.
fn is_rejection(error: &genai_client::Error) -> bool {
    matches!(error, genai_client::Error::Api(api) if (400..500).contains(&api.code))
}

async fn input_config(
    client: &Client,
    options: &BatchOptions,
    input: &Path,
) -> Result<InputConfig, BatchError> {
    let fail = |error: &dyn std::fmt::Display| BatchError::Input {
        path: input.to_owned(),
        message: error.to_string(),
    };
    let size = tokio::fs::metadata(input)
        .await
        .map_err(|e| fail(&e))?
        .len();
    if size <= options.inline_limit {
        #[derive(Deserialize)]
        struct Line {
            key: String,
            request: GenerateContentRequest,
        }
        let text = tokio::fs::read_to_string(input)
            .await
            .map_err(|e| fail(&e))?;
        let requests = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str::<Line>(line)
                    .map(|line| InlinedRequest::keyed(line.key, line.request))
                    .map_err(|e| fail(&e))
            })
            .collect::<Result<_, _>>()?;
        return Ok(InputConfig::Requests(InlinedRequests { requests }));
    }
    let file = tokio::fs::File::open(input).await.map_err(|e| fail(&e))?;
    let uploaded = client
        .upload_file(
            &options.display_name,
            "application/jsonl",
            size,
            tokio::io::BufReader::new(file),
            options.chunk_size,
        )
        .await?;
    let name = uploaded
        .name
        .ok_or_else(|| fail(&"the upload reply names no file"))?;
    Ok(InputConfig::FileName(name))
}

/// Looks through the jobs (every page, at most 100) for one named
/// `display_name`; the newest by create time when several are.
///
/// # Errors
///
/// The API's, when listing fails.
pub async fn adopt(client: &Client, display_name: &str) -> Result<Option<BatchName>, BatchError> {
    let mut token: Option<String> = None;
    let mut best: Option<(String, BatchName)> = None;
    for _ in 0..100 {
        let page = client
            .list_batches_page(Some(100), token.as_deref())
            .await?;
        for operation in &page.operations {
            if operation.display_name() != Some(display_name) {
                continue;
            }
            let Some(name) = operation.batch_name() else {
                continue;
            };
            let created = operation
                .metadata
                .as_ref()
                .and_then(|metadata| metadata.create_time.clone())
                .unwrap_or_default();
            if best.as_ref().is_none_or(|(time, _)| created > *time) {
                best = Some((created, name));
            }
        }
        match page.next_page_token.filter(|next| !next.is_empty()) {
            Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
            _ => break,
        }
    }
    Ok(best.map(|(_, name)| name))
}

/// Polls `name` with backoff until it ends or `cancel` fires (detaching:
/// the job keeps running). Each state change is journalled; `on_poll` sees
/// every poll (for a progress line).
///
/// # Errors
///
/// The API's or the journal's.
pub async fn wait(
    client: &Client,
    journal: &Journal,
    name: &BatchName,
    poll: &PollPolicy,
    cancel: &CancellationToken,
    mut on_poll: impl FnMut(&Operation),
) -> Result<Waited, BatchError> {
    let mut delay = poll.first;
    let mut last: Option<(BatchState, u64, u64)> = None;
    loop {
        let operation = tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(Waited::Detached),
            operation = client.get_batch(name) => operation?,
        };
        let stats = operation.stats();
        let seen = (
            operation.state(),
            stats.successful_request_count,
            stats.failed_request_count,
        );
        if last.as_ref() != Some(&seen) {
            journal.append(JournalEvent::BatchPolled {
                state: seen.0.clone(),
                succeeded: seen.1,
                failed: seen.2,
                pending: stats.pending_request_count,
            })?;
            last = Some(seen);
        }
        on_poll(&operation);
        if operation.state().is_terminal() {
            return Ok(Waited::Ended(Box::new(operation)));
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(Waited::Detached),
            () = tokio::time::sleep(delay) => {}
        }
        delay = poll.next(delay);
    }
}

/// How a collection went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collected {
    /// Items with a response.
    pub answered: usize,
    /// Items with a per-item error.
    pub failed: usize,
    /// Items the output did not hold (given an error item).
    pub missing: usize,
    /// Results whose key named no item of the run, or one already given
    /// (ignored).
    pub unmatched: usize,
}

/// Reads the results of the ended job `operation` (of `count` items) and
/// hands each to `on_item` as it is read: the index and the response or an
/// error message. Items in `skip` (already journalled) are not handed
/// again. Every item not in the output is handed an error naming the job's
/// state.
///
/// # Errors
///
/// The API's (downloading the result file) or a result file line that is
/// not JSON.
pub async fn collect(
    client: &Client,
    operation: &Operation,
    count: usize,
    skip: &dyn Fn(usize) -> bool,
    mut on_item: impl FnMut(usize, Result<&GenerateContentResponse, String>),
) -> Result<Collected, BatchError> {
    let mut given = vec![false; count];
    let mut collected = Collected::default();
    let mut take = |index: Option<usize>,
                    response: Option<&GenerateContentResponse>,
                    error: Option<&genai_client::Status>,
                    collected: &mut Collected| {
        let Some(index) = index.filter(|index| *index < count && !given[*index]) else {
            collected.unmatched += 1;
            return;
        };
        given[index] = true;
        if skip(index) {
            return;
        }
        match (response, error) {
            (_, Some(error)) => {
                collected.failed += 1;
                on_item(index, Err(error.to_string()));
            }
            (Some(response), None) => {
                collected.answered += 1;
                on_item(index, Ok(response));
            }
            (None, None) => {
                collected.failed += 1;
                on_item(
                    index,
                    Err("the batch result holds neither a response nor an error".into()),
                );
            }
        }
    };
    if let Some(output) = operation.output() {
        if let Some(inline) = &output.inlined_responses {
            for (position, item) in inline.inlined_responses.iter().enumerate() {
                // The echoed key when there is one, else the position.
                let index = match item.key() {
                    Some(key) => key.parse().ok(),
                    None => Some(position),
                };
                take(
                    index,
                    item.response.as_ref(),
                    item.error.as_ref(),
                    &mut collected,
                );
            }
        } else if let Some(file) = &output.responses_file {
            let mut lines = client.download_results(file).await?;
            while let Some(line) = lines.next_line().await {
                let line = line?;
                let index = line.key.as_deref().and_then(|key| key.parse().ok());
                take(
                    index,
                    line.response.as_ref(),
                    line.error.as_ref(),
                    &mut collected,
                );
            }
        }
    }
    let state = operation.state();
    for (index, done) in given.iter().enumerate() {
        if !done && !skip(index) {
            collected.missing += 1;
            on_item(
                index,
                Err(format!(
                    "no result: the batch job ended {} before this request was answered",
                    state.word()
                )),
            );
        }
    }
    Ok(collected)
}

/// Journals that `operation`'s results were collected.
///
/// # Errors
///
/// The journal's.
pub fn mark_collected(journal: &Journal, operation: &Operation) -> Result<(), JournalError> {
    journal.append(JournalEvent::BatchCollected {
        state: operation.state(),
    })?;
    journal.sync()
}

/// A one-line progress summary of a poll: `running: 120/1000 done, 3 failed`.
pub fn progress_line(operation: &Operation) -> String {
    let stats = operation.stats();
    format!(
        "batch {}: {}/{} done, {} failed, {} pending",
        operation.state().word(),
        stats.successful_request_count,
        stats.request_count,
        stats.failed_request_count,
        stats.pending_request_count
    )
}
