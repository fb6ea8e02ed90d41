//! `agent-fork inspect FILE`: what a recorded Gemini response body holds.
//!
//! Reads a body saved to a file (a unary JSON reply, an SSE stream, a JSON
//! array or newline-delimited chunks, an error envelope, an HTML error page)
//! and shows its facts. `--json` prints one object with a fixed set of keys.
//! Exit 0 for a decoded response, 3 for a decoded API error, 2 when the file
//! cannot be read or understood.

use std::path::PathBuf;

use crate::json::{
    ErrorFact, FunctionCallFact, GroundingFact, InspectReport, SourceFact, ToolPartFact, UsageFact,
};
use anyhow::Result;
use genai_client::{ApiError, GenerateContentResponse, RecordedBody, decode_recorded};

use render::{Accent, Panel, Theme, key_value};

use crate::exit::{Exit, Failure};
use crate::output::Output;

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {
    /// The file holding a recorded response body (JSON or an SSE stream); `-` reads stdin.
    pub(crate) file: PathBuf,
}

impl ToolPartFact {
    fn new(
        tool_type: Option<&genai_client::ToolType>,
        id: Option<&String>,
        data: Option<&serde_json::Value>,
    ) -> Self {
        ToolPartFact {
            tool: tool_type
                .and_then(|tool| serde_json::to_value(tool).ok())
                .and_then(|tool| tool.as_str().map(str::to_owned)),
            id: id.cloned(),
            data: data.cloned(),
        }
    }

    /// `GOOGLE_SEARCH_WEB (id c1): {"queries":[...]}`, the data cut short.
    fn line(&self) -> String {
        let mut line = self
            .tool
            .clone()
            .unwrap_or_else(|| "(unknown tool)".to_owned());
        if let Some(id) = &self.id {
            line.push_str(&format!(" (id {id})"));
        }
        if let Some(data) = &self.data {
            line.push_str(": ");
            line.push_str(&render::humanize::truncate(&data.to_string(), 160));
        }
        line
    }
}

