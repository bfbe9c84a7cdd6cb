//! What the page shows, gathered from the engine: settings without the secret, the
//! connections (masked), the keychain's health, the waiting flow and the local API
//! (never its key).

use amo_core::{
    hosted, when, ConnState, ConnectionStatus, Due, Engine, ErrorView, HostedState, Integration,
    Lang, ProxyCall, Settings, TokenKind, When,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

use crate::flow::FlowView;

/// The settings as the form shows them: whether a secret is set, never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub client_id: Option<String>,
    pub client_secret_set: bool,
    pub redirect_uri: String,
    pub platform: &'static str,
    /// The saved language choice; `None` follows the system.
    pub lang: Option<String>,
    /// The forced theme (`light`, `dark`); `None` follows the desktop's.
    pub theme: Option<String>,
    /// Which `AMO_*` variables override the form.
    pub overridden: Vec<&'static str>,
    /// `AMO_BASE_URL`, when a local emulator stands in for amoCRM.
    pub emulator: Option<String>,
    /// Enough is set to connect.
    pub configured: bool,
    /// Every integration added, the chosen one marked: the form picks one or adds another.
    pub integrations: Vec<Integration>,
}

/// The whole dashboard in one answer.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub settings: Option<SettingsView>,
    pub connections: Vec<ConnectionView>,
    /// The keychain does not answer: a banner, not a crash.
    pub keychain: Option<ErrorView>,
    /// Another problem that stops the dashboard (settings that do not parse, the database).
    pub problem: Option<ErrorView>,
    pub flow: Option<FlowView>,
    /// `AMO_BASE_URL` when it is in force: the page keeps an "emulator mode" banner up.
    pub emulator: Option<String>,
    pub log_path: String,
    pub refresh_margin_secs: i64,
    /// When each connection is next refreshed, and why (by account).
    pub due: HashMap<String, Due>,
    /// Start at login, notifications, and whether a tray holds the app.
    pub always: AlwaysView,
    /// The account to show first (a notification or the tray menu opened the window there).
    pub focus: Option<String>,
}

/// The "always on" settings.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AlwaysView {
    pub autostart: bool,
    pub notifications: bool,
    /// Closing the window leaves the app in the tray (false: it quits).
    pub tray: bool,
}

impl AlwaysView {
    pub fn of(engine: &Engine, tray: bool) -> AlwaysView {
        AlwaysView {
            autostart: engine.autostart(),
            notifications: engine.notifications(),
            tray,
        }
    }
}

/// The always-on local API as its section shows it. It carries nothing of the key: the
/// page shows it masked, and *Copy key* puts it on the clipboard from Rust.
#[derive(Debug, Clone, Serialize)]
pub struct LocalApiView {
    pub on: bool,
    pub port: u16,
    pub default_port: u16,
    /// What a program is given as its API base: `http://127.0.0.1:PORT/api/v4`.
    pub url: String,
    /// The account chosen; `None`: the only connection there is.
    pub account: Option<String>,
    /// Every connected account, to choose from when there is more than one.
    pub accounts: Vec<String>,
    /// What the background host does with it, as far as the settings now in force go.
    pub state: LocalApiState,
    /// The tray process serves it (else this window, while it is open).
    pub tray: bool,
    /// The newest calls any proxy answered, newest first.
    pub calls: Vec<CallView>,
}

/// The local API's state for the page: `off`, `waiting` (on, but no host serves these
/// settings yet), `serving` or `failed`, with the host's words.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LocalApiState {
    Off,
    Waiting,
    Serving { account: String, since: String },
    Failed { code: String, reason: String },
}

/// One call the proxy answered: the path has the query's names and none of its values.
#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    pub at: String,
    /// The time on the local clock, in the window's language.
    pub clock: String,
    pub account: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub ms: u64,
}

