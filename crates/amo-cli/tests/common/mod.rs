//! The test world: an in-process amoCRM emulator, a private data folder, a script playing
//! the user's browser, and the real `amo` binary run against them with the real keychain.
//! One file past the usual length on purpose: it is the one toolkit every `amo` suite
//! shares, so no suite keeps a copy of a helper. What differs by platform (reading the
//! keychain from outside `amo`, ending a process, the browser script) is in `linux.rs` and
//! `windows.rs`, with the same functions.

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use tempfile::TempDir;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

pub const AMO: &str = env!("CARGO_BIN_EXE_amo");

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub emu: EmulatorHandle,
    pub home: TempDir,
    pub work: TempDir,
    pub redirect_uri: String,
}

impl World {
    pub fn new() -> World {
        World::with(|c| c)
    }

    /// A world whose emulator config `tweak` may change (access TTL, auto-approve, …).
    pub fn with(tweak: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let redirect_uri = format!("http://127.0.0.1:{}/amocrm/callback", free_port());
        let config = tweak(
            EmulatorConfig::new()
                .auto_approve()
                .with_redirect_uri(&redirect_uri),
        );
        let emu = rt
            .block_on(Emulator::start(config))
            .expect("the emulator starts");
        let work = tempfile::tempdir().unwrap();
        write_browser(&work.path().join("browser"));
        World {
            rt,
            emu,
            home: tempfile::tempdir().unwrap(),
            work,
            redirect_uri,
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn account(&self) -> String {
        self.emu.account_host()
    }

    /// `amo` with this world's environment and English output.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(AMO);
        for var in [
            "AMO_LANG",
            "LC_ALL",
            "LC_MESSAGES",
            "XDG_CURRENT_DESKTOP",
            "DESKTOP_SESSION",
            "KDE_FULL_SESSION",
            "GNOME_DESKTOP_SESSION_ID",
            "AMO_STATE_TTL_SECS",
        ] {
            c.env_remove(var);
        }
        c.env("LANG", "en_US.UTF-8")
            .env("AMO_CONNECTOR_HOME", self.home())
            .env("AMO_BASE_URL", self.emu.base_url())
            .env("AMO_CLIENT_ID", self.emu.client_id())
            .env("AMO_CLIENT_SECRET", self.emu.client_secret())
            .env("AMO_REDIRECT_URI", &self.redirect_uri)
            .env("BROWSER", self.work.path().join("browser"))
            .stdin(Stdio::null());
        c
    }

    pub fn amo(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().expect("amo runs"))
    }

    pub fn amo_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// The loopback flow, expected to succeed: with the browser script where there is one,
    /// else with `--no-browser` and the test playing the browser.
    pub fn connect(&self) -> Run {
        let r = if BROWSER_SCRIPT {
            self.amo(&["connect", "--timeout", "60"])
        } else {
            let mut c = self.start_connect(&[]);
            let page = self.browse(c.authorize_url.as_str());
            assert_eq!(page.status, 200, "the browser's last page: {page:?}");
            c.finish()
        };
        assert!(r.ok(), "amo connect failed: {r}");
        r
    }

    pub fn browser_log(&self) -> String {
        fs::read_to_string(self.work.path().join("browser.log")).unwrap_or_default()
    }

    pub fn status_json(&self) -> serde_json::Value {
        let r = self.amo(&["status", "--json"]);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {r}"))
    }

    /// This world's token set as the keychain holds it, read with `secret-tool`: the one
    /// item, or the parts its head item names, joined.
    pub fn keychain_tokens(&self) -> Option<String> {
        let key = format!("tokens:{}", self.account());
        let item = secret_lookup(&key)?;
        let head: serde_json::Value = serde_json::from_str(&item).ok()?;
        let (Some(gen), Some(parts)) = (head["gen"].as_str(), head["parts"].as_u64()) else {
            return Some(item);
        };
        (0..parts)
            .map(|i| secret_lookup(&format!("{key}#{gen}.{i}")))
            .collect()
    }

