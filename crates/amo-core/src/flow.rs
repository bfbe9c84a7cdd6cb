//! The loopback flow: a state kept in the database, the listener on the redirect URI's port,
//! the browser sent to amoCRM, and the callback admitted or refused. What an admitted
//! callback leads to (the exchange, the store) is `connect.rs`'s.
//!
//! An `impl Engine`: a flow keeps its state in the engine's database and logs each step
//! to its journal; the listener (`listener.rs`) and the callback's checks (`callback.rs`)
//! stand alone.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::net::{Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use url::Url;

use crate::callback::Callback;
use crate::config::RedirectUri;
use crate::engine::{Engine, EngineEvent};
use crate::error::{Error, Result};
use crate::listener::{self, Finish, Stop, Verdict};
use crate::page;
use crate::secret::AuthCode;
use crate::status::ConnectionStatus;
use crate::types::AccountHost;

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
    flow: Arc<Flow>,
    cancel: watch::Sender<bool>,
    result: oneshot::Receiver<Result<ConnectionStatus>>,
}

/// Cancels a waiting flow and frees its port.
#[derive(Clone)]
pub struct CancelHandle(watch::Sender<bool>);

impl CancelHandle {
    /// Stops waiting for the browser. A code exchange already under way still finishes,
    /// and the flow then ends with what it gave.
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

impl PendingConnect {
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel.clone())
    }

    /// Tells, whenever asked, whether the browser's callback was accepted and its code is
    /// being exchanged: a cancel from then on waits for the exchange's real result.
    pub fn exchanging_flag(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let flow = self.flow.clone();
        move || flow.exchanging.load(Ordering::Relaxed)
    }

    /// Waits for the flow's end: connected, refused, timed out or cancelled.
    ///
    /// # Errors
    /// Whatever ended the flow.
    pub async fn wait(self) -> Result<ConnectionStatus> {
        self.result.await.unwrap_or(Err(Error::Cancelled))
    }
}

/// The work an accepted callback leads to.
type Job = Pin<Box<dyn Future<Output = Finish<Result<ConnectionStatus>>> + Send>>;

/// What one loopback flow accepts: its own state and its client. Its redirect URI is kept
/// with the state, for the exchange.
struct Flow {
    state_hash: String,
    client_id: String,
    exchanging: AtomicBool,
    /// Refused callbacks so far; only the first few are logged.
    refused: AtomicUsize,
}

/// Refused callbacks logged per flow; the rest are counted in one line at its end, so a
/// page firing junk at the port cannot push the flow's own steps out of the log.
const REFUSALS_LOGGED: usize = 5;

