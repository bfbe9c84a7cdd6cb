//! The desktop over the session bus (Linux and the other freedesktop systems): whether a
//! tray host is there (`org.kde.StatusNotifierWatcher` has an owner), whether the window app
//! runs (its single-instance name has an owner) and when it leaves, and freedesktop
//! notifications (`org.freedesktop.Notifications.Notify`) whose click opens the window at an
//! account.
//!
//! Notifications go through one bus connection, opened with the first notice: the server
//! sends `ActionInvoked` to the connection that asked. One thread owns that connection and
//! blocks on it (no polling: a hidden app stays idle); a notice is queued for that thread and
//! a signal addressed to it wakes it, so only it ever writes a `Notify` or reads a reply. The
//! wake-up goes out on a second connection: a message written on the blocked one would wait
//! in its outgoing queue until something else arrived (libdbus writes only from the thread
//! that holds the connection's I/O, here the blocked one), and the notice with it.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dbus::blocking::{Connection, SyncConnection};
use dbus::channel::{MatchingReceiver as _, Sender as _};
use dbus::message::MatchRule;
use dbus::strings::BusName;
use dbus::Message;

use super::{Note, OnClick};

/// The bus name a StatusNotifierItem tray host registers (KDE, GNOME's AppIndicator
/// extension, waybar, xfce4-panel's plugin, `status-notifier-watcher`...).
const TRAY_WATCHER: &str = "org.kde.StatusNotifierWatcher";
/// Why [`tray_host_present`] says no, for a message that tells the user.
pub const TRAY_HOST_MISSING: &str = "org.kde.StatusNotifierWatcher has no owner on the session bus";
/// The name the window app owns on the session bus while it runs (Tauri's single-instance
/// plugin: the bundle identifier and `.SingleInstance`).
const APP_BUS_NAME: &str = "app.amo-connector.desktop.SingleInstance";
const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a tray host is on the session bus: some process owns [`TRAY_WATCHER`]. Without
/// one an icon would be invisible, so the app quits when its window closes.
pub fn tray_host_present() -> bool {
    name_has_owner(TRAY_WATCHER)
}

/// Whether the window app runs: some process owns its single-instance name.
pub fn window_open() -> bool {
    name_has_owner(APP_BUS_NAME)
}

/// Calls `f` each time the window app ends: its single-instance name loses its owner.
///
/// # Errors
/// No session bus, or the bus refused the match rule; the reason is in the message.
pub fn on_window_closed(f: impl Fn() + Send + 'static) -> Result<(), String> {
    on_vanished(APP_BUS_NAME, f).map_err(|e| e.to_string())
}

/// The window app has taken its single-instance name; on the bus that name is the news.
pub fn window_started() {}

/// Whether some process owns `name` on the session bus (false without a session bus).
fn name_has_owner(name: &str) -> bool {
    let Ok(bus) = Connection::new_session() else {
        return false;
    };
    let proxy = bus.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        CALL_TIMEOUT,
    );
    let owned: Result<(bool,), _> =
        proxy.method_call("org.freedesktop.DBus", "NameHasOwner", (name,));
    owned.is_ok_and(|(has,)| has)
}

/// Calls `f` each time `name` loses its owner on the session bus (its process ended), from
/// a thread that blocks on the bus for the life of the process.
///
/// # Errors
/// No session bus, or the bus refused the match rule; the reason is in the message.
fn on_vanished(name: &'static str, f: impl Fn() + Send + 'static) -> Result<(), dbus::Error> {
    let bus = Connection::new_session()?;
    let rule = MatchRule::new_signal("org.freedesktop.DBus", "NameOwnerChanged")
        .with_sender("org.freedesktop.DBus")
        .with_path("/org/freedesktop/DBus");
    // The bus daemon filters on the name too (arg0), so the thread wakes for this name only.
    bus.add_match_no_cb(&format!("{},arg0='{name}'", rule.match_str()))?;
    bus.start_receive(
        rule,
        Box::new(move |msg, _| {
            if let Ok((owned, _old, new)) = msg.read3::<String, String, String>() {
                if owned == name && new.is_empty() {
                    f();
                }
            }
            true
        }),
    );
    std::thread::Builder::new()
        .name("bus-names".into())
        .spawn(move || while bus.process(Duration::from_secs(3600)).is_ok() {})
        .map_err(|e| dbus::Error::new_failed(&e.to_string()))?;
    Ok(())
}

