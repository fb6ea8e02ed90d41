//! Durable runs from the CLI's side: every fork, swarm, plan and workflow
//! gets a run folder with an append-only journal written as events happen,
//! and its final result. A run that stops (Ctrl-C, a crash, a power cut)
//! can be resumed from its journal without paying for finished work again.
//!
//! Recording an event only queues it: planner's journal writes it from a
//! thread of its own at once and syncs to disk in groups (see
//! [`planner::Journal`]), so a swarm's task never waits for the disk. The
//! end of a run ([`RunRecorder::finish`]) waits until everything is on disk.
//!
//! Journals are signed with the user's journal key
//! ([`journal_key`]: `$XDG_CONFIG_HOME/agent-fork/journal.key`, else
//! `~/.config/agent-fork/journal.key`, 32 random bytes as hex, mode 0600,
//! made on first use), so a run folder agent-fork did not write is refused.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use planner::{
    Journal, JournalError, JournalEvent, JournalKey, Plan, RunId, RunKind, RunLock, RunMeta,
    ScheduleEvent, WorkflowStatus,
};
use serde::{Deserialize, Serialize};

use crate::commands::common::AgentFlags;
use crate::commands::fork::ForkArgs;
use crate::commands::plan::PlanArgs;
use crate::commands::swarm::SwarmArgs;
use crate::commands::workflow::{MapReduceArgs, RefineArgs, ResearchThenCodeArgs};
use crate::exit::{Exit, Failure, classify};
use crate::settings::Settings;

/// What is needed to run a command again: the command with its own
/// parameters, the agent flags, and the settings that decide what the agents
/// may do, to compare with the settings of a resume.
///
/// On disk (the `args` of the signed journal's opening event) this is
/// `{"command": "fork", "params": {...}, "flags": {...}, "settings": {...}}`,
/// the layout journals had before the command was typed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunArgs {
    /// The command and its parameters.
    #[serde(flatten)]
    pub(crate) command: CommandArgs,
    /// The agent flags the run was started with (shown, never reused: a
    /// resume takes the flags it is given).
    pub(crate) flags: AgentFlags,
    /// The resolved settings the run was started with.
    pub(crate) settings: RecordedSettings,
}

/// The arguments of a command that opens a run, one variant per command.
/// `resume` matches on it exhaustively, so a new command that opens runs
/// cannot be forgotten there.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", content = "params", rename_all = "kebab-case")]
pub(crate) enum CommandArgs {
    /// `agent-fork fork`.
    Fork(ForkArgs),
    /// `agent-fork swarm` (and `fork --swarm`).
    Swarm(SwarmArgs),
    /// `agent-fork plan`.
    Plan(PlanArgs),
    /// `agent-fork research-then-code`.
    ResearchThenCode(ResearchThenCodeArgs),
    /// `agent-fork map-reduce`.
    MapReduce(MapReduceArgs),
    /// `agent-fork refine`.
    Refine(RefineArgs),
}

impl CommandArgs {
    /// The command's name, as typed on the command line (and cassettes
    /// recorded by it are named).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Fork(_) => "fork",
            Self::Swarm(_) => "swarm",
            Self::Plan(_) => "plan",
            Self::ResearchThenCode(_) => "research-then-code",
            Self::MapReduce(_) => "map-reduce",
            Self::Refine(_) => "refine",
        }
    }

    /// The kind of run the command makes, as `runs list` shows it.
    pub(crate) fn kind(&self) -> RunKind {
        match self {
            Self::Fork(_) => RunKind::Fork,
            Self::Swarm(_) => RunKind::Swarm,
            Self::Plan(_) => RunKind::Plan,
            Self::ResearchThenCode(_) | Self::MapReduce(_) | Self::Refine(_) => {
                RunKind::Workflow(self.name().replace('-', "_"))
            }
        }
    }
}

/// The settings that decide what a run's agents may do and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecordedSettings {
    /// The workspace, as an absolute (canonical when it exists) path.
    pub(crate) workspace: PathBuf,
    /// Shell and git tools on.
    pub(crate) allow_shell: bool,
    /// No workspace tools at all.
    pub(crate) no_tools: bool,
    /// The model for every agent, when one was chosen.
    pub(crate) model: Option<String>,
    /// The thinking setting for every agent, when one was chosen.
    pub(crate) thinking: Option<genai_client::catalog::ThinkingSetting>,
    /// How many agents ran at once (shown by `runs report`; a resume may
    /// change it freely, so it is not compared). Absent in older journals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) concurrency: Option<usize>,
}

