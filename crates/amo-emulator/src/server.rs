//! Starting and stopping the emulator: the router, the listener and the handle tests hold.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Json;
use axum::Router;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::account_domain::{self, Here};
use crate::config::EmulatorConfig;
use crate::faults::Fault;
use crate::leads;
use crate::problem::Problem;
use crate::request_log::{self, Logged};
use crate::shared::Shared;
use crate::state::{AccountState, Revoke, Settings, Stats};
use crate::{api, control, exchange, oauth, tokens};

/// The emulated user who grants access.
const USER_ID: u64 = 11_223_344;

fn router(shared: Arc<Shared>, here: SocketAddr) -> Router {
    Router::new()
        .route("/", get(oauth::home))
        .route("/oauth", get(oauth::authorize))
        .route("/oauth/decide", get(oauth::decide))
        .route("/oauth2/access_token", post(exchange::access_token))
        .route("/api/v4/account", get(api::account))
        .route("/api/v4/leads", get(leads::leads))
        .route(
            "/oauth2/account/current/subdomain",
            get(account_domain::current_subdomain),
        )
        .route("/api/v4/{*rest}", any(api::other))
        .route("/_emulator/stats", get(control::stats))
        .route(
            "/_emulator/fault",
            post(control::fault).delete(control::clear_faults),
        )
        .route("/_emulator/deny", post(control::deny))
        .route("/_emulator/clock", post(control::clock))
        .route("/_emulator/revoke", post(control::revoke))
        .route(
            "/_emulator/long-lived-token",
            post(control::long_lived_token),
        )
        .route("/_emulator/rename", post(rename_account))
        .route("/_emulator/requests", get(request_log::requests))
        .route("/_emulator/leads", post(control::leads))
        .route("/_emulator/access-ttl", post(control::access_ttl))
        .route("/_emulator/next-link", post(control::next_link))
        .route("/_emulator/redirect", post(control::redirect))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            request_log::log_request,
        ))
        .layer(axum::Extension(Here(here.to_string())))
        .with_state(shared)
}

/// Serves the account on a new address (a new port on 127.0.0.1) from now on; returns it.
pub(crate) async fn rename(shared: Arc<Shared>) -> io::Result<String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let app = router(shared.clone(), addr);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("amo-emulator: server stopped: {e}");
        }
    });
    shared
        .extra
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(task);
    shared.lock().moved_to = Some(addr.to_string());
    Ok(addr.to_string())
}

/// `POST /_emulator/rename` → `{"ok","account_host"}`: the account answers on a new
/// address from now on; the old one refuses its API calls (401) and refreshes (404).
pub async fn rename_account(State(shared): State<Arc<Shared>>) -> Response {
    match rename(shared).await {
        Ok(host) => Json(json!({ "ok": true, "account_host": host })).into_response(),
        Err(e) => Problem::internal_because(&e.to_string()).into_response(),
    }
}

