//! The engine: one handle on the data folder, database, token store, log and amoCRM clients,
//! and the facade the window, the tray and `amo` call. The parts that need several of these
//! at once add their methods from their own files (`flow.rs`, `connect.rs`, `refresh.rs`,
//! `api.rs`, `moved.rs`, `autostart.rs`), each saying why; the rest stand alone.

use chrono::{Duration, Utc};
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

use crate::config::{Checked, NewSettings, RedirectUri, Settings, DEFAULT_REDIRECT_URI};
use crate::db::{ConnectionRow, Db, TokenFacts};
use crate::error::{Error, ErrorView, Result};
use crate::http::Http;
use crate::i18n::Lang;
use crate::journal::{Entry, Journal};
use crate::paths::DataDir;
use crate::secret::ClientSecret;
use crate::status::{ConnectionStatus, Seen};
use crate::token_store::TokenStore;
use crate::types::{AccountHost, Platform};
use crate::vault::Vault;

/// Access tokens this close to expiry are refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::minutes(10);
/// How long a flow's state is valid.
pub const STATE_TTL: Duration = Duration::minutes(15);

type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// An integration as the setup form and `amo integrations` show it: no secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Integration {
    pub client_id: String,
    pub redirect_uri: String,
    pub platform: &'static str,
    /// Its client secret is in the keychain (or given by `AMO_CLIENT_SECRET`).
    pub secret_stored: bool,
    /// How many connections its tokens serve.
    pub connections: usize,
    /// The one new connections are made with.
    pub current: bool,
}

/// Something the window may want to follow.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    CallbackReceived {
        account: String,
    },
    Connected {
        account: String,
    },
    Refreshed {
        account: String,
    },
    Failed {
        account: Option<String>,
        error: ErrorView,
    },
    Disconnected {
        account: String,
    },
    Activity {
        entry: Entry,
    },
}

/// The engine; clones share one state.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) dir: DataDir,
    db: Mutex<Db>,
    pub(crate) store: TokenStore,
    pub(crate) journal: Journal,
    pub(crate) http: Http,
    events: broadcast::Sender<EngineEvent>,
    env: Box<EnvFn>,
    pub(crate) state_ttl: Duration,
}

impl Engine {
    /// Opens the data folder named by the environment, with the OS keychain.
    ///
    /// # Errors
    /// [`Error::DataFolder`] or [`Error::Database`].
    pub fn open() -> Result<Engine> {
        let dir = DataDir::locate()?;
        let vault = Vault::system();
        Engine::open_with(dir, vault, |k| std::env::var(k).ok())
    }

