//! The background host of the engine's schedule (`amo_core::schedule`): every
//! [`CHECK_EVERY`] of awake time, and whenever it is woken (a connection changed), it reads
//! the connections, asks the schedule what is due against the wall clock, refreshes that,
//! shows the notices and hands the connections to its shell (the tray redraws). The policy
//! (due times, keep-alive, retries, catching up after sleep, what to tell once) is all in
//! the engine; exactly one process hosts it: the tray process, else the window app. It
//! also serves the always-on proxy while that is on (`local_api.rs`).

use amo_core::schedule::{Told, CHECK_EVERY};
use amo_core::{
    AccountHost, Action, Clock, ConnectionStatus, Due, DueReason, Engine, Lang, Notice, Schedule,
    SystemClock, TokenKind,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::{mpsc, Notify};

use crate::desktop::{self, Note, OnClick};
use local_api::LocalApi;

mod local_api;

/// Refreshes of one integration under way at once: enough that one waiting on the keychain
/// or the network does not leave the integration's budget unused, few enough that they
/// queue in order of due time rather than race for the limiter.
const WORKERS_PER_INTEGRATION: usize = 3;

/// A refresh waiting its turn: when it fell due, the account, why.
type Queued = (DateTime<Utc>, String, DueReason);

/// What hosts the schedule: shown the connections after each check and the notices it
/// gives, and asked what a notice's click does.
pub trait Shell: Send + Sync {
    /// The connections as the check left them, in the engine's language.
    fn checked(&self, lang: Lang, all: Vec<ConnectionStatus>);
    /// What a click on a notice does with the account it names.
    fn on_click(&self) -> OnClick;
    /// Shows one notice: the desktop's notification, whose click does [`Shell::on_click`].
    fn show(&self, note: Note) {
        desktop::notify(note, || self.on_click());
    }
}

/// The host's state: the schedule's memory and what wakes it.
#[derive(Default)]
pub struct Host {
    schedule: Mutex<Schedule>,
    wake: Notify,
    all_now: Notify,
    engine: OnceLock<Engine>,
    local_api: LocalApi,
}

impl Host {
    /// Runs the checks on `engine` for as long as the returned future is polled; the told
    /// incidents of an earlier run are remembered. A second call returns at once.
    pub async fn run(&self, engine: &Engine, shell: &impl Shell) {
        if self.engine.set(engine.clone()).is_err() {
            return;
        }
        let told: Told = engine
            .host_setting("told")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        *self.lock() = Schedule::with_told(told);
        let every = check_every().to_std().unwrap_or_default();
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let everything = tokio::select! {
                _ = ticks.tick() => false,
                _ = self.wake.notified() => false,
                _ = self.all_now.notified() => true,
            };
            self.check(engine, shell, everything).await;
        }
    }

    /// Checks again now (a connection was made, refreshed or removed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The host is ending: the always-on proxy stops, and is recorded as off.
    pub fn end(&self) {
        if let Some(engine) = self.engine.get() {
            self.local_api.end(engine);
        }
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

    /// One check: read, ask the schedule, refresh what is due, tell, hand over.
    async fn check(&self, engine: &Engine, shell: &impl Shell, everything: bool) {
        self.local_api.sync(engine).await;
        let lang = engine.lang();
        let Some(read) = connections(engine).await else {
            return;
        };
        let mut notices = Vec::new();
        let all = match read {
            Ok(all) => all,
            Err(err) => {
                notices.extend(self.lock().check_failed(&err, lang));
                self.tell(engine, shell, notices);
                return;
            }
        };
        // Listing read the database alone: ask the keychain once whether it still answers,
        // so that its going away is told while there is something it keeps.
        if !all.is_empty() {
            if let Some(Err(err)) = reachable(engine).await {
                notices.extend(self.lock().check_failed(&err, lang));
                self.tell(engine, shell, notices);
                shell.checked(lang, all);
                return;
            }
        }
        let now = SystemClock.now();
        let mut due = Vec::new();
        for action in self.lock().check(now, &all) {
            match action {
                Action::Refresh { account, reason } => due.push((account, reason)),
                Action::Notify(n) => notices.push(n),
            }
        }
        if everything {
            due = all
                .iter()
                .filter(|c| c.kind == TokenKind::Oauth)
                .map(|c| (c.account.clone(), DueReason::KeepAlive))
                .collect();
        }
        let refreshed_any = !due.is_empty();
        let mut done = self.refresh(engine, &all, due);
        while let Some((account, result)) = done.recv().await {
            let mut s = self.lock();
            match result {
                Ok(()) => s.refreshed(&account),
                Err(err) => notices.extend(s.failed(&account, SystemClock.now(), &err, lang)),
            }
        }
        self.tell(engine, shell, notices);
        let all = if refreshed_any {
            match connections(engine).await {
                Some(Ok(again)) => again,
                _ => all,
            }
        } else {
            all
        };
        shell.checked(lang, all);
    }

    /// Refreshes `due`, soonest due first, a few of one integration's at a time and the
    /// integrations side by side: each integration has a budget of its own at amoCRM (the engine's limiter
    /// keeps every call within it), so a week's worth of refreshes after a sleep go out at
    /// the rate amoCRM allows, with no 429, and one integration's queue never holds up
    /// another's. Each outcome comes back as it is known.
    fn refresh(
        &self,
        engine: &Engine,
        all: &[ConnectionStatus],
        due: Vec<(String, DueReason)>,
    ) -> mpsc::UnboundedReceiver<(String, amo_core::Result<()>)> {
        let schedule = self.lock();
        let mut queues: BTreeMap<Option<&str>, Vec<Queued>> = BTreeMap::new();
        for (account, reason) in due {
            let Some(c) = all.iter().find(|c| c.account == account) else {
                continue;
            };
            let at = schedule.next(c).map_or(DateTime::<Utc>::MIN_UTC, |d| d.at);
            let queue = queues.entry(c.client_id.as_deref()).or_default();
            queue.push((at, account, reason));
        }
        drop(schedule);
        let (tx, rx) = mpsc::unbounded_channel();
        for mut queue in queues.into_values() {
            queue.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let queue = Arc::new(Mutex::new(VecDeque::from(queue)));
            for _ in 0..WORKERS_PER_INTEGRATION {
                let (engine, tx, queue) = (engine.clone(), tx.clone(), queue.clone());
                tokio::spawn(async move {
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                        let Some((_, account, reason)) = next else {
                            return;
                        };
                        let result = match AccountHost::parse(&account) {
                            Ok(h) => match reason {
                                DueReason::Expiry => engine.refresh_if_needed(&h).await,
                                DueReason::KeepAlive | DueReason::Retry => engine.refresh(&h).await,
                            },
                            Err(e) => Err(e),
                        };
                        // The host stopped: the rest waits for the next check.
                        if tx.send((account, result.map(|_| ()))).is_err() {
                            return;
                        }
                    }
                });
            }
        }
        rx
    }

    /// Shows `notices` (unless turned off) and remembers what was told.
    fn tell(&self, engine: &Engine, shell: &impl Shell, notices: Vec<Notice>) {
        let told = serde_json::to_string(self.lock().told()).unwrap_or_default();
        if engine.host_setting("told").as_deref() != Some(told.as_str()) {
            let _ = engine.set_host_setting("told", &told);
        }
        if notices.is_empty() || !engine.notifications() {
            return;
        }
        let lang = engine.lang();
        for n in &notices {
            shell.show(note(lang, n));
        }
    }
}

/// The notification that tells `n` in `lang`.
fn note(lang: Lang, n: &Notice) -> Note {
    let (title, body) = n.text(lang);
    Note {
        title,
        body,
        open_label: lang.tr("notice.open", &[]),
        account: n.account.clone(),
    }
}

/// The connections, read off the async workers (the keychain and the disk block).
async fn connections(engine: &Engine) -> Option<amo_core::Result<Vec<ConnectionStatus>>> {
    let e = engine.clone();
    tokio::task::spawn_blocking(move || e.connections())
        .await
        .ok()
}

/// Whether the keychain answers (one read of a name nothing is stored under), off the
/// runtime; `None` when the task could not run.
async fn reachable(engine: &Engine) -> Option<amo_core::Result<()>> {
    let e = engine.clone();
    tokio::task::spawn_blocking(move || e.vault().check_reachable())
        .await
        .ok()
}

/// `AMO_CHECK_SECS` (1–30, for tests), else the engine's [`CHECK_EVERY`].
fn check_every() -> chrono::Duration {
    std::env::var("AMO_CHECK_SECS")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| (1..=30).contains(s))
        .map_or(CHECK_EVERY, chrono::Duration::seconds)
}

#[cfg(test)]
mod tests;
