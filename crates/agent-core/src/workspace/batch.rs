//! `execute_batch`: several tool calls at once, at most a few at a time,
//! results in the order of the tasks.

use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

use super::args::Args;
use super::error::{Reply, ToolError};
use super::{ToolName, ToolOutcome, Workspace};

/// `execute_batch(tasks, allowed_tools?, max_workers=4)`
pub(crate) async fn run(workspace: &Workspace, raw: &Value) -> Result<Reply, ToolError> {
    let tool = ToolName::ExecuteBatch;
    let args = Args::parse(tool.as_str(), tool.params(), raw)?;
    let limits = workspace.sandbox.limits();
    let tasks = list_argument(&args, "tasks")?.ok_or_else(|| args.error("tasks", "is required"))?;
    if tasks.is_empty() {
        return Err(args.error("tasks", "must list at least one task"));
    }
    if tasks.len() > limits.max_batch {
        return Err(ToolError::new(format!(
            "execute_batch: {} tasks given; the limit is {} per batch",
            tasks.len(),
            limits.max_batch
        )));
    }
    let allowed: Option<Vec<String>> = match list_argument(&args, "allowed_tools")? {
        None => None,
        Some(names) => Some(
            names
                .into_iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| args.error("allowed_tools", "must be a list of tool names"))?,
        ),
    };
    let requested = args.integer_or("max_workers", 1, 1024, 4)? as usize;
    let workers = requested.min(limits.max_workers).max(1);

    // Collected first: a lazy `map` adapter here makes the future lose `Send`
    // (a known limit of higher-ranked lifetimes in async code).
    let mut runs = Vec::with_capacity(tasks.len());
    for task in &tasks {
        runs.push(run_task(workspace, task, allowed.as_deref()));
    }
    let outcomes: Vec<(String, ToolOutcome)> = stream::iter(runs).buffered(workers).collect().await;

    let failed = outcomes.iter().filter(|(_, outcome)| !outcome.ok).count();
    let mut created = Vec::new();
    let mut results = Vec::with_capacity(outcomes.len());
    for (index, (name, outcome)) in outcomes.into_iter().enumerate() {
        created.extend(outcome.created);
        let mut value = outcome.value;
        if let Value::Object(map) = &mut value {
            map.insert("index".to_owned(), json!(index));
            map.insert("tool".to_owned(), json!(name));
        }
        results.push(value);
    }
    let fields = json!({
        "results": results,
        "total": results.len(),
        "succeeded": results.len() - failed,
        "failed": failed,
        "workers": workers,
    });
    let reply = if failed == 0 {
        Reply::ok(fields)
    } else {
        Reply::failed(
            format!("{failed} of {} tasks failed; see results", results.len()),
            fields,
        )
    };
    Ok(reply.with_created(created))
}

/// Runs one task `{"tool": name, "args": {..}}`; returns the tool name shown
/// and the outcome.
async fn run_task(
    workspace: &Workspace,
    task: &Value,
    allowed: Option<&[String]>,
) -> (String, ToolOutcome) {
    let name = task
        .get("tool")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let result = match check_task(workspace, task, &name, allowed) {
        Err(error) => Err(error),
        Ok(tool) => {
            let empty = Value::Object(serde_json::Map::new());
            let args = match task.get("args") {
                None | Some(Value::Null) => &empty,
                Some(args) => args,
            };
            workspace.call_single(tool, args).await
        }
    };
    (name, ToolOutcome::from_result(result))
}

fn check_task(
    workspace: &Workspace,
    task: &Value,
    name: &str,
    allowed: Option<&[String]>,
) -> Result<ToolName, ToolError> {
    let Value::Object(map) = task else {
        return Err(ToolError::new(
            "each task must be an object like {\"tool\": \"read_file\", \"args\": {\"path\": \"a.txt\"}}",
        ));
    };
    if let Some(key) = map
        .keys()
        .find(|key| !matches!(key.as_str(), "tool" | "args"))
    {
        return Err(ToolError::new(format!(
            "unknown task field '{key}'; a task has 'tool' and 'args'"
        )));
    }
    if name.is_empty() {
        return Err(ToolError::new("the task has no 'tool' name"));
    }
    let tool = ToolName::parse(name).ok_or_else(|| workspace.unknown_tool(name))?;
    if tool == ToolName::ExecuteBatch {
        return Err(ToolError::new(
            "execute_batch cannot run inside execute_batch",
        ));
    }
    if let Some(allowed) = allowed
        && !allowed.iter().any(|allowed| allowed == name)
    {
        return Err(ToolError::new(format!(
            "{name} is not in allowed_tools for this batch"
        )));
    }
    Ok(tool)
}

/// A list argument, given as a JSON array or as a string holding one.
fn list_argument(args: &Args<'_>, key: &str) -> Result<Option<Vec<Value>>, ToolError> {
    match args.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => Ok(Some(items)),
            _ if key == "allowed_tools" => Ok(Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(|name| json!(name))
                    .collect(),
            )),
            _ => Err(args.error(key, "must be a JSON list")),
        },
        Some(_) => Err(args.error(key, "must be a JSON list")),
    }
}
