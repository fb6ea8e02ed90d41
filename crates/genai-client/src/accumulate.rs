//! Folding stream chunks into one response.
//!
//! Chunks are deltas. Per candidate index: text is joined, with thought text
//! kept apart from answer text; function calls and other parts are kept in
//! order; thought signatures stay on the part that carried them (an empty
//! text part carrying only a signature is kept, since the model turn must be
//! replayed exactly). Usage comes from the last chunk that carried counts,
//! the finish reason from the last chunk that had one. Grounding, citations
//! and URL metadata are merged. A function call whose arguments Vertex
//! streams in pieces (`streamFunctionCallArguments`) becomes one call with
//! its assembled `args` ([`streamed_call`]); whole calls are kept as sent.

mod json_path;
mod streamed_call;

use std::collections::BTreeMap;

use self::streamed_call::OpenCall;
use crate::types::content::{Content, Part, PartData};
use crate::types::response::{
    Candidate, CitationMetadata, GenerateContentResponse, GroundingMetadata,
};

/// Folds stream chunks into one [`GenerateContentResponse`].
///
/// ```
/// use genai_client::{GenerateContentResponse, StreamAccumulator};
/// let chunks = [
///     r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}]}"#,
///     r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP"}]}"#,
/// ];
/// let mut accumulator = StreamAccumulator::default();
/// for chunk in chunks {
///     accumulator.push(&serde_json::from_str::<GenerateContentResponse>(chunk).unwrap());
/// }
/// let response = accumulator.finish();
/// assert_eq!(response.text(), "Hello");
/// assert_eq!(response.finish_reason().unwrap().as_str(), "STOP");
/// ```
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    candidates: BTreeMap<u32, Slot>,
    response: GenerateContentResponse,
}

/// One candidate folded so far, and its streamed call still open, if any.
#[derive(Debug, Default)]
struct Slot {
    candidate: Candidate,
    open_call: Option<OpenCall>,
}

impl StreamAccumulator {
    /// Adds the next chunk.
    pub fn push(&mut self, chunk: &GenerateContentResponse) {
        for (position, incoming) in chunk.candidates.iter().enumerate() {
            let index = incoming
                .index
                .unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            let slot = self.candidates.entry(index).or_insert_with(|| Slot {
                candidate: Candidate {
                    index: incoming.index,
                    ..Candidate::default()
                },
                open_call: None,
            });
            merge_candidate(&mut slot.candidate, &mut slot.open_call, incoming);
        }
        let response = &mut self.response;
        if let Some(usage) = &chunk.usage_metadata {
            if usage.has_counts() || response.usage_metadata.is_none() {
                response.usage_metadata = Some(usage.clone());
            }
        }
        if chunk.prompt_feedback.is_some() {
            response.prompt_feedback.clone_from(&chunk.prompt_feedback);
        }
        if chunk.model_version.is_some() {
            response.model_version.clone_from(&chunk.model_version);
        }
        if chunk.response_id.is_some() {
            response.response_id.clone_from(&chunk.response_id);
        }
    }

    /// The folded response.
    pub fn finish(mut self) -> GenerateContentResponse {
        self.response.candidates = self
            .candidates
            .into_values()
            .map(|slot| slot.candidate)
            .collect();
        self.response
    }

    /// The response so far, without consuming the accumulator.
    pub fn snapshot(&self) -> GenerateContentResponse {
        let mut response = self.response.clone();
        response.candidates = self
            .candidates
            .values()
            .map(|slot| slot.candidate.clone())
            .collect();
        response
    }
}