    /// Opens `dir` with `vault`, reading overrides through `env`.
    ///
    /// # Errors
    /// [`Error::DataFolder`] or [`Error::Database`].
    pub fn open_with(
        mut dir: DataDir,
        vault: Vault,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Engine> {
        dir.ensure()?;
        let db = Db::open(&dir.database())?;
        db.delete_expired_states(Utc::now())?;
        let journal = Journal::new(dir.log());
        let state_ttl = env("AMO_STATE_TTL_SECS")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .map_or(STATE_TTL, Duration::seconds);
        let store = TokenStore::new(vault, dir.clone());
        Ok(Engine {
            inner: Arc::new(Inner {
                dir,
                db: Mutex::new(db),
                store,
                journal,
                http: Http::new(),
                events: broadcast::channel(64).0,
                env: Box::new(env),
                state_ttl,
            }),
        })
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Db> {
        self.inner.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.inner.dir
    }

    pub fn vault(&self) -> &Vault {
        self.inner.store.vault()
    }

    /// Follows what the engine does.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: EngineEvent) {
        let _ = self.inner.events.send(event);
    }

    /// Logs a step and tells subscribers.
    pub(crate) fn log(&self, step: &str, account: Option<&str>, detail: &str, ok: bool) {
        let entry = self.inner.journal.record(step, account, detail, ok);
        self.emit(EngineEvent::Activity { entry });
    }

    pub(crate) fn fail(&self, account: Option<&AccountHost>, step: &str, e: &Error) {
        let mut detail = e.describe(self.lang());
        // amoCRM's reason goes in brackets, as its other answers do, so the window can quote it.
        if let Error::ReconnectNeeded { reason, .. } = e {
            detail =
                detail.replacen(&format!(": {reason}"), "", 1) + &format!(" [amoCRM: {reason}]");
        }
        self.log(step, account.map(AccountHost::as_str), &detail, false);
        self.emit(EngineEvent::Failed {
            account: account.map(ToString::to_string),
            error: e.view(self.lang()),
        });
    }

    /// The activity log file, for error messages that say where to look.
    pub fn log_path(&self) -> &std::path::Path {
        self.inner.journal.path()
    }

    /// The newest `limit` steps of the activity log, newest first.
    pub fn activity(&self, limit: usize) -> Vec<Entry> {
        self.inner.journal.recent(limit)
    }

    // --- settings -------------------------------------------------------------------------

    /// The settings in force.
    ///
    /// # Errors
    /// A saved or overriding value that does not parse.
    pub fn settings(&self) -> Result<Settings> {
        Settings::resolve(&self.db(), |k| (self.inner.env)(k))
    }

    /// The language: the saved choice, else `AMO_LANG`, the locale, or the desktop's locale.
    pub fn lang(&self) -> Lang {
        let saved = self.db().setting("lang").ok().flatten();
        saved
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_else(|| Lang::detect_from(|k| (self.inner.env)(k), sys_locale::get_locale))
    }

    /// Validates and saves settings; the client secret goes to the keychain (not in emulator
    /// mode: an emulator's secret must not replace the integration's).
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::InvalidRedirectUri`], [`Error::KeychainUnavailable`],
    /// [`Error::EmulatorSecret`].
    pub fn save_settings(&self, new: NewSettings) -> Result<Settings> {
        let Checked {
            client_id,
            redirect,
            platform,
            lang,
            theme,
        } = new.check()?;
        if let Some(secret) = &new.client_secret {
            if self.emulator_mode() {
                return Err(Error::EmulatorSecret);
            }
            let id = client_id.clone().or(self.settings()?.client_id);
            let id = id.ok_or(Error::NotConfigured { what: "client_id" })?;
            if secret.expose().trim().is_empty() {
                return Err(Error::InvalidInput {
                    field: "client_secret",
                    value: String::new(),
                });
            }
            self.vault()
                .save_client_secret(&id, &ClientSecret::new(secret.expose().trim()))?;
            let db = self.db();
            db.upsert_integration(&id, None, None, Utc::now())?;
            db.set_secret_stored(&id, true)?;
        }
        let current = self.db().setting("client_id")?;
        let db = self.db();
        if let Some(id) = &client_id {
            db.set_setting("client_id", id)?;
        }
        // The integration chosen (or added) keeps its own redirect URI and platform; they are
        // also the defaults an integration added later starts from.
        if let Some(id) = client_id.as_ref().or(current.as_ref()) {
            db.upsert_integration(
                id,
                redirect.as_ref().map(RedirectUri::as_str),
                platform.map(|p| p.as_str()),
                Utc::now(),
            )?;
        }
        if let Some(r) = &redirect {
            db.set_setting("redirect_uri", r.as_str())?;
        }
        if let Some(p) = platform {
            db.set_setting("platform", p.as_str())?;
        }
        if let Some(l) = &lang {
            db.set_setting("lang", l)?;
        }
        if let Some(t) = theme {
            db.set_setting("theme", t)?;
        }
        drop(db);
        self.settings()
    }

    /// An environment variable as the engine sees it (tests hand the engine their own).
    pub(crate) fn env_var(&self, key: &str) -> Option<String> {
        (self.inner.env)(key)
    }

    /// Whether `AMO_BASE_URL` sends every amoCRM call to a local emulator. Then the client
    /// secret comes only from `AMO_CLIENT_SECRET`: the keychain's is the real integration's
    /// and is neither read for nor overwritten by an emulator.
    pub fn emulator_mode(&self) -> bool {
        self.env_var("AMO_BASE_URL")
            .is_some_and(|v| !v.trim().is_empty())
    }

    /// The client secret: `AMO_CLIENT_SECRET`, else the keychain's (never with an emulator).
    ///
    /// # Errors
    /// [`Error::EmulatorSecret`] in emulator mode without `AMO_CLIENT_SECRET`;
    /// [`Error::NotConfigured`] when neither has one; [`Error::KeychainUnavailable`].
    pub(crate) fn client_secret(&self, client_id: &str) -> Result<ClientSecret> {
        if let Some(s) = self
            .env_var("AMO_CLIENT_SECRET")
            .filter(|s| !s.trim().is_empty())
        {
            return Ok(ClientSecret::new(s.trim()));
        }
        if self.emulator_mode() {
            return Err(Error::EmulatorSecret);
        }
        let secret = self.vault().load_client_secret(client_id)?;
        if secret.is_none() {
            // Removed outside the connector: the form asks for it again.
            self.db().set_secret_stored(client_id, false)?;
        }
        secret.ok_or(Error::NotConfigured {
            what: "client_secret",
        })
    }

    /// Whether the chosen integration's client secret is available, from the database: the
    /// keychain is asked only about an integration kept from before this was recorded.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`] from that one look-up; [`Error::Database`].
    pub fn has_client_secret(&self) -> Result<bool> {
        match self.settings()?.client_id {
            Some(id) => self.secret_stored(&id),
            None => Ok(false),
        }
    }

