//! The flags of one invocation, resolved once.
//!
//! As ripgrep turns what the user typed into resolved arguments that know
//! how to build its searchers, a command turns its flags into a [`Context`]
//! once: the settings with their sources, the agent types, the overrides
//! every agent gets, where traffic goes and where output goes. The context
//! then opens what a run needs ([`Context::workspace`], [`Context::wire`]),
//! so no command resolves settings twice or wires the forker, reporter,
//! workspace and session by hand.
//!
//! A command that records a run opens it from the context
//! ([`Context::open_run`], or [`Context::reopen_run`] when resuming): the
//! [`Run`] holds the context, the run's recorder and its Ctrl-C token
//! ([`Run::cancel`]), whose notice is the run's command's, so no command
//! installs a Ctrl-C handler or carries its recorder by hand.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use agent_core::workspace::Workspace;
use agent_core::{AgentCatalog, AgentOverrides, AgentProfile, Budget, Forker};
use anyhow::Result;
use genai_client::CostTotal;
use tokio_util::sync::CancellationToken;

use crate::commands::common::{self, AgentFlags};
use crate::live::{Reporter, Scope};
use crate::output::Output;
use crate::run_record::{CommandArgs, RunRecorder};
use crate::session::{Session, Traffic};
use crate::settings::{Layer, Settings};

/// One invocation's resolved flags.
#[derive(Clone)]
pub(crate) struct Context<'a> {
    /// The merged settings, each with where it came from.
    pub(crate) settings: Settings,
    /// The agent types: built-in plus the project file's.
    pub(crate) catalog: AgentCatalog,
    /// What the settings change in every agent (model, thinking, file tools).
    pub(crate) overrides: AgentOverrides,
    /// Where Gemini traffic goes: live, a replayed or a recorded cassette.
    pub(crate) traffic: &'a Traffic,
    /// Where results, notices and progress go.
    pub(crate) output: &'a Output,
    /// What earlier sessions of a resumed run spent (cost and tokens); it
    /// counts against the budget and in the run's cost.
    pub(crate) spent_before: (CostTotal, u64),
}

impl<'a> Context<'a> {
    /// Resolves `layer` (the command's flags) with the environment and the
    /// config files, and loads the agent types.
    pub(crate) fn resolve(layer: Layer, traffic: &'a Traffic, output: &'a Output) -> Result<Self> {
        let settings = Settings::resolve(layer)?;
        if let Some(model) = &settings.model.value {
            let whose = format!("model, from {}", settings.model.source);
            settings.check_priced(model, &whose, common::today())?;
        }
        let catalog = common::catalog(&settings)?;
        let overrides = AgentOverrides {
            model: settings.model.value.clone(),
            thinking: settings.thinking.value,
            file_tools: settings.no_tools.value.then_some(false),
            mcp_servers: (!settings.mcp.is_empty()).then(|| {
                crate::mcp::selected(&settings)
                    .map(|configs| configs.into_iter().map(|config| config.name).collect())
                    .unwrap_or_default()
            }),
            ..AgentOverrides::default()
        };
        Ok(Self {
            settings,
            catalog,
            overrides,
            traffic,
            output,
            spent_before: (CostTotal::default(), 0),
        })
    }

    /// The same context for a resumed run that already spent `spent`.
    pub(crate) fn with_spent_before(mut self, spent: (CostTotal, u64)) -> Self {
        self.spent_before = spent;
        self
    }

