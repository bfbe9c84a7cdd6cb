//! Background refresh: one timer per connection that sleeps until the access token is
//! `REFRESH_MARGIN` from expiry, then asks the engine to refresh it. Timers, not polling:
//! each is re-armed when the engine says a connection was made, refreshed or removed. A
//! timer is only ever stopped while it sleeps, never in the middle of a refresh.

use amo_core::{
    AccountHost, ConnState, ConnectionStatus, Engine, Error, TokenKind, REFRESH_MARGIN,
};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tauri::async_runtime;
use tokio::sync::oneshot;

/// How long to wait after a failure that may pass (network, 5xx, a locked keychain),
/// doubling up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::minutes(1);
const RETRY_MAX: Duration = Duration::minutes(30);
/// A little past the margin, so the engine agrees the token is due.
const SLACK: Duration = Duration::seconds(5);

/// The timers, by account; dropping a timer's sender stops it at its next sleep. Clones
/// share them.
#[derive(Default, Clone)]
pub struct Refresher {
    timers: Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>,
}

impl Refresher {
    /// Arms a timer for every connection.
    pub fn arm_all(&self, engine: &Engine) {
        let (this, engine) = (self.clone(), engine.clone());
        async_runtime::spawn(async move {
            let e = engine.clone();
            let all = async_runtime::spawn_blocking(move || e.connections()).await;
            let Ok(Ok(all)) = all else { return };
            for c in all {
                this.arm(&engine, &c.account);
            }
        });
    }

    /// (Re-)arms `account`'s timer, replacing any earlier one.
    pub fn arm(&self, engine: &Engine, account: &str) {
        let Ok(host) = AccountHost::parse(account) else {
            return;
        };
        let (keep, stop) = oneshot::channel();
        // Replacing the sender stops the earlier timer.
        self.lock().insert(account.to_owned(), keep);
        async_runtime::spawn(watch(engine.clone(), host, stop));
    }

