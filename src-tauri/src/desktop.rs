//! The desktop over the session bus: whether a tray host is there
//! (`org.kde.StatusNotifierWatcher` has an owner), and freedesktop notifications
//! (`org.freedesktop.Notifications.Notify`) whose click opens the window at an account.
//!
//! Notifications go through one thread that owns one bus connection, started with the
//! first notice: the server sends `ActionInvoked` to the connection that asked.

use std::collections::HashMap;
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::message::MatchRule;

/// The bus name a StatusNotifierItem tray host registers (KDE, GNOME's AppIndicator
/// extension, waybar, xfce4-panel's plugin, `status-notifier-watcher`...).
pub const TRAY_WATCHER: &str = "org.kde.StatusNotifierWatcher";
const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a tray host is on the session bus: some process owns [`TRAY_WATCHER`]. Without
/// one an icon would be invisible, so the app quits when its window closes.
pub fn tray_host_present() -> bool {
    let Ok(bus) = Connection::new_session() else {
        return false;
    };
    let proxy = bus.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        CALL_TIMEOUT,
    );
    let owned: Result<(bool,), _> =
        proxy.method_call("org.freedesktop.DBus", "NameHasOwner", (TRAY_WATCHER,));
    owned.is_ok_and(|(has,)| has)
}

/// One notification: title, body, the label of its "open" action, and the account a click
/// opens (none: the window as it is).
pub struct Note {
    pub title: String,
    pub body: String,
    pub open_label: String,
    pub account: Option<String>,
}

/// What a click asks for: open the window, at this account if any.
pub type OnClick = Box<dyn Fn(Option<String>) + Send + 'static>;

static NOTIFIER: OnceLock<Mutex<Sender<Note>>> = OnceLock::new();

/// Shows `note`; the first call starts the notifier thread with `on_click`. Failures (no
/// notification server) are logged to stderr and otherwise ignored: a notice is a courtesy.
pub fn notify(note: Note, on_click: impl FnOnce() -> OnClick) {
    let sender = NOTIFIER.get_or_init(|| Mutex::new(spawn(on_click())));
    let sender = sender.lock().unwrap_or_else(|p| p.into_inner());
    let _ = sender.send(note);
}

fn spawn(on_click: OnClick) -> Sender<Note> {
    let (tx, rx) = mpsc::channel::<Note>();
    std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || {
            let bus = match Connection::new_session() {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("amo-connector: notifications: no session bus: {e}");
                    return;
                }
            };
            let shown: std::sync::Arc<Mutex<HashMap<u32, Option<String>>>> = Default::default();
            let clicked = shown.clone();
            let rule = MatchRule::new_signal(NOTIFICATIONS, "ActionInvoked");
            let _ = bus.add_match(rule, move |(id, _action): (u32, String), _, _| {
                let account = clicked.lock().ok().and_then(|mut m| m.remove(&id));
                if let Some(account) = account {
                    on_click(account);
                }
                true
            });
            loop {
                match rx.recv_timeout(Duration::from_millis(500)) {
                    Ok(note) => {
                        if let Some(id) = send(&bus, &note) {
                            if let Ok(mut m) = shown.lock() {
                                m.insert(id, note.account);
                            }
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
                let _ = bus.process(Duration::ZERO);
            }
        })
        .expect("a thread starts");
    tx
}

fn send(bus: &Connection, note: &Note) -> Option<u32> {
    let proxy = bus.with_proxy(NOTIFICATIONS, NOTIFICATIONS_PATH, CALL_TIMEOUT);
    let actions = vec!["default", note.open_label.as_str()];
    let hints = dbus::arg::PropMap::new();
    let r: Result<(u32,), _> = proxy.method_call(
        NOTIFICATIONS,
        "Notify",
        (
            "amo-connector",
            0u32,
            "amo-connector",
            note.title.as_str(),
            note.body.as_str(),
            actions,
            hints,
            -1i32,
        ),
    );
    match r {
        Ok((id,)) => Some(id),
        Err(e) => {
            eprintln!(
                "amo-connector: the notification was not shown ({}): is a notification daemon running?",
                e.name().unwrap_or("no answer")
            );
            None
        }
    }
}