impl RecordedSettings {
    /// The settings of `settings` worth recording.
    pub(crate) fn of(settings: &Settings) -> Self {
        let workspace = &settings.workspace.value;
        let workspace = workspace
            .canonicalize()
            .or_else(|_| std::path::absolute(workspace))
            .unwrap_or_else(|_| workspace.clone());
        Self {
            workspace,
            allow_shell: settings.allow_shell.value,
            no_tools: settings.no_tools.value,
            model: settings.model.value.clone(),
            thinking: settings.thinking.value,
            concurrency: Some(settings.concurrency.value),
        }
    }

    /// One line per setting that differs between the run (`self`) and `now`.
    pub(crate) fn differences(&self, now: &Self) -> Vec<String> {
        fn shown<T: std::fmt::Debug>(value: &Option<T>) -> String {
            value
                .as_ref()
                .map_or_else(|| "(default)".to_owned(), |value| format!("{value:?}"))
        }
        let mut lines = Vec::new();
        let mut differ = |name: &str, then: String, now: String| {
            if then != now {
                lines.push(format!(
                    "setting {name} differs: the run had {then}, now {now}"
                ));
            }
        };
        differ(
            "workspace",
            self.workspace.display().to_string(),
            now.workspace.display().to_string(),
        );
        differ(
            "allow_shell",
            self.allow_shell.to_string(),
            now.allow_shell.to_string(),
        );
        differ(
            "no_tools",
            self.no_tools.to_string(),
            now.no_tools.to_string(),
        );
        differ("model", shown(&self.model), shown(&now.model));
        differ("thinking", shown(&self.thinking), shown(&now.thinking));
        lines
    }
}

/// Where the journal key lives: `$XDG_CONFIG_HOME/agent-fork/journal.key`
/// (when absolute), else `~/.config/agent-fork/journal.key`. Never in a runs
/// folder or a workspace.
pub(crate) fn journal_key_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some(base.join("agent-fork").join("journal.key"))
}

/// The user's journal key, made (32 random bytes, file mode 0600) when
/// there is none yet.
pub(crate) fn journal_key() -> Result<JournalKey> {
    let path = journal_key_path().ok_or_else(|| {
        Failure::usage("no config folder for the journal key: set HOME or XDG_CONFIG_HOME")
    })?;
    if let Some(key) = read_key(&path)? {
        return Ok(key);
    }
    let mut bytes = [0; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| Failure::usage(format!("cannot make a journal key: {error}")))?;
    // Written whole to a private temporary file, then linked into place:
    // another agent-fork starting at the same moment sees no key or a whole one.
    let temp = path.with_file_name(format!(".journal.key.{}.tmp", hex(&bytes[..8])));
    let made = create_private(&temp)
        .and_then(|mut file| {
            file.write_all(format!("{}\n", hex(&bytes)).as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&temp, &path));
    // Best effort: a leftover temporary file is only clutter.
    let _ = std::fs::remove_file(&temp);
    match made {
        Ok(()) => Ok(JournalKey::from_bytes(bytes)),
        // Another agent-fork made it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_key(&path)?
            .ok_or_else(|| Failure::usage(format!("cannot read {}", path.display())).into()),
        Err(error) => Err(Failure::usage(format!(
            "cannot write the journal key {}: {error}; fix the folder's permissions",
            path.display()
        ))
        .into()),
    }
}

/// Creates `path` (and its folder) readable by the user only.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        folder.mode(0o700);
        file.mode(0o600);
    }
    if let Some(parent) = path.parent() {
        folder.create(parent)?;
    }
    file.open(path)
}

