//! Server-sent-event framing as Gemini speaks it.
//!
//! Each event is one or more `data:` lines followed by a blank line; the
//! server separates events with CRLF CRLF, recorded files sometimes with
//! LF LF. There is no end marker: the body just ends. An error can arrive
//! inside an open stream as a bare JSON object (not prefixed by `data:`,
//! possibly over several lines), and a streaming call can be answered with
//! a plain JSON error body. [`SseDecoder`] handles all of these, fed with
//! bytes as they arrive from the network, however the reads split them.

/// One framed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseFrame {
    /// The payload of a `data:` event (lines joined with `\n`).
    Data(String),
    /// A JSON object that arrived without `data:` framing.
    BareJson(String),
}

impl SseFrame {
    /// The payload text.
    pub fn payload(&self) -> &str {
        match self {
            Self::Data(text) | Self::BareJson(text) => text,
        }
    }
}

/// The body ended in the middle of an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stream ended in the middle of an event ({} bytes left over)", leftover.len())]
pub struct TruncatedStream {
    /// The incomplete bytes.
    pub leftover: String,
}

/// Incremental decoder: feed bytes, take frames, then [`finish`](Self::finish).
///
/// ```
/// use genai_client::{SseDecoder, SseFrame};
/// let mut decoder = SseDecoder::default();
/// let mut frames = decoder.feed(b"data: {\"a\":1}\r\n\r\nda");
/// frames.extend(decoder.feed(b"ta: {\"b\":2}\n\n"));
/// assert_eq!(frames, vec![SseFrame::Data("{\"a\":1}".into()), SseFrame::Data("{\"b\":2}".into())]);
/// assert_eq!(decoder.finish(), Ok(vec![]));
/// ```
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the current, not yet complete line.
    line: Vec<u8>,
    /// `data:` lines of the event being assembled.
    data: Option<String>,
    /// Lines of a bare JSON object being assembled.
    bare: String,
    /// Bracket state of `bare`, advanced over each new line only, so no
    /// byte is scanned twice however many lines the object spans.
    bare_scan: JsonScan,
    /// Bytes examined so far (see [`bytes_examined`](Self::bytes_examined)).
    examined: u64,
}

impl SseDecoder {
    /// Feeds the next bytes of the body; returns the frames they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseFrame> {
        let mut frames = Vec::new();
        let mut rest = bytes;
        self.examined += bytes.len() as u64;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..newline]);
            rest = &rest[newline + 1..];
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.line_complete(&String::from_utf8_lossy(&line), &mut frames);
        }
        self.line.extend_from_slice(rest);
        frames
    }

    /// Bytes held for the event (or bare JSON object) not yet complete.
    pub fn pending_bytes(&self) -> usize {
        self.line.len() + self.data.as_ref().map_or(0, String::len) + self.bare.len()
    }

    /// How many bytes the decoder has examined so far, counting every pass
    /// over the same byte. Exposed so tests can check that decoding stays
    /// linear in the size of the body.
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Ends the body. A last event without its blank line is returned when it
    /// is complete JSON; an incomplete one is a [`TruncatedStream`].
    pub fn finish(mut self) -> Result<Vec<SseFrame>, TruncatedStream> {
        let mut frames = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let text = String::from_utf8_lossy(&line);
            self.line_complete(text.trim_end_matches('\r'), &mut frames);
        }
        if let Some(data) = self.data.take() {
            if serde_json::from_str::<serde::de::IgnoredAny>(&data).is_ok() {
                frames.push(SseFrame::Data(data));
            } else {
                return Err(TruncatedStream { leftover: data });
            }
        }
        if !self.bare.trim().is_empty() {
            return Err(TruncatedStream {
                leftover: self.bare,
            });
        }
        Ok(frames)
    }

    fn line_complete(&mut self, line: &str, frames: &mut Vec<SseFrame>) {
        if !self.bare.is_empty() {
            self.push_bare(line, frames);
            return;
        }
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                frames.push(SseFrame::Data(data));
            }
            return;
        }
        if let Some(payload) = line.strip_prefix("data:") {
            let payload = payload.strip_prefix(' ').unwrap_or(payload);
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(payload);
                }
                None => self.data = Some(payload.to_owned()),
            }
            return;
        }
        if line.starts_with(':') || is_ignored_field(line) {
            return;
        }
        // Not SSE framing: the start of a bare JSON object (an error).
        if let Some(data) = self.data.take() {
            frames.push(SseFrame::Data(data));
        }
        if line.trim().is_empty() {
            return;
        }
        self.push_bare(line, frames);
    }

    /// Adds a line to the bare JSON object, scanning only that line.
    fn push_bare(&mut self, line: &str, frames: &mut Vec<SseFrame>) {
        self.bare.push_str(line);
        self.bare.push('\n');
        self.examined += line.len() as u64 + 1;
        self.bare_scan.advance(line.as_bytes());
        if self.bare_scan.complete() {
            self.bare_scan = JsonScan::default();
            frames.push(SseFrame::BareJson(std::mem::take(&mut self.bare)));
        }
    }
}

