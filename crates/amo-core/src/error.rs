//! The engine's one error type: what happened and what to do, in the user's language.

use serde::Serialize;
use std::path::PathBuf;

use crate::i18n::Lang;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An answer amoCRM gave in `application/problem+json`, as it came.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AmoProblem {
    pub status: u16,
    pub title: String,
    pub detail: String,
    pub hint: String,
}

/// The words of amoCRM's hint (lower case) that name a cause, in the order they are tried.
const HINT_CAUSES: [(&str, &str); 9] = [
    ("authorization code has expired", "code_expired"),
    ("authorization code has been revoked", "code_reused"),
    ("cannot decrypt the authorization code", "code_invalid"),
    ("client_id", "client_id"),
    ("redirect uri", "redirect_uri"),
    ("token has been revoked", "token_revoked"),
    ("token is not linked", "token_foreign"),
    ("token has expired", "token_expired"),
    ("send request to account", "wrong_host"),
];

impl AmoProblem {
    /// Our reading of the answer: which catalogue entry explains it.
    pub fn cause(&self) -> &'static str {
        let hint = self.hint.to_ascii_lowercase();
        if let Some((_, cause)) = HINT_CAUSES.iter().find(|(words, _)| hint.contains(words)) {
            cause
        } else if self.status == 401 && hint.is_empty() {
            "client_secret"
        } else {
            "other"
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", self.describe(Lang::default()))]
    NotConfigured { what: &'static str },
    #[error("{}", self.describe(Lang::default()))]
    InvalidInput { field: &'static str, value: String },
    #[error("{}", self.describe(Lang::default()))]
    InvalidRedirectUri { value: String, reason: &'static str },
    #[error("{}", self.describe(Lang::default()))]
    BaseUrlNotLoopback { value: String },
    #[error("{}", self.describe(Lang::default()))]
    KeychainUnavailable { reason: String },
    /// amoCRM rotated the pair (the old refresh token is spent) but the keychain would not
    /// keep the new one, even after retries.
    #[error("{}", self.describe(Lang::default()))]
    KeychainRefusedNewTokens { account: String, reason: String },
    #[error("{}", self.describe(Lang::default()))]
    Database { reason: String },
    #[error("{}", self.describe(Lang::default()))]
    DataFolder { path: PathBuf, reason: String },
    /// The start-at-login entry could not be written or removed; `path` is where it is kept
    /// (a file, or on Windows the Run value).
    #[error("{}", self.describe(Lang::default()))]
    Autostart { path: String, reason: String },
    /// The app's path cannot be written into the start-at-login entry (a line break or
    /// another control character, on Windows a `"`, or not UTF-8); `path` is shown with the
    /// control characters escaped.
    #[error("{}", self.describe(Lang::default()))]
    AutostartPathUnfit { path: String },
    #[error("{}", self.describe(Lang::default()))]
    PortInUse { addr: String },
    #[error("{}", self.describe(Lang::default()))]
    Listen { addr: String, reason: String },
    /// `--listen unix:PATH`: another program listens on the socket at `path`.
    #[error("{}", self.describe(Lang::default()))]
    SocketInUse { path: PathBuf },
    /// `--listen unix:PATH` names something other than a socket; it is left as it is.
    #[error("{}", self.describe(Lang::default()))]
    NotASocket { path: PathBuf },
    /// `--listen unix:PATH` where there are no Unix sockets (Windows).
    #[error("{}", self.describe(Lang::default()))]
    UnixSocketUnsupported,
    #[error("{}", self.describe(Lang::default()))]
    StateMissing,
    #[error("{}", self.describe(Lang::default()))]
    StateUnknown,
    #[error("{}", self.describe(Lang::default()))]
    StateExpired,
    #[error("{}", self.describe(Lang::default()))]
    StateReused,
    #[error("{}", self.describe(Lang::default()))]
    AccessDenied { error: String },
    #[error("{}", self.describe(Lang::default()))]
    RefererMissing,
    #[error("{}", self.describe(Lang::default()))]
    RefererNotAllowed { host: String },
    /// `amo api` was given (or a next link named) an address that is not on the account;
    /// `path` is shown with its control characters escaped. Nothing was sent.
    #[error("{}", self.describe(Lang::default()))]
    ApiPathRefused { path: String, account: String },
    #[error("{}", self.describe(Lang::default()))]
    CallbackIncomplete { missing: &'static str },
    #[error("{}", self.describe(Lang::default()))]
    CallbackInvalid { param: &'static str },
    #[error("{}", self.describe(Lang::default()))]
    StateStale,
    #[error("{}", self.describe(Lang::default()))]
    ClientMismatch { client_id: String },
    #[error("{}", self.describe(Lang::default()))]
    TimedOut { secs: u64 },
    #[error("{}", self.describe(Lang::default()))]
    Cancelled,
    #[error("{}", self.describe(Lang::default()))]
    Amo(AmoProblem),
    #[error("{}", self.describe(Lang::default()))]
    RateLimited,
    #[error("{}", self.describe(Lang::default()))]
    Blocked { status: u16 },
    #[error("{}", self.describe(Lang::default()))]
    ServerError { status: u16 },
    #[error("{}", self.describe(Lang::default()))]
    UnexpectedResponse { status: u16, what: &'static str },
    /// A refresh answer that lacks a field amoCRM always sends; the stored pair is kept.
    #[error("{}", self.describe(Lang::default()))]
    TokenAnswerIncomplete {
        account: String,
        missing: &'static str,
    },
    #[error("{}", self.describe(Lang::default()))]
    Network { reason: String },
    #[error("{}", self.describe(Lang::default()))]
    NotConnected { account: String },
    #[error("{}", self.describe(Lang::default()))]
    NoConnections,
    #[error("{}", self.describe(Lang::default()))]
    ChooseAccount { accounts: String },
    /// No integration with this client ID was added.
    #[error("{}", self.describe(Lang::default()))]
    UnknownIntegration { client_id: String, known: String },
    #[error("{}", self.describe(Lang::default()))]
    ReconnectNeeded { account: String, reason: String },
    #[error("{}", self.describe(Lang::default()))]
    CannotRefresh { account: String },
    /// Even the freshest token there is expires sooner than the caller needs.
    #[error("{}", self.describe(Lang::default()))]
    TokenExpiresTooSoon { account: String, expires_at: String },
    /// `--min-valid` asks for longer than any token amoCRM issues to the account lasts:
    /// no refresh could meet it, so none is made.
    #[error("{}", self.describe(Lang::default()))]
    MinValidTooLong {
        account: String,
        asked_secs: i64,
        lifetime_secs: i64,
    },
    /// A lock file of the data folder stayed held past its deadline (its holder stopped,
    /// stuck on a keychain prompt, or hung).
    #[error("{}", self.describe(Lang::default()))]
    LockTimeout {
        path: PathBuf,
        holder: Option<u32>,
        waited_secs: u64,
    },
    #[error("{}", self.describe(Lang::default()))]
    EmulatorConnection { account: String },
    /// `AMO_BASE_URL` is set and `AMO_CLIENT_SECRET` is not: the keychain's secret is the
    /// real integration's and is never sent to, or replaced for, an emulator.
    #[error("{}", self.describe(Lang::default()))]
    EmulatorSecret,
}

impl Error {
    /// A stable name for the kind of failure (`state_expired`, `amo.client_secret`, …).
    pub fn kind(&self) -> String {
        match self {
            Error::Amo(p) => format!("amo.{}", p.cause()),
            other => other.key().to_owned(),
        }
    }

    fn key(&self) -> &'static str {
        match self {
            Error::NotConfigured { .. } => "not_configured",
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidRedirectUri { .. } => "invalid_redirect_uri",
            Error::BaseUrlNotLoopback { .. } => "base_url_not_loopback",
            Error::KeychainUnavailable { .. } => "keychain_unavailable",
            Error::KeychainRefusedNewTokens { .. } => "keychain_refused_new_tokens",
            Error::Database { .. } => "database",
            Error::DataFolder { .. } => "data_folder",
            Error::Autostart { .. } => "autostart",
            Error::AutostartPathUnfit { .. } => "autostart_path_unfit",
            Error::PortInUse { .. } => "port_in_use",
            Error::Listen { .. } => "listen",
            Error::SocketInUse { .. } => "socket_in_use",
            Error::NotASocket { .. } => "not_a_socket",
            Error::UnixSocketUnsupported => "unix_socket_unsupported",
            Error::StateMissing => "state_missing",
            Error::StateUnknown => "state_unknown",
            Error::StateExpired => "state_expired",
            Error::StateReused => "state_reused",
            Error::AccessDenied { .. } => "access_denied",
            Error::RefererMissing => "referer_missing",
            Error::RefererNotAllowed { .. } => "referer_not_allowed",
            Error::ApiPathRefused { .. } => "api_path_refused",
            Error::CallbackIncomplete { .. } => "callback_incomplete",
            Error::CallbackInvalid { .. } => "callback_invalid",
            Error::StateStale => "state_stale",
            Error::ClientMismatch { .. } => "client_mismatch",
            Error::TimedOut { .. } => "timed_out",
            Error::Cancelled => "cancelled",
            Error::Amo(_) => "amo",
            Error::RateLimited => "rate_limited",
            Error::Blocked { .. } => "blocked",
            Error::ServerError { .. } => "server_error",
            Error::UnexpectedResponse { .. } => "unexpected_response",
            Error::TokenAnswerIncomplete { .. } => "token_answer_incomplete",
            Error::Network { .. } => "network",
            Error::NotConnected { .. } => "not_connected",
            Error::NoConnections => "no_connections",
            Error::ChooseAccount { .. } => "choose_account",
            Error::UnknownIntegration { .. } => "unknown_integration",
            Error::ReconnectNeeded { .. } => "reconnect_needed",
            Error::CannotRefresh { .. } => "cannot_refresh",
            Error::TokenExpiresTooSoon { .. } => "token_expires_too_soon",
            Error::MinValidTooLong { .. } => "min_valid_too_long",
            Error::LockTimeout {
                holder: Some(_), ..
            } => "lock_timeout",
            Error::LockTimeout { holder: None, .. } => "lock_timeout_unknown",
            Error::EmulatorConnection { .. } => "emulator_connection",
            Error::EmulatorSecret => "emulator_secret",
        }
    }

    fn args(&self, lang: Lang) -> Vec<(&'static str, String)> {
        let word = |group: &str, name: &str| lang.tr(&format!("{group}.{name}"), &[]);
        match self {
            Error::NotConfigured { what } => vec![("what", word("field", what))],
            Error::InvalidInput { field, value } => {
                vec![("field", word("field", field)), ("value", value.clone())]
            }
            Error::InvalidRedirectUri { value, reason } => {
                vec![("value", value.clone()), ("reason", word("reason", reason))]
            }
            Error::BaseUrlNotLoopback { value } => vec![("value", value.clone())],
            Error::KeychainUnavailable { reason } => vec![("reason", reason.clone())],
            Error::KeychainRefusedNewTokens { account, reason } => {
                vec![("account", account.clone()), ("reason", reason.clone())]
            }
            Error::TokenAnswerIncomplete { account, missing } => {
                vec![
                    ("account", account.clone()),
                    ("missing", missing.to_string()),
                ]
            }
            Error::Database { reason } => vec![("reason", reason.clone())],
            Error::DataFolder { path, reason } => {
                vec![
                    ("path", path.display().to_string()),
                    ("reason", reason.clone()),
                ]
            }
            Error::Autostart { path, reason } => {
                vec![("path", path.clone()), ("reason", reason.clone())]
            }
            Error::AutostartPathUnfit { path } => vec![("path", path.clone())],
            Error::PortInUse { addr } => vec![("addr", addr.clone())],
            Error::Listen { addr, reason } => {
                vec![("addr", addr.clone()), ("reason", reason.clone())]
            }
            Error::SocketInUse { path } | Error::NotASocket { path } => {
                vec![("path", path.display().to_string())]
            }
            Error::AccessDenied { error } => vec![("error", error.clone())],
            Error::RefererNotAllowed { host } => vec![("host", host.clone())],
            Error::ApiPathRefused { path, account } => {
                vec![("path", path.clone()), ("account", account.clone())]
            }
            Error::CallbackIncomplete { missing } => vec![("missing", missing.to_string())],
            Error::CallbackInvalid { param } => vec![("param", param.to_string())],
            Error::ClientMismatch { client_id } => vec![("client_id", client_id.clone())],
            Error::TimedOut { secs } => vec![("secs", secs.to_string())],
            Error::Amo(p) => vec![
                ("status", p.status.to_string()),
                ("title", p.title.clone()),
                ("detail", p.detail.clone()),
                ("hint", p.hint.clone()),
            ],
            Error::Blocked { status } | Error::ServerError { status } => {
                vec![("status", status.to_string())]
            }
            Error::UnexpectedResponse { status, what } => {
                vec![
                    ("status", status.to_string()),
                    ("what", word("reason", what)),
                ]
            }
            Error::Network { reason } => vec![("reason", reason.clone())],
            Error::NotConnected { account }
            | Error::CannotRefresh { account }
            | Error::EmulatorConnection { account } => vec![("account", account.clone())],
            Error::TokenExpiresTooSoon {
                account,
                expires_at,
            } => vec![
                ("account", account.clone()),
                ("expires_at", expires_at.clone()),
            ],
            Error::MinValidTooLong {
                account,
                asked_secs,
                lifetime_secs,
            } => vec![
                ("account", account.clone()),
                ("asked", crate::when::span(lang, *asked_secs)),
                ("lifetime", crate::when::span(lang, *lifetime_secs)),
            ],
            Error::LockTimeout {
                path,
                holder,
                waited_secs,
            } => vec![
                ("path", path.display().to_string()),
                ("pid", holder.map(|p| p.to_string()).unwrap_or_default()),
                ("secs", waited_secs.to_string()),
            ],
            Error::ChooseAccount { accounts } => vec![("accounts", accounts.clone())],
            Error::UnknownIntegration { client_id, known } => {
                vec![("client_id", client_id.clone()), ("known", known.clone())]
            }
            Error::ReconnectNeeded { account, reason } => {
                vec![("account", account.clone()), ("reason", reason.clone())]
            }
            _ => vec![],
        }
    }

    fn catalogue_key(&self, part: &str) -> String {
        match self {
            Error::Amo(p) => format!("{part}.amo.{}", p.cause()),
            other => format!("{part}.{}", other.key()),
        }
    }

    /// What happened, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let args = self.args(lang);
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lang.tr(&self.catalogue_key("error"), &args)
    }

    /// What to do about it, in `lang`.
    pub fn fix(&self, lang: Lang) -> String {
        let args = self.args(lang);
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lang.tr(&self.catalogue_key("fix"), &args)
    }

    /// Both sentences, for a one-line report.
    pub fn describe(&self, lang: Lang) -> String {
        let mut s = self.message(lang);
        if let Error::Amo(p) = self {
            s.push_str(&format!(" [amoCRM: {}]", amo_said(p)));
        }
        format!("{s} {}", self.fix(lang))
    }

    /// The serialisable form the window shows; it carries no secret.
    pub fn view(&self, lang: Lang) -> ErrorView {
        ErrorView {
            kind: self.kind(),
            message: self.message(lang),
            fix: self.fix(lang),
            amo: match self {
                Error::Amo(p) => Some(p.clone()),
                _ => None,
            },
            quote: match self {
                Error::ReconnectNeeded { reason, .. } => Some(reason.clone()),
                _ => None,
            },
        }
    }

    /// True when the stored connection itself is no longer usable.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            Error::ReconnectNeeded { .. } | Error::KeychainRefusedNewTokens { .. }
        ) || matches!(self, Error::Amo(p) if matches!(p.cause(), "token_revoked" | "token_foreign" | "token_expired"))
    }
}

/// amoCRM's own words, as they came: title, detail and hint.
pub fn amo_said(p: &AmoProblem) -> String {
    [p.title.as_str(), p.detail.as_str(), p.hint.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" — ")
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub kind: String,
    pub message: String,
    pub fix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amo: Option<AmoProblem>,
    /// Words inside `message` quoted as they came (amoCRM's reason), not in the user's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database {
            reason: e.to_string(),
        }
    }
}

impl From<rusqlite_migration::Error> for Error {
    fn from(e: rusqlite_migration::Error) -> Self {
        Error::Database {
            reason: e.to_string(),
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        let e = e.without_url();
        let reason = if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            "could not connect".to_owned()
        } else {
            e.to_string()
        };
        Error::Network { reason }
    }
}

#[cfg(test)]
mod tests;
