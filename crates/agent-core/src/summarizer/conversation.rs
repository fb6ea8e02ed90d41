//! Conversations to summarise: from a JSON file or `role: content` lines.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Who spoke a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The person.
    User,
    /// The assistant (also read from `model` and `ai`).
    #[serde(alias = "model", alias = "ai")]
    Assistant,
    /// A system message.
    System,
}

impl Speaker {
    fn parse(text: &str) -> Option<Speaker> {
        match text.trim().to_ascii_lowercase().as_str() {
            "user" | "human" => Some(Self::User),
            "assistant" | "model" | "ai" => Some(Self::Assistant),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

impl fmt::Display for Speaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::User => "USER",
            Self::Assistant => "ASSISTANT",
            Self::System => "SYSTEM",
        })
    }
}

/// One turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Who spoke.
    pub role: Speaker,
    /// What was said.
    pub content: String,
}

/// A conversation, oldest turn first.
///
/// ```
/// use agent_core::Conversation;
/// let json = r#"{"turns":[{"role":"user","content":"Build a todo API."},
///                         {"role":"assistant","content":"Using FastAPI."}]}"#;
/// let conversation = Conversation::from_json(json).unwrap();
/// assert_eq!(conversation.transcript(), "[USER]: Build a todo API.\n\n[ASSISTANT]: Using FastAPI.");
/// let inline = Conversation::from_lines(&["user: hi".into(), "assistant: hello".into()]).unwrap();
/// assert_eq!(inline.turns.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The turns.
    pub turns: Vec<Turn>,
}

/// A conversation could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    /// The JSON is malformed or has the wrong shape.
    #[error(
        "the conversation is not valid JSON of the form {{\"turns\": [{{\"role\": \"user\", \"content\": \"...\"}}]}}: {0}"
    )]
    Json(String),
    /// An inline turn lacks its `role:` prefix.
    #[error(
        "history entry {index} is not `role: content` (role is user, assistant or system): {entry}"
    )]
    Line {
        /// 1-based position.
        index: usize,
        /// The entry, shortened.
        entry: String,
    },
    /// Nothing to summarise.
    #[error("the conversation has no turns with content")]
    Empty,
}

impl Conversation {
    /// Reads `{"turns": [{"role", "content"}]}` (a bare list of turns is accepted too).
    pub fn from_json(text: &str) -> Result<Conversation, ConversationError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Wrapped { turns: Vec<Turn> },
            Bare(Vec<Turn>),
        }
        let shape: Shape = serde_json::from_str(text)
            .map_err(|error| ConversationError::Json(error.to_string()))?;
        let turns = match shape {
            Shape::Wrapped { turns } | Shape::Bare(turns) => turns,
        };
        Self::checked(turns)
    }

    /// Reads inline `role: content` entries.
    pub fn from_lines(lines: &[String]) -> Result<Conversation, ConversationError> {
        let turns = lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let parsed = line
                    .split_once(':')
                    .and_then(|(role, content)| Some((Speaker::parse(role)?, content.trim())));
                match parsed {
                    Some((role, content)) => Ok(Turn {
                        role,
                        content: content.to_owned(),
                    }),
                    None => Err(ConversationError::Line {
                        index: index + 1,
                        entry: line.chars().take(60).collect(),
                    }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::checked(turns)
    }

    fn checked(turns: Vec<Turn>) -> Result<Conversation, ConversationError> {
        if turns.iter().all(|turn| turn.content.trim().is_empty()) {
            return Err(ConversationError::Empty);
        }
        Ok(Conversation { turns })
    }

    /// The turns as `[ROLE]: content`, separated by blank lines.
    pub fn transcript(&self) -> String {
        self.turns
            .iter()
            .map(|turn| format!("[{}]: {}", turn.role, turn.content))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// A rough token count: characters / 4, rounded up.
    pub fn estimated_tokens(&self) -> u64 {
        estimate_tokens(&self.transcript())
    }
}

/// A rough token count of `text`: characters / 4, rounded up.
pub fn estimate_tokens(text: &str) -> u64 {
    u64::try_from(text.chars().count().div_ceil(4)).unwrap_or(u64::MAX)
}
