//! Quota limits remembered between runs.
//!
//! Gemini's limits are per project and model, and a client learns them only
//! from a 429's `quotaValue`: the first swarm far above its quota opens
//! with a burst the server refuses. A live run keeps what it learned in
//! `<data>/agent-fork/quota-limits.json` (the per-user data folder that
//! also holds the runs, outside every workspace), keyed by a fingerprint
//! of the endpoint and key (never the key), and the next live run against
//! the same endpoint and key starts at those limits, with no 429s to learn
//! them again. A remembered limit is kept for [`REMEMBER_FOR`] from when a
//! 429 taught it (limits change when a project's tier does), can only slow
//! a run down (the lower of it and a setting holds, and a 429 still lowers
//! it), and is read as untrusted data: a file that is too big, malformed or
//! holds values out of range is ignored with a warning and rewritten.
//! The data folder is hidden from the workspace tools. Replays never read
//! or write it.
//! `remember_limits = false` turns it off.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use genai_client::{ClientConfig, LearnedLimit, PerMinuteQuota};
use serde::{Deserialize, Serialize};

/// How long a limit a 429 taught is remembered.
pub(crate) const REMEMBER_FOR: Duration = Duration::hours(24);

/// The largest file read; a longer one is ignored (a few hundred bytes per
/// model and quota are enough).
const MOST_BYTES: u64 = 256 * 1024;

/// The most limits kept, the newest first.
const MOST_LIMITS: usize = 1000;

/// The file's name in the per-user data folder.
const FILE_NAME: &str = "quota-limits.json";

/// The file, in the per-user data folder; `None` without a home.
pub(crate) fn default_path() -> Option<PathBuf> {
    crate::settings::user_data_dir().map(|data| data.join(FILE_NAME))
}

/// The file as written.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemoryFile {
    version: u32,
    limits: Vec<Remembered>,
}

/// One remembered limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Remembered {
    /// [`endpoint_fingerprint`] of the endpoint and key it was learned with.
    endpoint: String,
    model: String,
    quota: PerMinuteQuota,
    per_minute: u64,
    learned_at: DateTime<Utc>,
}

impl Remembered {
    /// Whether it may be used at `now`: in range, not from the future (a
    /// few minutes of clock skew allowed), not older than [`REMEMBER_FOR`].
    fn usable(&self, now: DateTime<Utc>) -> bool {
        let model_ok = !self.model.is_empty()
            && self.model.len() <= 200
            && self.model.chars().all(|c| !c.is_control());
        model_ok
            && self.per_minute >= 1
            && self.endpoint.len() == 16
            && self.learned_at <= now + Duration::minutes(5)
            && now - self.learned_at < REMEMBER_FOR
    }

    fn same_limit(&self, other: &Remembered) -> bool {
        self.endpoint == other.endpoint && self.model == other.model && self.quota == other.quota
    }
}

/// Which endpoint and key a limit belongs to: the first 16 hex digits of
/// the SHA-256 of the base URL and the key (limits are per project; the
/// key stands for its project). The key itself is never written.
pub(crate) fn endpoint_fingerprint(config: &ClientConfig) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    hash.update(config.base_url.as_bytes());
    hash.update([0]);
    if let Some(key) = &config.api_key {
        hash.update(key.expose().as_bytes());
    }
    hash.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The remembered limits of one endpoint and key.
#[derive(Debug)]
pub(crate) struct QuotaMemory {
    path: PathBuf,
    endpoint: String,
    /// The usable limits of this endpoint when the run began.
    known: Vec<Remembered>,
}

/// A remembered limit, as the start-of-run notice shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownLimit {
    pub(crate) limit: LearnedLimit,
    pub(crate) learned_at: DateTime<Utc>,
}

impl QuotaMemory {
    /// Reads the limits of `endpoint` from `path`. A missing file is an
    /// empty memory; an unreadable one too, with a warning to show.
    pub(crate) fn load(
        path: PathBuf,
        endpoint: String,
        now: DateTime<Utc>,
    ) -> (QuotaMemory, Option<String>) {
        let (file, warning) = match read(&path) {
            Ok(file) => (file, None),
            Err(problem) => (
                MemoryFile::default(),
                Some(format!(
                    "warning: ignored the remembered quota limits in {} ({problem}); they are learned again from 429s",
                    path.display()
                )),
            ),
        };
        let known = file
            .limits
            .into_iter()
            .filter(|limit| limit.endpoint == endpoint && limit.usable(now))
            .collect();
        (
            QuotaMemory {
                path,
                endpoint,
                known,
            },
            warning,
        )
    }

