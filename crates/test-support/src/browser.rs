//! A real browser for tests: headless Chromium loads a page, and the test
//! gets the DOM after scripts ran, every console message, every request
//! that left for a host other than the page's, and a screenshot.
//!
//! Chromium is driven through its command line (`--dump-dom`,
//! `--screenshot`, `--enable-logging=stderr`), which needs no protocol
//! client: the checks here are on the final DOM, the console and the
//! network, which the command line gives. Every host name resolves to a
//! loopback [`Recorder`] (`--host-resolver-rules`), so a page that tries to
//! fetch anything from anywhere is seen, and nothing reaches a public host.
//!
//! [`Chromium::find`] returns `None` when no Chromium is installed; tests
//! then skip with a message, and fail under `CI=true` ([`Chromium::require`]).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An installed headless Chromium.
#[derive(Debug, Clone)]
pub struct Chromium {
    binary: PathBuf,
}

/// What a page load gave.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The DOM after the page's scripts ran (`--dump-dom`).
    pub dom: String,
    /// Console messages (and errors the page raised), one per entry.
    pub console: Vec<String>,
    /// Requests that reached the [`Recorder`] (other hosts), as
    /// `Host path` lines.
    pub foreign_requests: Vec<String>,
}

impl Loaded {
    /// Fails the test `name` unless the page loaded cleanly: a DOM, no
    /// console message, no request beyond the page, and no planted payload
    /// ran (the hostile fixtures' scripts set `data-pwned`).
    pub fn assert_clean(&self, name: &str) {
        assert!(!self.dom.is_empty(), "{name}: Chromium gave no DOM");
        assert!(
            self.console.is_empty(),
            "{name}: console messages: {:#?}",
            self.console
        );
        assert!(
            self.foreign_requests.is_empty(),
            "{name}: requests beyond the page: {:?}",
            self.foreign_requests
        );
        assert!(
            !self.dom.contains("data-pwned"),
            "{name}: a planted payload ran"
        );
    }

    /// Fails the test `name` unless every link in the DOM goes to the page
    /// itself (`#...`) or to http(s).
    pub fn assert_links_safe(&self, name: &str) {
        for tag in self.dom.split("<a ").skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let href = tag.split("href=\"").nth(1).unwrap_or("");
            assert!(
                href.starts_with('#')
                    || href.starts_with("https://")
                    || href.starts_with("http://"),
                "{name}: a link to {href:?}"
            );
        }
    }
}

impl Chromium {
    /// Chromium from `CHROMIUM`, else `chromium` or `chromium-browser` on
    /// the `PATH`.
    pub fn find() -> Option<Self> {
        let candidates = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .into_iter()
            .chain(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
        for candidate in candidates {
            let works = Command::new(&candidate)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if works {
                return Some(Self { binary: candidate });
            }
        }
        None
    }

    /// [`Chromium::find`], panicking under `CI=true` when there is none
    /// (CI installs it); `None` elsewhere, for the test to skip.
    pub fn require(test: &str) -> Option<Self> {
        let found = Self::find();
        if found.is_none() && std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!(
                "{test}: Chromium is not installed, and CI=true requires it (apt-get install chromium)"
            );
        }
        found
    }

    /// Loads `url` in a fresh profile, lets its timers run for
    /// `virtual_ms` of virtual time, and returns the DOM, the console and
    /// the requests to other hosts; saves a screenshot to `screenshot`.
    pub fn load(&self, url: &str, virtual_ms: u64, screenshot: &Path) -> Loaded {
        self.load_with(url, &Recorder::start(None), virtual_ms, screenshot)
    }

    /// Serves `html` from a loopback server as `/page.html` and loads it
    /// like [`Chromium::load`]; the page's own request is not counted as
    /// foreign.
    pub fn load_html(&self, html: &str, virtual_ms: u64, screenshot: &Path) -> Loaded {
        let recorder = Recorder::start(Some(html.to_owned()));
        let url = format!("http://127.0.0.1:{}/page.html", recorder.port);
        let own = format!("127.0.0.1:{} /page.html", recorder.port);
        // The browser asks the page's own server for an icon unless a
        // policy forbids it; that request is the browser's, not the page's.
        let icon = format!("127.0.0.1:{} /favicon.ico", recorder.port);
        let mut loaded = self.load_with(&url, &recorder, virtual_ms, screenshot);
        if let Some(first) = loaded.foreign_requests.iter().position(|line| *line == own) {
            loaded.foreign_requests.remove(first);
        }
        loaded.foreign_requests.retain(|line| *line != icon);
        loaded
    }

    fn load_with(
        &self,
        url: &str,
        recorder: &Recorder,
        virtual_ms: u64,
        screenshot: &Path,
    ) -> Loaded {
        let profile = tempfile_dir();
        if let Some(parent) = screenshot.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let output = Command::new(&self.binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--metrics-recording-only",
                // The browser's own clock check (clients2.google.com) is
                // not the page's traffic; without it any request seen is.
                "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,OptimizationGuideModelDownloading,Translate,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
                "--disable-client-side-phishing-detection",
                "--disable-domain-reliability",
                "--safebrowsing-disable-auto-update",
                "--no-pings",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1200,2000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!(
                "--host-resolver-rules=MAP * 127.0.0.1:{}, EXCLUDE 127.0.0.1",
                recorder.port
            ))
            .arg(format!("--virtual-time-budget={virtual_ms}"))
            .arg("--dump-dom")
            .arg(format!("--screenshot={}", screenshot.display()))
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .expect("Chromium runs");
        let _ = std::fs::remove_dir_all(&profile);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let console = stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE") || line.contains("Uncaught"))
            .map(str::to_owned)
            .collect();
        // What Chromium fetches for itself from Google's service hosts
        // (clock, variations, updates) is the browser's, not the page's.
        let foreign_requests = recorder
            .requests()
            .into_iter()
            .filter(|line| !browser_service(line))
            .collect();
        Loaded {
            dom: String::from_utf8_lossy(&output.stdout).into_owned(),
            console,
            foreign_requests,
        }
    }
}

