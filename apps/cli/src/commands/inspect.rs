//! `agent-fork inspect FILE`: what a recorded Gemini response body holds.
//!
//! Reads a body saved to a file (a unary JSON reply, an SSE stream, a JSON
//! array or newline-delimited chunks, an error envelope, an HTML error page)
//! and shows its facts. `--json` prints one object with a fixed set of keys.
//! Exit 0 for a decoded response, 3 for a decoded API error, 2 when the file
//! cannot be read or understood.

use std::path::PathBuf;

use anyhow::Result;
use genai_client::{ApiError, RecordedBody, decode_recorded};
use serde::Serialize;

use crate::exit::{Exit, Failure};
use crate::output::Output;

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {
    /// The file holding a recorded response body (JSON or an SSE stream).
    pub(crate) file: PathBuf,
}

/// The facts of a body; the `--json` shape (every key always present).
#[derive(Debug, Serialize)]
pub(crate) struct InspectReport {
    kind: &'static str,
    chunks: usize,
    text: Option<String>,
    thoughts: Option<String>,
    function_calls: Vec<FunctionCallFact>,
    finish_reason: Option<String>,
    block_reason: Option<String>,
    usage: Option<UsageFact>,
    grounding: Option<GroundingFact>,
    citations: usize,
    error: Option<ErrorFact>,
}

#[derive(Debug, Serialize)]
struct FunctionCallFact {
    name: String,
    args: serde_json::Value,
}

#[derive(Debug, Serialize)]
struct UsageFact {
    prompt: u64,
    candidates: u64,
    thoughts: u64,
    cached: u64,
    tool_use: u64,
    total: u64,
}

#[derive(Debug, Serialize)]
struct GroundingFact {
    queries: Vec<String>,
    sources: Vec<SourceFact>,
}

#[derive(Debug, Serialize)]
struct SourceFact {
    uri: Option<String>,
    title: Option<String>,
}

#[derive(Debug, Serialize)]
struct ErrorFact {
    code: u16,
    status: Option<String>,
    message: String,
    retry_delay_s: Option<f64>,
}

/// Runs `inspect`.
pub(crate) fn run(args: &InspectArgs, output: &Output) -> Result<Exit> {
    let bytes = std::fs::read(&args.file)
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", args.file.display())))?;
    let body = decode_recorded(&bytes).map_err(|error| {
        Failure::usage(format!(
            "{} is not a Gemini response body: {error}",
            args.file.display()
        ))
    })?;
    let report = InspectReport::from_body(&body);
    if output.json() {
        output.json_value(&report)?;
    } else {
        output.line(&report.human(&args.file.display().to_string(), output));
    }
    Ok(if report.error.is_some() {
        Exit::Api
    } else {
        Exit::Success
    })
}

impl InspectReport {
    pub(crate) fn from_body(body: &RecordedBody) -> Self {
        let (kind, chunks) = match body {
            RecordedBody::Stream(stream) => ("stream", stream.chunks.len()),
            RecordedBody::Error(_) => ("error", 0),
            _ => ("response", 1),
        };
        let response = body.response();
        let non_empty = |text: String| (!text.is_empty()).then_some(text);
        let grounding = response.and_then(|response| {
            let queries: Vec<String> = response
                .grounding_queries()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let sources: Vec<SourceFact> = response
                .grounding_sources()
                .into_iter()
                .map(|source| SourceFact {
                    uri: source.uri,
                    title: source.title,
                })
                .collect();
            (!queries.is_empty() || !sources.is_empty())
                .then_some(GroundingFact { queries, sources })
        });
        InspectReport {
            kind,
            chunks,
            text: response.and_then(|response| non_empty(response.text())),
            thoughts: response.and_then(|response| non_empty(response.thought_text())),
            function_calls: response
                .map(|response| {
                    response
                        .function_calls()
                        .into_iter()
                        .map(|call| FunctionCallFact {
                            name: call.name.clone(),
                            args: call.args_or_empty(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            finish_reason: response
                .and_then(|r| r.finish_reason())
                .map(ToString::to_string),
            block_reason: response
                .and_then(|r| r.block_reason())
                .map(ToString::to_string),
            usage: body
                .usage_metadata()
                .filter(|usage| usage.has_counts())
                .map(|metadata| {
                    let usage = genai_client::Usage::from(&metadata);
                    UsageFact {
                        prompt: usage.prompt,
                        candidates: usage.candidates,
                        thoughts: usage.thoughts,
                        cached: usage.cached,
                        tool_use: usage.tool_use,
                        total: usage.total,
                    }
                }),
            grounding,
            citations: response
                .map(|response| response.citations().len())
                .unwrap_or(0),
            error: body.error().map(ErrorFact::from),
        }
    }

    fn human(&self, file: &str, output: &Output) -> String {
        let mut lines = vec![output.heading(&format!("🔎 {file}"))];
        let kind = match self.kind {
            "stream" => format!("stream of {} chunks", self.chunks),
            other => other.to_owned(),
        };
        lines.push(output.key_value("Kind", &kind));
        if let Some(reason) = &self.finish_reason {
            lines.push(output.key_value("Finish reason", reason));
        }
        if let Some(reason) = &self.block_reason {
            lines.push(output.key_value("Prompt blocked", reason));
        }
        if let Some(usage) = &self.usage {
            lines.push(output.key_value(
                "Tokens",
                &format!(
                    "{} prompt · {} output · {} thinking · {} cached · {} tool use · {} total",
                    usage.prompt,
                    usage.candidates,
                    usage.thoughts,
                    usage.cached,
                    usage.tool_use,
                    usage.total
                ),
            ));
        }
        for call in &self.function_calls {
            lines.push(output.key_value("Function call", &format!("{}({})", call.name, call.args)));
        }
        if let Some(grounding) = &self.grounding {
            for query in &grounding.queries {
                lines.push(output.key_value("Search query", query));
            }
            for source in &grounding.sources {
                let title = source.title.as_deref().unwrap_or("(untitled)");
                let uri = source.uri.as_deref().unwrap_or("");
                lines.push(output.key_value("Source", &format!("{title} {uri}")));
            }
        }
        if self.citations > 0 {
            lines.push(output.key_value("Citations", &self.citations.to_string()));
        }
        if let Some(error) = &self.error {
            let status = error.status.as_deref().unwrap_or("");
            lines.push(output.key_value(
                "Error",
                &format!("{} {status}: {}", error.code, error.message),
            ));
            if let Some(delay) = error.retry_delay_s {
                lines.push(output.key_value("Retry after", &format!("{delay} s")));
            }
        }
        if let Some(thoughts) = &self.thoughts {
            lines.push(output.panel("Thoughts", thoughts));
        }
        if let Some(text) = &self.text {
            lines.push(output.panel("Text", text));
        }
        lines.join("\n")
    }
}

impl From<&ApiError> for ErrorFact {
    fn from(error: &ApiError) -> Self {
        ErrorFact {
            code: error.code,
            status: error.status.clone(),
            message: error.message.clone(),
            retry_delay_s: error.retry_delay().map(|delay| delay.as_secs_f64()),
        }
    }
}
