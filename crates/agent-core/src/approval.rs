//! The approval policy: one decision before every tool call runs.
//!
//! Every call the model asks for passes [`Approvals::decide`] in the tool
//! loop before anything runs. The [`ApprovalPolicy`] gives a [`Rule`] per
//! [`ToolClass`] (reading, writing, shell and git, MCP tools), with
//! overrides per tool or per MCP server:
//!
//! - [`Rule::Allow`]: the call runs.
//! - [`Rule::Deny`]: the call does not run; the model is told it was denied.
//! - [`Rule::Ask`]: a person decides through the [`Approver`] (the CLI's
//!   terminal question). With no approver (no terminal: piped, a background
//!   worker, CI) the call is denied unless the policy says `assume_yes`
//!   (`--yes`); a question that times out denies.
//!
//! Decisions of `ask` calls are tied to the exact tool and arguments (a
//! SHA-256 of the tool name and its canonical JSON arguments), kept for the
//! rest of the run and handed to an [`ApprovalLedger`] (the CLI journals
//! them, with a rule's decisions and the [`PolicyEntry`] that made them,
//! so a run's record holds every call's decision); a resumed run passes them back ([`Approvals::with_earlier`]) so a
//! call approved before is not asked again and one denied stays denied.
//! Questions from parallel forks wait for each other: one at a time.
//!
//! The ledger never sees arguments, only their digest, so secrets in them
//! do not reach a journal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ids::ForkId;
use crate::workspace::ToolName;

/// What kind of tool a call is, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolClass {
    /// Workspace tools that only read (and the search / code stand-ins,
    /// which run at Google, not here).
    Read,
    /// Workspace tools that change files inside the workspace.
    Write,
    /// `bash` and `git_operations`.
    Shell,
    /// A tool of an MCP server.
    Mcp,
}

impl ToolClass {
    /// The class as a word (`read`, `write`, `shell`, `mcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Shell => "shell",
            Self::Mcp => "mcp",
        }
    }

    /// The class of a workspace tool.
    ///
    /// ```
    /// use agent_core::ToolClass;
    /// use agent_core::workspace::ToolName;
    /// assert_eq!(ToolClass::of_workspace(ToolName::ReadFile), ToolClass::Read);
    /// assert_eq!(ToolClass::of_workspace(ToolName::Bash), ToolClass::Shell);
    /// ```
    pub fn of_workspace(tool: ToolName) -> Self {
        match tool {
            ToolName::ReadFile
            | ToolName::ListDirectory
            | ToolName::GetProjectTree
            | ToolName::GetFileInfo
            | ToolName::GrepFiles
            | ToolName::GlobSearch => Self::Read,
            ToolName::CreateFile
            | ToolName::UpdateFile
            | ToolName::DeleteFile
            | ToolName::CreateDirectory
            | ToolName::CreateProjectStructure
            // A batch is classed by its tasks (see `Approvals::decide`);
            // alone it writes at most.
            | ToolName::ExecuteBatch => Self::Write,
            ToolName::Bash | ToolName::GitOperations => Self::Shell,
        }
    }
}

impl FromStr for ToolClass {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            "shell" => Ok(Self::Shell),
            "mcp" => Ok(Self::Mcp),
            other => Err(format!(
                "'{other}' is not a tool class; use read, write, shell or mcp"
            )),
        }
    }
}

/// The entry of an [`ApprovalPolicy`] that gave a call its rule: the rule
/// of its class (`read`, `write`, `shell`, `mcp`) or an entry for the
/// tool or its MCP server in `tools` (`tools.NAME`, as `[approval.tools]`
/// names it). Journalled as that word.
///
/// ```
/// use agent_core::{PolicyEntry, ToolClass};
/// assert_eq!(PolicyEntry::Class(ToolClass::Read).to_string(), "read");
/// assert_eq!(PolicyEntry::Tool("docs".into()).to_string(), "tools.docs");
/// assert_eq!("tools.docs".parse::<PolicyEntry>(), Ok(PolicyEntry::Tool("docs".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum PolicyEntry {
    /// The rule of a class of tools.
    Class(ToolClass),
    /// The entry of a tool or an MCP server in `tools`.
    Tool(String),
}

