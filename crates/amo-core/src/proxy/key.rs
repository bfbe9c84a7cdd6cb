//! The proxy key: the one secret a local client shows the proxy, made afresh for each proxy
//! (the always-on proxy keeps one in the keychain).

use crate::error::Result;

/// A proxy's key: 32 random bytes from the OS, base64url (43 characters). It lives in memory
/// only and as long as its proxy, and it is never an amoCRM token: a client that holds it
/// can call the account through this proxy, and nothing else. `Debug` prints `[redacted]`;
/// it is compared in constant time ([`ProxyKey::matches`]).
#[derive(Clone)]
pub struct ProxyKey(String);

impl ProxyKey {
    /// A new key.
    ///
    /// # Errors
    /// [`Error::Listen`] when the OS gives no random bytes.
    pub(crate) fn generate() -> Result<ProxyKey> {
        Ok(ProxyKey(crate::secret::random_token()?))
    }

    /// A key kept in the keychain (the always-on proxy's).
    pub(crate) fn from_kept(key: String) -> ProxyKey {
        ProxyKey(key)
    }

    /// The key itself, to hand to the client (printed, or put in its environment).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this key, compared in constant time.
    pub fn matches(&self, given: &str) -> bool {
        crate::secret::ct_eq(&self.0, given)
    }
}

impl std::fmt::Debug for ProxyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProxyKey([redacted])")
    }
}
