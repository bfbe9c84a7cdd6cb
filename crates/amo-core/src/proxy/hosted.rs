//! The always-on proxy: while the `proxy` setting is on, the background host (the tray
//! process, else the window app) serves the local API on a fixed loopback port, with a key
//! kept in the keychain so that it outlives restarts. The settings live in SQLite (`proxy`,
//! `proxy.port`, `proxy.account`, and `proxy.key_version`, which tells the host that the
//! key was rotated without it reading the keychain at every check); what the host is doing
//! goes to its setting `proxy_state`, which the window and `amo config` show. Every proxy
//! writes the calls it answers to `proxy-calls.log` (method, path with the query's names
//! but not its values, status, time), apart from the activity log so that a busy client
//! does not push the connections' history out.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::ProxyKey;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::journal::{rfc3339, Entry, Journal};
use crate::types::AccountHost;

/// The port the always-on proxy listens on unless another is set.
pub const DEFAULT_PORT: u16 = 17564;

/// The calls a view shows at most.
pub const RECENT_CALLS: usize = 20;

/// The always-on proxy's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedProxy {
    /// Whether the background host serves it (off by default).
    pub on: bool,
    /// The loopback port (default [`DEFAULT_PORT`]).
    pub port: u16,
    /// The account it forwards to; `None`: the only connection there is.
    pub account: Option<AccountHost>,
    /// Counts rotations of the key: a host serving an older one starts again with the new.
    pub key_version: u64,
}

impl HostedProxy {
    /// Where it listens.
    pub fn listen(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Its address for clients: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.listen())
    }
}

/// What the background host last did with the always-on proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HostedState {
    /// Not served: the setting is off, or no host has taken it up yet.
    Off,
    /// Serving `account` at `url` since `since`, with the key of `key_version` (so a view
    /// can tell when a rotated key is in force).
    Serving {
        url: String,
        account: String,
        since: String,
        #[serde(default)]
        key_version: u64,
    },
    /// Could not serve: `reason` says why and what to do (in the host's language); `code`
    /// is the error's stable code. The host tries again at its next check.
    Failed {
        code: String,
        reason: String,
        since: String,
    },
}

/// One call a proxy answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyCall {
    /// When it was answered (RFC 3339).
    pub at: String,
    /// The account it went to.
    pub account: Option<String>,
    pub method: String,
    /// The path, with the query's names and none of its values (`/api/v4/leads?page&limit`).
    pub path: String,
    /// The status the client got.
    pub status: u16,
    /// From the request's head to the answer's head.
    pub ms: u64,
}

