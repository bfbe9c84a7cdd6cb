//! The keychain vault: a connection's token set and the client secret, and nothing else.
//!
//! A token set is one item, replaced whole, so a crash leaves the old set or the new one.
//! Where the set would not fit one item of the keychain in use, measured in that keychain's
//! own units (see [`ItemLimit`]), it is written as numbered parts of a new generation first
//! and then committed by replacing the one head item that names the generation. On Windows
//! that is every real token set; on Linux and macOS one item holds it, so reading it costs one
//! keychain round trip.
//!
//! The keychain is the only record: nothing is cached beside it, so a token it no longer
//! holds (removed or replaced outside the connector, the collection locked, the session
//! ended) is never handed out.

use chrono::{TimeZone, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::types::{AccountHost, TokenKind, TokenSet};

#[cfg(test)]
pub(crate) mod double;
mod limits;
mod store;
#[cfg(test)]
mod tests;

#[cfg(test)]
use limits::*;
use limits::{split, ItemLimit, SYSTEM_LIMIT};
pub(crate) use store::Fault;

/// The keychain service name every item is filed under.
pub const SERVICE: &str = "amo-connector";

/// The item [`Vault::probe`] rewrites, and what it holds.
const PROBE_KEY: &str = "probe";
const PROBE_VALUE: &str = "amo-connector can write here";

/// A name under which nothing is ever stored, for a read that finds nothing.
const NEVER_STORED_KEY: &str = "reachable";
/// The always-on proxy's keys (`proxy::hosted`) are named this, a colon and their folder.
const PROXY_KEY: &str = "proxy-key";

/// Typed access to the OS keychain.
pub struct Vault {
    backend: Backend,
}

enum Backend {
    Keychain,
    #[cfg(test)]
    Double(std::sync::Arc<double::Double>),
}

#[derive(Serialize, Deserialize)]
struct StoredSet {
    v: u8,
    kind: TokenKind,
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Unix time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct Head {
    v: u8,
    gen: String,
    parts: usize,
}

impl Vault {
    /// The OS keychain: Secret Service, macOS Keychain or Windows Credential Manager.
    pub fn system() -> Vault {
        Vault {
            backend: Backend::Keychain,
        }
    }

    /// A vault on a test double that keeps items in memory.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Vault {
        Vault::with_double(double::Double::new())
    }

    /// A vault on `double`, which the test keeps to refuse writes or read the items.
    #[cfg(test)]
    pub(crate) fn with_double(double: std::sync::Arc<double::Double>) -> Vault {
        Vault {
            backend: Backend::Double(double),
        }
    }

    /// Where the secrets live, as a catalogue key (`storage.secret_service`, …).
    pub fn storage_key(&self) -> &'static str {
        if cfg!(target_os = "macos") {
            "storage.macos_keychain"
        } else if cfg!(target_os = "windows") {
            "storage.windows_credentials"
        } else {
            "storage.secret_service"
        }
    }

    /// Checks that the keychain keeps what it is given: writes the probe item (nothing
    /// secret). A keychain that answers reads but refuses writes (locked, read-only) fails
    /// here.
    ///
    /// The item stays and is rewritten in place: only the first probe on a keychain adds it.
    /// A throwaway item added and removed at each connect and refresh made GNOME Keyring
    /// lock megabytes more over some hundred connects of different accounts, until it passed
    /// its limit: it keeps part of the locked memory such short-lived items and sessions held
    /// each time it reads a changed collection back.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`] naming what is missing, locked or refused.
    pub fn probe(&self) -> Result<()> {
        self.write(PROBE_KEY, PROBE_VALUE).map_err(unavailable)
    }

    /// Checks that the keychain answers, with one read and nothing written: enough for the
    /// window to show whether it is there. Before anything is stored, use [`Vault::probe`].
    ///
    /// It looks for a name nothing is stored under, so a locked keychain is not asked to
    /// unlock for it.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`] naming what is missing or locked.
    pub fn check_reachable(&self) -> Result<()> {
        self.get(NEVER_STORED_KEY).map(|_| ())
    }

    // --- token sets -----------------------------------------------------------------------

    /// Stores `set` as the connection's tokens, replacing any earlier set whole.
    ///
    /// Once the new set is committed the call succeeds, even when parts of the earlier set
    /// could not be removed: they are no longer named by anything. A failed write removes
    /// what it wrote of the new set, so a retry starts clean.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`]; the earlier set is then still the one stored.
    pub fn save_tokens(&self, account: &AccountHost, set: &TokenSet) -> Result<()> {
        let blob = serde_json::to_string(&StoredSet {
            v: 1,
            kind: set.kind,
            access_token: set.access_token.expose().to_owned(),
            refresh_token: set.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            expires_at: set.expires_at.map(|t| t.timestamp_millis()),
        })
        .expect("a token set serialises");
        let head_key = tokens_key(account);
        let old = self
            .get(&head_key)?
            .and_then(|h| serde_json::from_str::<Head>(&h).ok());
        if self.limits().iter().all(|l| l.admits(&blob)) {
            self.set(&head_key, &blob)?;
        } else {
            let gen = format!("{:08x}", rand::rng().random::<u32>());
            let parts = split(&blob, self.limits());
            let head = Head {
                v: 1,
                gen,
                parts: parts.len(),
            };
            let written = parts
                .iter()
                .enumerate()
                .try_for_each(|(i, part)| self.set(&part_key(account, &head.gen, i), part))
                .and_then(|()| {
                    let head = serde_json::to_string(&head).expect("a head serialises");
                    self.set(&head_key, &head)
                });
            if let Err(e) = written {
                let _ = self.delete_parts(account, &head);
                return Err(e);
            }
        }
        if let Some(old) = old {
            // Committed: leftovers of the earlier set are untidy, not a failure.
            let _ = self.delete_parts(account, &old);
        }
        Ok(())
    }

    /// The connection's tokens, if the keychain has them.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`]; an unreadable item reads as missing.
    pub fn load_tokens(&self, account: &AccountHost) -> Result<Option<TokenSet>> {
        // A reader racing a writer may find a generation already removed: read again.
        for _ in 0..3 {
            let Some(head) = self.get(&tokens_key(account))? else {
                return Ok(None);
            };
            let blob = match serde_json::from_str::<Head>(&head) {
                Ok(h) => match self.read_parts(account, &h)? {
                    Some(b) => b,
                    None => continue,
                },
                Err(_) => head,
            };
            let Ok(s) = serde_json::from_str::<StoredSet>(&blob) else {
                return Ok(None);
            };
            return Ok(Some(TokenSet {
                kind: s.kind,
                access_token: AccessToken::new(s.access_token),
                refresh_token: s.refresh_token.map(RefreshToken::new),
                expires_at: s
                    .expires_at
                    .and_then(|t| Utc.timestamp_millis_opt(t).single()),
            }));
        }
        Ok(None)
    }

    /// Removes the connection's tokens; true when there were any.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn delete_tokens(&self, account: &AccountHost) -> Result<bool> {
        let key = tokens_key(account);
        let head = self.get(&key)?;
        if let Some(h) = head
            .as_deref()
            .and_then(|h| serde_json::from_str::<Head>(h).ok())
        {
            self.delete_parts(account, &h)?;
        }
        self.delete(&key)
    }

    // --- client secret --------------------------------------------------------------------

    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn save_client_secret(&self, client_id: &str, secret: &ClientSecret) -> Result<()> {
        self.set(&secret_key(client_id), secret.expose())
    }

    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn load_client_secret(&self, client_id: &str) -> Result<Option<ClientSecret>> {
        Ok(self.get(&secret_key(client_id))?.map(ClientSecret::new))
    }

    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn delete_client_secret(&self, client_id: &str) -> Result<bool> {
        self.delete(&secret_key(client_id))
    }

    // --- the always-on proxy's key ---------------------------------------------------------
    // One per data folder (`folder` names it): two setups on one machine keep two keys.

    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn save_proxy_key(&self, folder: &str, key: &str) -> Result<()> {
        self.set(&proxy_key(folder), key)
    }

    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn load_proxy_key(&self, folder: &str) -> Result<Option<String>> {
        self.get(&proxy_key(folder))
    }

    /// # Errors
    /// [`Error::KeychainUnavailable`].
    pub fn delete_proxy_key(&self, folder: &str) -> Result<bool> {
        self.delete(&proxy_key(folder))
    }

    // --- parts ----------------------------------------------------------------------------

    fn read_parts(&self, account: &AccountHost, head: &Head) -> Result<Option<String>> {
        let mut blob = String::new();
        for i in 0..head.parts {
            match self.get(&part_key(account, &head.gen, i))? {
                Some(p) => blob.push_str(&p),
                None => return Ok(None),
            }
        }
        Ok(Some(blob))
    }

    /// Removes every part of `head`'s generation, going on past a failure; the first
    /// failure is the answer.
    fn delete_parts(&self, account: &AccountHost, head: &Head) -> Result<()> {
        let mut first = Ok(());
        for i in 0..head.parts {
            if let Err(e) = self.delete(&part_key(account, &head.gen, i)) {
                first = first.and(Err(e));
            }
        }
        first
    }

    // --- backend --------------------------------------------------------------------------

    fn get(&self, key: &str) -> Result<Option<String>> {
        match self.read(key) {
            Ok(v) => Ok(Some(v)),
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Reads one item, with the keychain's own answer.
    fn read(&self, key: &str) -> store::Answer<String> {
        match &self.backend {
            Backend::Keychain => store::read(key),
            #[cfg(test)]
            Backend::Double(d) => d.get(key),
        }
    }

    /// The item limits this vault keeps to: the system keychain's own, or with a test
    /// double every keychain's, so a layout Windows would refuse fails the tests on Linux.
    fn limits(&self) -> &'static [ItemLimit] {
        match &self.backend {
            Backend::Keychain => &SYSTEM_LIMIT,
            #[cfg(test)]
            Backend::Double(_) => &ITEM_LIMITS,
        }
    }

    /// Writes one item; one that would not fit is refused here, before the keychain is asked.
    fn set(&self, key: &str, value: &str) -> Result<()> {
        if let Some(limit) = self.limits().iter().find(|l| !l.admits(value)) {
            return Err(Error::KeychainUnavailable {
                reason: format!(
                    "an item of {} is larger than {} keeps ({} at most)",
                    limit.unit.measure(value),
                    limit.backend,
                    limit.max
                ),
            });
        }
        self.write(key, value).map_err(unavailable)
    }

    /// Writes one item as it is, with the keychain's own answer.
    fn write(&self, key: &str, value: &str) -> store::Answer<()> {
        match &self.backend {
            Backend::Keychain => store::write(key, value),
            #[cfg(test)]
            Backend::Double(d) => d.set(key, value),
        }
    }

    fn delete(&self, key: &str) -> Result<bool> {
        let done = match &self.backend {
            Backend::Keychain => store::remove(key),
            #[cfg(test)]
            Backend::Double(d) => d.delete(key),
        };
        match done {
            Ok(()) => Ok(true),
            Err(e) if gone(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn tokens_key(account: &AccountHost) -> String {
    format!("tokens:{account}")
}

fn part_key(account: &AccountHost, gen: &str, i: usize) -> String {
    format!("tokens:{account}#{gen}.{i}")
}

fn proxy_key(folder: &str) -> String {
    format!("{PROXY_KEY}:{folder}")
}

fn secret_key(client_id: &str) -> String {
    format!("client-secret:{client_id}")
}

/// Whether `e` says the item is not there.
fn gone(e: &Fault) -> bool {
    matches!(e, Fault::Missing)
}

fn unavailable(e: Fault) -> Error {
    Error::KeychainUnavailable {
        reason: e.to_string(),
    }
}