/// The emulator's entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `127.0.0.1:config.port` (0 = any free port) and serves in a background task
    /// until [`EmulatorHandle::shutdown`] or until the handle is dropped.
    ///
    /// # Errors
    /// The bind's error (port taken, ...), or `InvalidInput` when `redirect_uri` is not an
    /// absolute URL.
    pub async fn start(config: EmulatorConfig) -> io::Result<EmulatorHandle> {
        if url::Url::parse(&config.redirect_uri).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "redirect URI is not an absolute URL: {}",
                    config.redirect_uri
                ),
            ));
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let settings = Settings {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            redirect_uri: config.redirect_uri.clone(),
            account_name: config.account_name.clone(),
            account_id: config.account_id,
            user_id: USER_ID,
            auto_approve: config.auto_approve,
            access_ttl_secs: i64::try_from(config.access_ttl_secs).unwrap_or(i64::MAX / 4),
            account_host: addr.to_string(),
            amojo_id: tokens::uuid_like(),
            uuid: tokens::uuid_like(),
        };
        let shared = Arc::new(Shared {
            settings,
            state: Mutex::new(AccountState::default()),
            extra: Mutex::new(Vec::new()),
        });
        let app = router(shared.clone(), addr);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stop = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                eprintln!("amo-emulator: server stopped: {e}");
            }
        });
        Ok(EmulatorHandle {
            addr,
            config,
            shared,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    config: EmulatorConfig,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`: the account host, as `referer` carries it.
    pub fn account_host(&self) -> String {
        self.addr.to_string()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registered integration's client id.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The registered integration's client secret.
    pub fn client_secret(&self) -> &str {
        &self.config.client_secret
    }

    /// The registered redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.config.redirect_uri
    }

    /// The config it was started with (the port as asked, 0 included).
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// A snapshot of the counters `GET /_emulator/stats` gives.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Queues a fault, like `POST /_emulator/fault`.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Drops every pending fault, like `DELETE /_emulator/fault`.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Makes the authorize step refuse (`error=access_denied`) or grant again, like
    /// `POST /_emulator/deny`.
    pub fn set_deny(&self, deny: bool) {
        self.shared.lock().deny = deny;
    }

    /// Moves the emulator's clock by `secs` (negative goes back), like
    /// `POST /_emulator/clock`; returns the total offset from real time.
    pub fn advance_clock(&self, secs: i64) -> i64 {
        self.shared.lock().advance_clock(secs)
    }

    /// Unix seconds on the emulator's clock.
    pub fn now(&self) -> i64 {
        self.shared.lock().now()
    }

    /// Revokes every current token of a kind, like `POST /_emulator/revoke`; returns how
    /// many it revoked.
    pub fn revoke(&self, what: Revoke) -> usize {
        self.shared.lock().revoke(what)
    }

    /// A fresh authorization code, as the authorize page grants it when the user allows:
    /// counted in `codes_issued`, exchangeable once, expiring with the emulator's clock. No
    /// request is made, so `authorize_requests` and [`EmulatorHandle::requests`] stay as they
    /// were, and neither auto-approve nor the deny switch applies.
    pub fn issue_code(&self) -> String {
        self.shared.lock().issue_code()
    }

    /// Issues a long-lived token valid for `days`, like `POST /_emulator/long-lived-token`.
    pub fn issue_long_lived_token(&self, days: u32) -> String {
        self.shared
            .lock()
            .issue_long_lived(&self.shared.settings, days)
            .0
    }

    /// Renames the account, like `POST /_emulator/rename`: it answers on a new address,
    /// returned, and its old one refuses API calls (401) and refreshes (404).
    ///
    /// # Errors
    /// The new listener's bind error.
    pub async fn rename(&self) -> io::Result<String> {
        rename(self.shared.clone()).await
    }

    /// Sets how many leads `GET /api/v4/leads` lists, like `POST /_emulator/leads`.
    pub fn set_leads(&self, count: u32) {
        self.shared.lock().leads = count;
    }

    /// Sets the lifetime of access tokens issued from now on, like
    /// `POST /_emulator/access-ttl`.
    pub fn set_access_ttl(&self, secs: i64) {
        self.shared.lock().access_ttl = Some(secs.max(1));
    }

    /// Makes every leads page that has a next page link to `href` instead of its own
    /// (`None`: its own again), like `POST /_emulator/next-link`.
    pub fn set_next_link(&self, href: Option<&str>) {
        self.shared.lock().next_link = href.map(str::to_owned);
    }

    /// Answers the next `times` API requests `302 Found` to `location`, like
    /// `POST /_emulator/redirect`.
    pub fn redirect_api(&self, location: &str, times: u32) {
        self.shared.lock().redirect = Some((location.to_owned(), times.max(1)));
    }

    /// Every protocol request so far, in order of arrival, like `GET /_emulator/requests`.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.lock().requests.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 5 seconds),
    /// and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        for task in self
            .shared
            .extra
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
