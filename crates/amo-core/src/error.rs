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
    /// The start-at-login entry could not be written or removed.
    #[error("{}", self.describe(Lang::default()))]
    Autostart { path: PathBuf, reason: String },
    /// The app's path cannot be written into the start-at-login entry (a line break or
    /// another control character, or not UTF-8); `path` is shown with those escaped.
    #[error("{}", self.describe(Lang::default()))]
    AutostartPathUnfit { path: String },
    #[error("{}", self.describe(Lang::default()))]
    PortInUse { addr: String },
    #[error("{}", self.describe(Lang::default()))]
    Listen { addr: String, reason: String },
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
            Error::DataFolder { path, reason } | Error::Autostart { path, reason } => {
                vec![
                    ("path", path.display().to_string()),
                    ("reason", reason.clone()),
                ]
            }
            Error::AutostartPathUnfit { path } => vec![("path", path.clone())],
            Error::PortInUse { addr } => vec![("addr", addr.clone())],
            Error::Listen { addr, reason } => {
                vec![("addr", addr.clone()), ("reason", reason.clone())]
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
mod tests {
    use super::*;

    /// Pairs each pattern with a sample of it. The patterns make up the arms of
    /// `pattern_of`, a match with no wildcard: a variant added to `Error` does not compile
    /// here until it has a pattern, and with it a sample.
    macro_rules! samples {
        ($($pattern:pat => $sample:expr,)+) => {
            /// The pattern (as written) that `e` matches.
            #[deny(unreachable_patterns)]
            fn pattern_of(e: &Error) -> &'static str {
                match e {
                    $($pattern => stringify!($pattern),)+
                }
            }

            /// One sample per pattern, each with the pattern it stands for.
            fn samples() -> Vec<(&'static str, Error)> {
                vec![$((stringify!($pattern), $sample)),+]
            }
        };
    }

    samples! {
        Error::NotConfigured { .. } => Error::NotConfigured { what: "client_id" },
        Error::InvalidInput { .. } => Error::InvalidInput {
            field: "redirect_uri",
            value: "ftp://x".into(),
        },
        Error::InvalidRedirectUri { .. } => Error::InvalidRedirectUri {
            value: "http://example.com/cb".into(),
            reason: "not_loopback",
        },
        Error::BaseUrlNotLoopback { .. } => Error::BaseUrlNotLoopback {
            value: "http://example.com".into(),
        },
        Error::KeychainUnavailable { .. } => Error::KeychainUnavailable {
            reason: "no Secret Service".into(),
        },
        Error::KeychainRefusedNewTokens { .. } => Error::KeychainRefusedNewTokens {
            account: "example.amocrm.ru".into(),
            reason: "locked".into(),
        },
        Error::Database { .. } => Error::Database {
            reason: "disk I/O error".into(),
        },
        Error::DataFolder { .. } => Error::DataFolder {
            path: PathBuf::from("/home/u/.local/share/amo-connector"),
            reason: "permission denied".into(),
        },
        Error::Autostart { .. } => Error::Autostart {
            path: PathBuf::from("/home/u/.config/autostart/amo-connector.desktop"),
            reason: "read-only file system".into(),
        },
        Error::AutostartPathUnfit { .. } => Error::AutostartPathUnfit {
            path: "/opt/a\\nb/amo-connector".into(),
        },
        Error::PortInUse { .. } => Error::PortInUse {
            addr: "127.0.0.1:17563".into(),
        },
        Error::Listen { .. } => Error::Listen {
            addr: "127.0.0.1:17563".into(),
            reason: "permission denied".into(),
        },
        Error::StateMissing => Error::StateMissing,
        Error::StateUnknown => Error::StateUnknown,
        Error::StateExpired => Error::StateExpired,
        Error::StateReused => Error::StateReused,
        Error::AccessDenied { .. } => Error::AccessDenied {
            error: "access_denied".into(),
        },
        Error::RefererMissing => Error::RefererMissing,
        Error::RefererNotAllowed { .. } => Error::RefererNotAllowed {
            host: "evil.example.com".into(),
        },
        Error::ApiPathRefused { .. } => Error::ApiPathRefused {
            path: "//example.com/".into(),
            account: "example.amocrm.ru".into(),
        },
        Error::CallbackIncomplete { .. } => Error::CallbackIncomplete { missing: "code" },
        Error::CallbackInvalid { .. } => Error::CallbackInvalid { param: "state" },
        Error::StateStale => Error::StateStale,
        Error::ClientMismatch { .. } => Error::ClientMismatch {
            client_id: "someone-else".into(),
        },
        Error::TimedOut { .. } => Error::TimedOut { secs: 300 },
        Error::Cancelled => Error::Cancelled,
        Error::Amo(_) => Error::Amo(AmoProblem {
            status: 401,
            title: "Некорректный клиент".into(),
            ..Default::default()
        }),
        Error::RateLimited => Error::RateLimited,
        Error::Blocked { .. } => Error::Blocked { status: 403 },
        Error::ServerError { .. } => Error::ServerError { status: 502 },
        Error::UnexpectedResponse { .. } => Error::UnexpectedResponse {
            status: 200,
            what: "token_fields",
        },
        Error::TokenAnswerIncomplete { .. } => Error::TokenAnswerIncomplete {
            account: "example.amocrm.ru".into(),
            missing: "refresh_token",
        },
        Error::Network { .. } => Error::Network {
            reason: "could not connect".into(),
        },
        Error::NotConnected { .. } => Error::NotConnected {
            account: "example.amocrm.ru".into(),
        },
        Error::NoConnections => Error::NoConnections,
        Error::ChooseAccount { .. } => Error::ChooseAccount {
            accounts: "a.amocrm.ru, b.kommo.com".into(),
        },
        Error::ReconnectNeeded { .. } => Error::ReconnectNeeded {
            account: "example.amocrm.ru".into(),
            reason: "Token has been revoked".into(),
        },
        Error::CannotRefresh { .. } => Error::CannotRefresh {
            account: "example.amocrm.ru".into(),
        },
        Error::TokenExpiresTooSoon { .. } => Error::TokenExpiresTooSoon {
            account: "example.amocrm.ru".into(),
            expires_at: "2030-01-01T00:00:00.000Z".into(),
        },
        Error::MinValidTooLong { .. } => Error::MinValidTooLong {
            account: "example.amocrm.ru".into(),
            asked_secs: 172_800,
            lifetime_secs: 86_400,
        },
        Error::LockTimeout { holder: Some(_), .. } => Error::LockTimeout {
            path: PathBuf::from("/tmp/locks/example.amocrm.ru.lock"),
            holder: Some(4242),
            waited_secs: 60,
        },
        Error::LockTimeout { holder: None, .. } => Error::LockTimeout {
            path: PathBuf::from("/tmp/locks/rate-window"),
            holder: None,
            waited_secs: 10,
        },
        Error::EmulatorConnection { .. } => Error::EmulatorConnection {
            account: "127.0.0.1:17564".into(),
        },
        Error::EmulatorSecret => Error::EmulatorSecret,
    }

    /// One answer of every cause [`AmoProblem::cause`] gives: one per hint it knows, an
    /// empty 401, and anything else.
    fn amo_samples() -> Vec<(&'static str, AmoProblem)> {
        let mut all: Vec<_> = HINT_CAUSES
            .iter()
            .map(|(words, cause)| {
                let problem = AmoProblem {
                    status: 400,
                    title: "Bad request".into(),
                    detail: "amoCRM said no".into(),
                    hint: format!("The {} now", words.to_uppercase()),
                };
                (*cause, problem)
            })
            .collect();
        let no_hint = |status| AmoProblem {
            status,
            title: "Некорректный клиент".into(),
            ..Default::default()
        };
        all.push(("client_secret", no_hint(401)));
        all.push(("other", no_hint(400)));
        all
    }

    /// The `{name}` placeholders of a catalogue text.
    fn placeholders(text: &str) -> Vec<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// `e`'s message and fix have entries of their own in `lang`'s catalogue, and every
    /// placeholder in them is given a value, none of them a word the catalogue lacks.
    fn assert_told_in(e: &Error, lang: Lang) {
        let args = e.args(lang);
        for part in ["error", "fix"] {
            let key = e.catalogue_key(part);
            let text = lang
                .messages()
                .get(&key)
                .unwrap_or_else(|| panic!("{}: no {key} for {e:?}", lang.code()));
            assert!(!text.trim().is_empty(), "{}: {key} is empty", lang.code());
            for name in placeholders(text) {
                let value = args.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
                let value = value.unwrap_or_else(|| {
                    panic!("{}: {key} has {{{name}}}, {e:?} gives none", lang.code())
                });
                // A word looked up in a group the catalogue lacks comes back as its key.
                let raw_key = ["field.", "reason."].iter().any(|g| value.starts_with(g));
                assert!(
                    !value.is_empty() && !raw_key,
                    "{}: {key}: {{{name}}} = {value:?}",
                    lang.code()
                );
            }
        }
        let (message, fix) = (e.message(lang), e.fix(lang));
        assert!(
            !message.starts_with("error.") && !fix.starts_with("fix."),
            "{}: {message} / {fix}",
            lang.code()
        );
    }

    #[test]
    fn every_error_has_a_message_and_a_fix_in_every_language() {
        let samples = samples();
        for (pattern, e) in &samples {
            assert_eq!(pattern_of(e), *pattern, "the sample of {pattern}: {e:?}");
        }
        let amo = amo_samples();
        for (cause, p) in &amo {
            assert_eq!(p.cause(), *cause, "{p:?}");
        }
        let amo = amo.into_iter().map(|(_, p)| Error::Amo(p));
        let all: Vec<Error> = samples.into_iter().map(|(_, e)| e).chain(amo).collect();
        for lang in Lang::all() {
            for e in &all {
                assert_told_in(e, lang);
            }
            // Every entry of the catalogue is one an error can reach.
            for key in lang.messages().keys() {
                if let Some(name) = key.strip_prefix("error.") {
                    assert!(
                        all.iter().any(|e| e.catalogue_key("error") == *key),
                        "{}: no error is told with {key}",
                        lang.code()
                    );
                    let fix = format!("fix.{name}");
                    assert!(lang.messages().contains_key(&fix), "{}: {fix}", lang.code());
                }
            }
        }
    }

    #[test]
    fn amo_answers_are_read_by_their_hint() {
        let p = |status, hint: &str| AmoProblem {
            status,
            hint: hint.into(),
            ..Default::default()
        };
        assert_eq!(
            p(400, "Authorization code has expired").cause(),
            "code_expired"
        );
        assert_eq!(p(401, "Token has been revoked").cause(), "token_revoked");
        assert_eq!(p(401, "").cause(), "client_secret");
        assert_eq!(
            p(400, "Redirect URI is not associated with client").cause(),
            "redirect_uri"
        );
        assert!(Error::Amo(p(401, "Token has been revoked")).needs_reconnect());
    }

    #[test]
    fn display_names_the_port() {
        let e = Error::PortInUse {
            addr: "127.0.0.1:17563".into(),
        };
        assert!(e.to_string().contains("127.0.0.1:17563"), "{e}");
    }
}