impl LocalApiView {
    /// The settings, the host's state and the last calls; reads no secret.
    ///
    /// # Errors
    /// [`amo_core::Error::Database`] (and the keychain only for connections stored before
    /// their token facts were kept, as [`Engine::connections`]).
    pub fn of(engine: &Engine, tray: bool) -> amo_core::Result<LocalApiView> {
        let lang = engine.lang();
        let settings = engine.hosted_proxy()?;
        let accounts: Vec<String> = engine
            .connections()?
            .into_iter()
            .map(|c| c.account)
            .collect();
        let account = settings.account.as_ref().map(|a| a.as_str().to_owned());
        let state = match engine.hosted_proxy_state() {
            _ if !settings.on => LocalApiState::Off,
            HostedState::Serving {
                url,
                account: served,
                since,
                key_version,
            } if url == settings.url()
                && key_version == settings.key_version
                && account.as_ref().is_none_or(|a| *a == served) =>
            {
                LocalApiState::Serving {
                    account: served,
                    since: local_clock(lang, &since),
                }
            }
            HostedState::Failed { code, reason, .. } => LocalApiState::Failed { code, reason },
            _ => LocalApiState::Waiting,
        };
        Ok(LocalApiView {
            on: settings.on,
            port: settings.port,
            default_port: hosted::DEFAULT_PORT,
            url: format!("{}/api/v4", settings.url()),
            account,
            accounts,
            state,
            tray,
            calls: engine
                .proxy_calls(hosted::RECENT_CALLS)
                .into_iter()
                .map(|c| CallView::of(c, lang))
                .collect(),
        })
    }
}

impl CallView {
    fn of(c: ProxyCall, lang: Lang) -> CallView {
        CallView {
            clock: local_clock(lang, &c.at),
            at: c.at,
            account: c.account,
            method: c.method,
            path: c.path,
            status: c.status,
            ms: c.ms,
        }
    }
}

/// An RFC 3339 instant on the local clock (`14:03:21`); as it came when it does not parse.
fn local_clock(lang: Lang, at: &str) -> String {
    DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_owned(),
        |t| when::clock(lang, &t.with_timezone(&chrono::Local)),
    )
}

/// A connection as its card shows it: the engine's status and its times as read in the
/// window's language, local, with the language's plurals.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    #[serde(flatten)]
    pub status: ConnectionStatus,
    pub times: Times,
    /// How automatic refresh goes for this connection, in words.
    pub auto_refresh: String,
    /// When the schedule refreshes it next and why, in words; `None` when nothing is due.
    pub due: Option<DueView>,
}

/// The next refresh as the card says it: `reason` is `expiry`, `keep_alive` or `retry`.
#[derive(Debug, Clone, Serialize)]
pub struct DueView {
    pub reason: &'static str,
    pub text: String,
}

