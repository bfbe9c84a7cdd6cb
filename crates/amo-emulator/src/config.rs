//! The emulator's settings: the registered integration and the account it serves, how many
//! more of each, and whether amoCRM's rate limits apply.

use std::fmt;

use crate::ratelimit::RateLimits;
use crate::tokens;

/// The redirect URI registered for the emulated integration unless told otherwise.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:17563/amocrm/callback";
/// The account id the emulated account answers with unless told otherwise.
pub const DEFAULT_ACCOUNT_ID: u64 = 31_415_926;
/// The emulated account's name unless told otherwise.
pub const DEFAULT_ACCOUNT_NAME: &str = "Emulated account";
/// Access token lifetime amoCRM uses: 24 hours.
pub const DEFAULT_ACCESS_TTL_SECS: u64 = 86_400;

/// What the emulator pretends to be: one integration (client id, secret, redirect URI)
/// installed in one account, or in [`EmulatorConfig::accounts`] accounts, each on its own
/// listener; with [`EmulatorConfig::integrations`], more integrations installed in them all.
///
/// `Default` (and [`EmulatorConfig::new`]) generates a fresh UUID-like client id and a
/// 64-character secret, so two emulators never share credentials by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// The integration's id, as `client_id` in the authorize URL and the token request.
    pub client_id: String,
    /// The integration's secret key; `Debug` prints it redacted.
    pub client_secret: String,
    /// The registered redirect URI; the exchange must repeat it exactly.
    pub redirect_uri: String,
    /// The account's name, shown on the consent page and in `/api/v4/account`.
    pub account_name: String,
    /// The account's id, in `/api/v4/account` and in the token's `account_id` claim.
    pub account_id: u64,
    /// Grant at once on `GET /oauth` instead of showing the consent page.
    pub auto_approve: bool,
    /// Access token lifetime in seconds (`expires_in`).
    pub access_ttl_secs: u64,
    /// The port to bind on 127.0.0.1 for the first account; 0 picks a free one. Other
    /// accounts always get free ones.
    pub port: u16,
    /// How many accounts it serves (at least 1), each on its own `127.0.0.1:PORT`.
    pub accounts: usize,
    /// How many integrations are installed in them (at least 1): this config's, then ones
    /// with generated credentials and the same redirect URI.
    pub integrations: usize,
    /// amoCRM's request limits, answered with 429 when exceeded; `None` (the default):
    /// every request is served, and only logged.
    pub rate_limits: Option<RateLimits>,
}

impl EmulatorConfig {
    /// A config with generated credentials and the defaults above, on a free port.
    pub fn new() -> Self {
        Self {
            client_id: tokens::uuid_like(),
            client_secret: tokens::alphanumeric(64),
            redirect_uri: DEFAULT_REDIRECT_URI.to_owned(),
            account_name: DEFAULT_ACCOUNT_NAME.to_owned(),
            account_id: DEFAULT_ACCOUNT_ID,
            auto_approve: false,
            access_ttl_secs: DEFAULT_ACCESS_TTL_SECS,
            port: 0,
            accounts: 1,
            integrations: 1,
            rate_limits: None,
        }
    }

    /// The same config serving `n` accounts of the same integration.
    pub fn accounts(mut self, n: usize) -> Self {
        self.accounts = n;
        self
    }

    /// The same config with `n` integrations installed in every account.
    pub fn integrations(mut self, n: usize) -> Self {
        self.integrations = n;
        self
    }

    /// The same config enforcing amoCRM's limits ([`RateLimits::AMOCRM`]), or none.
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.rate_limits = on.then_some(RateLimits::AMOCRM);
        self
    }

    /// The same config enforcing `limits`.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    /// The same config with `auto_approve` switched on.
    pub fn auto_approve(mut self) -> Self {
        self.auto_approve = true;
        self
    }

    /// The same config with another registered redirect URI.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = uri.into();
        self
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("account_name", &self.account_name)
            .field("account_id", &self.account_id)
            .field("auto_approve", &self.auto_approve)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .field("port", &self.port)
            .field("accounts", &self.accounts)
            .field("integrations", &self.integrations)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_generates_distinct_credentials() {
        let a = EmulatorConfig::default();
        let b = EmulatorConfig::default();
        assert_ne!(a.client_id, b.client_id);
        assert_eq!(a.client_id.len(), 36);
        assert_eq!(a.client_secret.len(), 64);
        assert_eq!(a.redirect_uri, DEFAULT_REDIRECT_URI);
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = EmulatorConfig::default();
        let shown = format!("{c:?}");
        assert!(!shown.contains(&c.client_secret));
        assert!(shown.contains("[redacted]"));
    }
}
