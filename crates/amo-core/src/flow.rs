//! Connecting: the loopback flow, the pasted address, a pasted code, a long-lived token.

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use tokio::sync::{oneshot, watch};
use url::Url;

use crate::api::Grant;
use crate::db::ConnectionRow;
use crate::engine::{ConnectionStatus, Engine, EngineEvent};
use crate::error::{Error, Result};
use crate::listener::{self, Reply, Stop};
use crate::page;
use crate::refresh::AccountLock;
use crate::secret::{AccessToken, AuthCode};
use crate::types::{AccountHost, TokenKind, TokenSet};

/// How to run the loopback flow.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Open the authorize page in the system browser.
    pub open_browser: bool,
    /// Stop waiting sooner than the state's expiry.
    pub timeout: Option<std::time::Duration>,
}

/// A loopback flow waiting for the browser to come back.
pub struct PendingConnect {
    pub authorize_url: Url,
    pub expires_at: DateTime<Utc>,
    pub listen_addr: SocketAddr,
    /// Why the browser could not be opened, if it could not.
    pub browser_error: Option<String>,
    cancel: watch::Sender<bool>,
    result: oneshot::Receiver<Result<ConnectionStatus>>,
}

/// Cancels a waiting flow and frees its port.
#[derive(Clone)]
pub struct CancelHandle(watch::Sender<bool>);

impl CancelHandle {
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

impl PendingConnect {
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel.clone())
    }

    /// Waits for the flow's end: connected, refused, timed out or cancelled.
    ///
    /// # Errors
    /// Whatever ended the flow.
    pub async fn wait(self) -> Result<ConnectionStatus> {
        self.result.await.unwrap_or(Err(Error::Cancelled))
    }
}

/// A refused callback either leaves the flow waiting (a stray or forged request) or ends it.
enum Outcome {
    Refused(Error),
    Final(Error),
}