    /// Stops `account`'s timer.
    pub fn disarm(&self, account: &str) {
        self.lock().remove(account);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<()>>> {
        self.timers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sleeps until `host` is due, refreshes, and goes round again until the connection can no
/// longer be refreshed. A failure, reading the connection or refreshing it, is tried again
/// after a wait that doubles; only one that needs the user first ends the timer, and what
/// the user then does (connect again, disconnect) re-arms or removes it.
async fn watch(engine: Engine, host: AccountHost, mut stop: oneshot::Receiver<()>) {
    let mut retry = RETRY_FIRST;
    let mut last_try: Option<DateTime<Utc>> = None;
    loop {
        let e = engine.clone();
        let h = host.clone();
        let status = async_runtime::spawn_blocking(move || e.connection(&h)).await;
        let failed = match status {
            Ok(Ok(status)) => {
                let Some(due) = due_at(&status, Utc::now(), last_try) else {
                    return;
                };
                if !sleep_until(due, &mut stop).await {
                    return;
                }
                last_try = Some(Utc::now());
                match engine.refresh_if_needed(&host).await {
                    Ok(_) => {
                        retry = RETRY_FIRST;
                        continue;
                    }
                    Err(e) => after_failure(&e, retry),
                }
            }
            Ok(Err(e)) => after_failure(&e, retry),
            // The blocking read panicked or was cancelled: nothing says it will again.
            Err(_) => Next::RetryIn(retry),
        };
        let Next::RetryIn(wait) = failed else {
            return;
        };
        if !sleep_until(Utc::now() + wait, &mut stop).await {
            return;
        }
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// What a timer does after a failure.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Ends: the user must act first, and that act re-arms or removes the timer.
    Stop,
    /// Tries again after this wait.
    RetryIn(Duration),
}

/// After `e`, with `retry` the wait now due. A locked keychain, a network or amoCRM outage
/// and missing settings all pass; a connection that must be made again, was removed or
/// cannot be refreshed at all does not.
fn after_failure(e: &Error, retry: Duration) -> Next {
    let needs_the_user = e.needs_reconnect()
        || matches!(
            e,
            Error::CannotRefresh { .. }
                | Error::NotConnected { .. }
                | Error::EmulatorConnection { .. }
                | Error::EmulatorSecret
        );
    if needs_the_user {
        Next::Stop
    } else {
        Next::RetryIn(retry)
    }
}

/// When `status` should be refreshed, or `None` when it never will be by a timer.
///
/// A token that lives shorter than the margin is refreshed halfway through its life
/// rather than at once and again and again.
fn due_at(
    status: &ConnectionStatus,
    now: DateTime<Utc>,
    last_try: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if status.kind != TokenKind::Oauth || status.state == ConnState::ReconnectNeeded {
        return None;
    }
    let expires = status.expires_at?;
    let due = expires - REFRESH_MARGIN + SLACK;
    match last_try {
        Some(t) if due <= now => Some(now.max(t) + ((expires - now) / 2).max(SLACK)),
        _ => Some(due),
    }
}

/// Sleeps until `t`; false when the timer was stopped (replaced or disarmed) meanwhile.
async fn sleep_until(t: DateTime<Utc>, stop: &mut oneshot::Receiver<()>) -> bool {
    let wait = (t - Utc::now()).to_std().unwrap_or_default();
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = stop => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(kind: TokenKind, expires_in: Option<Duration>) -> ConnectionStatus {
        let now = Utc::now();
        ConnectionStatus {
            account: "x.amocrm.ru".into(),
            name: None,
            account_id: None,
            kind,
            access_token_masked: None,
            expires_at: expires_in.map(|d| now + d),
            expired: false,
            created_at: now,
            updated_at: now,
            last_refresh_at: None,
            last_error: None,
            reconnect_reason: None,
            state: ConnState::Connected,
            usable: true,
            storage: "storage.secret_service",
            api_base: None,
        }
    }

    #[test]
    fn a_token_is_due_just_inside_the_margin() {
        let now = Utc::now();
        let s = status(TokenKind::Oauth, Some(Duration::hours(24)));
        let due = due_at(&s, now, None).unwrap();
        let left = s.expires_at.unwrap() - due;
        assert!(left < REFRESH_MARGIN && left > REFRESH_MARGIN - Duration::seconds(10));
    }

    #[test]
    fn long_lived_and_unknown_expiry_have_no_timer() {
        let now = Utc::now();
        let s = status(TokenKind::LongLived, Some(Duration::hours(1)));
        assert!(due_at(&s, now, None).is_none());
        assert!(due_at(&status(TokenKind::Oauth, None), now, None).is_none());
    }

    #[test]
    fn a_short_lived_token_is_not_refreshed_in_a_loop() {
        let now = Utc::now();
        let s = status(TokenKind::Oauth, Some(Duration::seconds(60)));
        let due = due_at(&s, now, Some(now)).unwrap();
        assert!(due - now >= Duration::seconds(25), "{}", due - now);
    }

    #[test]
    fn a_locked_keychain_is_tried_again_not_given_up() {
        let locked = Error::KeychainUnavailable {
            reason: "access refused or keychain locked".into(),
        };
        assert_eq!(
            after_failure(&locked, RETRY_FIRST),
            Next::RetryIn(RETRY_FIRST)
        );
        let outage = Error::ServerError { status: 503 };
        assert_eq!(after_failure(&outage, RETRY_MAX), Next::RetryIn(RETRY_MAX));
        let unset = Error::NotConfigured {
            what: "client_secret",
        };
        assert_eq!(
            after_failure(&unset, RETRY_FIRST),
            Next::RetryIn(RETRY_FIRST)
        );
    }

    #[test]
    fn only_what_needs_the_user_ends_the_timer() {
        let lost = Error::KeychainRefusedNewTokens {
            account: "x.amocrm.ru".into(),
            reason: "locked".into(),
        };
        let revoked = Error::ReconnectNeeded {
            account: "x.amocrm.ru".into(),
            reason: "Token has been revoked".into(),
        };
        let gone = Error::NotConnected {
            account: "x.amocrm.ru".into(),
        };
        for e in [lost, revoked, gone] {
            assert_eq!(after_failure(&e, RETRY_FIRST), Next::Stop, "{e:?}");
        }
    }
}
