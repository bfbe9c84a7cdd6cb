//! The handle a test holds on a running emulator: its addresses and credentials, its
//! controls as methods, and its shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounts::{AccountInfo, Integration};
use crate::config::EmulatorConfig;
use crate::faults::Fault;
use crate::request_log::{Logged, RateSummary};
use crate::server::rename;
use crate::shared::Shared;
use crate::state::{Grantee, Revoke, Stats};

/// The first account and the first integration, which the single-account methods mean.
const FIRST: Grantee = Grantee {
    account: 0,
    integration: 0,
};

/// A running emulator. Dropping it stops the servers.
///
/// Its single-account methods (`base_url`, `account_host`, `issue_code`, `rename`...) speak
/// of the first account and the first integration; the `*_for` ones take an account's
/// number and an integration's client id.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    config: EmulatorConfig,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl EmulatorHandle {
    pub(crate) fn new(
        config: EmulatorConfig,
        shared: Arc<Shared>,
        stop: watch::Sender<bool>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Self {
        let addr = shared.settings.accounts[0]
            .info
            .host
            .parse()
            .expect("a listener's own address parses");
        Self {
            addr,
            config,
            shared,
            stop: Some(stop),
            tasks,
        }
    }

    /// `http://127.0.0.1:PORT` of the first account, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`: the first account's host, as `referer` carries it.
    pub fn account_host(&self) -> String {
        self.addr.to_string()
    }

    /// The first account's bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every account, in order of number (the first is number 1).
    pub fn accounts(&self) -> Vec<AccountInfo> {
        let accounts = &self.shared.settings.accounts;
        accounts.iter().map(|a| a.info.clone()).collect()
    }

    /// Every account's host (`127.0.0.1:PORT`), in order of number.
    pub fn account_hosts(&self) -> Vec<String> {
        let accounts = &self.shared.settings.accounts;
        accounts.iter().map(|a| a.info.host.clone()).collect()
    }

    /// Every registered integration, the config's first.
    pub fn integrations(&self) -> Vec<Integration> {
        self.shared.settings.integrations.clone()
    }

    /// The registered integration's client id.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The registered integration's client secret.
    pub fn client_secret(&self) -> &str {
        &self.config.client_secret
    }

    /// The registered redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.config.redirect_uri
    }

    /// The config it was started with (the port as asked, 0 included).
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// A snapshot of the counters `GET /_emulator/stats` gives.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Queues a fault, like `POST /_emulator/fault`.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Drops every pending fault, like `DELETE /_emulator/fault`.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Makes the authorize step refuse (`error=access_denied`) or grant again, like
    /// `POST /_emulator/deny`.
    pub fn set_deny(&self, deny: bool) {
        self.shared.lock().deny = deny;
    }

    /// Moves the emulator's clock by `secs` (negative goes back), like
    /// `POST /_emulator/clock`; returns the total offset from real time.
    pub fn advance_clock(&self, secs: i64) -> i64 {
        self.shared.lock().advance_clock(secs)
    }

    /// Unix seconds on the emulator's clock.
    pub fn now(&self) -> i64 {
        self.shared.lock().now()
    }

    /// Revokes every current token of a kind, like `POST /_emulator/revoke`; returns how
    /// many it revoked.
    pub fn revoke(&self, what: Revoke) -> usize {
        self.shared.lock().revoke(what)
    }

    /// A fresh authorization code, as the authorize page grants it when the user allows:
    /// counted in `codes_issued`, exchangeable once, expiring with the emulator's clock. No
    /// request is made, so `authorize_requests` and [`EmulatorHandle::requests`] stay as they
    /// were, and neither auto-approve nor the deny switch applies.
    pub fn issue_code(&self) -> String {
        self.shared.lock().issue_code(FIRST)
    }

    /// Issues a long-lived token valid for `days`, like `POST /_emulator/long-lived-token`.
    pub fn issue_long_lived_token(&self, days: u32) -> String {
        self.shared
            .lock()
            .issue_long_lived(&self.shared.settings, FIRST, days)
            .0
    }

    /// As [`EmulatorHandle::issue_code`], for account `account` (its number, from 1) and the
    /// integration `client_id`; `None` when there is no such account or integration.
    pub fn issue_code_for(&self, account: usize, client_id: &str) -> Option<String> {
        let to = self.grantee(account, client_id)?;
        Some(self.shared.lock().issue_code(to))
    }

    /// As [`EmulatorHandle::issue_long_lived_token`], for account `account` (its number,
    /// from 1) and the integration `client_id`; `None` when there is no such account or
    /// integration.
    pub fn issue_long_lived_token_for(
        &self,
        account: usize,
        client_id: &str,
        days: u32,
    ) -> Option<String> {
        let to = self.grantee(account, client_id)?;
        let settings = &self.shared.settings;
        Some(self.shared.lock().issue_long_lived(settings, to, days).0)
    }

    fn grantee(&self, account: usize, client_id: &str) -> Option<Grantee> {
        let settings = &self.shared.settings;
        Some(Grantee {
            account: settings.account_number(account)?,
            integration: settings.integration(Some(client_id))?,
        })
    }

    /// Makes the authorize step grant account `account` (its number, from 1) when its
    /// request names none (`None`: the account of the listener reached), like
    /// `POST /_emulator/select-account`. `false`, changing nothing, when there is no such
    /// account.
    pub fn select_account(&self, account: Option<usize>) -> bool {
        let index = match account {
            None => None,
            Some(n) => match self.shared.settings.account_number(n) {
                Some(i) => Some(i),
                None => return false,
            },
        };
        self.shared.lock().selected_account = index;
        true
    }

    /// Renames the first account, like `POST /_emulator/rename`: it answers on a new
    /// address, returned, and its old one refuses API calls (401) and refreshes (404).
    ///
    /// # Errors
    /// The new listener's bind error.
    pub async fn rename(&self) -> io::Result<String> {
        rename(self.shared.clone(), FIRST.account).await
    }

    /// Sets how many leads `GET /api/v4/leads` lists, like `POST /_emulator/leads`.
    pub fn set_leads(&self, count: u32) {
        self.shared.lock().leads = count;
    }

    /// Stops (`true`) or resumes enforcing the configured rate limits: a test sets up many
    /// accounts at full speed, then measures with the limits on. Requests are logged either
    /// way.
    pub fn suspend_rate_limits(&self, suspended: bool) {
        self.shared.lock().limits_suspended = suspended;
    }

    /// Sets the lifetime of access tokens issued from now on, like
    /// `POST /_emulator/access-ttl`.
    pub fn set_access_ttl(&self, secs: i64) {
        self.shared.lock().access_ttl = Some(secs.max(1));
    }

    /// Makes every leads page that has a next page link to `href` instead of its own
    /// (`None`: its own again), like `POST /_emulator/next-link`.
    pub fn set_next_link(&self, href: Option<&str>) {
        self.shared.lock().next_link = href.map(str::to_owned);
    }

    /// Answers the next `times` API requests `302 Found` to `location`, like
    /// `POST /_emulator/redirect`.
    pub fn redirect_api(&self, location: &str, times: u32) {
        self.shared.lock().redirect = Some((location.to_owned(), times.max(1)));
    }

    /// Every protocol request so far, in order of arrival, like `GET /_emulator/requests`.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.lock().requests.clone()
    }

    /// The request log's busiest second per integration and per account and its 429s,
    /// like the `summary` of `GET /_emulator/requests`.
    pub fn rate_summary(&self) -> RateSummary {
        RateSummary::of(&self.shared.lock().requests)
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 5 seconds in
    /// all), and waits for the server tasks.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        for task in self
            .shared
            .extra
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}
