//! The background host of the engine's schedule (`amo_core::schedule`): every
//! [`CHECK_EVERY`] of awake time, and whenever a connection changes, it reads the
//! connections, asks the schedule what is due against the wall clock, refreshes that,
//! shows the notices and redraws the tray. The policy (due times, keep-alive, retries,
//! catching up after sleep, what to tell once) is all in the engine.

use amo_core::schedule::{Told, CHECK_EVERY};
use amo_core::{
    AccountHost, Action, Clock, ConnectionStatus, Due, DueReason, Engine, Notice, Schedule,
    SystemClock,
};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use tauri::{async_runtime, AppHandle, Manager, Runtime};
use tokio::sync::Notify;

use crate::desktop::{self, Note};
use crate::state::AppState;
use crate::{tray, window};

/// The host's state, kept in [`AppState`]; started once.
#[derive(Default)]
pub struct Host {
    schedule: Mutex<Schedule>,
    wake: Notify,
    all_now: Notify,
    engine: OnceLock<Engine>,
}

impl Host {
    /// Starts the checks for the life of the app.
    pub fn start<R: Runtime>(&self, app: &AppHandle<R>, engine: &Engine) {
        if self.engine.set(engine.clone()).is_err() {
            return;
        }
        let told: Told = engine
            .host_setting("told")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        *self.lock() = Schedule::with_told(told);
        let app = app.clone();
        async_runtime::spawn(async move {
            let every = check_every().to_std().unwrap_or_default();
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let host = &app.state::<AppState>().host;
                let everything = tokio::select! {
                    _ = ticks.tick() => false,
                    _ = host.wake.notified() => false,
                    _ = host.all_now.notified() => true,
                };
                check(&app, everything).await;
            }
        });
    }

    /// Checks again now (a connection was made, refreshed or removed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// *Refresh all now*.
    pub fn refresh_all(&self) {
        self.all_now.notify_one();
    }

    /// When each of `all` is next refreshed, and why.
    pub fn due(&self, all: &[ConnectionStatus]) -> HashMap<String, Due> {
        let s = self.lock();
        all.iter()
            .filter_map(|c| Some((c.account.clone(), s.next(c)?)))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `AMO_CHECK_SECS` (1–30, for tests), else the engine's [`CHECK_EVERY`].
fn check_every() -> chrono::Duration {
    std::env::var("AMO_CHECK_SECS")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| (1..=30).contains(s))
        .map_or(CHECK_EVERY, chrono::Duration::seconds)
}

/// One check: read, ask the schedule, refresh what is due, tell, redraw.
async fn check<R: Runtime>(app: &AppHandle<R>, everything: bool) {
    let host = &app.state::<AppState>().host;
    let Some(engine) = host.engine.get().cloned() else {
        return;
    };
    let lang = engine.lang();
    let e = engine.clone();
    let read = async_runtime::spawn_blocking(move || e.connections()).await;
    let Ok(read) = read else { return };
    let mut notices = Vec::new();
    let all = match read {
        Ok(all) => all,
        Err(err) => {
            notices.extend(host.lock().check_failed(&err, lang));
            tell(app, &engine, notices);
            return;
        }
    };
    let now = SystemClock.now();
    let mut due = Vec::new();
    for action in host.lock().check(now, &all) {
        match action {
            Action::Refresh { account, reason } => due.push((account, reason)),
            Action::Notify(n) => notices.push(n),
        }
    }
    if everything {
        due = all
            .iter()
            .filter(|c| c.kind == amo_core::TokenKind::Oauth)
            .map(|c| (c.account.clone(), DueReason::KeepAlive))
            .collect();
    }
    let refreshed_any = !due.is_empty();
    for (account, reason) in due {
        let Ok(h) = AccountHost::parse(&account) else {
            continue;
        };
        let result = match reason {
            DueReason::Expiry => engine.refresh_if_needed(&h).await,
            DueReason::KeepAlive | DueReason::Retry => engine.refresh(&h).await,
        };
        let mut s = host.lock();
        match result {
            Ok(_) => s.refreshed(&account),
            Err(err) => notices.extend(s.failed(&account, SystemClock.now(), &err, lang)),
        }
    }
    tell(app, &engine, notices);
    let all = if refreshed_any {
        let e = engine.clone();
        match async_runtime::spawn_blocking(move || e.connections()).await {
            Ok(Ok(all)) => all,
            _ => all,
        }
    } else {
        all
    };
    let handle = app.clone();
    let _ = app.run_on_main_thread(move || tray::update(&handle, lang, &all));
}

/// Shows `notices` (unless turned off) and remembers what was told.
fn tell<R: Runtime>(app: &AppHandle<R>, engine: &Engine, notices: Vec<Notice>) {
    let host = &app.state::<AppState>().host;
    let told = serde_json::to_string(host.lock().told()).unwrap_or_default();
    if engine.host_setting("told").as_deref() != Some(told.as_str()) {
        let _ = engine.set_host_setting("told", &told);
    }
    if notices.is_empty() || !engine.notifications() {
        return;
    }
    let lang = engine.lang();
    for n in notices {
        let (title, body) = n.text(lang);
        let note = Note {
            title,
            body,
            open_label: lang.tr("notice.open", &[]),
            account: n.account.clone(),
        };
        let app = app.clone();
        desktop::notify(note, move || {
            Box::new(move |account| window::show(&app, account))
        });
    }
}