/// What an accepted callback leads to.
pub(crate) enum Admitted {
    /// Exchange `code` for tokens of `account`, with the flow's redirect URI.
    Exchange {
        account: AccountHost,
        code: AuthCode,
        redirect_uri: String,
    },
    /// The state is spent and the flow ends with this error (the user said no, …).
    Ended(Error),
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
        self.inner.store.vault().probe()?;
        let redirect = settings.redirect_uri.clone();
        let addr = redirect
            .loopback_addr()
            .ok_or_else(|| Error::InvalidRedirectUri {
                value: redirect.as_str().to_owned(),
                reason: "not_loopback",
            })?;
        let listeners = self.bind(&redirect, addr).await?;
        let (state, expires_at) = self.new_state(redirect.as_str())?;
        // The token endpoint is on the account's host, not known yet: HTTPS unless the
        // emulator stands in.
        let token_scheme = settings.base_url.clone().unwrap_or_else(|| {
            url::Url::parse("https://amocrm.ru/").expect("a fixed address parses")
        });
        let warm = self.clone();
        tokio::task::spawn_blocking(move || warm.inner.http.warm(&token_scheme));
        let authorize_url = settings.authorize_url(&client_id, &state);
        let deadline = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let deadline = opts.timeout.map_or(deadline, |t| t.min(deadline));
        let (cancel, cancel_rx) = watch::channel(false);
        let (tx, result) = oneshot::channel();
        let flow = Arc::new(Flow {
            state_hash: hash(&state),
            client_id,
            exchanging: AtomicBool::new(false),
            refused: AtomicUsize::new(0),
        });
        let (engine, own) = (self.clone(), flow.clone());
        let handler = move |query: &str| engine.on_callback(&own, query);
        let (host, path) = (redirect.authority(), redirect.url().path().to_owned());
        let (engine, own) = (self.clone(), flow.clone());
        let secs = deadline.as_secs_f64().round() as u64;
        tokio::spawn(async move {
            let r = listener::serve(listeners, host, path, deadline, cancel_rx, handler).await;
            let r = r.unwrap_or_else(|stop| {
                // A tab left open from this flow must never complete a later one.
                let _ = engine.db().spend_state(&own.state_hash, Utc::now());
                let e = match stop {
                    Stop::Deadline => Error::TimedOut { secs },
                    Stop::Cancelled | Stop::Lost => Error::Cancelled,
                };
                engine.fail(None, "flow_stopped", &e);
                Err(e)
            });
            let refused = own.refused.load(Ordering::Relaxed);
            if refused > REFUSALS_LOGGED {
                engine.log("callbacks_refused", None, &refused.to_string(), false);
            }
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
            flow,
            cancel,
            result,
        })
    }

    /// Listens on the redirect URI's address. For `localhost` that is both 127.0.0.1 and
    /// ::1, since a browser may try either first; ::1 is skipped where IPv6 is off.
    async fn bind(&self, redirect: &RedirectUri, addr: SocketAddr) -> Result<Vec<TcpListener>> {
        let localhost = matches!(redirect.url().host(), Some(url::Host::Domain(_)));
        let mut addrs = vec![addr];
        if localhost {
            addrs.push(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()));
        }
        let mut listeners = Vec::new();
        for (i, a) in addrs.into_iter().enumerate() {
            match TcpListener::bind(a).await {
                Ok(l) => listeners.push(l),
                Err(e) if i > 0 && e.kind() == std::io::ErrorKind::AddrNotAvailable => {
                    self.log("ipv6_unavailable", None, &a.to_string(), false);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(Error::PortInUse {
                        addr: a.to_string(),
                    })
                }
                Err(e) => {
                    return Err(Error::Listen {
                        addr: a.to_string(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        Ok(listeners)
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
        let state = crate::secret::random_token()?;
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

    /// Decides on one callback of `flow` at once; the exchange it leads to runs apart.
    fn on_callback(&self, flow: &Arc<Flow>, query: &str) -> Verdict<Job> {
        let lang = self.lang();
        let admitted = Callback::from_query(query)
            .and_then(|cb| self.admit(&cb, Some(&flow.state_hash), &flow.client_id));
        let (account, code, redirect_uri) = match admitted {
            Err(e) => {
                if flow.refused.fetch_add(1, Ordering::Relaxed) < REFUSALS_LOGGED {
                    self.fail(None, "callback_refused", &e);
                }
                return Verdict::Refuse {
                    status: 400,
                    html: page::failure(lang, &e),
                };
            }
            Ok(Admitted::Ended(e)) => {
                self.fail(None, "flow_failed", &e);
                let html = page::failure(lang, &e);
                return Verdict::Accept(Box::pin(async move {
                    Finish {
                        result: Err(e),
                        status: 400,
                        html,
                    }
                }));
            }
            Ok(Admitted::Exchange {
                account,
                code,
                redirect_uri,
            }) => (account, code, redirect_uri),
        };
        flow.exchanging.store(true, Ordering::Relaxed);
        let (engine, client_id) = (self.clone(), flow.client_id.clone());
        Verdict::Accept(Box::pin(async move {
            let r = engine
                .exchange(&account, &code, &client_id, &redirect_uri)
                .await;
            match r {
                Ok(status) => Finish {
                    status: 200,
                    html: page::success(lang, status.name.as_deref().unwrap_or(&status.account)),
                    result: Ok(status),
                },
                Err(e) => {
                    engine.fail(Some(&account), "flow_failed", &e);
                    Finish {
                        status: 400,
                        html: page::failure(lang, &e),
                        result: Err(e),
                    }
                }
            }
        }))
    }

    /// Checks a callback before anything is sent: its state (the flow's own, when a flow
    /// listens), the integration it came from and its account host; then spends the state.
    ///
    /// An `Err` leaves the state as it was: a stray or forged request changes nothing.
    pub(crate) fn admit(
        &self,
        cb: &Callback,
        own: Option<&str>,
        client_id: &str,
    ) -> Result<Admitted> {
        let state = cb.state.as_deref().filter(|s| !s.is_empty());
        let state_hash = hash(state.ok_or(Error::StateMissing)?);
        let now = Utc::now();
        if let Some(own) = own {
            if !bool::from(own.as_bytes().ct_eq(state_hash.as_bytes())) {
                // Another flow's state: a tab left from a cancelled or timed-out attempt.
                return Err(match self.db().check_state(&state_hash, now) {
                    Err(Error::StateUnknown) => Error::StateUnknown,
                    _ => Error::StateStale,
                });
            }
        }
        self.db().check_state(&state_hash, now)?;
        let account = cb.referer.as_deref().map(|r| {
            AccountHost::parse(r).map_err(|_| Error::CallbackInvalid { param: "referer" })
        });
        self.log(
            "callback_received",
            account
                .as_ref()
                .and_then(|a| a.as_ref().ok())
                .map(AccountHost::as_str),
            "",
            true,
        );
        self.log("state_checked", None, "", true);
        let ended = if let Some(error) = &cb.error {
            Some(Error::AccessDenied {
                error: error.clone(),
            })
        } else {
            cb.client_id
                .as_ref()
                .filter(|c| c.as_str() != client_id)
                .map(|c| Error::ClientMismatch {
                    client_id: c.clone(),
                })
        };
        if let Some(e) = ended {
            self.db().consume_state(&state_hash, now)?;
            return Ok(Admitted::Ended(e));
        }
        let account = account.ok_or(Error::RefererMissing)??;
        self.settings()?.check_account_host(&account)?;
        self.log("referer_checked", Some(account.as_str()), "", true);
        let code = cb.code.as_deref().filter(|c| !c.is_empty());
        let code = AuthCode::new(code.ok_or(Error::CallbackIncomplete { missing: "code" })?);
        let redirect_uri = self.db().consume_state(&state_hash, now)?;
        self.emit(EngineEvent::CallbackReceived {
            account: account.to_string(),
        });
        Ok(Admitted::Exchange {
            account,
            code,
            redirect_uri,
        })
    }
}

fn hash(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
