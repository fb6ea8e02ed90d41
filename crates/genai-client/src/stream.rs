//! A streamed reply, chunk by chunk as it arrives.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::accumulate::StreamAccumulator;
use crate::client::{check_blocked, within};
use crate::decode::decode_frame;
use crate::error::{Error, TimeoutPhase};
use crate::sse::SseDecoder;
use crate::types::response::GenerateContentResponse;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The chunks of a `streamGenerateContent` reply.
///
/// Read it with [`next`](Self::next), fold it with
/// [`collect_response`](Self::collect_response), or turn it into a
/// [`Stream`] with [`into_stream`](Self::into_stream). An error (a bare JSON
/// error mid-stream, a broken connection, an idle timeout, a body cut in the
/// middle of an event) is yielded once and ends the stream.
pub struct ResponseStream {
    body: ByteStream,
    decoder: SseDecoder,
    pending: VecDeque<Result<GenerateContentResponse, Error>>,
    idle_timeout: Option<Duration>,
    base_url: String,
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
    pub(crate) fn new(
        response: reqwest::Response,
        idle_timeout: Option<Duration>,
        base_url: String,
    ) -> Self {
        Self {
            body: Box::pin(response.bytes_stream()),
            decoder: SseDecoder::default(),
            pending: VecDeque::new(),
            idle_timeout,
            base_url,
            body_done: false,
            failed: false,
        }
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

    /// The next chunk; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<Result<GenerateContentResponse, Error>> {
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
            match within(
                self.idle_timeout,
                TimeoutPhase::StreamIdle,
                self.body.next(),
            )
            .await
            {
                Err(timeout) => {
                    self.failed = true;
                    return Some(Err(timeout));
                }
                Ok(Some(Ok(bytes))) => {
                    let frames = self.decoder.feed(&bytes);
                    self.pending.extend(frames.iter().map(decode_chunk));
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