    /// The limits to start the client with.
    pub(crate) fn known(&self) -> Vec<KnownLimit> {
        self.known
            .iter()
            .map(|limit| KnownLimit {
                limit: LearnedLimit {
                    model: limit.model.clone(),
                    quota: limit.quota,
                    per_minute: limit.per_minute,
                },
                learned_at: limit.learned_at,
            })
            .collect()
    }

    /// Adds the limits this run `learned` (at `now`) to the file, keeping
    /// the other endpoints' and dropping the expired. Written to a
    /// temporary file beside it and renamed, so a reader never sees half a
    /// file; re-read first, so runs ending together lose little.
    ///
    /// # Errors
    ///
    /// A line to show when the file cannot be written.
    pub(crate) fn save(&self, learned: &[LearnedLimit], now: DateTime<Utc>) -> Result<(), String> {
        if learned.is_empty() {
            return Ok(());
        }
        let mut limits: Vec<Remembered> = learned
            .iter()
            .map(|limit| Remembered {
                endpoint: self.endpoint.clone(),
                model: limit.model.clone(),
                quota: limit.quota,
                per_minute: limit.per_minute.max(1),
                learned_at: now,
            })
            .filter(|limit| limit.usable(now))
            .collect();
        let earlier = read(&self.path).unwrap_or_default().limits;
        for limit in earlier {
            if limit.usable(now) && !limits.iter().any(|newer| newer.same_limit(&limit)) {
                limits.push(limit);
            }
        }
        limits.sort_by_key(|limit| std::cmp::Reverse(limit.learned_at));
        limits.truncate(MOST_LIMITS);
        write(&self.path, &MemoryFile { version: 1, limits }).map_err(|error| {
            format!(
                "warning: could not remember the quota limits this run learned in {}: {error}",
                self.path.display()
            )
        })
    }
}

/// The file, checked; a missing file is empty.
fn read(path: &Path) -> Result<MemoryFile, String> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(MemoryFile::default());
        }
        Err(error) => return Err(error.to_string()),
    };
    let mut text = String::new();
    file.take(MOST_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|error| error.to_string())?;
    if text.len() as u64 > MOST_BYTES {
        return Err(format!("larger than {} KiB", MOST_BYTES / 1024));
    }
    let file: MemoryFile = serde_json::from_str(&text).map_err(|error| error.to_string())?;
    if file.version != 1 {
        return Err(format!("version {} is not 1", file.version));
    }
    Ok(file)
}