fn is_ignored_field(line: &str) -> bool {
    ["event:", "id:", "retry:"]
        .iter()
        .any(|field| line.starts_with(field))
}

/// Bracket state of JSON text read so far: the text holds a whole JSON
/// value once brackets balance outside strings and at least one was opened.
#[derive(Debug, Default, Clone, Copy)]
struct JsonScan {
    depth: i64,
    opened: bool,
    in_string: bool,
    escaped: bool,
}

impl JsonScan {
    fn advance(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.in_string {
                match byte {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.opened = true;
                }
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
    }

    fn complete(&self) -> bool {
        self.opened && self.depth <= 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(
        body: &[u8],
        piece: usize,
    ) -> (Vec<SseFrame>, Result<Vec<SseFrame>, TruncatedStream>) {
        let mut decoder = SseDecoder::default();
        let mut frames = Vec::new();
        for chunk in body.chunks(piece) {
            frames.extend(decoder.feed(chunk));
        }
        (frames, decoder.finish())
    }

    #[test]
    fn crlf_and_lf_separators_give_the_same_frames() {
        let crlf = b"data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\n\r\n";
        let lf = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\n";
        for piece in 1..crlf.len() {
            assert_eq!(decode_in_pieces(crlf, piece), decode_in_pieces(lf, piece));
        }
        let (frames, end) = decode_in_pieces(crlf, 3);
        assert_eq!(frames.len(), 2);
        assert_eq!(end, Ok(vec![]));
    }

    #[test]
    fn last_event_without_blank_line_is_kept() {
        let (frames, end) = decode_in_pieces(b"data: {\"a\":1}\n\ndata: {\"b\":2}", 4);
        assert_eq!(frames, vec![SseFrame::Data("{\"a\":1}".into())]);
        assert_eq!(end, Ok(vec![SseFrame::Data("{\"b\":2}".into())]));
    }

    #[test]
    fn cut_event_is_reported() {
        let (frames, end) = decode_in_pieces(b"data: {\"a\":1}\n\ndata: {\"b\":", 5);
        assert_eq!(frames.len(), 1);
        assert!(end.is_err());
    }

    #[test]
    fn bare_error_object_over_several_lines() {
        let body = b"data: {\"a\":1}\n\n{\n  \"error\": {\n    \"code\": 499,\n    \"message\": \"x}\"\n  }\n}\n";
        let (frames, end) = decode_in_pieces(body, 7);
        assert_eq!(frames.len(), 2);
        assert!(matches!(&frames[1], SseFrame::BareJson(text) if text.contains("499")));
        assert_eq!(end, Ok(vec![]));
    }

    #[test]
    fn plain_json_body_without_framing() {
        let body = b"{\n  \"error\": {\"code\": 400}\n}";
        let (frames, end) = decode_in_pieces(body, 2);
        assert!(frames.is_empty());
        let end = end.expect("a whole JSON object is not truncated");
        assert_eq!(end.len(), 1);
        assert!(matches!(&end[0], SseFrame::BareJson(text) if text.contains("400")));
    }

    /// A body of bare lines that never closes its object (the hostile input
    /// that took minutes when every line rescanned the whole buffer): each
    /// byte must be examined a bounded number of times.
    #[test]
    fn bare_lines_are_examined_a_bounded_number_of_times() {
        let mut body = b"{\n".to_vec();
        while body.len() < 560 * 1024 {
            body.extend_from_slice(b"  \"k\": [1, 2, {\"a\": \"b\"}],\n");
        }
        for piece in [64, 4096, body.len()] {
            let mut decoder = SseDecoder::default();
            for chunk in body.chunks(piece) {
                assert!(decoder.feed(chunk).is_empty());
            }
            let examined = decoder.bytes_examined();
            assert!(
                examined <= 3 * body.len() as u64,
                "{examined} bytes examined for a {} byte body",
                body.len()
            );
            assert!(decoder.finish().is_err(), "an unclosed object is truncated");
        }
    }

    #[test]
    fn multibyte_text_split_across_reads() {
        let body = "data: {\"t\":\"héllo 🌍\"}\r\n\r\n".as_bytes();
        for piece in 1..body.len() {
            let (frames, _) = decode_in_pieces(body, piece);
            assert_eq!(frames, vec![SseFrame::Data("{\"t\":\"héllo 🌍\"}".into())]);
        }
    }
}
