//! amoCRM's request limits: per integration and per account, over any one-second sliding
//! window, counted for the token endpoint and `/api/v4/...` of the account hosts.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// The limits an emulator enforces when told to ([`crate::EmulatorConfig::rate_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Requests one integration (by `client_id`, or by the integration that issued the
    /// Bearer token) may make in a window, all accounts together.
    pub per_integration: usize,
    /// Requests one account may receive in a window, all integrations together.
    pub per_account: usize,
    /// The window, in milliseconds.
    pub window_ms: u64,
}

impl RateLimits {
    /// amoCRM's: 7 a second per integration, 50 a second per account.
    pub const AMOCRM: RateLimits = RateLimits {
        per_integration: 7,
        per_account: 50,
        window_ms: 1_000,
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::AMOCRM
    }
}

/// Whether a request to `path` (no query) counts toward the limits.
pub fn counts(path: &str) -> bool {
    path == "/oauth2/access_token" || path.starts_with("/api/v4/")
}

/// The arrival times still inside the window, per integration and per account. Every
/// counted request is remembered, refused ones too: hammering on keeps a client refused.
#[derive(Debug, Default)]
pub struct Limiter {
    integrations: HashMap<String, VecDeque<u64>>,
    accounts: HashMap<usize, VecDeque<u64>>,
}

impl Limiter {
    /// Counts a request arriving at `at_ms` for `account` (by index) from `client_id` (when
    /// known); whether it stays within `limits`.
    pub fn admit(
        &mut self,
        limits: &RateLimits,
        at_ms: u64,
        account: usize,
        client_id: Option<&str>,
    ) -> bool {
        let window = limits.window_ms;
        let in_account = remember(self.accounts.entry(account).or_default(), at_ms, window);
        let in_integration = client_id.map_or(0, |id| {
            let times = self.integrations.entry(id.to_owned()).or_default();
            remember(times, at_ms, window)
        });
        in_account <= limits.per_account && in_integration <= limits.per_integration
    }
}

/// Drops the times that left the window ending at `at_ms`, adds `at_ms`; how many remain.
fn remember(times: &mut VecDeque<u64>, at_ms: u64, window_ms: u64) -> usize {
    while times.front().is_some_and(|t| t + window_ms <= at_ms) {
        times.pop_front();
    }
    times.push_back(at_ms);
    times.len()
}

/// The most of `times` (unix milliseconds, any order) inside any window of `window_ms`.
pub fn busiest_window(times: &mut [u64], window_ms: u64) -> usize {
    times.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[start] + window_ms <= times[end] {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIGHT: RateLimits = RateLimits {
        per_integration: 2,
        per_account: 3,
        window_ms: 1_000,
    };

    #[test]
    fn an_integration_gets_its_limit_per_window_and_no_more() {
        let mut l = Limiter::default();
        assert!(l.admit(&TIGHT, 0, 0, Some("a")));
        assert!(l.admit(&TIGHT, 10, 1, Some("a")));
        assert!(!l.admit(&TIGHT, 20, 2, Some("a")));
        assert!(
            l.admit(&TIGHT, 30, 2, Some("b")),
            "another integration counts apart"
        );
        // The first two left the window at 1000 and 1010; the refused one stays until 1020.
        assert!(!l.admit(&TIGHT, 1_005, 0, Some("a")));
        assert!(l.admit(&TIGHT, 1_030, 0, Some("a")));
    }

    #[test]
    fn an_account_gets_its_limit_whatever_the_integration() {
        let mut l = Limiter::default();
        for (t, id) in [(0, "a"), (1, "b"), (2, "c")] {
            assert!(l.admit(&TIGHT, t, 7, Some(id)));
        }
        assert!(!l.admit(&TIGHT, 3, 7, Some("d")));
        assert!(!l.admit(&TIGHT, 4, 7, None));
        assert!(
            l.admit(&TIGHT, 5, 8, Some("d")),
            "another account counts apart"
        );
    }

    #[test]
    fn busiest_window_counts_the_fullest_second() {
        let mut t = [2_500, 0, 999, 1_000, 1_500, 1_998, 1_999];
        assert_eq!(busiest_window(&mut t, 1_000), 4);
        assert_eq!(busiest_window(&mut [], 1_000), 0);
    }

    #[test]
    fn only_the_token_endpoint_and_the_api_count() {
        assert!(counts("/oauth2/access_token"));
        assert!(counts("/api/v4/leads"));
        assert!(!counts("/oauth"));
        assert!(!counts("/oauth2/account/current/subdomain"));
        assert!(!counts("/_emulator/stats"));
    }
}