    /// Starts a new run of `command` (journalled with `summary` and
    /// `flags`) in the settings' runs folder.
    pub(crate) fn open_run(
        &self,
        summary: &str,
        command: CommandArgs,
        flags: &AgentFlags,
    ) -> Result<Run<'_>> {
        let notice = ctrl_c_notice(&command);
        let recorder = RunRecorder::start(&self.settings, summary, command, flags)?;
        Ok(Run::new(self, recorder, notice))
    }

    /// Goes on with a stopped run of `command`, reopened as `recorder`.
    pub(crate) fn reopen_run(&self, recorder: Arc<RunRecorder>, command: &CommandArgs) -> Run<'_> {
        Run::new(self, recorder, ctrl_c_notice(command))
    }

    /// The profile of `agent_type` with the overrides, plus the command's
    /// built-in tools.
    pub(crate) fn profile(
        &self,
        agent_type: &str,
        search: bool,
        code_execution: bool,
    ) -> Result<AgentProfile> {
        let profile = common::profile(
            &self.catalog,
            agent_type,
            &self.overrides,
            search,
            code_execution,
        )?;
        // (A model set in the settings was checked when they were resolved.)
        if self.overrides.model.is_none() {
            let whose = format!("agent type {agent_type}");
            self.settings
                .check_priced(&profile.model, &whose, common::today())?;
        }
        Ok(profile)
    }

    /// The workspace (with its protected paths) when `needed` and tools are on.
    pub(crate) fn workspace(&self, needed: bool) -> Result<Option<Arc<Workspace>>> {
        common::workspace(&self.settings, needed)
    }

    /// Opens the session and wires a forker to it, reporting as `scope`
    /// and working in `workspace`.
    pub(crate) async fn wire(
        &self,
        workspace: Option<Arc<Workspace>>,
        scope: Scope,
    ) -> Result<Wiring> {
        let session = Session::open(self.traffic, &self.settings)
            .await?
            .logged(self.output)
            .quota_told(self.output);
        self.wire_session(session, workspace, scope).await
    }

    /// [`Context::wire`] on a session already open (one that an earlier
    /// phase of the run used, so a recording or replay holds the whole run).
    pub(crate) async fn wire_session(
        &self,
        mut session: Session,
        workspace: Option<Arc<Workspace>>,
        scope: Scope,
    ) -> Result<Wiring> {
        let reporter = Reporter::new(self.output, scope);
        // One budget for every call of the run (forks, planning, reviews,
        // consolidations); without limits it only keeps the run's cost.
        let (cost, tokens) = self.spent_before;
        let budget = Arc::new(Budget::new(self.settings.budget_limits()).with_spent(cost, tokens));
        session.spending = Some(Spending {
            budget: budget.clone(),
            before: self.spent_before,
        });
        let mut forker = Forker::new(session.client.clone())
            .with_events(reporter.sink())
            .with_budget(budget)
            .with_approvals(crate::approval::gate(&self.settings));
        if let Some(workspace) = &workspace {
            forker = forker.with_workspace(workspace.clone());
        }
        let mcp = crate::mcp::start(crate::mcp::selected(&self.settings)?, self.output).await;
        if let Some(tools) = &mcp {
            forker = forker.with_external_tools(tools.clone());
        }
        Ok(Wiring {
            session,
            reporter,
            forker,
            workspace,
            mcp,
        })
    }
}

/// One recorded run of a command: the invocation's context, the run's
/// journal and its Ctrl-C token.
pub(crate) struct Run<'a> {
    /// The invocation's resolved flags.
    pub(crate) context: &'a Context<'a>,
    /// The run's journal and folder.
    pub(crate) recorder: Arc<RunRecorder>,
    /// What Ctrl-C says it does to this run.
    notice: &'static str,
    /// Cancelled by a Ctrl-C that stops the run ([`Run::cancel`]).
    cancel: CancellationToken,
    /// What a Ctrl-C does now: stop the run, or detach a batch wait.
    phase: Arc<Mutex<Phase>>,
    /// Set once the run's one Ctrl-C handler is installed.
    handler: OnceLock<()>,
}

/// The run's phase, as its Ctrl-C handler reads it.
#[derive(Default)]
struct Phase {
    /// Where the Ctrl-C notice goes (above any live board).
    reporter: Option<Arc<Reporter>>,
    /// The reporter is the one given to [`Run::cancel`] (it stays).
    reporter_is_the_runs: bool,
    /// While a batch job is waited for: the wait's token, which a Ctrl-C
    /// cancels (detaching) instead of the run's.
    waiting: Option<CancellationToken>,
}

