//! Starting the emulator: the router, one listener per account, and the listeners a renamed
//! account moves to.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::account_domain::{self, Here};
use crate::accounts::{self, Account};
use crate::config::EmulatorConfig;
use crate::handle::EmulatorHandle;
use crate::leads;
use crate::problem::Problem;
use crate::request_log;
use crate::shared::Shared;
use crate::state::{AccountState, Settings};
use crate::{api, control, exchange, oauth};

/// The emulated user who grants access.
const USER_ID: u64 = 11_223_344;

fn router(shared: Arc<Shared>, here: Here) -> Router {
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
        .route("/_emulator/select-account", post(control::select_account))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            request_log::log_request,
        ))
        .layer(Extension(here))
        .with_state(shared)
}

/// Serves `here`'s router on `listener` until `stop` resolves.
fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    here: Here,
    stop: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    let app = router(shared, here);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            eprintln!("amo-emulator: server stopped: {e}");
        }
    })
}

/// Serves account `account` (by index) on a new address (a new port on 127.0.0.1) from now
/// on; returns it.
pub(crate) async fn rename(shared: Arc<Shared>, account: usize) -> io::Result<String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let host = listener.local_addr()?.to_string();
    let here = Here {
        host: host.clone(),
        account,
    };
    // Never told to stop: the handle aborts these servers.
    let task = serve(shared.clone(), listener, here, std::future::pending());
    shared
        .extra
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(task);
    shared.lock().moved_to.insert(account, host.clone());
    Ok(host)
}

/// `POST /_emulator/rename` → `{"ok","account_host"}`: the account of the listener asked
/// answers on a new address from now on; the old one refuses its API calls (401) and
/// refreshes (404).
pub async fn rename_account(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
) -> Response {
    match rename(shared, here.account).await {
        Ok(host) => Json(json!({ "ok": true, "account_host": host })).into_response(),
        Err(e) => Problem::internal_because(&e.to_string()).into_response(),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The emulator's entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `127.0.0.1:config.port` (0 = any free port) for the first account and a free
    /// port for each other one, and serves them in background tasks until
    /// [`EmulatorHandle::shutdown`] or until the handle is dropped.
    ///
    /// # Errors
    /// A bind's error (port taken, ...), or `InvalidInput` when `redirect_uri` is not an
    /// absolute URL or `accounts` or `integrations` is 0.
    pub async fn start(config: EmulatorConfig) -> io::Result<EmulatorHandle> {
        if url::Url::parse(&config.redirect_uri).is_err() {
            return Err(invalid(format!(
                "redirect URI is not an absolute URL: {}",
                config.redirect_uri
            )));
        }
        if config.accounts == 0 || config.integrations == 0 {
            return Err(invalid(
                "an emulator serves at least one account and one integration".to_owned(),
            ));
        }
        let mut listeners = Vec::with_capacity(config.accounts);
        for number in 1..=config.accounts {
            let port = if number == 1 { config.port } else { 0 };
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
            let addr: SocketAddr = listener.local_addr()?;
            listeners.push((listener, Account::new(&config, number, addr.to_string())));
        }
        let settings = Settings {
            integrations: accounts::integrations_of(&config),
            accounts: listeners.iter().map(|(_, a)| a.clone()).collect(),
            user_id: USER_ID,
            auto_approve: config.auto_approve,
            access_ttl_secs: i64::try_from(config.access_ttl_secs).unwrap_or(i64::MAX / 4),
            rate_limits: config.rate_limits,
        };
        let shared = Arc::new(Shared {
            settings,
            state: Mutex::new(AccountState::default()),
            extra: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = watch::channel(false);
        let tasks = listeners
            .into_iter()
            .enumerate()
            .map(|(account, (listener, a))| {
                let here = Here {
                    host: a.info.host,
                    account,
                };
                let mut stopped = stopped.clone();
                let stop = async move {
                    // Told to stop, or the handle is gone.
                    let _ = stopped.wait_for(|s| *s).await;
                };
                serve(shared.clone(), listener, here, stop)
            })
            .collect();
        Ok(EmulatorHandle::new(config, shared, stop, tasks))
    }
}