fn merge_candidate(
    candidate: &mut Candidate,
    open_call: &mut Option<OpenCall>,
    incoming: &Candidate,
) {
    if let Some(content) = &incoming.content {
        let merged = candidate.content.get_or_insert_with(Content::default);
        if merged.role.is_none() {
            merged.role.clone_from(&content.role);
        }
        for part in &content.parts {
            if !streamed_call::try_append(&mut merged.parts, open_call, part) {
                append_part(&mut merged.parts, part);
            }
        }
    }
    if incoming.finish_reason.is_some() {
        candidate.finish_reason.clone_from(&incoming.finish_reason);
    }
    if incoming.finish_message.is_some() {
        candidate
            .finish_message
            .clone_from(&incoming.finish_message);
    }
    if !incoming.safety_ratings.is_empty() {
        candidate
            .safety_ratings
            .clone_from(&incoming.safety_ratings);
    }
    if let Some(citations) = &incoming.citation_metadata {
        merge_citations(
            candidate
                .citation_metadata
                .get_or_insert_with(Default::default),
            citations,
        );
    }
    if let Some(grounding) = &incoming.grounding_metadata {
        merge_grounding(
            candidate
                .grounding_metadata
                .get_or_insert_with(Default::default),
            grounding,
        );
    }
    if incoming.url_context_metadata.is_some() {
        candidate
            .url_context_metadata
            .clone_from(&incoming.url_context_metadata);
    }
    if incoming.avg_logprobs.is_some() {
        candidate.avg_logprobs = incoming.avg_logprobs;
    }
}

/// Appends a part, joining text onto the previous text part of the same
/// kind (thought or answer) unless either carries a thought signature: a
/// signature stays on the part that brought it (often a trailing `""`).
fn append_part(parts: &mut Vec<Part>, part: &Part) {
    if part.is_empty() {
        return;
    }
    if let (PartData::Text(text), Some(last)) = (&part.data, parts.last_mut()) {
        let joinable = last.thought == part.thought
            && last.thought_signature.is_none()
            && part.thought_signature.is_none()
            && last.extra.is_empty()
            && part.extra.is_empty();
        if let (PartData::Text(last_text), true) = (&mut last.data, joinable) {
            last_text.push_str(text);
            return;
        }
    }
    parts.push(part.clone());
}

fn merge_citations(merged: &mut CitationMetadata, incoming: &CitationMetadata) {
    for citation in &incoming.citations {
        if !merged.citations.contains(citation) {
            merged.citations.push(citation.clone());
        }
    }
}

fn merge_grounding(merged: &mut GroundingMetadata, incoming: &GroundingMetadata) {
    for query in &incoming.web_search_queries {
        if !merged.web_search_queries.contains(query) {
            merged.web_search_queries.push(query.clone());
        }
    }
    for chunk in &incoming.grounding_chunks {
        if !merged.grounding_chunks.contains(chunk) {
            merged.grounding_chunks.push(chunk.clone());
        }
    }
    merged
        .grounding_supports
        .extend(incoming.grounding_supports.iter().cloned());
    if incoming.search_entry_point.is_some() {
        merged
            .search_entry_point
            .clone_from(&incoming.search_entry_point);
    }
}

#[cfg(test)]
mod server_side_tool_tests {
    use super::*;

    fn chunk(parts: &str) -> GenerateContentResponse {
        serde_json::from_str(&format!(
            r#"{{"candidates":[{{"content":{{"role":"model","parts":{parts}}},"index":0}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn server_side_tool_parts_keep_their_order_ids_and_signatures_across_chunks() {
        let first = r#"[{"toolCall":{"toolType":"GOOGLE_SEARCH_WEB","args":{"queries":["q"]},"id":"a1"},"thoughtSignature":"UzE="}]"#;
        let second = r#"[{"toolResponse":{"toolType":"GOOGLE_SEARCH_WEB","response":{"search_suggestions":"s"},"id":"a1"},"thoughtSignature":"UzI="},{"functionCall":{"name":"f","args":{},"id":"b2"},"thoughtSignature":"UzM="}]"#;
        let mut accumulator = StreamAccumulator::default();
        accumulator.push(&chunk(first));
        accumulator.push(&chunk(second));
        let folded = accumulator.finish();
        let parts = serde_json::to_value(&folded.content().unwrap().parts).unwrap();
        let mut expected: Vec<serde_json::Value> = serde_json::from_str(first).unwrap();
        expected.extend(serde_json::from_str::<Vec<serde_json::Value>>(second).unwrap());
        assert_eq!(parts, serde_json::Value::Array(expected));
    }
}
