//! The amo-connector engine: connects amoCRM and Kommo accounts through a loopback OAuth
//! flow, keeps OAuth state in SQLite and tokens in the OS keychain, and refreshes them one
//! process at a time. It knows nothing of windows: the app and `amo` are shells on it.

mod account_lock;
mod api;
pub mod autostart;
mod browser;
mod callback;
mod config;
mod connect;
mod db;
mod engine;
mod error;
mod flow;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod i18n;
mod journal;
mod listener;
mod lockfile;
mod moved;
mod page;
mod paths;
// The local API proxy (`amo proxy`, `amo run --proxy`).
mod proxy;
mod ratelimit;
mod refresh;
pub mod schedule;
mod secret;
mod status;
mod token_endpoint;
mod token_store;
mod types;
mod vault;
pub mod when;

pub use api::AccountInfo;
pub use api::{ApiAnswer, ApiRequest, ApiSession, IssuedToken, MAX_BACKOFF_TOTAL};
pub use callback::Callback;
pub use config::{
    is_account_host, NewSettings, RedirectUri, Settings, ACCOUNT_DOMAINS, DEFAULT_REDIRECT_URI,
    ENV_KEYS, SERVICE_SUBDOMAINS,
};
pub use engine::{Engine, EngineEvent, Integration, REFRESH_MARGIN, STATE_TTL};
pub use error::{amo_said, AmoProblem, Error, ErrorView, Result};
pub use flow::{CancelHandle, ConnectOptions, PendingConnect};
pub use i18n::Lang;
pub use journal::{redact, rfc3339, Entry, EntryView};
pub use moved::is_api_domain;
pub use paths::DataDir;
pub use proxy::hosted::{self, HostedProxy, HostedState, ProxyCall};
pub use proxy::{Listen, Proxy, ProxyKey, ProxyOptions};
pub use ratelimit::{PER_ACCOUNT, PER_INTEGRATION, WINDOW};
pub use schedule::{Action, Clock, Due, DueReason, Notice, NoticeKind, Schedule, SystemClock};
pub use secret::{AccessToken, AuthCode, ClientSecret, RefreshToken};
pub use status::{ConnState, ConnectionStatus, EXPIRES_SOON};
pub use types::{AccountHost, Platform, TokenKind};
pub use vault::{Vault, SERVICE};
pub use when::When;