impl fmt::Display for PolicyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Class(class) => f.write_str(class.as_str()),
            Self::Tool(name) => write!(f, "tools.{name}"),
        }
    }
}

impl FromStr for PolicyEntry {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.strip_prefix("tools.") {
            Some(name) => Ok(Self::Tool(name.to_owned())),
            None => text.parse().map(Self::Class),
        }
    }
}

impl From<PolicyEntry> for String {
    fn from(entry: PolicyEntry) -> String {
        entry.to_string()
    }
}

impl TryFrom<String> for PolicyEntry {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// What the policy says about a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The call runs.
    Allow,
    /// A person decides (denied where no one can be asked).
    Ask,
    /// The call never runs.
    Deny,
}

impl Rule {
    /// The rule as a word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Ask => "ask",
            Self::Deny => "deny",
        }
    }
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "allow" => Ok(Self::Allow),
            "ask" => Ok(Self::Ask),
            "deny" => Ok(Self::Deny),
            other => Err(format!(
                "'{other}' is not an approval rule; use allow, ask or deny"
            )),
        }
    }
}

/// Which rule applies to which tool call.
///
/// ```
/// use agent_core::{ApprovalPolicy, Rule, ToolClass};
/// let mut policy = ApprovalPolicy::default();
/// assert_eq!(policy.rule("read_file", ToolClass::Read), Rule::Allow);
/// assert_eq!(policy.rule("bash", ToolClass::Shell), Rule::Ask);
/// policy.tools.insert("docs".to_owned(), Rule::Allow); // a whole MCP server
/// policy.tools.insert("docs__drop".to_owned(), Rule::Deny); // one of its tools
/// assert_eq!(policy.rule("docs__search", ToolClass::Mcp), Rule::Allow);
/// assert_eq!(policy.rule("docs__drop", ToolClass::Mcp), Rule::Deny);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Workspace tools that read. Default: allow.
    pub read: Rule,
    /// Workspace tools that write inside the workspace. Default: allow.
    pub write: Rule,
    /// Shell and git. Default: ask.
    pub shell: Rule,
    /// MCP tools. Default: ask.
    pub mcp: Rule,
    /// Rules for one tool (its full name, e.g. `bash` or `docs__search`) or
    /// one MCP server (its name, covering `NAME__*`); the tool's own entry
    /// wins over its server's, and both over the class.
    pub tools: BTreeMap<String, Rule>,
    /// `ask` approves without a question (`--yes`).
    pub assume_yes: bool,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            read: Rule::Allow,
            write: Rule::Allow,
            shell: Rule::Ask,
            mcp: Rule::Ask,
            tools: BTreeMap::new(),
            assume_yes: false,
        }
    }
}

impl ApprovalPolicy {
    /// A policy allowing every call (the library's behaviour before
    /// approvals existed; tests and trusted programs use it).
    pub fn allow_all() -> Self {
        Self {
            read: Rule::Allow,
            write: Rule::Allow,
            shell: Rule::Allow,
            mcp: Rule::Allow,
            tools: BTreeMap::new(),
            assume_yes: false,
        }
    }

    /// The rule for a call of `tool` of class `class`.
    pub fn rule(&self, tool: &str, class: ToolClass) -> Rule {
        self.rule_and_entry(tool, class).0
    }

