//! Hand-written assertions for the cases SOURCES.md calls out, so that the
//! intent is readable here and not only in the facts table.

use std::time::Duration;

use genai_client::{
    BlockReason, Error, ErrorDetail, FinishReason, GenerateContentResponse, Language, Outcome,
    PartData, RecordedBody, RecordedStream, decode_response,
};

use super::adapters::{Observation, observe};
use super::corpus::{self, CorpusFile};

fn file(path: &str) -> Option<CorpusFile> {
    corpus::file_or_skip("conformance notable", path)
}

/// The decoded responses of a corpus file; `None` when the corpus is absent.
fn observations(path: &str) -> Option<Vec<Observation>> {
    let file = file(path)?;
    Some(observe(&file).unwrap_or_else(|problem| panic!("{path}: {problem}")))
}

/// The one response a file records, decoded.
fn decoded(path: &str) -> Option<RecordedBody> {
    let mut observations = observations(path)?;
    assert_eq!(observations.len(), 1, "{path} records one response");
    let outcome = observations.remove(0).outcome;
    Some(outcome.unwrap_or_else(|error| panic!("{path} does not decode: {error}")))
}

fn response(path: &str) -> Option<GenerateContentResponse> {
    match decoded(path)? {
        RecordedBody::Response(response) => Some(response),
        other => panic!("{path} is not a unary reply: {other:?}"),
    }
}

fn stream(path: &str) -> Option<RecordedStream> {
    match decoded(path)? {
        RecordedBody::Stream(stream) => Some(stream),
        other => panic!("{path} is not a stream: {other:?}"),
    }
}

fn api_error(path: &str) -> Option<genai_client::ApiError> {
    match decoded(path)? {
        RecordedBody::Error(api) => Some(api),
        other => panic!("{path} is not an error reply: {other:?}"),
    }
}

#[test]
fn unknown_finish_reasons_are_kept_as_other() {
    let Some(unary) = response("firebase-vertexai/unary-failure-unknown-enum-finish-reason.json")
    else {
        return;
    };
    assert_eq!(
        unary.finish_reason(),
        Some(&FinishReason::Other("FAKE_NEW_FINISH_REASON".to_owned()))
    );
    assert!(!unary.text().is_empty(), "the text still decodes");
    let streamed = stream("firebase-vertexai/streaming-failure-unknown-finish-enum.txt")
        .expect("the corpus is present");
    assert_eq!(
        streamed.combined.finish_reason(),
        Some(&FinishReason::Other("FAKE_ENUM".to_owned()))
    );
}

#[test]
fn unknown_block_reasons_are_kept_as_other() {
    let Some(unary) = response("firebase-vertexai/unary-failure-unknown-enum-prompt-blocked.json")
    else {
        return;
    };
    assert_eq!(
        unary.block_reason(),
        Some(&BlockReason::Other("FAKE_NEW_BLOCK_REASON".to_owned()))
    );
    assert!(unary.candidates.is_empty());
    let armor =
        observations("pydantic-ai/test_google_model_armor_prompt_template_text_gets_blocked.yaml")
            .expect("the corpus is present");
    assert_eq!(
        armor.len(),
        1,
        "the OAuth token exchange is not a Gemini reply"
    );
    let Ok(RecordedBody::Response(armor)) = &armor[0].outcome else {
        panic!("the Model Armor block is a 200 reply: {armor:?}");
    };
    assert_eq!(armor.block_reason(), Some(&BlockReason::ModelArmor));
}