/// What the first Ctrl-C says while a batch job is waited for.
const DETACH_NOTICE: &str =
    "detaching: the batch job keeps running on Gemini's side (Ctrl-C again quits at once)";

impl<'a> Run<'a> {
    fn new(context: &'a Context<'a>, recorder: Arc<RunRecorder>, notice: &'static str) -> Self {
        Self {
            context,
            recorder,
            notice,
            cancel: CancellationToken::new(),
            phase: Arc::default(),
            handler: OnceLock::new(),
        }
    }

    /// The run's cancel token: the first Ctrl-C cancels it and shows the
    /// run's notice through `reporter` (the first call's); a second one
    /// quits at once (exit 130). The handler is installed by the first call
    /// (or by [`Run::detach_on_ctrl_c`]); every call hands back the same token.
    pub(crate) fn cancel(&self, reporter: &Arc<Reporter>) -> CancellationToken {
        {
            let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
            if !phase.reporter_is_the_runs {
                phase.reporter = Some(reporter.clone());
                phase.reporter_is_the_runs = true;
            }
        }
        self.install_handler();
        self.cancel.clone()
    }

    /// A token for waiting on the run's batch job: while the returned
    /// [`Detach`] lives, the first Ctrl-C detaches (cancels its token; the
    /// job keeps running on Gemini's side) rather than stops the run. Once
    /// it is dropped, Ctrl-C stops the run again, with the run's notice.
    pub(crate) fn detach_on_ctrl_c(&self, reporter: &Arc<Reporter>) -> Detach {
        let token = CancellationToken::new();
        {
            let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
            if !phase.reporter_is_the_runs {
                phase.reporter = Some(reporter.clone());
            }
            phase.waiting = Some(token.clone());
        }
        self.install_handler();
        Detach {
            token,
            phase: self.phase.clone(),
        }
    }

    fn install_handler(&self) {
        self.handler
            .get_or_init(|| on_ctrl_c(self.cancel.clone(), self.notice, self.phase.clone()));
    }
}

/// The Ctrl-C token of a batch wait ([`Run::detach_on_ctrl_c`]); dropped,
/// Ctrl-C no longer detaches.
pub(crate) struct Detach {
    /// Cancelled by a Ctrl-C during the wait.
    pub(crate) token: CancellationToken,
    phase: Arc<Mutex<Phase>>,
}

impl Drop for Detach {
    fn drop(&mut self) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        phase.waiting = None;
    }
}

/// What the first Ctrl-C says it does to a run of `command`.
fn ctrl_c_notice(command: &CommandArgs) -> &'static str {
    match command {
        CommandArgs::Fork(_) => {
            "stopping: the fork is cancelled and what it did is kept (Ctrl-C again quits at once)"
        }
        CommandArgs::Swarm(_) | CommandArgs::MapReduce(_) => {
            "stopping: no new agents start, running ones are cancelled (Ctrl-C again quits at once)"
        }
        CommandArgs::Plan(_) => {
            "stopping: no new steps start, running ones are cancelled (Ctrl-C again quits at once)"
        }
        CommandArgs::ResearchThenCode(_) | CommandArgs::Refine(_) => {
            "stopping: the running agent is cancelled (Ctrl-C again quits at once)"
        }
    }
}