/// The queue the notifications' thread sends from, and the connection that wakes it.
struct Notifier {
    queue: Mutex<Sender<Note>>,
    /// Sends [`WAKE`] only, never read from: a connection no thread blocks on writes at once.
    waker: SyncConnection,
    /// The unique name of the notifications' connection, which [`WAKE`] is addressed to.
    listener: BusName<'static>,
}

/// The signal that wakes the notifications' thread (from the app's second connection).
const WAKE_IFACE: &str = "app.amo_connector.Notifier";
const WAKE: &str = "Wake";
const WAKE_PATH: &str = "/app/amo_connector/Notifier";

static NOTIFIER: OnceLock<Option<Notifier>> = OnceLock::new();

/// Shows `note`; the first call connects and starts listening for clicks with `on_click`.
/// Failures (no session bus, no notification server) are reported on stderr and otherwise
/// ignored: a notice is a courtesy, and the window shows the same state.
pub fn notify(note: Note, on_click: impl FnOnce() -> OnClick) {
    let Some(n) = NOTIFIER.get_or_init(|| start(on_click())) else {
        return;
    };
    let queued = n
        .queue
        .lock()
        .map(|q| q.send(note).is_ok())
        .unwrap_or(false);
    if !queued {
        return;
    }
    let sent = Message::new_signal(WAKE_PATH, WAKE_IFACE, WAKE).is_ok_and(|mut wake| {
        wake.set_destination(Some(n.listener.clone()));
        n.waker.send(wake).is_ok()
    });
    if sent {
        n.waker.channel().flush();
    } else {
        eprintln!("amo-connector: notifications: the notice waits for the next one");
    }
}

fn start(on_click: OnClick) -> Option<Notifier> {
    let bus = match SyncConnection::new_session() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("amo-connector: notifications: no session bus: {e}");
            return None;
        }
    };
    let shown: Arc<Mutex<HashMap<u32, Option<String>>>> = Arc::default();
    let clicked = shown.clone();
    let rule = MatchRule::new_signal(NOTIFICATIONS, "ActionInvoked");
    let matched = bus.add_match(rule, move |(id, _action): (u32, String), _, _| {
        let account = clicked.lock().ok().and_then(|mut m| m.remove(&id));
        if let Some(account) = account {
            on_click(account);
        }
        true
    });
    if let Err(e) = matched {
        eprintln!("amo-connector: notifications: clicks will not open the window: {e}");
    }
    let waker = match SyncConnection::new_session() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("amo-connector: notifications: no session bus: {e}");
            return None;
        }
    };
    // Addressed to this connection, so the bus delivers it without a match rule; only the
    // local filter is needed, which takes it from the waker alone.
    let mut wake = MatchRule::new_signal(WAKE_IFACE, WAKE);
    wake.path = Some(WAKE_PATH.into());
    wake.sender = Some(waker.unique_name().into_static());
    bus.start_receive(wake, Box::new(|_, _| true));
    let (tx, rx) = mpsc::channel();
    let listener = bus.unique_name().into_static();
    std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || serve(&bus, &rx, &shown))
        .ok()?;
    Some(Notifier {
        queue: Mutex::new(tx),
        waker,
        listener,
    })
}

/// Sends what is queued, then blocks until the bus has something (a click, a wake-up).
fn serve(bus: &SyncConnection, rx: &Receiver<Note>, shown: &Mutex<HashMap<u32, Option<String>>>) {
    loop {
        while let Ok(note) = rx.try_recv() {
            if let Some(id) = send(bus, &note) {
                if let Ok(mut m) = shown.lock() {
                    m.insert(id, note.account);
                }
            }
        }
        if bus.process(Duration::from_secs(3600)).is_err() {
            return;
        }
    }
}

fn send(bus: &SyncConnection, note: &Note) -> Option<u32> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The tray finds the window by the name Tauri's single-instance plugin takes: the
    /// bundle identifier and `.SingleInstance`.
    #[test]
    fn the_tray_watches_the_name_the_window_owns() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../../../tauri.conf.json")).unwrap();
        let identifier = conf["identifier"].as_str().unwrap();
        assert_eq!(APP_BUS_NAME, format!("{identifier}.SingleInstance"));
    }

    #[test]
    fn the_missing_tray_host_is_named_by_its_bus_name() {
        assert!(TRAY_HOST_MISSING.starts_with(TRAY_WATCHER));
    }
}
