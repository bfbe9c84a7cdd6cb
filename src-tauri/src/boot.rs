//! The window's first page carries its own data.
//!
//! [`Starting::start`] runs first thing in `run`, on a thread of its own, while Tauri and GTK start:
//! it settles whether a tray process does the background work, opens the engine and gathers
//! the dashboard and its recent activity. The window is then built with that, the page's
//! words and the desktop's fonts as an initialization script (`window.__AMO_BOOT__`), so the
//! page draws the dashboard as soon as its script runs instead of asking for it (an answer
//! to a command waits for WebKit's main thread, busy with the page itself). Once its
//! listener is up the page calls `still_current`, which says whether the engine reported
//! anything since the data was gathered; if it did, the page asks again.

use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use amo_core::{Engine, EngineEvent, EntryView};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::TryRecvError};

use crate::error::Error;
use crate::view::{self, Messages, Overview};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many activity steps the page shows (and loads again after a change).
pub const ACTIVITY_LIMIT: usize = 100;

/// What the early thread settled.
pub struct Early {
    /// A tray process does the background work.
    pub tray: bool,
    pub engine: amo_core::Result<Engine>,
    pub first: Option<First>,
}

/// The first page's data as the engine gives it; the app adds what only it knows (the
/// schedule, the tray, the account to show) when the window is built.
pub struct First {
    pub overview: Overview,
    pub activity: Vec<EntryView>,
    /// Everything the engine reports from before the overview was read.
    since: broadcast::Receiver<EngineEvent>,
}

impl First {
    /// Reads the dashboard (settings, connections, keychain) and the recent activity.
    pub fn of(engine: &Engine) -> First {
        let since = engine.subscribe();
        let lang = engine.lang();
        First {
            overview: view::overview(engine, None),
            activity: engine
                .activity(ACTIVITY_LIMIT)
                .iter()
                .map(|e| e.view(lang))
                .collect(),
            since,
        }
    }

    /// The overview, the activity, and what the engine reported since (for
    /// [`still_current`]).
    pub fn into_parts(self) -> (Overview, Vec<EntryView>, broadcast::Receiver<EngineEvent>) {
        (self.overview, self.activity, self.since)
    }
}

/// The first page's handoff (managed as part of `AppState`): its data, read before the
/// window was built; what the engine reported since; whether the page has drawn it.
#[derive(Default)]
pub struct FirstPage {
    first: Mutex<Option<First>>,
    since: Mutex<Option<broadcast::Receiver<EngineEvent>>>,
    drawn: tokio::sync::watch::Sender<bool>,
}

impl FirstPage {
    /// Keeps the first page's data until the window is built.
    pub fn keep(&self, first: First) {
        *lock(&self.first) = Some(first);
    }

    /// The first page's data read before the window was built, if not taken yet.
    pub fn take(&self) -> Option<First> {
        lock(&self.first).take()
    }

    /// Follows the engine from the moment the page's first data was read.
    pub fn set_since(&self, since: broadcast::Receiver<EngineEvent>) {
        *lock(&self.since) = Some(since);
    }

    /// What the engine reported since the page's first data was read; once.
    pub fn take_since(&self) -> Option<broadcast::Receiver<EngineEvent>> {
        lock(&self.since).take()
    }

    /// The page has drawn its first frame.
    pub fn drawn(&self) {
        self.drawn.send_replace(true);
    }

    /// Resolves once a page has drawn its first frame.
    pub async fn first_frame(&self) {
        let _ = self.drawn.subscribe().wait_for(|drawn| *drawn).await;
    }
}

/// How long `setup` waits for the early thread. It is done well before: the first page
/// reads the database alone, with one connection or two hundred. Only a keychain asked on
/// an empty setup, or once for connections kept from before their facts were recorded, can
/// hold it up (one that asks to be unlocked); then the window comes without its data and
/// the page asks for it as the keychain answers.
const EARLY_WAIT: Duration = Duration::from_millis(500);

/// The early thread, until `setup` takes what it made (managed state).
pub struct Starting(Mutex<Option<Receiver<Early>>>);

impl Starting {
    /// Starts the early thread; `ensure_tray` (`background`) settles whether a tray
    /// process does the background work.
    pub fn start(ensure_tray: fn() -> bool) -> Starting {
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let tray = ensure_tray();
            let engine = Engine::open();
            let first = engine.as_ref().ok().map(First::of);
            let _ = tx.send(Early {
                tray,
                engine,
                first,
            });
        });
        Starting(Mutex::new(Some(rx)))
    }

    /// What the early thread made, if it is done within [`EARLY_WAIT`]; `None` after
    /// that, or once taken.
    pub fn take(&self) -> Option<Early> {
        let rx = lock(&self.0).take()?;
        rx.recv_timeout(EARLY_WAIT).ok()
    }
}