/// Installs the run's Ctrl-C handler: the first Ctrl-C detaches the batch
/// wait `phase` holds, if any, or else cancels `run` and shows `notice`; a
/// second Ctrl-C exits at once (130).
///
/// On Unix the SIGINT handler is in place when this returns (not only once
/// the spawned task first runs), so a Ctrl-C that arrives while the first
/// request is going out is never the default "die at once".
///
/// The notice goes through the phase's reporter, above its live board.
fn on_ctrl_c(run: CancellationToken, notice: &'static str, phase: Arc<Mutex<Phase>>) {
    let first = move || {
        let (reporter, notice) = {
            let mut phase = phase.lock().unwrap_or_else(PoisonError::into_inner);
            match phase.waiting.take() {
                Some(wait) => {
                    wait.cancel();
                    (phase.reporter.clone(), DETACH_NOTICE)
                }
                None => {
                    run.cancel();
                    (phase.reporter.clone(), notice)
                }
            }
        };
        if let Some(reporter) = reporter {
            reporter.interrupted(notice);
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut interrupts) = signal(SignalKind::interrupt()) else {
            return;
        };
        tokio::spawn(async move {
            if interrupts.recv().await.is_none() {
                return;
            }
            first();
            if interrupts.recv().await.is_some() {
                std::process::exit(130);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        first();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
}

/// What a run spends: its budget (shared by every call) and what earlier
/// sessions of the run spent.
#[derive(Debug, Clone)]
pub(crate) struct Spending {
    /// The run's budget, holding the whole run's spending.
    pub(crate) budget: Arc<Budget>,
    /// Cost and tokens of earlier sessions (a resumed run).
    pub(crate) before: (CostTotal, u64),
}

impl Spending {
    /// The whole run's cost: earlier sessions and this one.
    pub(crate) fn run_cost(&self) -> CostTotal {
        self.budget.spent_cost()
    }

    /// What this session spent: cost and tokens.
    pub(crate) fn this_session(&self) -> (CostTotal, u64) {
        let now = self.budget.spent_cost();
        let (before, before_tokens) = self.before;
        let cost = CostTotal {
            usd: now.usd.saturating_sub(before.usd),
            priced_calls: now.priced_calls.saturating_sub(before.priced_calls),
            unpriced_calls: now.unpriced_calls.saturating_sub(before.unpriced_calls),
            price_table: now.price_table,
        };
        (cost, self.budget.spent().1.saturating_sub(before_tokens))
    }

    /// One line saying what the budget allowed and what was spent, for a
    /// run it stopped.
    pub(crate) fn exhausted_line(&self, id: &planner::RunId) -> String {
        let limits = self.budget.limits();
        let mut allowed = Vec::new();
        if let Some(usd) = limits.usd {
            allowed.push(usd.to_string());
        }
        if let Some(tokens) = limits.tokens {
            allowed.push(format!("{} tokens", render::humanize::count(tokens)));
        }
        let (_, tokens) = self.budget.spent();
        format!(
            "budget exhausted: the run spent {} and {} tokens of its budget ({}); finished work is saved; continue with a larger total: `agent-fork resume {id} --budget-usd AMOUNT` (or --budget-tokens N)",
            self.run_cost(),
            render::humanize::count(tokens),
            allowed.join(", ")
        )
    }
}

/// What a run works with: the session, the progress reporter, a forker on
/// both, and the workspace.
pub(crate) struct Wiring {
    /// Where the traffic goes; ended by [`crate::finish::finish`].
    pub(crate) session: Session,
    /// Progress and `--jsonl` events.
    pub(crate) reporter: Arc<Reporter>,
    /// Forks with the session's client, reporting to `reporter`.
    pub(crate) forker: Forker,
    /// The workspace the tools work in, if any.
    pub(crate) workspace: Option<Arc<Workspace>>,
    /// The run's MCP servers (their processes end when this is dropped).
    pub(crate) mcp: Option<Arc<mcp_tools::McpTools>>,
}

impl Wiring {
    /// Stops the workspace's processes and the progress display, and hands
    /// back the session for [`crate::finish::finish`].
    pub(crate) async fn close(self) -> Session {
        if let Some(workspace) = &self.workspace {
            workspace.shutdown().await;
        }
        self.reporter.finish();
        self.session.retried.store(
            self.reporter.retries(),
            std::sync::atomic::Ordering::Relaxed,
        );
        if let Some(tools) = self.mcp.and_then(|tools| Arc::try_unwrap(tools).ok()) {
            tools.shutdown().await;
        }
        self.session
    }
}
