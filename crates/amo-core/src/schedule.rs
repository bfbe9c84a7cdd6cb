//! The background schedule: when each connection is refreshed and why, catching up after a
//! sleep, and which notices to give, each once per incident. Pure policy: the clock and the
//! connections come from the caller, so it is tested without a window or a network.
//!
//! Due times are wall-clock times compared with the clock at each check (every
//! [`CHECK_EVERY`]); a host that checks on a timer which stops during a suspend still sees
//! anything that fell due while the machine slept at its first check after waking.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

use crate::engine::REFRESH_MARGIN;
use crate::error::Error;
use crate::i18n::Lang;
use crate::status::{ConnState, ConnectionStatus};
use crate::types::TokenKind;

/// How often the host compares due times with the wall clock.
pub const CHECK_EVERY: Duration = Duration::seconds(30);
/// An OAuth connection is refreshed at least this often, used or not, so its refresh token
/// (three months of life, renewed by each refresh) never dies of disuse.
pub const KEEP_ALIVE: Duration = Duration::days(7);
/// A long-lived token this close to its end is worth a notice.
pub const LONG_LIVED_WARNING: Duration = Duration::days(7);
/// Failed background refreshes in a row before a notice.
pub const FAILURES_BEFORE_NOTICE: u32 = 3;
/// The first wait after a failure that may pass; it doubles up to [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::minutes(1);
/// The longest wait between tries after failures.
pub const RETRY_MAX: Duration = Duration::minutes(30);
/// The shortest wait before refreshing a token again that lives shorter than the margin.
const MIN_GAP: Duration = Duration::seconds(5);

/// The time, as the schedule sees it; tests hand it their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Why a refresh is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    /// The access token is about to expire.
    Expiry,
    /// Nothing used the connection for [`KEEP_ALIVE`]; refreshing keeps the refresh token alive.
    KeepAlive,
    /// An earlier try failed; this is the next one.
    Retry,
}

impl DueReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DueReason::Expiry => "expiry",
            DueReason::KeepAlive => "keep_alive",
            DueReason::Retry => "retry",
        }
    }
}

/// When a connection is next refreshed, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub reason: DueReason,
}

/// When `status` is due for a refresh by time alone, or `None` when no schedule refreshes
/// it (a long-lived token, or a connection that must be made again).
///
/// The earlier of: [`REFRESH_MARGIN`] before the access token expires, and [`KEEP_ALIVE`]
/// after the last refresh (or the connection). A token that lives shorter than the margin
/// is refreshed halfway through its life, not again and again.
pub fn due(status: &ConnectionStatus) -> Option<Due> {
    if status.kind != TokenKind::Oauth || status.state == ConnState::ReconnectNeeded {
        return None;
    }
    let last = status.last_refresh_at.unwrap_or(status.created_at);
    let keep_alive = Due {
        at: last + KEEP_ALIVE,
        reason: DueReason::KeepAlive,
    };
    let Some(expires) = status.expires_at else {
        return Some(keep_alive);
    };
    let mut at = expires - REFRESH_MARGIN;
    if at <= last {
        at = last + ((expires - last) / 2).max(MIN_GAP);
    }
    let expiry = Due {
        at,
        reason: DueReason::Expiry,
    };
    Some(if expiry.at <= keep_alive.at {
        expiry
    } else {
        keep_alive
    })
}

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The refresh token was revoked or expired: only connecting again helps.
    ReconnectNeeded,
    /// [`FAILURES_BEFORE_NOTICE`] background refreshes failed in a row.
    RefreshFailing,
    /// A long-lived token ends within [`LONG_LIVED_WARNING`].
    LongLivedExpiring,
    /// The keychain stopped answering.
    KeychainUnavailable,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ReconnectNeeded => "reconnect_needed",
            NoticeKind::RefreshFailing => "refresh_failing",
            NoticeKind::LongLivedExpiring => "long_lived_expiring",
            NoticeKind::KeychainUnavailable => "keychain_unavailable",
        }
    }
}

/// A notice to show the user: about which account, and why. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub account: Option<String>,
    /// The failure, in the user's language, for [`NoticeKind::RefreshFailing`] and
    /// [`NoticeKind::KeychainUnavailable`].
    pub reason: Option<String>,
    /// When a long-lived token ends.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Notice {
    /// Its title and body in `lang`, naming the account.
    pub fn text(&self, lang: Lang) -> (String, String) {
        let key = self.kind.as_str();
        let account = self.account.as_deref().unwrap_or_default();
        let when = self
            .expires_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let reason = self.reason.as_deref().unwrap_or_default();
        let args = [
            ("account", account),
            ("reason", reason),
            ("when", when.as_str()),
        ];
        (
            lang.tr(&format!("notice.{key}.title"), &args),
            lang.tr(&format!("notice.{key}.body"), &args),
        )
    }
}

/// What the host should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Refresh this account: [`DueReason::Expiry`] only when still within the margin (another
    /// process may have refreshed it), the others now.
    Refresh {
        account: String,
        reason: DueReason,
    },
    Notify(Notice),
}

/// One account's memory between checks.
#[derive(Debug, Default, Clone)]
struct Track {
    failures: u32,
    retry_at: Option<DateTime<Utc>>,
}