    /// Every file under the data folder, read as bytes.
    pub fn data_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.home().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push((p.clone(), fs::read(&p).unwrap_or_default()));
                }
            }
        }
        out
    }

    /// Asserts that none of `secrets` appears in any file of the data folder. Each must be
    /// long enough (8 characters) that finding it means it leaked, and there must be some.
    pub fn assert_no_secret_in_data(&self, secrets: &[String]) {
        assert!(!secrets.is_empty(), "no secrets to look for");
        for (i, s) in secrets.iter().enumerate() {
            assert!(s.len() >= 8, "secret #{i} is too short to look for");
        }
        for (path, bytes) in self.data_files() {
            let text = String::from_utf8_lossy(&bytes);
            for (i, s) in secrets.iter().enumerate() {
                assert!(
                    !text.contains(s.as_str()),
                    "secret #{i} leaked into {}",
                    path.display()
                );
            }
        }
    }
}

/// Every world proves, as it ends, that nothing of its data folder is left in the kernel's
/// user keyring (which outlives the folder): no `amo-connector:` key named for it, under any
/// spelling of its path.
impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let left = kernel_keys_of(self.home());
        assert!(left.is_empty(), "kernel keyring copies left: {left:?}");
    }
}

/// Rewrites the stored set's expiry as if its access token had `remaining` left, as time
/// passing would (the token itself is unchanged): a refresh falls due without waiting.
pub fn age_stored_token(w: &World, remaining: Duration) {
    let stored = w.keychain_tokens().expect("one item holds the set");
    let mut set: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + remaining;
    set["expires_at"] = serde_json::json!(at.as_millis() as u64);
    replace_tokens(w, &set.to_string());
}

/// A loopback port nothing listens on now, for a redirect URI that `amo` binds later.
///
/// It is taken below the kernel's ephemeral range (32768 and up by default): a port handed out
/// by `bind(0)` is released when the check ends, and until `amo` binds it another test's
/// emulator or any outgoing connection may be given the same one. Below that range only an
/// explicit bind takes a port, and each call here moves on from a point of its own.
pub fn free_port() -> u16 {
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7_919)
        ^ SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
    loop {
        let port = (FIRST + seed.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A finished `amo` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

// --- helpers for the state, listener, refresh, fault, keychain and language suites ------

/// A running `amo` process whose output is read as it comes, with bounded waits.
pub struct Child {
    pid: u32,
    exited: std::sync::mpsc::Receiver<std::process::ExitStatus>,
    lines: std::sync::mpsc::Receiver<String>,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
    done: bool,
}

impl Child {
    /// Starts `cmd` with piped stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Child {
        use std::io::{BufRead, BufReader, Read};
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("amo starts");
        let pid = child.id();
        let out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (line_tx, lines) = std::sync::mpsc::channel();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = line_tx.send(line);
            }
            all
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let (exit_tx, exited) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exit_tx.send(status);
            }
        });
        Child {
            pid,
            exited,
            lines,
            stdout: Some(stdout),
            stderr: Some(stderr),
            done: false,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    #[cfg(unix)]
    pub fn interrupt(&self) {
        signal(self.pid, "INT");
    }

    /// The next line on stdout, waiting at most `limit`.
    pub fn next_line(&mut self, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(line) => line,
            Err(e) => {
                let run = self.finish(Duration::from_secs(5));
                panic!("no line on stdout ({e}): {run}")
            }
        }
    }

    /// Waits for the exit, at most `limit`; kills the process and fails past it.
    pub fn finish(&mut self, limit: Duration) -> Run {
        let status = match self.exited.recv_timeout(limit) {
            Ok(status) => status,
            Err(_) => {
                self.kill();
                let _ = self.exited.recv_timeout(Duration::from_secs(5));
                panic!("amo (pid {}) did not exit within {limit:?}", self.pid);
            }
        };
        self.done = true;
        Run {
            code: status.code().unwrap_or(-1),
            stdout: self
                .stdout
                .take()
                .map_or_else(String::new, |h| h.join().unwrap()),
            stderr: self
                .stderr
                .take()
                .map_or_else(String::new, |h| h.join().unwrap()),
        }
    }

    fn kill(&self) {
        kill(self.pid);
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.done && self.exited.try_recv().is_err() {
            self.kill();
        }
    }
}

/// `amo connect --no-browser` waiting for a callback, its authorize address already read.
pub struct Connecting {
    pub child: Child,
    pub authorize_url: url::Url,
}

impl Connecting {
    /// The flow's state, taken from the authorize address.
    pub fn state(&self) -> String {
        query_param(&self.authorize_url, "state").expect("the authorize URL carries a state")
    }

