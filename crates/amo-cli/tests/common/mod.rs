//! The test world: an in-process amoCRM emulator, a private data folder, a script playing
//! the user's browser, and the real `amo` binary run against them with the real keychain.

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use tempfile::TempDir;

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
        let browser = work.path().join("browser");
        fs::write(
            &browser,
            "#!/bin/sh\n# Plays the user's browser: follow the authorize page to the callback.\n\
             curl -sS -L --max-time 20 -o /dev/null -w '%{http_code} %{url_effective}\\n' \"$1\" \
             >> \"$(dirname \"$0\")/browser.log\" 2>&1\n",
        )
        .unwrap();
        fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).unwrap();
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

    /// The loopback flow with the browser script, expected to succeed.
    pub fn connect(&self) -> Run {
        let r = self.amo(&["connect", "--timeout", "60"]);
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

    /// The raw keychain item of this world's tokens, read with `secret-tool`.
    pub fn keychain_tokens(&self) -> Option<String> {
        secret_lookup(&format!("tokens:{}", self.account()))
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

    /// Asserts that none of `secrets` appears in any file of the data folder.
    pub fn assert_no_secret_in_data(&self, secrets: &[String]) {
        for (path, bytes) in self.data_files() {
            let text = String::from_utf8_lossy(&bytes);
            for s in secrets.iter().filter(|s| s.len() >= 8) {
                assert!(
                    !text.contains(s.as_str()),
                    "a secret leaked into {}",
                    path.display()
                );
            }
        }
    }
}

pub fn secret_lookup(user: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "amo-connector", "username", user])
        .output()
        .expect("secret-tool runs");
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