    /// The rule for a call of `tool` of class `class`, and the entry of the
    /// policy that gave it.
    ///
    /// ```
    /// use agent_core::{ApprovalPolicy, PolicyEntry, Rule, ToolClass};
    /// let mut policy = ApprovalPolicy::default();
    /// policy.tools.insert("docs".to_owned(), Rule::Allow);
    /// assert_eq!(
    ///     policy.rule_and_entry("docs__search", ToolClass::Mcp),
    ///     (Rule::Allow, PolicyEntry::Tool("docs".into()))
    /// );
    /// assert_eq!(
    ///     policy.rule_and_entry("read_file", ToolClass::Read),
    ///     (Rule::Allow, PolicyEntry::Class(ToolClass::Read))
    /// );
    /// ```
    pub fn rule_and_entry(&self, tool: &str, class: ToolClass) -> (Rule, PolicyEntry) {
        if let Some(rule) = self.tools.get(tool) {
            return (*rule, PolicyEntry::Tool(tool.to_owned()));
        }
        if class == ToolClass::Mcp {
            if let Some((server, rule)) = tool
                .split_once(crate::MCP_SEPARATOR)
                .and_then(|(server, _)| self.tools.get_key_value(server))
            {
                return (*rule, PolicyEntry::Tool(server.clone()));
            }
        }
        let rule = match class {
            ToolClass::Read => self.read,
            ToolClass::Write => self.write,
            ToolClass::Shell => self.shell,
            ToolClass::Mcp => self.mcp,
        };
        (rule, PolicyEntry::Class(class))
    }
}

/// A person's answer to an approval question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Run this call.
    Yes,
    /// Do not run it.
    No,
    /// Run this call and every later call of the same tool in this run.
    Always,
}

/// The question put to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalQuestion {
    /// The fork asking.
    pub fork_id: ForkId,
    /// Its agent type.
    pub agent_type: String,
    /// The tool.
    pub tool: String,
    /// The tool's class.
    pub class: ToolClass,
    /// The arguments, with every secret the client knows redacted (still
    /// model text: show it only through a control-character filter).
    pub args: Value,
}

/// A boxed future, as [`Approver::ask`] returns it.
pub type AskFuture<'a> = Pin<Box<dyn Future<Output = Option<Answer>> + Send + 'a>>;

/// Who answers `ask` questions (the CLI: the terminal).
pub trait Approver: Send + Sync {
    /// Asks a person about `question`; `None` when no one can be asked
    /// (no terminal). Questions come one at a time.
    fn ask<'a>(&'a self, question: &'a ApprovalQuestion) -> AskFuture<'a>;
}

/// Who or what made a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The policy's `allow` or `deny`.
    Rule,
    /// A person answered yes or no.
    Person,
    /// A person said yes to every call of this tool.
    PersonAlways,
    /// `ask` with `--yes`.
    AssumeYes,
    /// `ask` with no one to ask.
    NoTerminal,
    /// The question was not answered in time.
    Timeout,
    /// The same call was decided earlier in the run (or before a resume).
    Earlier,
}

impl DecidedBy {
    /// As a word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Person => "person",
            Self::PersonAlways => "person_always",
            Self::AssumeYes => "assume_yes",
            Self::NoTerminal => "no_terminal",
            Self::Timeout => "timeout",
            Self::Earlier => "earlier",
        }
    }
}

/// The decision on one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the call runs.
    pub approved: bool,
    /// Who decided.
    pub by: DecidedBy,
}

impl Decision {
    /// What the model is told when the call was denied.
    pub fn denial_message(self, tool: &str) -> String {
        let why = match self.by {
            DecidedBy::Rule => "the approval policy denies it",
            DecidedBy::Person => "the operator said no",
            DecidedBy::NoTerminal => "it needs the operator's approval and no one could be asked",
            DecidedBy::Timeout => "the operator did not answer in time",
            DecidedBy::Earlier => "it was denied earlier in this run",
            DecidedBy::PersonAlways | DecidedBy::AssumeYes => "it was denied",
        };
        format!("the call to {tool} was not run: {why}; do not retry it, carry on without it")
    }
}

/// One decision as a ledger (journal) keeps it: the tool, the digest of
/// its arguments (never the arguments), the fork and agent that asked, and
/// for a rule's decision the policy entry that decided. Every decision is
/// kept, a rule's `allow` too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// The tool.
    pub tool: String,
    /// The fork whose call it was (absent in journals written before it
    /// was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_id: Option<ForkId>,
    /// That fork's agent type (absent in older journals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    /// SHA-256 (hex) of the tool name and its canonical JSON arguments.
    pub call: String,
    /// Whether it was approved.
    pub approved: bool,
    /// Approved for every call of the tool (left out of the journal when
    /// false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub always: bool,
    /// Who decided.
    pub by: DecidedBy,
    /// The policy entry that decided, when the policy did (`by` is
    /// `rule`; absent in journals from before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<PolicyEntry>,
}