fn write(path: &Path, file: &MemoryFile) -> std::io::Result<()> {
    use std::io::Write as _;
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    let text = serde_json::to_string_pretty(file).map_err(std::io::Error::other)?;
    temporary.write_all(text.as_bytes())?;
    temporary.write_all(b"\n")?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// The start-of-run notice for the limits a run starts with.
pub(crate) fn notice(known: &[KnownLimit]) -> Option<String> {
    if known.is_empty() {
        return None;
    }
    let limits: Vec<String> = known
        .iter()
        .map(|known| {
            format!(
                "{} {} {} (learned {})",
                render::strip_controls_line(&known.limit.model),
                known.limit.per_minute,
                known.limit.quota.unit(),
                known.learned_at.format("%Y-%m-%d %H:%M UTC")
            )
        })
        .collect();
    Some(format!(
        "quota: starting at limits earlier runs learned from 429s: {}; `remember_limits = false` ignores them",
        limits.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn limit(model: &str, per_minute: u64) -> LearnedLimit {
        LearnedLimit {
            model: model.into(),
            quota: PerMinuteQuota::RequestsPerMinute,
            per_minute,
        }
    }

    #[test]
    fn a_saved_limit_is_known_to_the_same_endpoint_for_a_day_only() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("data/agent-fork").join(FILE_NAME);
        let now = at("2026-11-30T04:00:00Z");
        let endpoint = "0123456789abcdef".to_owned();
        let (memory, warning) = QuotaMemory::load(path.clone(), endpoint.clone(), now);
        assert!(warning.is_none() && memory.known().is_empty());
        memory.save(&[limit("m", 100)], now).unwrap();
        // Another endpoint (another key or base URL) does not see it.
        let (other, _) = QuotaMemory::load(path.clone(), "fedcba9876543210".into(), now);
        assert!(other.known().is_empty());
        let (same, _) =
            QuotaMemory::load(path.clone(), endpoint.clone(), now + Duration::hours(23));
        assert_eq!(
            same.known(),
            vec![KnownLimit {
                limit: limit("m", 100),
                learned_at: now
            }]
        );
        // A run that learns a new limit for the model replaces it; the
        // other endpoint's limits are kept.
        other.save(&[limit("m", 7)], now).unwrap();
        same.save(&[limit("m", 80)], now + Duration::hours(1))
            .unwrap();
        let (again, _) =
            QuotaMemory::load(path.clone(), endpoint.clone(), now + Duration::hours(2));
        assert_eq!(again.known()[0].limit, limit("m", 80));
        let (other, _) = QuotaMemory::load(path.clone(), "fedcba9876543210".into(), now);
        assert_eq!(other.known()[0].limit, limit("m", 7));
        // A day after it was learned, it is forgotten.
        let (later, _) = QuotaMemory::load(
            path,
            endpoint,
            now + Duration::hours(25) + Duration::minutes(1),
        );
        assert!(later.known().is_empty());
    }

    /// The file is data, never authority: whatever wrote it (a model with a
    /// file tool given a workspace that covers the data folder, a bad
    /// merge), a malformed, oversized or out-of-range file is ignored with
    /// a warning, and each bad entry is dropped.
    #[test]
    fn a_hostile_or_broken_file_is_ignored() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(FILE_NAME);
        let now = at("2026-11-30T04:00:00Z");
        let endpoint = "0123456789abcdef".to_owned();
        for (text, warns) in [
            ("not json", true),
            (r#"{"version": 2, "limits": []}"#, true),
            (r#"{"version": 1, "limits": [], "unlimited": true}"#, true),
            (&"x".repeat(300 * 1024), true),
            (
                r#"{"version": 1, "limits": [
                    {"endpoint": "0123456789abcdef", "model": "m", "quota": "requests_per_minute", "per_minute": 0, "learned_at": "2026-11-30T03:00:00Z"},
                    {"endpoint": "0123456789abcdef", "model": "m", "quota": "requests_per_minute", "per_minute": 5, "learned_at": "2027-01-01T00:00:00Z"},
                    {"endpoint": "0123456789abcdef", "model": "a\u001b[2Jb", "quota": "requests_per_minute", "per_minute": 5, "learned_at": "2026-11-30T03:00:00Z"},
                    {"endpoint": "0123456789abcdef", "model": "", "quota": "requests_per_minute", "per_minute": 5, "learned_at": "2026-11-30T03:00:00Z"}
                ]}"#,
                false,
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let (memory, warning) = QuotaMemory::load(path.clone(), endpoint.clone(), now);
            assert_eq!(warning.is_some(), warns, "{text:.60}");
            assert!(memory.known().is_empty(), "{text:.60}");
        }
        // Saving over a broken file replaces it with a good one.
        std::fs::write(&path, "not json").unwrap();
        let (memory, _) = QuotaMemory::load(path.clone(), endpoint.clone(), now);
        memory.save(&[limit("m", 50)], now).unwrap();
        let (memory, warning) = QuotaMemory::load(path, endpoint, now);
        assert!(warning.is_none());
        assert_eq!(memory.known()[0].limit, limit("m", 50));
    }

    #[test]
    fn the_fingerprint_depends_on_the_key_and_url_and_never_shows_the_key() {
        let config = |key: &str, url: &str| {
            ClientConfig::default()
                .with_api_key(genai_client::ApiKey::new(key))
                .redirect_to(url)
        };
        let one = endpoint_fingerprint(&config("secret-key-one", "https://a.example"));
        assert_eq!(one.len(), 16);
        assert!(!one.contains("secret"));
        assert_ne!(
            one,
            endpoint_fingerprint(&config("secret-key-two", "https://a.example"))
        );
        assert_ne!(
            one,
            endpoint_fingerprint(&config("secret-key-one", "https://b.example"))
        );
        assert_eq!(
            one,
            endpoint_fingerprint(&config("secret-key-one", "https://a.example"))
        );
    }

    #[test]
    fn the_notice_names_each_limit_and_how_to_turn_it_off() {
        let line = notice(&[KnownLimit {
            limit: limit("gemini-3-flash-preview", 1000),
            learned_at: at("2026-11-30T03:12:00Z"),
        }])
        .unwrap();
        assert_eq!(
            line,
            "quota: starting at limits earlier runs learned from 429s: gemini-3-flash-preview 1000 requests/min (learned 2026-11-30 03:12 UTC); `remember_limits = false` ignores them"
        );
        assert!(notice(&[]).is_none());
    }
}
