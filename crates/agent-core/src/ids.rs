//! Readable, unique ids for forks and swarms.
//!
//! `fork_HHMMSS_NNN_xxxx`: local wall-clock time, a per-process counter (as
//! the original tool), and four random base-36 characters so that ids made
//! by different processes in the same second do not collide.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

static FORK_COUNTER: AtomicU32 = AtomicU32::new(0);

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// An id from existing text (e.g. read back from a journal).
            pub fn from_string(text: impl Into<String>) -> Self {
                Self(text.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type! {
    /// The id of one fork, e.g. `fork_095723_001_k3x9`.
    ForkId
}

id_type! {
    /// The id of one swarm, e.g. `swarm_103008_q81z`.
    SwarmId
}

impl ForkId {
    /// A new id.
    ///
    /// ```
    /// let id = agent_core::ForkId::generate();
    /// assert!(id.as_str().starts_with("fork_"));
    /// assert_ne!(id, agent_core::ForkId::generate());
    /// ```
    pub fn generate() -> ForkId {
        let number = FORK_COUNTER.fetch_add(1, Ordering::Relaxed) % 1000 + 1;
        ForkId(format!("fork_{}_{number:03}_{}", clock(), suffix()))
    }
}

impl SwarmId {
    /// A new id.
    pub fn generate() -> SwarmId {
        SwarmId(format!("swarm_{}_{}", clock(), suffix()))
    }
}

fn clock() -> String {
    chrono::Local::now().format("%H%M%S").to_string()
}

/// Four random base-36 characters.
pub(crate) fn suffix() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..4)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}