/// Whether a recorded `Host path` line is Chromium's own background traffic.
fn browser_service(line: &str) -> bool {
    let host = line.split_whitespace().next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"]
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chromium-profile-{}-{}",
        std::process::id(),
        fastish_id()
    ));
    std::fs::create_dir_all(&dir).expect("a profile folder");
    dir
}

fn fastish_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// A loopback HTTP server that keeps each request's `Host` and path and
/// answers 404 (or, with a page, that page at `/page.html`): where every
/// other host name leads.
#[derive(Debug)]
pub struct Recorder {
    /// Its port.
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    /// Starts one on a free port, on a thread of its own.
    pub fn start(page: Option<String>) -> Self {
        let page = Arc::new(page);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                let page = page.clone();
                std::thread::spawn(move || answer(stream, &log, page.as_deref()));
            }
        });
        Self { port, seen }
    }

    /// Every request so far, as `Host path`.
    pub fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }
}

fn answer(mut stream: TcpStream, log: &Mutex<Vec<String>>, page: Option<&str>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    // A TLS connection (an https:// fetch, the page's or Chromium's own)
    // names its host only in the ClientHello's server name.
    if reader
        .fill_buf()
        .is_ok_and(|head| head.first() == Some(&0x16))
    {
        let host = client_hello(&mut reader)
            .as_deref()
            .and_then(server_name)
            .unwrap_or_default();
        if let Ok(mut log) = log.lock() {
            log.push(format!("{host} (tls)"));
        }
        return;
    }
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    let mut host = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(value) = line
            .strip_prefix("Host:")
            .or_else(|| line.strip_prefix("host:"))
        {
            host = value.trim().to_owned();
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned();
    if let Ok(mut log) = log.lock() {
        log.push(format!("{host} {path}"));
    }
    let reply = match page {
        Some(page) if path == "/page.html" => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        ),
        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(reply.as_bytes());
}

/// The first TLS record (a ClientHello), read whole when it arrives within
/// the read timeout.
fn client_hello(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    reader.read_exact(&mut header).ok()?;
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// The `server_name` extension's host name in a ClientHello handshake
/// message (RFC 8446 4.1.2, RFC 6066 3); `None` for anything else.
fn server_name(hello: &[u8]) -> Option<String> {
    // Handshake type 1 (ClientHello), 3-byte length, then version (2) and
    // random (32).
    if hello.first() != Some(&1) {
        return None;
    }
    let mut at = 4 + 2 + 32;
    let session_id = usize::from(*hello.get(at)?);
    at += 1 + session_id;
    let suites = usize::from(u16::from_be_bytes([*hello.get(at)?, *hello.get(at + 1)?]));
    at += 2 + suites;
    let compression = usize::from(*hello.get(at)?);
    at += 1 + compression;
    let extensions = usize::from(u16::from_be_bytes([*hello.get(at)?, *hello.get(at + 1)?]));
    at += 2;
    let end = (at + extensions).min(hello.len());
    while at + 4 <= end {
        let kind = u16::from_be_bytes([hello[at], hello[at + 1]]);
        let size = usize::from(u16::from_be_bytes([hello[at + 2], hello[at + 3]]));
        let data = hello.get(at + 4..at + 4 + size)?;
        if kind == 0 {
            // server_name_list: length (2), then name type 0 (host_name),
            // length (2), the name.
            let name_len = usize::from(u16::from_be_bytes([*data.get(3)?, *data.get(4)?]));
            let name = data.get(5..5 + name_len)?;
            return String::from_utf8(name.to_vec()).ok();
        }
        at += 4 + size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::server_name;

    /// A ClientHello cut down to what `server_name` reads: no session id,
    /// one suite, no compression, a server_name extension for example.com.
    #[test]
    fn the_server_name_is_read_from_a_client_hello() {
        let name = b"example.com";
        let mut extension = vec![0, 0];
        let list_len = (name.len() + 3) as u16;
        let ext_len = list_len + 2;
        extension.extend(ext_len.to_be_bytes());
        extension.extend(list_len.to_be_bytes());
        extension.push(0);
        extension.extend((name.len() as u16).to_be_bytes());
        extension.extend(name);
        let mut hello = vec![1, 0, 0, 0, 3, 3];
        hello.extend([0u8; 32]);
        hello.push(0);
        hello.extend([0, 2, 0x13, 0x01]);
        hello.extend([1, 0]);
        hello.extend((extension.len() as u16).to_be_bytes());
        hello.extend(&extension);
        assert_eq!(server_name(&hello).as_deref(), Some("example.com"));
        assert_eq!(server_name(&hello[..40]), None);
        assert_eq!(server_name(&[2, 0, 0]), None);
    }
}
