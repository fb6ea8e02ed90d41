//! What the seven example programs share: their scenario from the table in
//! this package's library, a Gemini client (live with `GEMINI_API_KEY`,
//! otherwise the bundled session replayed on loopback, said in one line), a
//! temporary workspace, and printing.
//!
//! Results are drawn with the same views as the `agent-fork` command.

#![allow(dead_code, reason = "each example uses a different subset")]
#![allow(clippy::print_stdout, reason = "examples are programs that print")]

use agent_fork_examples::Work;
use anyhow::{Context, Result};
use cassette::{Cassette, FixtureServer, ServerOptions};
use genai_client::{ApiKey, Client, ClientConfig};
use render::{Panel, Theme};

/// The running example: its client, theme and (when replaying) the server.
pub(crate) struct Demo {
    pub(crate) client: Client,
    pub(crate) theme: Theme,
    replay: Option<FixtureServer>,
    workspace: tempfile::TempDir,
}

impl Demo {
    /// Starts the example `name` of the scenario table: live when a key is
    /// set, else its bundled session. Returns what the example runs too.
    pub(crate) async fn start(name: &str) -> Result<(Demo, Work)> {
        let scenario = agent_fork_examples::scenario(name)
            .with_context(|| format!("no example named {name} in the scenario table"))?;
        let theme = theme();
        println!(
            "{}",
            Panel::new(format!("Example: {}", scenario.title)).render(&theme)
        );
        let (client, replay) = if ApiKey::from_env().is_some() {
            (Client::new(ClientConfig::from_env())?, None)
        } else {
            let cassette = Cassette::from_json(scenario.session)?;
            let server = FixtureServer::start(vec![cassette], ServerOptions::default()).await?;
            println!(
                "No GEMINI_API_KEY set: replaying the bundled session fixtures/sessions/{name}.json (authored, not a live recording)."
            );
            let config = ClientConfig::default().with_base_url(&server.base_url());
            (Client::new(config)?, Some(server))
        };
        let demo = Demo {
            client,
            theme,
            replay,
            workspace: tempfile::tempdir()?,
        };
        Ok((demo, scenario.work))
    }

    /// A fresh temporary folder for the file tools.
    pub(crate) fn workspace(&self) -> &std::path::Path {
        self.workspace.path()
    }

    /// Prints text.
    pub(crate) fn show(&self, text: &str) {
        say(text);
    }

    /// Prints a line for each file `result`'s fork wrote in the workspace,
    /// with its length in lines.
    pub(crate) fn show_written(&self, result: &agent_core::ForkResult) -> Result<()> {
        for file in &result.files_created {
            let written = std::fs::read_to_string(self.workspace().join(file))?;
            self.show(&render::key_value(
                "Wrote",
                &format!("{file} ({} lines)", written.lines().count()),
                &self.theme,
            ));
        }
        Ok(())
    }

    /// A forker on the example's client whose file tools act in
    /// [`Demo::workspace`].
    pub(crate) fn forker(&self) -> Result<agent_core::Forker> {
        let options = agent_core::workspace::WorkspaceOptions::default();
        let workspace = agent_core::workspace::Workspace::open(self.workspace(), options)?;
        Ok(agent_core::Forker::new(self.client.clone())
            .with_workspace(std::sync::Arc::new(workspace)))
    }

    /// Forks `task` to an agent with `profile`, streaming: shows the fork's
    /// header panel (`tools` says what it may use), then runs the tool loop
    /// with the file tools in [`Demo::workspace`] when the profile has them.
    pub(crate) async fn fork(
        &self,
        task: &str,
        profile: agent_core::AgentProfile,
        tools: &str,
    ) -> Result<agent_core::ForkResult> {
        let forker = if profile.file_tools {
            self.forker()?
        } else {
            agent_core::Forker::new(self.client.clone())
        };
        let fork_id = agent_core::ForkId::generate();
        self.show(&views::fork_header(
            fork_id.as_str(),
            &profile.name,
            &profile.model,
            task,
            tools,
            &self.theme,
        ));
        let request = agent_core::ForkRequest {
            fork_id: Some(fork_id),
            stream: true,
            ..agent_core::ForkRequest::new(task, profile)
        };
        Ok(forker
            .run(request, &tokio_util::sync::CancellationToken::new())
            .await)
    }

    /// Ends the example: a replay must have used its whole session.
    pub(crate) async fn finish(self) -> Result<()> {
        if let Some(server) = self.replay {
            let verdict = server.verify();
            server.shutdown().await;
            verdict.map_err(|report| {
                anyhow::anyhow!("the example did not follow its recorded session: {report}")
            })?;
        }
        Ok(())
    }
}

/// Prints a line; for observers, which run without the [`Demo`] at hand.
pub(crate) fn say(text: &str) {
    println!("{text}");
}

/// The theme: colour on a terminal unless NO_COLOR is set; width from COLUMNS.
pub(crate) fn theme() -> Theme {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    let no_color = std::env::var("NO_COLOR").ok();
    let color = render::resolve_color(render::ColorChoice::Auto, terminal, no_color.as_deref());
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse().ok())
        .unwrap_or(100);
    Theme::new(color, width)
}

/// How a program's user raises a fork's turn limit, for
/// [`views::fork_result`].
pub(crate) const TURN_LIMIT_HINT: &str = "raise the profile's max_turns to let it finish";