impl DueView {
    pub fn of(due: &Due, lang: Lang) -> DueView {
        let local = due.at.with_timezone(&chrono::Local);
        let when = format!(
            "{} ({})",
            when::date_time(lang, &local),
            when::relative(lang, due.at, Utc::now())
        );
        DueView {
            reason: due.reason.as_str(),
            text: lang.tr(&format!("due.{}", due.reason.as_str()), &[("when", &when)]),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Times {
    pub expires_at: Option<When>,
    pub created_at: When,
    pub updated_at: When,
    pub last_refresh_at: Option<When>,
}

impl ConnectionView {
    pub fn of(status: ConnectionStatus, lang: Lang) -> ConnectionView {
        let now = Utc::now();
        let w = |t| When::new(lang, t, now);
        let auto_refresh = if status.state == ConnState::ReconnectNeeded {
            lang.tr("ui.cards.auto_reconnect", &[])
        } else if status.kind == TokenKind::LongLived {
            lang.tr("ui.cards.no_refresh_long", &[])
        } else if status.expires_at.is_none() {
            lang.tr("ui.cards.auto_unknown", &[])
        } else {
            let mins = amo_core::REFRESH_MARGIN.num_minutes().unsigned_abs();
            when::plural(lang, "ui.cards.auto_on", mins, &[])
        };
        ConnectionView {
            times: Times {
                expires_at: status.expires_at.map(w),
                created_at: w(status.created_at),
                updated_at: w(status.updated_at),
                last_refresh_at: status.last_refresh_at.map(w),
            },
            auto_refresh,
            due: None,
            status,
        }
    }
}

/// The message families the page shows: its own (`ui.`), a card's state, kind and storage,
/// and the always-on settings. The rest (the CLI's, errors, notices, the tray's) the page
/// receives already worded, so it is not sent.
const PAGE_FAMILIES: &[&str] = &["ui.", "state.", "kind.", "storage.", "always."];

/// The page's catalogue: `{lang, messages, languages: [{code, name}]}`.
#[derive(Debug, Clone, Serialize)]
pub struct Messages {
    pub lang: &'static str,
    pub messages: HashMap<&'static str, &'static str>,
    pub languages: Vec<LanguageView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageView {
    pub code: &'static str,
    pub name: String,
}

impl Messages {
    pub fn of(lang: Lang) -> Messages {
        Messages {
            lang: lang.code(),
            messages: lang
                .messages()
                .iter()
                .filter(|(k, _)| PAGE_FAMILIES.iter().any(|f| k.starts_with(f)))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            languages: Lang::all()
                .map(|l| LanguageView {
                    code: l.code(),
                    name: l.tr("language.name", &[]),
                })
                .collect(),
        }
    }
}

/// The settings view; reading whether a secret exists may touch the keychain.
///
/// # Errors
/// [`amo_core::Error::KeychainUnavailable`] from that look-up.
pub fn settings(engine: &Engine, s: &Settings) -> amo_core::Result<SettingsView> {
    let mut view = shape(s, engine.has_client_secret()?);
    view.integrations = engine.integrations()?;
    Ok(view)
}

fn shape(s: &Settings, client_secret_set: bool) -> SettingsView {
    SettingsView {
        integrations: Vec::new(),
        client_id: s.client_id.clone(),
        client_secret_set,
        redirect_uri: s.redirect_uri.as_str().to_owned(),
        platform: s.platform.as_str(),
        lang: s.lang.clone().filter(|l| !l.is_empty()),
        theme: s.theme.clone(),
        overridden: s.overridden.clone(),
        emulator: s.base_url.as_ref().map(|u| u.as_str().to_owned()),
        configured: s.client_id.is_some() && client_secret_set,
    }
}

/// Gathers the dashboard; each part that fails is reported beside the others.
///
/// Everything shown comes from the database: no secret is read to draw the dashboard, with
/// one connection or two hundred. The keychain is probed only on an empty setup, where it is
/// the one thing to check before the first connection; later, the first use of a token or
/// secret finds out and says so.
pub fn overview(engine: &Engine, flow: Option<FlowView>) -> Overview {
    let lang = engine.lang();
    let mut keychain = None;
    let mut problem = None;
    let mut report = |e: amo_core::Error| {
        let slot = if matches!(e, amo_core::Error::KeychainUnavailable { .. }) {
            &mut keychain
        } else {
            &mut problem
        };
        slot.get_or_insert(e.view(lang));
    };
    let mut touched = false;
    let settings = match engine.settings() {
        Ok(s) => {
            touched |= s.client_id.is_some();
            Some(settings(engine, &s).unwrap_or_else(|e| {
                report(e);
                shape(&s, false)
            }))
        }
        Err(e) => {
            report(e);
            None
        }
    };
    let connections = match engine.connections() {
        Ok(c) => {
            touched |= !c.is_empty();
            c.into_iter().map(|c| ConnectionView::of(c, lang)).collect()
        }
        Err(e) => {
            touched = true;
            report(e);
            Vec::new()
        }
    };
    if !touched {
        if let Err(e) = engine.vault().check_reachable() {
            report(e);
        }
    }
    let emulator = settings.as_ref().and_then(|s| s.emulator.clone());
    Overview {
        emulator,
        settings,
        connections,
        keychain,
        problem,
        flow,
        log_path: engine.log_path().display().to_string(),
        refresh_margin_secs: amo_core::REFRESH_MARGIN.num_seconds(),
        due: HashMap::new(),
        always: AlwaysView::of(engine, false),
        focus: None,
    }
}
