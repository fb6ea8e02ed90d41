//! A streamed reply, chunk by chunk as it arrives.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::accumulate::StreamAccumulator;
use crate::client::{check_blocked, scrub_error};
use crate::config::{ReplyLimits, Timeouts};
use crate::decode::decode_frame;
use crate::error::{Error, ReplyPart, TimeoutPhase};
use crate::redact::Redactor;
use crate::sse::SseDecoder;
use crate::types::response::GenerateContentResponse;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The chunks of a `streamGenerateContent` reply.
///
/// Read it with [`next`](Self::next), fold it with
/// [`collect_response`](Self::collect_response), or turn it into a
/// [`Stream`] with [`into_stream`](Self::into_stream). An error (a bare JSON
/// error mid-stream, a broken connection, an idle or overall timeout, a reply
/// over the size limits, a body cut in the middle of an event) is yielded
/// once and ends the stream.
pub struct ResponseStream {
    body: ByteStream,
    decoder: SseDecoder,
    pending: VecDeque<Result<GenerateContentResponse, Error>>,
    idle_timeout: Option<Duration>,
    /// When the next chunk must have been decoded by.
    idle_deadline: Option<Instant>,
    /// The overall deadline and its length.
    total: Option<(Instant, Duration)>,
    limits: ReplyLimits,
    /// Body bytes received so far.
    received: u64,
    base_url: String,
    redactor: Redactor,
    body_done: bool,
    failed: bool,
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    /// A stream over `response`'s body; refused at once when its announced
    /// `Content-Length` is over the stream limit.
    pub(crate) fn new(
        response: reqwest::Response,
        timeouts: Timeouts,
        limits: ReplyLimits,
        base_url: String,
        redactor: Redactor,
    ) -> Result<Self, Error> {
        if response
            .content_length()
            .is_some_and(|length| length > limits.max_stream_bytes)
        {
            return Err(Error::TooLarge {
                part: ReplyPart::Stream,
                limit: limits.max_stream_bytes,
            });
        }
        let now = Instant::now();
        Ok(Self {
            body: Box::pin(response.bytes_stream()),
            decoder: SseDecoder::default(),
            pending: VecDeque::new(),
            idle_timeout: timeouts.stream_idle,
            idle_deadline: timeouts.stream_idle.map(|idle| now + idle),
            total: timeouts.stream_total.map(|total| (now + total, total)),
            limits,
            received: 0,
            base_url,
            redactor,
            body_done: false,
            failed: false,
        })
    }

    /// The nearer of the idle and overall deadlines, with the error it gives.
    fn next_deadline(&self) -> Option<(Instant, Error)> {
        let idle = self
            .idle_deadline
            .zip(self.idle_timeout)
            .map(|(at, after)| {
                let phase = TimeoutPhase::StreamIdle;
                (at, Error::Timeout { phase, after })
            });
        let total = self.total.map(|(at, after)| {
            let phase = TimeoutPhase::StreamTotal;
            (at, Error::Timeout { phase, after })
        });
        match (idle, total) {
            (Some(idle), Some(total)) => Some(if total.0 <= idle.0 { total } else { idle }),
            (one, other) => one.or(other),
        }
    }

    /// Takes in a piece of the body, checking the size limits.
    fn take_bytes(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.received += bytes.len() as u64;
        if self.received > self.limits.max_stream_bytes {
            return Err(Error::TooLarge {
                part: ReplyPart::Stream,
                limit: self.limits.max_stream_bytes,
            });
        }
        let frames = self.decoder.feed(bytes);
        if self.decoder.pending_bytes() as u64 > self.limits.max_event_bytes
            || frames
                .iter()
                .any(|frame| frame.payload().len() as u64 > self.limits.max_event_bytes)
        {
            return Err(Error::TooLarge {
                part: ReplyPart::Event,
                limit: self.limits.max_event_bytes,
            });
        }
        if !frames.is_empty() {
            // Only whole chunks count as progress.
            self.idle_deadline = self.idle_timeout.map(|idle| Instant::now() + idle);
        }
        self.pending.extend(frames.iter().map(decode_chunk));
        Ok(())
    }

    /// Reads until the first chunk is decoded (or the stream ends), so that a
    /// failure before any chunk can still be retried by the client.
    pub(crate) async fn prime(&mut self) -> Result<(), Error> {
        match self.next().await {
            Some(Ok(chunk)) => {
                self.pending.push_front(Ok(chunk));
                Ok(())
            }
            Some(Err(error)) => Err(error),
            None => Ok(()),
        }
    }

    /// The next chunk; `None` once the stream has ended. Errors are
    /// scrubbed of the client's secrets.
    pub async fn next(&mut self) -> Option<Result<GenerateContentResponse, Error>> {
        let item = self.next_raw().await?;
        Some(item.map_err(|error| scrub_error(&self.redactor, error)))
    }

    async fn next_raw(&mut self) -> Option<Result<GenerateContentResponse, Error>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                if item.is_err() {
                    self.failed = true;
                    self.pending.clear();
                }
                return Some(item);
            }
            if self.failed || self.body_done {
                return None;
            }
            let read = match self.next_deadline() {
                Some((at, timeout)) => tokio::time::timeout_at(at, self.body.next())
                    .await
                    .map_err(|_| timeout),
                None => Ok(self.body.next().await),
            };
            match read {
                Err(timeout) => {
                    self.failed = true;
                    return Some(Err(timeout));
                }
                Ok(Some(Ok(bytes))) => {
                    if let Err(error) = self.take_bytes(&bytes) {
                        self.failed = true;
                        self.pending.clear();
                        return Some(Err(error));
                    }
                }
                Ok(Some(Err(error))) => {
                    self.failed = true;
                    return Some(Err(Error::Transport {
                        url: self.base_url.clone(),
                        message: format!(
                            "the stream broke off: {}",
                            crate::client::root_cause(&error)
                        ),
                    }));
                }
                Ok(None) => {
                    self.body_done = true;
                    let decoder = std::mem::take(&mut self.decoder);
                    match decoder.finish() {
                        Ok(frames) => self.pending.extend(frames.iter().map(decode_chunk)),
                        Err(truncated) => self.pending.push_back(Err(Error::decode(
                            truncated.to_string(),
                            truncated.leftover.as_bytes(),
                        ))),
                    }
                }
            }
        }
    }

    /// Reads the whole stream and folds it into one response; the first
    /// error is returned instead.
    pub async fn collect_response(mut self) -> Result<GenerateContentResponse, Error> {
        let mut accumulator = StreamAccumulator::default();
        while let Some(chunk) = self.next().await {
            accumulator.push(&chunk?);
        }
        Ok(accumulator.finish())
    }

    /// The chunks as a [`Stream`].
    pub fn into_stream(self) -> impl Stream<Item = Result<GenerateContentResponse, Error>> + Send {
        futures_util::stream::unfold(self, |mut stream| async move {
            stream.next().await.map(|item| (item, stream))
        })
    }
}

fn decode_chunk(frame: &crate::sse::SseFrame) -> Result<GenerateContentResponse, Error> {
    let chunk = decode_frame(frame)?;
    check_blocked(&chunk)?;
    Ok(chunk)
}