/// Runs `inspect`.
pub(crate) fn run(args: &InspectArgs, output: &Output) -> Result<Exit> {
    let stdin = args.file.as_os_str() == "-";
    let bytes = if stdin {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|error| Failure::usage(format!("cannot read stdin: {error}")))?;
        bytes
    } else {
        std::fs::read(&args.file).map_err(|error| {
            Failure::usage(format!("cannot read {}: {error}", args.file.display()))
        })?
    };
    let body = decode_recorded(&bytes).map_err(|error| {
        Failure::usage(format!(
            "{} is not a Gemini response body: {error}",
            if stdin {
                "stdin".to_owned()
            } else {
                args.file.display().to_string()
            }
        ))
    })?;
    let report = InspectReport::from_body(&body);
    if output.json() {
        output.json_value(&report)?;
    } else {
        let name = if stdin {
            "stdin".to_owned()
        } else {
            args.file.display().to_string()
        };
        output.line(&report.human(&name, output.theme()));
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
        InspectReport {
            kind,
            chunks,
            text: response.and_then(|response| non_empty(response.text())),
            thoughts: response.and_then(|response| non_empty(response.thought_text())),
            function_calls: response.map(function_calls).unwrap_or_default(),
            tool_calls: response.map(tool_calls).unwrap_or_default(),
            tool_responses: response.map(tool_responses).unwrap_or_default(),
            finish_reason: response
                .and_then(|r| r.finish_reason())
                .map(ToString::to_string),
            block_reason: response
                .and_then(|r| r.block_reason())
                .map(ToString::to_string),
            block_message: response
                .and_then(|r| r.prompt_feedback.as_ref())
                .and_then(|feedback| feedback.block_reason_message.clone()),
            usage: usage_fact(body),
            grounding: response.and_then(grounding_fact),
            citations: response
                .map(|response| response.citations().len())
                .unwrap_or(0),
            error: body.error().map(ErrorFact::from),
        }
    }

    fn human(&self, file: &str, theme: &Theme) -> String {
        let facts = self.facts(theme);
        let mut blocks = vec![
            Panel::new(facts.join("\n"))
                .title(format!("🔎 {file}"))
                .render(theme),
        ];
        if let Some(thoughts) = &self.thoughts {
            blocks.push(
                Panel::markdown(thoughts)
                    .title("Thoughts")
                    .accent(Accent::Dim)
                    .render(theme),
            );
        }
        if let Some(text) = &self.text {
            blocks.push(Panel::markdown(text).title("Text").render(theme));
        }
        blocks.join("\n")
    }

    /// The report's facts as `Key: value` lines (`Kind` first).
    fn facts(&self, theme: &Theme) -> Vec<String> {
        let kind = match self.kind {
            "stream" => format!("stream of {} chunks", self.chunks),
            other => other.to_owned(),
        };
        let mut facts = vec![key_value("Kind", &kind, theme)];
        let mut fact = |key: &str, value: &str| facts.push(key_value(key, value, theme));
        if let Some(reason) = &self.finish_reason {
            fact("Finish reason", reason);
        }
        match (&self.block_reason, &self.block_message) {
            (Some(reason), Some(message)) => fact(
                "Prompt blocked",
                &format!("{reason}: {}", render::strip_controls_line(message)),
            ),
            (Some(reason), None) => fact("Prompt blocked", reason),
            (None, Some(message)) => {
                fact("Prompt feedback", &render::strip_controls_line(message));
            }
            (None, None) => {}
        }
        for call in &self.function_calls {
            fact("Function call", &format!("{}({})", call.name, call.args));
        }
        // Model-derived; key_value cleans every value before styling it.
        for call in &self.tool_calls {
            fact("Tool call", &call.line());
        }
        for answer in &self.tool_responses {
            fact("Tool response", &answer.line());
        }
        facts.extend(self.grounding_and_usage(theme));
        facts
    }

    /// The search queries and sources, the tokens, the citations and the
    /// error, as `Key: value` lines.
    fn grounding_and_usage(&self, theme: &Theme) -> Vec<String> {
        let mut facts = Vec::new();
        let mut fact = |key: &str, value: &str| facts.push(key_value(key, value, theme));
        if let Some(grounding) = &self.grounding {
            for query in &grounding.queries {
                fact("Search query", query);
            }
            for source in &grounding.sources {
                let title = source.title.as_deref().unwrap_or("(untitled)");
                let uri = source.uri.as_deref().unwrap_or_default();
                fact("Source", &format!("{title} {uri}"));
            }
        }
        if let Some(usage) = &self.usage {
            fact("Tokens", &tokens_line(usage));
        }
        if self.citations > 0 {
            fact("Citations", &self.citations.to_string());
        }
        if let Some(error) = &self.error {
            let status = error.status.as_deref().unwrap_or_default();
            fact(
                "Error",
                &format!("{} {status}: {}", error.code, error.message),
            );
            if let Some(delay) = error.retry_delay_s {
                fact("Retry after", &format!("{delay} s"));
            }
        }
        facts
    }
}

/// `12 prompt · 3 output · 0 thinking · 0 cached · 0 tool use · 15 total`.
fn tokens_line(usage: &UsageFact) -> String {
    format!(
        "{} prompt · {} output · {} thinking · {} cached · {} tool use · {} total",
        usage.prompt, usage.candidates, usage.thoughts, usage.cached, usage.tool_use, usage.total
    )
}

/// The reply's function calls.
fn function_calls(response: &GenerateContentResponse) -> Vec<FunctionCallFact> {
    response
        .function_calls()
        .into_iter()
        .map(|call| FunctionCallFact {
            name: call.name.clone(),
            args: call.args_or_empty(),
        })
        .collect()
}

/// The built-in tools' calls in the reply (server-side tool invocations).
fn tool_calls(response: &GenerateContentResponse) -> Vec<ToolPartFact> {
    response
        .tool_calls()
        .into_iter()
        .map(|call| {
            ToolPartFact::new(
                call.tool_type.as_ref(),
                call.id.as_ref(),
                call.args.as_ref(),
            )
        })
        .collect()
}

/// The built-in tools' answers in the reply.
fn tool_responses(response: &GenerateContentResponse) -> Vec<ToolPartFact> {
    response
        .tool_responses()
        .into_iter()
        .map(|answer| {
            ToolPartFact::new(
                answer.tool_type.as_ref(),
                answer.id.as_ref(),
                answer.response.as_ref(),
            )
        })
        .collect()
}

/// The body's token counts, when it has any.
fn usage_fact(body: &RecordedBody) -> Option<UsageFact> {
    body.usage_metadata()
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
        })
}

/// The searches the reply was grounded in and their sources, if any.
fn grounding_fact(response: &GenerateContentResponse) -> Option<GroundingFact> {
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
    (!queries.is_empty() || !sources.is_empty()).then_some(GroundingFact { queries, sources })
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