/// The page's first data: `window.__AMO_BOOT__`.
#[derive(Serialize)]
pub struct Boot {
    /// `None` when the engine could not be opened: `error` says why.
    pub overview: Option<Overview>,
    pub error: Option<Error>,
    pub activity: Vec<EntryView>,
    pub messages: Messages,
    /// The desktop's fonts as CSS `font-family` lists, where the page cannot name them.
    pub fonts: Option<Fonts>,
}

impl Boot {
    /// The initialization script that hands the page its data and sets what its first style
    /// depends on ([`ROOT`]).
    pub fn script(&self) -> String {
        // JSON is a JavaScript expression; nothing here is a secret (tokens are masked).
        let json = serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned());
        format!("window.__AMO_BOOT__ = {json};\n{ROOT}")
    }
}

/// Runs as WebKit inserts the page's `<html>` element, before its stylesheet applies: the
/// desktop's fonts, the language and a forced theme go on the root then, not when the page's
/// script runs. WebKit styles the page as soon as its stylesheet arrives, before that script;
/// set later, the fonts would be met twice, with the stylesheet's fallback family and the
/// markup's language and then with the real ones, each meeting a fontconfig match. The
/// page's script keeps the language and the theme from then on.
const ROOT: &str = r#"(function (boot, root) {
  if (!boot || !root) return;
  if (boot.fonts) {
    root.style.setProperty('--font', boot.fonts.sans);
    root.style.setProperty('--mono', boot.fonts.mono);
  }
  if (boot.messages) root.lang = boot.messages.lang;
  const theme = boot.overview && boot.overview.settings && boot.overview.settings.theme;
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
})(window.__AMO_BOOT__, document.documentElement);"#;

/// Whether the first page's data still holds: nothing was reported since it was read.
/// Taken once; a page loaded again (or one that never had the data) reads afresh.
pub fn still_current(since: Option<broadcast::Receiver<EngineEvent>>) -> bool {
    since.is_some_and(|mut rx| matches!(rx.try_recv(), Err(TryRecvError::Empty)))
}

/// `font-family` lists for the page's `--font` and `--mono`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fonts {
    pub sans: String,
    pub mono: String,
}

/// On Linux WebKit resolves `system-ui` to the family of GTK's `gtk-font-name` and takes it
/// only when fontconfig has a font of exactly that family; otherwise it looks the style up
/// again under `sans-serif`. Where the setting names an alias ("Sans 10", as on a bare X
/// server) every size and weight the page uses was looked up twice (about 120 fontconfig
/// matches each). Naming the family, or the generic it stands for, gives the same fonts in
/// one look-up. `ui-monospace` is not known there either: `monospace` is what it falls to.
#[cfg(target_os = "linux")]
pub fn desktop_fonts() -> Option<Fonts> {
    use gtk::prelude::GtkSettingsExt;
    let name = gtk::Settings::default()?.gtk_font_name()?;
    let family = gtk::pango::FontDescription::from_string(&name).family()?;
    Some(Fonts {
        sans: css_family(&family),
        mono: "monospace".to_owned(),
    })
}

/// Elsewhere the page's own lists hold: the web view resolves `system-ui` itself.
#[cfg(not(target_os = "linux"))]
pub fn desktop_fonts() -> Option<Fonts> {
    None
}

/// A GTK font family as a CSS `font-family` list: fontconfig's generic aliases become CSS
/// generics, a named family is quoted with `sans-serif` behind it.
#[cfg_attr(
    not(target_os = "linux"),
    allow(dead_code, reason = "only GTK names the desktop's font")
)]
pub fn css_family(family: &str) -> String {
    let first = family.split(',').next().unwrap_or_default().trim();
    match first.to_ascii_lowercase().as_str() {
        "" | "sans" | "sans-serif" | "sans serif" | "system-ui" => "sans-serif".to_owned(),
        "serif" => "serif".to_owned(),
        "monospace" | "mono" => "monospace".to_owned(),
        _ => {
            let quoted: String = first
                .chars()
                .filter(|c| !c.is_control())
                .flat_map(|c| match c {
                    '"' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("\"{quoted}\", sans-serif")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_become_generics_and_families_are_quoted() {
        assert_eq!(css_family("Sans"), "sans-serif");
        assert_eq!(css_family("sans-serif"), "sans-serif");
        assert_eq!(css_family("Monospace"), "monospace");
        assert_eq!(css_family("Cantarell"), "\"Cantarell\", sans-serif");
        assert_eq!(
            css_family("Noto Sans, Cantarell"),
            "\"Noto Sans\", sans-serif"
        );
        assert_eq!(css_family("A\"b\\c"), "\"A\\\"b\\\\c\", sans-serif");
    }

    #[test]
    fn the_boot_data_is_current_until_the_engine_reports_something() {
        let (tx, rx) = broadcast::channel(4);
        assert!(still_current(Some(rx)));
        let rx = tx.subscribe();
        tx.send(EngineEvent::Disconnected {
            account: "a.amocrm.ru".into(),
        })
        .unwrap();
        assert!(!still_current(Some(rx)));
        assert!(!still_current(None));
    }
}