    /// Waits for `amo connect` to end (at most 60 s).
    pub fn finish(&mut self) -> Run {
        self.child.finish(Duration::from_secs(60))
    }
}

/// What the browser (or a crafted request) got back.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub url: String,
    pub body: String,
}

pub fn query_param(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl World {
    /// Starts `amo connect --no-browser --timeout 30` and reads the authorize address.
    pub fn start_connect(&self, env: &[(&str, &str)]) -> Connecting {
        let mut cmd = self.cmd();
        cmd.args(["connect", "--no-browser", "--timeout", "30"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = Child::spawn(cmd);
        let line = child.next_line(Duration::from_secs(30));
        let authorize_url = url::Url::parse(line.trim())
            .unwrap_or_else(|e| panic!("the first line is the authorize URL ({e}): {line}"));
        Connecting {
            child,
            authorize_url,
        }
    }

    /// The loopback address the redirect URI points at.
    pub fn redirect_addr(&self) -> std::net::SocketAddr {
        let url = url::Url::parse(&self.redirect_uri).unwrap();
        format!("127.0.0.1:{}", url.port().unwrap())
            .parse()
            .unwrap()
    }

    /// The redirect URI with `params` as its query: what a browser would be sent to.
    pub fn callback_url(&self, params: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.redirect_uri).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }

    /// The path and query of [`World::callback_url`]: the target of a crafted request.
    pub fn callback_target(&self, params: &[(&str, &str)]) -> String {
        let url = url::Url::parse(&self.callback_url(params)).unwrap();
        url[url::Position::BeforePath..].to_owned()
    }

    /// The `Host` header a browser sends to the redirect URI.
    pub fn redirect_host(&self) -> String {
        self.redirect_addr().to_string()
    }

    /// Plays the user's browser: GET `url`, following redirects, at most 20 s.
    pub fn browse(&self, url: &str) -> Page {
        self.rt.block_on(async {
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap();
            let resp = client
                .get(url)
                .send()
                .await
                .expect("the browser gets a page");
            Page {
                status: resp.status().as_u16(),
                url: resp.url().to_string(),
                body: resp.text().await.unwrap_or_default(),
            }
        })
    }

    /// The access and refresh tokens of the keychain item; fails when the item, or either
    /// token in it, is missing.
    pub fn keychain_token_values(&self) -> Vec<String> {
        let item = self
            .keychain_tokens()
            .unwrap_or_else(|| panic!("the keychain holds no tokens for {}", self.account()));
        let v: serde_json::Value = serde_json::from_str(&item).expect("the item is JSON");
        ["access_token", "refresh_token"]
            .iter()
            .map(|k| match v[*k].as_str() {
                Some(token) if !token.is_empty() => token.to_owned(),
                _ => panic!("the keychain item has no {k}"),
            })
            .collect()
    }

    /// Connects through the loopback flow and returns the secrets seen on the way: the code,
    /// both tokens (it fails when the keychain lacks either) and the client secret.
    pub fn connect_and_collect(&self) -> Vec<String> {
        let mut c = self.start_connect(&[]);
        let page = self.browse(c.authorize_url.as_str());
        let run = c.finish();
        assert!(
            run.ok() && page.status == 200,
            "connect failed: {page:?} {run}"
        );
        let code = query_param(&url::Url::parse(&page.url).unwrap(), "code").unwrap();
        let mut secrets = self.keychain_token_values();
        assert_eq!(secrets.len(), 2, "both tokens were collected");
        secrets.push(code);
        secrets.push(self.emu.client_secret().to_owned());
        secrets
    }

    /// `amo` with `args` and extra environment, at most `limit`.
    pub fn amo_env(&self, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
        let mut cmd = self.cmd();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Child::spawn(cmd).finish(limit)
    }
}

/// Sends `request` as is to `addr` and reads the answer until the server closes, within
/// a few seconds; `None` when the connection failed or was reset before any answer.
pub fn raw_request(addr: std::net::SocketAddr, request: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(10))).ok()?;
    let _ = s.write_all(request);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    (!buf.is_empty()).then(|| String::from_utf8_lossy(&buf).into_owned())
}

/// The status code of a raw HTTP answer.
pub fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:.200}"))
}

/// A GET of `target` with `host` as the Host header.
pub fn get_request(target: &str, host: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes()
}