    /// Whether the client secret of `client_id` is available (see
    /// [`Engine::has_client_secret`]).
    fn secret_stored(&self, client_id: &str) -> Result<bool> {
        if self
            .env_var("AMO_CLIENT_SECRET")
            .is_some_and(|s| !s.trim().is_empty())
        {
            return Ok(true);
        }
        if self.emulator_mode() {
            return Ok(false);
        }
        let known = self.db().integration(client_id)?;
        if let Some(stored) = known.as_ref().and_then(|i| i.secret_stored) {
            return Ok(stored);
        }
        let stored = self.vault().load_client_secret(client_id)?.is_some();
        if known.is_some() {
            self.db().set_secret_stored(client_id, stored)?;
        }
        Ok(stored)
    }

    /// Every integration added, with what is known of it (no secret).
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::KeychainUnavailable`] only for an integration kept
    /// from before its secret's presence was recorded.
    pub fn integrations(&self) -> Result<Vec<Integration>> {
        let settings = self.settings()?;
        let rows = self.db().integrations()?;
        let used = self.db().connections_by_integration()?;
        rows.into_iter()
            .map(|row| {
                let redirect_uri = self.redirect_uri_of(&row.client_id)?;
                Ok(Integration {
                    current: settings.client_id.as_deref() == Some(row.client_id.as_str()),
                    secret_stored: self.secret_stored(&row.client_id)?,
                    connections: used.get(&row.client_id).copied().unwrap_or(0),
                    redirect_uri: redirect_uri.as_str().to_owned(),
                    platform: row
                        .platform
                        .as_deref()
                        .and_then(|p| Platform::parse(p).ok())
                        .unwrap_or(settings.platform)
                        .as_str(),
                    client_id: row.client_id,
                })
            })
            .collect()
    }

    /// Makes the added integration `client_id` the one new connections are made with.
    ///
    /// # Errors
    /// [`Error::UnknownIntegration`] when it was never added; [`Error::Database`].
    pub fn choose_integration(&self, client_id: &str) -> Result<()> {
        let client_id = client_id.trim();
        let db = self.db();
        if db.integration(client_id)?.is_none() {
            let known: Vec<String> = db
                .integrations()?
                .into_iter()
                .map(|i| i.client_id)
                .collect();
            return Err(Error::UnknownIntegration {
                client_id: client_id.chars().take(200).collect(),
                known: if known.is_empty() {
                    "—".to_owned()
                } else {
                    known.join(", ")
                },
            });
        }
        db.set_setting("client_id", client_id)
    }

    /// The redirect URI the integration `client_id` was registered with: its own, else the
    /// saved default; `AMO_REDIRECT_URI` overrides both.
    ///
    /// # Errors
    /// [`Error::Database`]; a saved URI that does not parse.
    pub fn redirect_uri_of(&self, client_id: &str) -> Result<RedirectUri> {
        if let Some(uri) = self
            .env_var("AMO_REDIRECT_URI")
            .filter(|u| !u.trim().is_empty())
        {
            return RedirectUri::parse(&uri);
        }
        let own = self
            .db()
            .integration(client_id)?
            .and_then(|i| i.redirect_uri);
        let saved = match own {
            Some(uri) => Some(uri),
            None => self.db().setting("redirect_uri")?,
        };
        RedirectUri::parse(saved.as_deref().unwrap_or(DEFAULT_REDIRECT_URI))
    }

    // --- connections ----------------------------------------------------------------------

    /// Every connection, with its state, from the database alone. The keychain is read only
    /// for rows stored before their token facts were kept, once: they are filled in.
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::KeychainUnavailable`] only while filling in old rows.
    pub fn connections(&self) -> Result<Vec<ConnectionStatus>> {
        let rows = self.db().connections()?;
        let rows = self.fill_facts(rows)?;
        self.statuses(rows)
    }

    /// One connection's status, from the database alone (as [`Engine::connections`]).
    ///
    /// # Errors
    /// [`Error::NotConnected`], [`Error::Database`], [`Error::KeychainUnavailable`].
    pub fn connection(&self, account: &AccountHost) -> Result<ConnectionStatus> {
        let row = self.db().connection(account)?;
        let row = row.ok_or_else(|| Error::NotConnected {
            account: account.to_string(),
        })?;
        let rows = self.fill_facts(vec![row])?;
        Ok(self.statuses(rows)?.remove(0))
    }

    fn statuses(&self, rows: Vec<ConnectionRow>) -> Result<Vec<ConnectionStatus>> {
        let settings = self.settings();
        let moved_from = self.db().moves()?;
        let tokens_missing = self.lang().tr("reason.tokens_missing", &[]);
        let storage = self.inner.store.vault().storage_key();
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(|row| {
                let seen = Seen {
                    now,
                    tokens_missing: Some(tokens_missing.clone()),
                    storage,
                    api_base: settings
                        .as_ref()
                        .ok()
                        .and_then(|s| crate::api::api_base_in(s, &row.account).ok()),
                    moved_from: moved_from.get(row.account.as_str()).cloned(),
                };
                ConnectionStatus::derive(row, seen)
            })
            .collect())
    }

    /// Fills in the token facts of rows stored before they were kept, from the keychain:
    /// a row whose tokens are not there is marked as needing a new connection.
    fn fill_facts(&self, mut rows: Vec<ConnectionRow>) -> Result<Vec<ConnectionRow>> {
        for row in rows
            .iter_mut()
            .filter(|r| r.facts.is_none() && r.reconnect_reason.is_none())
        {
            match self.inner.store.vault().load_tokens(&row.account)? {
                Some(set) => {
                    self.db().note_tokens(&row.account, &set)?;
                    row.expires_at = set.expires_at;
                    row.facts = Some(TokenFacts::of(&set));
                }
                None => row.reconnect_reason = Some(self.tokens_missing(&row.account)?),
            }
        }
        Ok(rows)
    }

    /// Records that the keychain holds no tokens for a connection the database has: it
    /// needs to be made again. Returns the reason recorded.
    pub(crate) fn tokens_missing(&self, account: &AccountHost) -> Result<String> {
        let reason = self.lang().tr("reason.tokens_missing", &[]);
        self.db().mark_failed(account, &reason, true, Utc::now())?;
        Ok(reason)
    }

    /// Picks the connection `account` names, or the only one there is.
    ///
    /// # Errors
    /// [`Error::NoConnections`], [`Error::ChooseAccount`], [`Error::NotConnected`].
    pub fn resolve_account(&self, account: Option<&str>) -> Result<AccountHost> {
        if let Some(a) = account {
            let host = self.follow_moves(&AccountHost::parse(a)?);
            return match self.db().connection(&host)? {
                Some(_) => Ok(host),
                None => Err(Error::NotConnected {
                    account: host.to_string(),
                }),
            };
        }
        let rows = self.db().connections()?;
        match rows.as_slice() {
            [] => Err(Error::NoConnections),
            [one] => Ok(one.account.clone()),
            many => Err(Error::ChooseAccount {
                accounts: many
                    .iter()
                    .map(|r| r.account.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Removes a connection: its tokens leave the keychain, its row the database.
    ///
    /// # Errors
    /// [`Error::NotConnected`], [`Error::KeychainUnavailable`], [`Error::Database`].
    pub fn disconnect(&self, account: &AccountHost) -> Result<()> {
        let _lock = self.inner.store.lock_here(account)?;
        let had_tokens = self.inner.store.vault().delete_tokens(account)?;
        let had_row = self.db().delete_connection(account)?;
        if !had_tokens && !had_row {
            return Err(Error::NotConnected {
                account: account.to_string(),
            });
        }
        self.log("disconnected", Some(account.as_str()), "", true);
        self.emit(EngineEvent::Disconnected {
            account: account.to_string(),
        });
        Ok(())
    }

    /// Deletes expired OAuth states; returns how many.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn cleanup(&self) -> Result<usize> {
        let n = self.db().delete_expired_states(Utc::now())?;
        self.log("cleanup", None, &n.to_string(), true);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