impl Engine {
    /// The always-on proxy's settings.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn hosted_proxy(&self) -> Result<HostedProxy> {
        let db = self.db();
        let on = db.setting("proxy")?.as_deref() == Some("on");
        let port = db
            .setting("proxy.port")?
            .and_then(|p| p.parse().ok())
            .unwrap_or(DEFAULT_PORT);
        let account = db
            .setting("proxy.account")?
            .and_then(|a| AccountHost::parse(&a).ok());
        let key_version = db
            .setting("proxy.key_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(HostedProxy {
            on,
            port,
            account,
            key_version,
        })
    }

    /// Turns the always-on proxy on or off; the background host follows at once.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn set_hosted_proxy(&self, on: bool) -> Result<()> {
        self.db()
            .set_setting("proxy", if on { "on" } else { "off" })
    }

    /// Sets the always-on proxy's port (`1`–`65535`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for anything else; [`Error::Database`].
    pub fn set_hosted_proxy_port(&self, port: &str) -> Result<u16> {
        let n: u16 = port
            .trim()
            .parse()
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| Error::InvalidInput {
                field: "proxy_port",
                value: port.chars().take(20).collect(),
            })?;
        self.db().set_setting("proxy.port", &n.to_string())?;
        Ok(n)
    }

    /// Sets the account the always-on proxy forwards to; an empty value: the only
    /// connection there is.
    ///
    /// # Errors
    /// [`Error::NotConnected`] for an account that is not connected; [`Error::Database`].
    pub fn set_hosted_proxy_account(&self, account: &str) -> Result<Option<AccountHost>> {
        let account = account.trim();
        if account.is_empty() {
            self.db().set_setting("proxy.account", "")?;
            return Ok(None);
        }
        let host = self.resolve_account(Some(account))?;
        self.db().set_setting("proxy.account", host.as_str())?;
        Ok(Some(host))
    }

    /// The account the always-on proxy forwards to: the chosen one, else the only one.
    ///
    /// # Errors
    /// [`Error::NoConnections`], [`Error::ChooseAccount`], [`Error::NotConnected`] (the
    /// chosen one was disconnected), [`Error::Database`].
    pub fn hosted_proxy_account(&self, settings: &HostedProxy) -> Result<AccountHost> {
        self.resolve_account(settings.account.as_ref().map(AccountHost::as_str))
    }

    /// The always-on proxy's key, from the keychain; made and kept there the first time.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn hosted_proxy_key(&self) -> Result<ProxyKey> {
        let _one = self.key_lock()?;
        if let Some(key) = self.vault().load_proxy_key(&self.folder_digest())? {
            return Ok(ProxyKey::from_kept(key));
        }
        self.new_hosted_proxy_key()
    }

    /// Replaces the always-on proxy's key: the old one stops working as soon as the host
    /// notices (at once where it watches the data folder).
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`], [`Error::Database`].
    pub fn rotate_hosted_proxy_key(&self) -> Result<()> {
        let _one = self.key_lock()?;
        self.new_hosted_proxy_key()?;
        let next = self.hosted_proxy()?.key_version + 1;
        self.db()
            .set_setting("proxy.key_version", &next.to_string())?;
        self.log("proxy_key_rotated", None, "", true);
        Ok(())
    }

    /// Held while the key is made or replaced, by every process on this data folder: the
    /// window's Copy key and the host's first start would otherwise each make one, and the
    /// one copied could be the one not served.
    fn key_lock(&self) -> Result<std::fs::File> {
        let path = self.data_dir().locks().join("proxy-key.lock");
        let fail = |e: std::io::Error| Error::DataFolder {
            path: path.clone(),
            reason: e.to_string(),
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(fail)?;
        crate::lockfile::lock(&file, &path, crate::lockfile::Wait::Setup)?;
        Ok(file)
    }

    fn new_hosted_proxy_key(&self) -> Result<ProxyKey> {
        let key = ProxyKey::generate()?;
        self.vault()
            .save_proxy_key(&self.folder_digest(), key.expose())?;
        Ok(key)
    }

    /// Removes the always-on proxy's key from the keychain (the next start makes another).
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn forget_hosted_proxy_key(&self) -> Result<bool> {
        self.vault().delete_proxy_key(&self.folder_digest())
    }

    /// A short digest of the data folder's path, which names its proxy key in the keychain.
    fn folder_digest(&self) -> String {
        crate::secret::short_digest(&self.data_dir().root().to_string_lossy())
    }

    /// What the background host last did with the always-on proxy.
    pub fn hosted_proxy_state(&self) -> HostedState {
        self.host_setting("proxy_state")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(HostedState::Off)
    }

    /// Records what the background host does with the always-on proxy (only when it
    /// changed, as a write wakes every process that watches the data folder).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn set_hosted_proxy_state(&self, state: &HostedState) -> Result<()> {
        if same_state(&self.hosted_proxy_state(), state) {
            return Ok(());
        }
        let text = serde_json::to_string(state).unwrap_or_default();
        self.set_host_setting("proxy_state", &text)
    }

    /// The newest `limit` calls proxies answered, newest first.
    pub fn proxy_calls(&self, limit: usize) -> Vec<ProxyCall> {
        calls_journal(self)
            .recent(limit)
            .into_iter()
            .filter_map(|e| {
                let (method, rest) = e.detail.split_once(' ')?;
                let (path, rest) = rest.split_once(' ')?;
                let (status, ms) = rest.split_once(' ')?;
                Some(ProxyCall {
                    at: rfc3339(e.ts),
                    account: e.account,
                    method: method.to_owned(),
                    path: path.to_owned(),
                    status: status.parse().ok()?,
                    ms: ms.trim_end_matches("ms").parse().ok()?,
                })
            })
            .collect()
    }
}

/// The same state but for when it began.
fn same_state(a: &HostedState, b: &HostedState) -> bool {
    match (a, b) {
        (
            HostedState::Serving {
                url,
                account,
                key_version,
                ..
            },
            HostedState::Serving {
                url: u,
                account: c,
                key_version: k,
                ..
            },
        ) => url == u && account == c && key_version == k,
        (HostedState::Failed { reason, .. }, HostedState::Failed { reason: r, .. }) => reason == r,
        _ => a == b,
    }
}

/// Now, as states record it.
pub fn now() -> String {
    rfc3339(Utc::now())
}

fn calls_journal(engine: &Engine) -> Journal {
    Journal::new(engine.data_dir().root().join("proxy-calls.log"))
}

/// How long answered calls wait to be written together.
const CALLS_BATCH: Duration = Duration::from_millis(500);

/// The calls a proxy answered, written to the calls' log in batches: a write per call would
/// put a wake-up of another thread, the log's lock and two file opens into every call's
/// time. Nothing runs while no call comes.
pub(super) struct CallLog {
    journal: Arc<Journal>,
    pending: Mutex<Vec<Entry>>,
    more: Notify,
}

impl CallLog {
    pub(super) fn new(engine: &Engine) -> CallLog {
        CallLog {
            journal: Arc::new(calls_journal(engine)),
            pending: Mutex::new(Vec::new()),
            more: Notify::new(),
        }
    }

    /// Keeps one call to write with the next batch.
    pub(super) fn add(&self, account: &AccountHost, line: &str) {
        let entry = Entry::new("proxy_call", Some(account.as_str()), line, true);
        self.pending().push(entry);
        self.more.notify_one();
    }

    /// Writes batches for as long as it is polled: each a moment after its first call.
    pub(super) async fn write_batches(&self) {
        loop {
            self.more.notified().await;
            tokio::time::sleep(CALLS_BATCH).await;
            let batch = std::mem::take(&mut *self.pending());
            let journal = self.journal.clone();
            let _ = tokio::task::spawn_blocking(move || journal.record_all(&batch)).await;
        }
    }

    /// Writes what is left (the proxy stops).
    pub(super) fn flush(&self) {
        let batch = std::mem::take(&mut *self.pending());
        if !batch.is_empty() {
            self.journal.record_all(&batch);
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The line a call is kept as: `GET /api/v4/leads?page&limit 200 12ms`.
pub(super) fn call_line(method: &str, target: &str, status: u16, took: Duration) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut line = format!("{method} {}", path.replace(' ', "%20"));
    if let Some(query) = query {
        let names: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').map_or(p, |(name, _)| name))
            .collect();
        line.push('?');
        line.push_str(&names.join("&").replace(' ', "%20"));
    }
    line.push_str(&format!(" {status} {}ms", took.as_millis()));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_keeps_the_query_names_and_none_of_the_values() {
        let took = Duration::from_millis(12);
        assert_eq!(
            call_line(
                "GET",
                "/api/v4/leads?page=2&limit=250&query=secret",
                200,
                took
            ),
            "GET /api/v4/leads?page&limit&query 200 12ms"
        );
        assert_eq!(
            call_line("POST", "/api/v4/leads", 201, took),
            "POST /api/v4/leads 201 12ms"
        );
        assert_eq!(
            call_line("GET", "/api/v4/account?with", 200, took),
            "GET /api/v4/account?with 200 12ms"
        );
    }

    #[test]
    fn a_new_start_time_is_no_change() {
        let serving = |since: &str, key_version| HostedState::Serving {
            url: "http://127.0.0.1:17564".into(),
            account: "a.amocrm.ru".into(),
            since: since.into(),
            key_version,
        };
        assert!(same_state(&serving("1", 0), &serving("2", 0)));
        assert!(!same_state(&serving("1", 0), &serving("1", 1)));
        assert!(!same_state(&serving("1", 0), &HostedState::Off));
    }
}