/// The key in `path`; `None` when there is no such file.
fn read_key(path: &Path) -> Result<Option<JournalKey>> {
    let bad = |why: String| -> anyhow::Error {
        Failure::usage(format!(
            "the journal key {} {why}; delete it to make a new one (runs signed with the old key then show as untrusted)",
            path.display()
        ))
        .into()
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(bad(format!("cannot be read ({error})"))),
    };
    if !meta.is_file() {
        return Err(bad("is not a regular file".to_owned()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Failure::usage(format!(
                "the journal key {} can be read by other users (mode {mode:o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            ))
            .into());
        }
    }
    let text =
        std::fs::read_to_string(path).map_err(|error| bad(format!("cannot be read ({error})")))?;
    let digits = text.trim();
    let mut bytes = [0; 32];
    let valid = digits.len() == 64
        && bytes.iter_mut().enumerate().all(|(index, slot)| {
            digits
                .get(index * 2..index * 2 + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .map(|byte| *slot = byte)
                .is_some()
        });
    if !valid {
        return Err(bad("is damaged (it should hold 64 hex digits)".to_owned()));
    }
    Ok(Some(JournalKey::from_bytes(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The open journal of the current run. Journal write errors do not stop
/// the work; the first one is reported when the run ends.
pub(crate) struct RunRecorder {
    journal: Journal,
    id: RunId,
    dir: PathBuf,
    write_error: Mutex<Option<String>>,
}

impl RunRecorder {
    /// Starts a new run of `command` in the runs folder of `settings`.
    ///
    /// The journal's opening event holds what is needed to run `command`
    /// again: its arguments, the agent flags and the settings that decide
    /// what its agents may do.
    pub(crate) fn start(
        settings: &Settings,
        summary: &str,
        command: CommandArgs,
        flags: &AgentFlags,
    ) -> Result<Arc<RunRecorder>> {
        let key = journal_key()?;
        let kind = command.kind();
        let args = serde_json::to_value(RunArgs {
            command,
            flags: flags.clone(),
            settings: RecordedSettings::of(settings),
        })?;
        let meta = RunMeta::new(kind, summary, args);
        let base = &settings.runs_dir.value;
        let journal = Journal::create(base, meta, &key).map_err(|error| {
            Failure::usage(format!(
                "{error}; choose a writable folder with AGENT_FORK_RUNS_DIR or [defaults] runs_dir"
            ))
        })?;
        Ok(Self::wrap(journal))
    }

    /// Reopens a stopped run, whose lock the caller holds, to continue it.
    pub(crate) fn resume(lock: RunLock, key: &JournalKey) -> Result<Arc<RunRecorder>> {
        let journal =
            Journal::reopen_locked(lock, key).map_err(|error| Failure::usage(error.to_string()))?;
        Ok(Self::wrap(journal))
    }

    fn wrap(journal: Journal) -> Arc<RunRecorder> {
        let (id, dir) = (journal.id().clone(), journal.dir().to_path_buf());
        // --jsonl lines from now on name this run.
        crate::output::set_current_run(id.as_str());
        let recorder = Arc::new(RunRecorder {
            journal,
            id,
            dir,
            write_error: Mutex::new(None),
        });
        crate::approval::set_current_run(&recorder);
        recorder
    }

    /// The run's id.
    pub(crate) fn id(&self) -> &RunId {
        &self.id
    }

    /// The run's journal, for library code that journals its own events
    /// (`planner::batch`).
    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The run's folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Passes `result` through; when it is a usage error (bad input found
    /// after the run was opened: an unknown agent type, an unreadable
    /// cassette) and nothing was journalled yet, the run's folder is deleted
    /// so `resume` never picks up a run that never started.
    pub(crate) fn delete_if_never_started(&self, result: Result<Exit>) -> Result<Exit> {
        if let Err(error) = &result {
            // Only the opening event: nothing was done (a resumed run has more).
            let untouched = self.journal.event_count() == 1;
            if classify(error).0 == Exit::Usage && untouched {
                // Best effort: a folder left behind is only clutter.
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
        result
    }

    /// Appends an event (queued; the journal's writer thread writes it at
    /// once and syncs it within the group-commit interval).
    pub(crate) fn append(&self, event: JournalEvent) {
        self.with_journal(|journal| journal.append(event).map(drop));
    }

    /// Runs `write` on the journal, remembering the first error.
    fn with_journal(&self, write: impl FnOnce(&Journal) -> Result<(), JournalError>) {
        self.remember(write(&self.journal).map_err(|error| error.to_string()));
    }

    /// Journals a scheduler event.
    pub(crate) fn record(&self, event: &ScheduleEvent) {
        if let Some(event) = JournalEvent::from_schedule(event) {
            self.append(event);
        }
    }

    /// Journals the plan and saves it as `plan.json`.
    pub(crate) fn plan(&self, plan: &Plan) {
        self.with_journal(|journal| journal.save_plan(plan));
    }

    /// Journals a finished batch item (a fork of a swarm or workflow). A
    /// success is serialised once, by the journal's writer thread.
    pub(crate) fn item(&self, index: usize, result: &agent_core::ForkResult) {
        if result.is_success() {
            let result = result.clone();
            self.with_journal(|journal| journal.append_item(index, result).map(drop));
        } else {
            let error = result.error.as_ref().map_or_else(
                || result.status.as_str().to_owned(),
                |error| error.message.clone(),
            );
            self.append(JournalEvent::ItemFailed { index, error });
        }
    }

    /// Journals a finished item that is more than one fork (a refine
    /// attempt with its verdict), as the JSON of `result`.
    pub(crate) fn item_value(&self, index: usize, result: &impl Serialize) {
        match serde_json::to_value(result) {
            Ok(result) => self.append(JournalEvent::ItemCompleted { index, result }),
            Err(error) => self.remember(Err(error.to_string())),
        }
    }

    /// Ends the run: the final result is written to `result.json` as the
    /// command's `--json` document (its `schema_version` first, so a reader
    /// knows the shape), then the last event, and waits until the whole
    /// journal is on disk. An interrupted run stays resumable.
    pub(crate) fn finish(&self, status: WorkflowStatus, result: &impl Serialize) -> Option<String> {
        let document = crate::json::Document::new(result);
        if let Err(error) = self.journal.save_result(&document) {
            self.remember(Err(error.to_string()));
        }
        self.append(JournalEvent::ending(status));
        self.with_journal(|journal| journal.sync());
        self.write_error
            .lock()
            .ok()
            .and_then(|error| error.clone())
            .map(|error| {
                format!(
                    "warning: the run journal in {} could not be fully written: {error}",
                    self.dir.display()
                )
            })
    }

    fn remember(&self, result: Result<(), String>) {
        if let (Err(error), Ok(mut slot)) = (result, self.write_error.lock()) {
            slot.get_or_insert(error);
        }
    }
}

/// The line telling how to retry what failed in a run: a resume reuses
/// the finished work and runs the failed work again.
pub(crate) fn retry_hint(id: &RunId) -> String {
    format!(
        "failed: finished work is saved; once the cause is fixed, `agent-fork resume {id}` runs only what failed or did not run"
    )
}

/// The line telling how to resume an interrupted run.
pub(crate) fn resume_hint(id: &RunId) -> String {
    format!("interrupted: finished work is saved; continue with `agent-fork resume {id}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(command: CommandArgs) -> RunArgs {
        RunArgs {
            command,
            flags: AgentFlags::default(),
            settings: RecordedSettings {
                workspace: PathBuf::from("/work"),
                allow_shell: false,
                no_tools: false,
                model: None,
                thinking: None,
                concurrency: None,
            },
        }
    }

    /// Typed arguments keep the layout journals had with a command name
    /// and untyped params, so runs started before still resume.
    #[test]
    fn typed_run_arguments_keep_the_journal_layout() {
        let fork = ForkArgs {
            task_text: Some("explain async".to_owned()),
            agent_type: "general".to_owned(),
            ..ForkArgs::default()
        };
        let value = serde_json::to_value(run_args(CommandArgs::Fork(fork))).unwrap();
        assert_eq!(value["command"], "fork");
        assert_eq!(value["params"]["task_text"], "explain async");
        assert_eq!(value["settings"]["workspace"], "/work");
        let back: RunArgs = serde_json::from_value(value).unwrap();
        assert!(
            matches!(back.command, CommandArgs::Fork(args) if args.task_text.as_deref() == Some("explain async"))
        );

        let refine = run_args(CommandArgs::Refine(RefineArgs::default()));
        let value = serde_json::to_value(&refine).unwrap();
        assert_eq!(value["command"], "refine");
        assert_eq!(
            refine.command.kind(),
            RunKind::Workflow("refine".to_owned())
        );
        let map = CommandArgs::MapReduce(MapReduceArgs::default());
        assert_eq!(
            serde_json::to_value(run_args(map)).unwrap()["command"],
            "map-reduce"
        );
    }

    #[test]
    fn a_command_that_opens_no_run_is_not_resumable() {
        let mut value =
            serde_json::to_value(run_args(CommandArgs::Swarm(SwarmArgs::default()))).unwrap();
        value["command"] = "summarize".into();
        assert!(serde_json::from_value::<RunArgs>(value).is_err());
    }
}