/// Where `ask` decisions are kept (the CLI: the run's journal).
pub trait ApprovalLedger: Send + Sync {
    /// Keeps one decision.
    fn record(&self, record: &ApprovalRecord);
}

/// Longest a person gets to answer, by default.
pub const DEFAULT_QUESTION_TIMEOUT: Duration = Duration::from_secs(300);

/// The approval gate of a run: the policy, who asks, what was decided.
/// Share one (`Arc`) between every fork of a run so questions queue and
/// decisions hold for all of them.
pub struct Approvals {
    policy: ApprovalPolicy,
    approver: Option<Arc<dyn Approver>>,
    ledger: Option<Arc<dyn ApprovalLedger>>,
    timeout: Duration,
    decided: Mutex<HashMap<String, bool>>,
    always: Mutex<HashSet<String>>,
    /// One question at a time.
    turn: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Approvals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Approvals")
            .field("policy", &self.policy)
            .field("approver", &self.approver.is_some())
            .field("ledger", &self.ledger.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Approvals {
    /// A gate with `policy`, no one to ask and no ledger.
    pub fn new(policy: ApprovalPolicy) -> Self {
        Self {
            policy,
            approver: None,
            ledger: None,
            timeout: DEFAULT_QUESTION_TIMEOUT,
            decided: Mutex::new(HashMap::new()),
            always: Mutex::new(HashSet::new()),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// The same gate asking `approver` on `ask`.
    pub fn with_approver(mut self, approver: Arc<dyn Approver>) -> Self {
        self.approver = Some(approver);
        self
    }

    /// The same gate keeping decisions in `ledger`.
    pub fn with_ledger(mut self, ledger: Arc<dyn ApprovalLedger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The same gate giving a person `timeout` to answer.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a person gets to answer.
    pub fn question_timeout(&self) -> Duration {
        self.timeout
    }

    /// The same gate knowing decisions made before a resume. A rule's
    /// decisions are not carried over: the policy of the resumed run
    /// decides those again.
    pub fn with_earlier(self, records: impl IntoIterator<Item = ApprovalRecord>) -> Self {
        {
            let mut decided = lock(&self.decided);
            let mut always = lock(&self.always);
            for record in records
                .into_iter()
                .filter(|record| record.by != DecidedBy::Rule)
            {
                if record.always && record.approved {
                    always.insert(record.tool.clone());
                }
                // A denial wins over an approval of the same call.
                let entry = decided.entry(record.call).or_insert(record.approved);
                *entry = *entry && record.approved;
            }
        }
        self
    }

    /// The policy.
    pub fn policy(&self) -> &ApprovalPolicy {
        &self.policy
    }

    /// Decides a call of `tool` (class `class`) with `args` (raw, as the
    /// model sent them: the digest is over these) for `question` (the same
    /// call as shown to a person).
    pub async fn decide(&self, question: ApprovalQuestion, args: &Value) -> Decision {
        let (rule, entry) = self.rule_and_entry_of_call(&question.tool, question.class, args);
        if rule != Rule::Ask {
            let decision = Decision {
                approved: rule == Rule::Allow,
                by: DecidedBy::Rule,
            };
            let call = call_digest(&question.tool, args);
            self.keep(&question, call, decision, false, Some(entry));
            return decision;
        }
        let call = call_digest(&question.tool, args);
        // Held while asking, so parallel forks' questions queue and a
        // second identical call sees the first one's answer.
        let _turn = self.turn.lock().await;
        if let Some(approved) = lock(&self.decided).get(&call).copied() {
            return Decision {
                approved,
                by: DecidedBy::Earlier,
            };
        }
        if lock(&self.always).contains(&question.tool) {
            return Decision {
                approved: true,
                by: DecidedBy::PersonAlways,
            };
        }
        let (decision, always) = if self.policy.assume_yes {
            (
                Decision {
                    approved: true,
                    by: DecidedBy::AssumeYes,
                },
                false,
            )
        } else {
            match &self.approver {
                None => (
                    Decision {
                        approved: false,
                        by: DecidedBy::NoTerminal,
                    },
                    false,
                ),
                Some(approver) => {
                    let asked = tokio::time::timeout(self.timeout, approver.ask(&question)).await;
                    match asked {
                        Err(_) => (
                            Decision {
                                approved: false,
                                by: DecidedBy::Timeout,
                            },
                            false,
                        ),
                        Ok(None) => (
                            Decision {
                                approved: false,
                                by: DecidedBy::NoTerminal,
                            },
                            false,
                        ),
                        Ok(Some(Answer::Yes)) => (
                            Decision {
                                approved: true,
                                by: DecidedBy::Person,
                            },
                            false,
                        ),
                        Ok(Some(Answer::No)) => (
                            Decision {
                                approved: false,
                                by: DecidedBy::Person,
                            },
                            false,
                        ),
                        Ok(Some(Answer::Always)) => (
                            Decision {
                                approved: true,
                                by: DecidedBy::PersonAlways,
                            },
                            true,
                        ),
                    }
                }
            }
        };
        lock(&self.decided).insert(call.clone(), decision.approved);
        if always {
            lock(&self.always).insert(question.tool.clone());
        }
        self.keep(&question, call, decision, always, None);
        decision
    }

    /// Hands a decision (a rule's: with its policy `entry`) to the ledger.
    fn keep(
        &self,
        question: &ApprovalQuestion,
        call: String,
        decision: Decision,
        always: bool,
        entry: Option<PolicyEntry>,
    ) {
        if let Some(ledger) = &self.ledger {
            ledger.record(&ApprovalRecord {
                tool: question.tool.clone(),
                fork_id: Some(question.fork_id.clone()),
                agent_type: Some(question.agent_type.clone()),
                call,
                approved: decision.approved,
                always,
                by: decision.by,
                rule: entry,
            });
        }
    }
}

impl Approvals {
    /// The rule for one call: the policy's for the tool, and for
    /// `execute_batch` the strictest of it and of every task's tool (a
    /// batch cannot slip a shell command past an `ask`).
    pub fn rule_of_call(&self, tool: &str, class: ToolClass, args: &Value) -> Rule {
        self.rule_and_entry_of_call(tool, class, args).0
    }

    /// [`Approvals::rule_of_call`] with the policy entry that gave the
    /// rule (for a batch, the first of its strictest).
    fn rule_and_entry_of_call(
        &self,
        tool: &str,
        class: ToolClass,
        args: &Value,
    ) -> (Rule, PolicyEntry) {
        let own = self.policy.rule_and_entry(tool, class);
        if ToolName::parse(tool) != Some(ToolName::ExecuteBatch) {
            return own;
        }
        let tasks = args.get("tasks").and_then(Value::as_array);
        tasks
            .into_iter()
            .flatten()
            .filter_map(|task| task.get("tool").and_then(Value::as_str))
            .filter_map(ToolName::parse)
            .map(|inner| {
                self.policy
                    .rule_and_entry(inner.as_str(), ToolClass::of_workspace(inner))
            })
            .fold(own, |strictest, next| {
                if next.0 > strictest.0 {
                    next
                } else {
                    strictest
                }
            })
    }
}

/// SHA-256 (hex) of a tool name and its arguments in canonical JSON (object
/// keys sorted), the identity of a call across a resume.
///
/// ```
/// use serde_json::json;
/// let a = agent_core::call_digest("bash", &json!({"command": "ls", "path": "."}));
/// let b = agent_core::call_digest("bash", &json!({"path": ".", "command": "ls"}));
/// assert_eq!(a, b);
/// assert_ne!(a, agent_core::call_digest("bash", &json!({"command": "ls -a", "path": "."})));
/// ```
pub fn call_digest(tool: &str, args: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(tool.as_bytes());
    hasher.update([0]);
    canonical(args, &mut hasher);
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                hasher.update(Value::String(key.clone()).to_string().as_bytes());
                hasher.update(b":");
                canonical(&map[key], hasher);
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        other => hasher.update(other.to_string().as_bytes()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
