//! The YAML hand-off: a summary with who hands over to whom, and why.

use super::Summary;

/// A hand-off from one agent to another.
///
/// ```
/// use agent_core::Handoff;
/// let handoff = Handoff {
///     fork_id: "fork_101500_001_ab12".into(),
///     from_agent: "research".into(),
///     to_agent: "code".into(),
///     reason: "findings are ready to implement".into(),
/// };
/// # let _ = handoff;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The fork that receives the work.
    pub fork_id: String,
    /// The agent type handing over.
    pub from_agent: String,
    /// The agent type taking over.
    pub to_agent: String,
    /// Why.
    pub reason: String,
}

impl Handoff {
    /// The hand-off as a YAML document (strings double-quoted, so any text is safe).
    pub fn to_yaml(&self, summary: &Summary) -> String {
        let mut yaml = String::from("handoff:\n");
        field(&mut yaml, 2, "fork_id", &self.fork_id);
        field(&mut yaml, 2, "timestamp", &summary.timestamp);
        field(&mut yaml, 2, "from_agent", &self.from_agent);
        field(&mut yaml, 2, "to_agent", &self.to_agent);
        field(&mut yaml, 2, "reason", &self.reason);
        yaml.push_str("context:\n");
        field(&mut yaml, 2, "summary", &summary.summary);
        field(&mut yaml, 2, "current_task", &summary.current_task);
        list(&mut yaml, "key_decisions", &summary.key_decisions);
        yaml.push_str("  artifacts:");
        if summary.artifacts.is_empty() {
            yaml.push_str(" []\n");
        } else {
            yaml.push('\n');
            for artifact in &summary.artifacts {
                yaml.push_str(&format!("    - name: {}\n", quote(&artifact.name)));
                field(&mut yaml, 6, "type", &artifact.kind);
                field(&mut yaml, 6, "status", &artifact.status);
            }
        }
        list(&mut yaml, "open_questions", &summary.open_questions);
        yaml.push_str("metrics:\n");
        yaml.push_str(&format!("  original_tokens: {}\n", summary.original_tokens));
        yaml.push_str(&format!("  summary_tokens: {}\n", summary.summary_tokens));
        yaml.push_str(&format!(
            "  compression_ratio: {}\n",
            summary.compression_ratio
        ));
        yaml
    }
}

fn field(yaml: &mut String, indent: usize, key: &str, value: &str) {
    yaml.push_str(&format!("{:indent$}{key}: {}\n", "", quote(value)));
}

fn list(yaml: &mut String, key: &str, items: &[String]) {
    if items.is_empty() {
        yaml.push_str(&format!("  {key}: []\n"));
        return;
    }
    yaml.push_str(&format!("  {key}:\n"));
    for item in items {
        yaml.push_str(&format!("    - {}\n", quote(item)));
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}