impl Engine {
    /// Starts the loopback flow: a new state, a listener on the redirect URI's address, and
    /// the authorize page opened in the browser.
    ///
    /// # Errors
    /// [`Error::NotConfigured`], [`Error::InvalidRedirectUri`] (not loopback: paste instead),
    /// [`Error::PortInUse`], [`Error::KeychainUnavailable`], [`Error::Database`].
    pub async fn start_connect(&self, opts: ConnectOptions) -> Result<PendingConnect> {
        let settings = self.settings()?;
        let client_id = settings.require_client_id()?.to_owned();
        self.client_secret(&client_id)?;
        // Tokens that could not be kept are not worth the user's consent.
        self.inner.vault.probe()?;
        let redirect = settings.redirect_uri.clone();
        let addr = redirect
            .loopback_addr()
            .ok_or_else(|| Error::InvalidRedirectUri {
                value: redirect.as_str().to_owned(),
                reason: "not_loopback",
            })?;
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => Error::PortInUse {
                    addr: addr.to_string(),
                },
                _ => Error::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                },
            })?;
        let (state, expires_at) = self.new_state(redirect.as_str())?;
        let warm = self.clone();
        tokio::task::spawn_blocking(move || warm.inner.http.warm());
        let authorize_url = settings.authorize_url(&client_id, &state);
        let deadline = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let deadline = opts.timeout.map_or(deadline, |t| t.min(deadline));
        let (cancel, cancel_rx) = watch::channel(false);
        let (tx, result) = oneshot::channel();
        let engine = self.clone();
        let handler = move |params: HashMap<String, String>| {
            let engine = engine.clone();
            async move { engine.on_callback(params).await }
        };
        let (host, path) = (redirect.authority(), redirect.url().path().to_owned());
        let engine = self.clone();
        let secs = deadline.as_secs_f64().round() as u64;
        tokio::spawn(async move {
            let r = listener::serve(tcp, host, path, deadline, cancel_rx, handler).await;
            let r = r.unwrap_or_else(|stop| {
                let e = match stop {
                    Stop::Deadline => Error::TimedOut { secs },
                    Stop::Cancelled => Error::Cancelled,
                };
                engine.fail(None, "flow_stopped", &e);
                Err(e)
            });
            engine.log("listener_closed", None, "", true);
            let _ = tx.send(r);
        });
        self.log(
            "listening",
            None,
            &format!("{addr}{}", redirect.url().path()),
            true,
        );
        let browser_error = if opts.open_browser {
            self.open_browser(&authorize_url).err()
        } else {
            None
        };
        Ok(PendingConnect {
            authorize_url,
            expires_at,
            listen_addr: addr,
            browser_error,
            cancel,
            result,
        })
    }

    /// Opens a flow's authorize page in the system browser (again), logging the step.
    ///
    /// # Errors
    /// Why the browser could not be opened, for the user to open the address by hand.
    pub fn open_browser(&self, authorize_url: &Url) -> std::result::Result<(), String> {
        let browser_var = self.env_var("BROWSER");
        match crate::browser::open(authorize_url.as_str(), browser_var.as_deref()) {
            Ok(opened) => {
                self.log("browser_opened", None, &opened.log_detail(), true);
                Ok(())
            }
            Err(e) => {
                self.log("browser_failed", None, &e, false);
                Err(e)
            }
        }
    }

    fn new_state(&self, redirect_uri: &str) -> Result<(String, DateTime<Utc>)> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| Error::Listen {
                addr: "OS random source".into(),
                reason: e.to_string(),
            })?;
        let state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = Utc::now();
        let expires_at = now + self.inner.state_ttl;
        self.db()
            .insert_state(&hash(&state), now, expires_at, redirect_uri)?;
        self.log(
            "state_created",
            None,
            &crate::journal::rfc3339(expires_at),
            true,
        );
        Ok((state, expires_at))
    }

    async fn on_callback(
        &self,
        params: HashMap<String, String>,
    ) -> Reply<Result<ConnectionStatus>> {
        let lang = self.lang();
        self.log(
            "callback_received",
            params.get("referer").map(String::as_str),
            "",
            true,
        );
        match self.complete(&params).await {
            Ok(status) => Reply {
                status: 200,
                html: page::success(lang, status.name.as_deref().unwrap_or(&status.account)),
                finish: Some(Ok(status)),
            },
            Err(Outcome::Refused(e)) => {
                self.fail(None, "callback_refused", &e);
                Reply {
                    status: 400,
                    html: page::failure(lang, &e),
                    finish: None,
                }
            }
            Err(Outcome::Final(e)) => {
                self.fail(None, "flow_failed", &e);
                Reply {
                    status: 400,
                    html: page::failure(lang, &e),
                    finish: Some(Err(e)),
                }
            }
        }
    }

    /// Checks a callback's state and referer before anything is sent, then exchanges its code.
    async fn complete(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<ConnectionStatus, Outcome> {
        let refused = Outcome::Refused;
        let state = params
            .get("state")
            .filter(|s| !s.is_empty())
            .ok_or(refused(Error::StateMissing))?;
        let state_hash = hash(state);
        self.db()
            .check_state(&state_hash, Utc::now())
            .map_err(refused)?;
        self.log("state_checked", None, "", true);
        if let Some(error) = params.get("error") {
            self.db()
                .consume_state(&state_hash, Utc::now())
                .map_err(refused)?;
            let error: String = error.chars().take(100).collect();
            return Err(Outcome::Final(Error::AccessDenied { error }));
        }
        let settings = self.settings().map_err(Outcome::Final)?;
        let referer = params
            .get("referer")
            .ok_or(refused(Error::RefererMissing))?;
        let account = AccountHost::parse(referer)
            .map_err(|_| Error::RefererNotAllowed {
                host: referer.chars().take(100).collect(),
            })
            .and_then(|a| settings.check_account_host(&a).map(|()| a))
            .map_err(refused)?;
        self.log("referer_checked", Some(account.as_str()), "", true);
        let code = params.get("code").filter(|c| !c.is_empty());
        let code =
            AuthCode::new(code.ok_or(refused(Error::CallbackIncomplete { missing: "code" }))?);
        self.db()
            .consume_state(&state_hash, Utc::now())
            .map_err(refused)?;
        self.emit(EngineEvent::CallbackReceived {
            account: account.to_string(),
        });
        self.exchange(&account, &code).await.map_err(Outcome::Final)
    }

    /// Finishes a flow from the address the browser ended on (its state is checked).
    ///
    /// # Errors
    /// The state, referer and exchange errors of the loopback flow.
    pub async fn connect_pasted_url(&self, pasted: &str) -> Result<ConnectionStatus> {
        let url = Url::parse(pasted.trim()).map_err(|_| Error::InvalidInput {
            field: "url",
            value: crate::journal::redact(&pasted.chars().take(200).collect::<String>()),
        })?;
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        self.log(
            "address_pasted",
            params.get("referer").map(String::as_str),
            "",
            true,
        );
        let r = self.complete(&params).await.map_err(|o| match o {
            Outcome::Refused(e) | Outcome::Final(e) => e,
        });
        if let Err(e) = &r {
            self.fail(None, "flow_failed", e);
        }
        r
    }

    /// Exchanges an authorization code copied from the integration's settings.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`] for a host outside amoCRM and Kommo; the exchange's errors.
    pub async fn connect_with_code(&self, code: &str, account: &str) -> Result<ConnectionStatus> {
        let account = AccountHost::parse(account)?;
        self.settings()?.check_account_host(&account)?;
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::CallbackIncomplete { missing: "code" });
        }
        self.log("code_pasted", Some(account.as_str()), "", true);
        let r = self.exchange(&account, &AuthCode::new(code)).await;
        if let Err(e) = &r {
            self.fail(Some(&account), "flow_failed", e);
        }
        r
    }

    /// Stores a long-lived token after amoCRM accepts it.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`]; [`Error::Amo`] when amoCRM refuses the token.
    pub async fn connect_long_lived(&self, token: &str, account: &str) -> Result<ConnectionStatus> {
        let account = AccountHost::parse(account)?;
        let settings = self.settings()?;
        let url = settings.account_url(&account, "/api/v4/account")?;
        let token = AccessToken::new(token.trim());
        if token.expose().is_empty() || token.expose().chars().any(char::is_whitespace) {
            return Err(Error::InvalidInput {
                field: "token",
                value: String::new(),
            });
        }
        let info = self.inner.http.get_account(url, &token).await;
        let info = info.inspect_err(|e| self.fail(Some(&account), "flow_failed", e))?;
        let set = TokenSet {
            kind: TokenKind::LongLived,
            expires_at: jwt_expiry(token.expose()),
            access_token: token,
            refresh_token: None,
        };
        self.store(&account, &set, None)?;
        self.remember_account(&account, &info)?;
        self.connected(&account)
    }

    async fn exchange(&self, account: &AccountHost, code: &AuthCode) -> Result<ConnectionStatus> {
        let settings = self.settings()?;
        let client_id = settings.require_client_id()?.to_owned();
        let secret = self.client_secret(&client_id)?;
        // A code is single use: spend it only when its tokens can be stored.
        self.inner.vault.probe()?;
        let url = settings.account_url(account, "/oauth2/access_token")?;
        let redirect = settings.redirect_uri.as_str();
        let set = self
            .inner
            .http
            .token(url, &client_id, &secret, redirect, Grant::Code(code))
            .await?;
        self.log("code_exchanged", Some(account.as_str()), "", true);
        self.store(account, &set, Some(client_id))?;
        if let Ok(url) = settings.account_url(account, "/api/v4/account") {
            match self.inner.http.get_account(url, &set.access_token).await {
                Ok(info) => self.remember_account(account, &info)?,
                Err(e) => self.log(
                    "account_unread",
                    Some(account.as_str()),
                    &e.describe(self.lang()),
                    false,
                ),
            }
        }
        self.connected(account)
    }

    fn store(
        &self,
        account: &AccountHost,
        set: &TokenSet,
        client_id: Option<String>,
    ) -> Result<()> {
        let _lock = AccountLock::acquire(&self.inner.dir, account)?;
        self.inner.vault.save_tokens(account, set)?;
        let now = Utc::now();
        let db = self.db();
        let old = db.connection(account)?;
        db.upsert_connection(&ConnectionRow {
            account: account.clone(),
            account_id: old.as_ref().and_then(|o| o.account_id),
            name: old.as_ref().and_then(|o| o.name.clone()),
            kind: set.kind,
            client_id,
            expires_at: set.expires_at,
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
            last_refresh_at: None,
            last_error: None,
            reconnect_reason: None,
        })?;
        drop(db);
        self.log("stored", Some(account.as_str()), "", true);
        Ok(())
    }

    fn connected(&self, account: &AccountHost) -> Result<ConnectionStatus> {
        self.log("connected", Some(account.as_str()), "", true);
        self.emit(EngineEvent::Connected {
            account: account.to_string(),
        });
        self.connection(account)
    }
}

fn hash(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `exp` claim of a JWT, if the token is one.
fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Utc.timestamp_opt(claims.get("exp")?.as_i64()?, 0).single()
}