/// The incidents already told, by account ("" for the keychain); persisted by the host so a
/// restart does not tell them again.
pub type Told = BTreeSet<(String, NoticeKind)>;

/// The schedule's memory: failures, retries and the incidents already told.
#[derive(Debug, Default)]
pub struct Schedule {
    tracks: HashMap<String, Track>,
    told: Told,
}

impl Schedule {
    /// A schedule that remembers `told` from an earlier run.
    pub fn with_told(told: Told) -> Schedule {
        Schedule {
            tracks: HashMap::new(),
            told,
        }
    }

    /// The incidents told and not yet over.
    pub fn told(&self) -> &Told {
        &self.told
    }

    /// When `status` is next refreshed, counting a pending retry.
    pub fn next(&self, status: &ConnectionStatus) -> Option<Due> {
        let due = due(status)?;
        match self.tracks.get(&status.account).and_then(|t| t.retry_at) {
            Some(at) if at > due.at => Some(Due {
                at,
                reason: DueReason::Retry,
            }),
            _ => Some(due),
        }
    }

    /// The check: given every connection at `now`, what is due and what to tell. An
    /// incident that is over (a connection made again, a new long-lived token) is
    /// forgotten, so the next one is told again.
    pub fn check(&mut self, now: DateTime<Utc>, all: &[ConnectionStatus]) -> Vec<Action> {
        let mut actions = Vec::new();
        // The connections were read, so the keychain answers again.
        self.over(String::new(), NoticeKind::KeychainUnavailable);
        let present: Vec<&str> = all.iter().map(|s| s.account.as_str()).collect();
        self.tracks.retain(|a, _| present.contains(&a.as_str()));
        self.told
            .retain(|(a, _)| a.is_empty() || present.contains(&a.as_str()));
        for s in all {
            let account = s.account.clone();
            if s.state == ConnState::ReconnectNeeded {
                actions.extend(
                    self.tell(&account, NoticeKind::ReconnectNeeded, None, None)
                        .map(Action::Notify),
                );
                continue;
            }
            self.over(account.clone(), NoticeKind::ReconnectNeeded);
            let ending = s.kind == TokenKind::LongLived
                && s.expires_at.is_some_and(|t| t - now <= LONG_LIVED_WARNING);
            if ending {
                let n = self.tell(&account, NoticeKind::LongLivedExpiring, None, s.expires_at);
                actions.extend(n.map(Action::Notify));
            } else {
                self.over(account.clone(), NoticeKind::LongLivedExpiring);
            }
            if let Some(d) = self.next(s) {
                if d.at <= now {
                    actions.push(Action::Refresh {
                        account,
                        reason: d.reason,
                    });
                }
            }
        }
        actions
    }

    /// The connections could not be read at all (the keychain or the database).
    pub fn check_failed(&mut self, error: &Error, lang: Lang) -> Option<Notice> {
        if matches!(error, Error::KeychainUnavailable { .. }) {
            let reason = error.message(lang);
            return self.tell("", NoticeKind::KeychainUnavailable, Some(reason), None);
        }
        None
    }

    /// A refresh of `account` succeeded: failures and retries are forgotten.
    pub fn refreshed(&mut self, account: &str) {
        self.tracks.remove(account);
        self.over(account.to_owned(), NoticeKind::RefreshFailing);
    }

    /// A refresh of `account` failed at `now` with `error`: when to try again, and the
    /// notice it is worth, if any (once per incident).
    pub fn failed(
        &mut self,
        account: &str,
        now: DateTime<Utc>,
        error: &Error,
        lang: Lang,
    ) -> Option<Notice> {
        if error.needs_reconnect() {
            self.tracks.remove(account);
            return self.tell(account, NoticeKind::ReconnectNeeded, None, None);
        }
        if matches!(error, Error::KeychainUnavailable { .. }) {
            self.backoff(account, now);
            let reason = error.message(lang);
            return self.tell("", NoticeKind::KeychainUnavailable, Some(reason), None);
        }
        let failures = self.backoff(account, now);
        if failures >= FAILURES_BEFORE_NOTICE {
            let reason = error.message(lang);
            return self.tell(account, NoticeKind::RefreshFailing, Some(reason), None);
        }
        None
    }

    /// Counts a failure and sets the next try; returns the failures in a row.
    fn backoff(&mut self, account: &str, now: DateTime<Utc>) -> u32 {
        let t = self.tracks.entry(account.to_owned()).or_default();
        t.failures += 1;
        let wait = (RETRY_FIRST * 2i32.pow((t.failures - 1).min(10))).min(RETRY_MAX);
        t.retry_at = Some(now + wait);
        t.failures
    }

    /// The notice for a new incident, or `None` when this one was told already.
    fn tell(
        &mut self,
        account: &str,
        kind: NoticeKind,
        reason: Option<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Option<Notice> {
        if !self.told.insert((account.to_owned(), kind)) {
            return None;
        }
        Some(Notice {
            kind,
            account: Some(account.to_owned()).filter(|a| !a.is_empty()),
            reason,
            expires_at,
        })
    }

    /// Ends an incident, if one was open.
    fn over(&mut self, account: String, kind: NoticeKind) {
        self.told.remove(&(account, kind));
    }
}

#[cfg(test)]
mod tests;