#[test]
fn quota_error_carries_its_retry_delay() {
    let Some(api) = api_error("vercel-ai/google-429-retry-info.json") else {
        return;
    };
    assert_eq!(api.code, 429);
    assert_eq!(api.status.as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(api.retry_delay(), Some(Duration::from_millis(34_400)));
    assert!(api.is_retryable());
    assert!(api.details.iter().any(|detail| matches!(
        detail,
        ErrorDetail::QuotaFailure { violations } if violations.iter().any(|v| v.quota_id.as_deref().is_some_and(|id| id.contains("PerMinute")))
    )));
}

#[test]
fn error_mid_stream_ends_the_stream_after_two_chunks() {
    let Some(stream) = stream("firebase-vertexai/streaming-failure-error-mid-stream.txt") else {
        return;
    };
    assert_eq!(stream.chunks.len(), 2);
    assert_eq!(stream.combined.text(), "First Second ");
    let error = stream.error.expect("the bare JSON error ends the stream");
    assert_eq!(error.code, 499);
    assert_eq!(error.status.as_deref(), Some("CANCELLED"));
    assert_eq!(error.message, "The operation was cancelled.");
    assert!(!stream.truncated);
}

#[test]
fn plain_json_error_answering_a_streaming_call() {
    let Some(api) = api_error("firebase-googleai/streaming-failure-image-rejected.txt") else {
        return;
    };
    assert_eq!(api.code, 400);
    assert_eq!(api.status.as_deref(), Some("INVALID_ARGUMENT"));
    assert!(api.details.is_empty());
    assert!(!api.message.is_empty());
}

#[test]
fn html_error_page_becomes_a_clean_message() {
    let Some(api) =
        api_error("firebase-vertexai/unary-failure-invalid-location-url-not-found.html")
    else {
        return;
    };
    assert_eq!(api.code, 404);
    assert_eq!(api.status.as_deref(), Some("Not Found"));
    assert!(api.message.contains("was not found"), "{}", api.message);
    assert!(
        api.message.starts_with("404. That’s an error."),
        "{}",
        api.message
    );
    for markup in ["<", ">", "margin:", "Error 404 (Not Found)!!1", "\n"] {
        assert!(
            !api.message.contains(markup),
            "{markup:?} in {}",
            api.message
        );
    }
}

#[test]
fn thought_signature_stays_on_the_function_call_part() {
    let path =
        "firebase-googleai/unary-success-thinking-function-call-thought-summary-signature.json";
    let Some(unary) = response(path) else {
        return;
    };
    let parts = &unary.content().expect("content").parts;
    assert_eq!(parts.len(), 2);
    assert!(parts[0].thought && parts[0].thought_signature.is_none());
    assert!(matches!(&parts[1].data, PartData::FunctionCall(call) if call.name == "now"));
    assert!(
        parts[1]
            .thought_signature
            .as_deref()
            .is_some_and(|s| s.len() > 100)
    );
}

#[test]
fn thought_signature_on_an_empty_trailing_text_part_is_kept() {
    let path = "vercel-ai/issue-18073-empty-text-thought-signature.chunks.txt";
    let Some(stream) = stream(path) else {
        return;
    };
    let parts = &stream.combined.content().expect("content").parts;
    let last = parts.last().expect("parts");
    assert_eq!(
        last.as_text(),
        Some(""),
        "the empty carrier part is kept: {parts:?}"
    );
    assert!(last.thought_signature.is_some());
    assert_eq!(stream.combined.text(), "4");
    assert!(
        parts[..parts.len() - 1]
            .iter()
            .all(|part| part.thought_signature.is_none()),
        "the signature stays on the part that carried it"
    );
}

#[test]
fn parallel_calls_come_in_order() {
    let path = "firebase-vertexai/unary-success-function-call-different-parallel-calls.json";
    let Some(unary) = response(path) else {
        return;
    };
    let calls: Vec<_> = unary
        .function_calls()
        .into_iter()
        .map(|call| (call.name.as_str(), call.args_or_empty()))
        .collect();
    assert_eq!(
        calls,
        [
            ("sum", serde_json::json!({"x": 2, "y": 1})),
            ("multiply", serde_json::json!({"x": 4, "y": 3})),
            ("subtract", serde_json::json!({"x": 6, "y": 5})),
        ]
    );
    // Gemini 3 signs only the first of parallel calls.
    let path = "pydantic-ai/test_google_instructions_only_with_tool_calls.yaml";
    let first = observations(path).expect("the corpus is present").remove(0);
    let Ok(RecordedBody::Response(first)) = first.outcome else {
        panic!("{path}: the first reply decodes");
    };
    let parts = &first.content().expect("content").parts;
    assert_eq!(first.function_calls().len(), 3);
    let signed: Vec<bool> = parts
        .iter()
        .map(|part| part.thought_signature.is_some())
        .collect();
    assert_eq!(signed, [true, false, false]);
}

#[test]
fn code_execution_parts_keep_their_order() {
    let Some(unary) = response("firebase-googleai/unary-success-code-execution.json") else {
        return;
    };
    let parts = &unary.content().expect("content").parts;
    assert!(matches!(
        &parts[0].data,
        PartData::ExecutableCode(code) if code.language == Some(Language::Python) && !code.code.is_empty()
    ));
    assert!(matches!(
        &parts[1].data,
        PartData::CodeExecutionResult(result) if result.outcome == Some(Outcome::Ok)
    ));
    assert!(unary.text().starts_with("The first 5 prime numbers"));

    let unary = response("vercel-ai/google-code-execution-multiple-results.json")
        .expect("the corpus is present");
    let outcomes: Vec<_> = unary
        .content()
        .expect("content")
        .parts
        .iter()
        .filter_map(|part| match &part.data {
            PartData::CodeExecutionResult(result) => Some(result.outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [Some(Outcome::Ok), Some(Outcome::Failed)]);

    let streamed = stream("firebase-googleai/streaming-success-code-execution.txt")
        .expect("the corpus is present");
    let parts = &streamed.combined.content().expect("content").parts;
    assert!(
        parts
            .iter()
            .any(|p| matches!(p.data, PartData::ExecutableCode(_)))
    );
    assert!(
        parts
            .iter()
            .any(|p| matches!(p.data, PartData::CodeExecutionResult(_)))
    );
}

#[test]
fn usage_total_is_the_sum_of_its_parts() {
    let Some(unary) = response("firebase-googleai/unary-success-code-execution.json") else {
        return;
    };
    let usage = unary.usage().expect("usage");
    assert_eq!(
        (
            usage.prompt,
            usage.candidates,
            usage.thoughts,
            usage.tool_use
        ),
        (21, 96, 86, 160)
    );
    assert_eq!(usage.total, 363);
    // And across the corpus: every reply that states a total.
    let corpus = corpus::load_or_skip("conformance notable").expect("the corpus is present");
    let mut checked = 0;
    for file in &corpus.files {
        for observation in observe(file).unwrap_or_default() {
            let Ok(body) = &observation.outcome else {
                continue;
            };
            let Some(usage) = body.response().and_then(GenerateContentResponse::usage) else {
                continue;
            };
            if usage.total > 0 {
                checked += 1;
                assert_eq!(
                    usage.total,
                    usage.prompt + usage.candidates + usage.thoughts + usage.tool_use,
                    "{} {}: {usage:?}",
                    file.path,
                    observation.label
                );
            }
        }
    }
    assert!(checked >= 100, "only {checked} usages checked");
}

#[test]
fn citations_under_either_name() {
    let Some(developer) = response("firebase-googleai/unary-success-citations.json") else {
        return;
    };
    let citations = developer.citations();
    assert_eq!(citations.len(), 4);
    assert_eq!(citations[0].license.as_deref(), Some("mit"));
    assert_eq!(citations[0].start_index, Some(548));
    let vertex =
        response("firebase-vertexai/unary-success-citations.json").expect("the corpus is present");
    let citations = vertex.citations();
    assert_eq!(citations.len(), 3);
    assert_eq!(citations[0].start_index, None, "startIndex 0 is omitted");
    assert_eq!(citations[1].title.as_deref(), Some("some-citation-2"));
}

#[test]
fn empty_parts_are_skipped() {
    let Some(unary) = response("firebase-vertexai/unary-success-empty-part.json") else {
        return;
    };
    let parts = &unary.content().expect("content").parts;
    // The `{}` between text and image decodes to a part that says it is empty,
    // so history building can drop it; text and image are intact.
    assert_eq!(parts.iter().filter(|part| part.is_empty()).count(), 1);
    assert!(unary.text().starts_with("I can certainly help"));
    assert!(
        parts
            .iter()
            .any(|p| matches!(&p.data, PartData::InlineData(b) if b.mime_type == "image/png"))
    );
    // A stream drops them when folding.
    let streamed = stream("firebase-googleai/streaming-success-empty-parts.txt")
        .expect("the corpus is present");
    let parts = &streamed.combined.content().expect("content").parts;
    assert!(parts.iter().all(|part| !part.is_empty()), "{parts:?}");
    assert!(
        parts
            .iter()
            .any(|p| matches!(p.data, PartData::InlineData(_)))
    );
}

#[test]
fn bodies_that_are_not_replies_are_decode_errors() {
    for path in [
        "firebase-vertexai/streaming-failure-invalid-json.txt",
        "firebase-vertexai/unary-failure-invalid-response.json",
    ] {
        let Some(observations) = observations(path) else {
            return;
        };
        assert!(
            matches!(observations[0].outcome, Err(Error::Decode { .. })),
            "{path}: {:?}",
            observations[0].outcome
        );
    }
    // The client's unary path says the same with a 200 status.
    let body = file("firebase-vertexai/unary-failure-invalid-response.json")
        .expect("the corpus is present")
        .bytes;
    assert!(matches!(
        decode_response(200, &body),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn streamed_arguments_are_assembled_into_their_calls() {
    // Vertex `streamFunctionCallArguments`: a named call with
    // `willContinue`, then nameless `partialArgs` fragments and a closing
    // `{}`. Folded, each call holds its assembled `args` and keeps its
    // thought signature; the fragments are gone. (The Developer API sends
    // every call whole.)
    let path = "vercel-ai/google-stream-tool-call-arguments.chunks.txt";
    let Some(stream) = stream(path) else {
        return;
    };
    assert_eq!(stream.chunks.len(), 8);
    let parts = &stream.combined.candidates[0]
        .content
        .as_ref()
        .expect("a model turn")
        .parts;
    let calls: Vec<_> = parts
        .iter()
        .filter_map(|part| match &part.data {
            PartData::FunctionCall(call) => Some((call, part.thought_signature.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 2, "{parts:?}");
    for ((call, signed), (location, signature)) in calls
        .iter()
        .zip([("Boston", true), ("San Francisco", false)])
    {
        assert_eq!(call.name, "getWeather");
        assert_eq!(call.args, Some(serde_json::json!({ "location": location })));
        assert!(call.extra.is_empty(), "{call:?}");
        assert_eq!(*signed, signature);
    }
}

#[test]
fn a_streamed_call_without_its_closing_chunk_is_kept() {
    let path = "vercel-ai/google-stream-tool-call-array-arguments-missing-terminal-function-call.chunks.txt";
    let Some(stream) = stream(path) else {
        return;
    };
    let calls = stream.combined.function_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "writeItems");
    let operations = &calls[0].args.as_ref().expect("assembled args")["operations"];
    assert_eq!(operations[1]["itemid"], "banana_001");
    assert_eq!(operations[1]["price"], 0.3);
    let first = &stream.combined.candidates[0]
        .content
        .as_ref()
        .expect("a model turn")
        .parts[0];
    assert!(first.thought_signature.is_some());
}

/// Every model turn of a recorded unary reply, decoded and serialised again,
/// is the same JSON as received: this is what replaying a Gemini 3 turn
/// (signatures on their parts, call ids) relies on.
#[test]
fn recorded_model_turns_replay_as_received() {
    let Some(corpus) = corpus::load_or_skip("conformance notable") else {
        return;
    };
    let mut checked = 0;
    let mut with_signatures = 0;
    for file in corpus
        .files
        .iter()
        .filter(|file| file.format == corpus::Format::Json)
    {
        let Ok(raw) = serde_json::from_slice::<serde_json::Value>(&file.bytes) else {
            continue;
        };
        let Some(content) = raw.pointer("/candidates/0/content") else {
            continue;
        };
        let decoded: genai_client::Content = serde_json::from_value(content.clone())
            .unwrap_or_else(|error| panic!("{}: {error}", file.path));
        assert_eq!(
            &serde_json::to_value(&decoded).expect("content serialises"),
            content,
            "{}: the model turn changed on its way through the types",
            file.path
        );
        checked += 1;
        with_signatures += usize::from(
            decoded
                .parts
                .iter()
                .any(|part| part.thought_signature.is_some()),
        );
    }
    assert!(checked >= 20, "only {checked} unary model turns found");
    assert!(with_signatures >= 5, "only {with_signatures} signed turns");
}

#[test]
fn a_404_for_a_model_names_the_model() {
    let path = "pydantic-ai/test_model_name_suggestion[google].yaml";
    let Some(api) = api_error(path) else {
        return;
    };
    assert_eq!(api.code, 404);
    assert_eq!(api.status.as_deref(), Some("NOT_FOUND"));
    assert_eq!(api.missing_model(), Some("gemini-3.6-flahs"));
    // The misspelt id is unknown to the catalog: its rules come from the id.
    let info = genai_client::catalog::lookup("gemini-3.6-flahs");
    assert_eq!(info.provenance, genai_client::catalog::Provenance::Rule);
}
