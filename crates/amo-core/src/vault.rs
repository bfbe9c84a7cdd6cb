//! The keychain vault: a connection's token set and the client secret, and nothing else.
//!
//! A token set is one item, replaced whole, so a crash leaves the old set or the new one.
//! Where an item would pass `MAX_ITEM` bytes (Windows Credential Manager stops at 2,560),
//! the set is written as numbered parts of a new generation first and then committed by
//! replacing the one head item that names the generation.

use chrono::{TimeZone, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::types::{AccountHost, TokenKind, TokenSet};

/// The keychain service name every item is filed under.
pub const SERVICE: &str = "amo-connector";
const MAX_ITEM: usize = 2000;

/// Typed access to the OS keychain.
pub struct Vault {
    backend: Backend,
}

enum Backend {
    Keychain,
    #[cfg(test)]
    Memory(std::sync::Mutex<std::collections::HashMap<String, String>>),
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

    #[cfg(test)]
    pub(crate) fn in_memory() -> Vault {
        Vault {
            backend: Backend::Memory(Default::default()),
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

    /// Checks that the keychain answers.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`] naming what is missing or locked.
    pub fn probe(&self) -> Result<()> {
        self.get("probe").map(|_| ())
    }

    // --- token sets -----------------------------------------------------------------------

    /// Stores `set` as the connection's tokens, replacing any earlier set whole.
    ///
    /// # Errors
    /// [`Error::KeychainUnavailable`].
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
        if blob.len() <= MAX_ITEM {
            self.set(&head_key, &blob)?;
        } else {
            let gen = format!("{:08x}", rand::rng().random::<u32>());
            let parts = split(&blob, MAX_ITEM);
            for (i, part) in parts.iter().enumerate() {
                self.set(&part_key(account, &gen, i), part)?;
            }
            let head = Head {
                v: 1,
                gen,
                parts: parts.len(),
            };
            self.set(
                &head_key,
                &serde_json::to_string(&head).expect("a head serialises"),
            )?;
        }
        if let Some(old) = old {
            self.delete_parts(account, &old)?;
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

    fn delete_parts(&self, account: &AccountHost, head: &Head) -> Result<()> {
        for i in 0..head.parts {
            self.delete(&part_key(account, &head.gen, i))?;
        }
        Ok(())
    }

    // --- backend --------------------------------------------------------------------------

    fn get(&self, key: &str) -> Result<Option<String>> {
        match &self.backend {
            Backend::Keychain => match entry(key)?.get_password() {
                Ok(v) => Ok(Some(v)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(unavailable(e)),
            },
            #[cfg(test)]
            Backend::Memory(m) => Ok(m.lock().unwrap().get(key).cloned()),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        match &self.backend {
            Backend::Keychain => entry(key)?.set_password(value).map_err(unavailable),
            #[cfg(test)]
            Backend::Memory(m) => {
                m.lock().unwrap().insert(key.to_owned(), value.to_owned());
                Ok(())
            }
        }
    }

    fn delete(&self, key: &str) -> Result<bool> {
        match &self.backend {
            Backend::Keychain => match entry(key)?.delete_credential() {
                Ok(()) => Ok(true),
                Err(keyring::Error::NoEntry) => Ok(false),
                Err(e) => Err(unavailable(e)),
            },
            #[cfg(test)]
            Backend::Memory(m) => Ok(m.lock().unwrap().remove(key).is_some()),
        }
    }
}

fn tokens_key(account: &AccountHost) -> String {
    format!("tokens:{account}")
}

fn part_key(account: &AccountHost, gen: &str, i: usize) -> String {
    format!("tokens:{account}#{gen}.{i}")
}

fn secret_key(client_id: &str) -> String {
    format!("client-secret:{client_id}")
}

fn entry(key: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, key).map_err(unavailable)
}

fn unavailable(e: keyring::Error) -> Error {
    let reason = match e {
        keyring::Error::PlatformFailure(e) => e.to_string(),
        keyring::Error::NoStorageAccess(e) => format!("access refused or keychain locked: {e}"),
        other => other.to_string(),
    };
    Error::KeychainUnavailable { reason }
}

fn split(s: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (a, b) = rest.split_at(cut);
        parts.push(a);
        rest = b;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(access_len: usize) -> TokenSet {
        TokenSet {
            kind: TokenKind::Oauth,
            access_token: AccessToken::new("a".repeat(access_len)),
            refresh_token: Some(RefreshToken::new("r".repeat(700))),
            expires_at: Utc.timestamp_opt(1_900_000_000, 0).single(),
        }
    }

    #[test]
    fn token_sets_round_trip_small_and_split() {
        let v = Vault::in_memory();
        let acc = AccountHost::parse("example.amocrm.ru").unwrap();
        for len in [100, 5000, 300] {
            v.save_tokens(&acc, &set(len)).unwrap();
            let got = v.load_tokens(&acc).unwrap().unwrap();
            assert_eq!(got.access_token.expose().len(), len);
            assert_eq!(got.refresh_token.unwrap().expose().len(), 700);
            assert_eq!(got.expires_at, set(1).expires_at);
        }
        let Backend::Memory(m) = &v.backend else {
            unreachable!()
        };
        assert_eq!(
            m.lock().unwrap().len(),
            1,
            "old parts are removed after a commit"
        );
        assert!(v.delete_tokens(&acc).unwrap());
        assert!(v.load_tokens(&acc).unwrap().is_none());
        assert!(m.lock().unwrap().is_empty());
    }

    #[test]
    fn every_item_fits_the_smallest_keychain() {
        let v = Vault::in_memory();
        let acc = AccountHost::parse("example.amocrm.ru").unwrap();
        v.save_tokens(&acc, &set(9000)).unwrap();
        let Backend::Memory(m) = &v.backend else {
            unreachable!()
        };
        assert!(m.lock().unwrap().values().all(|s| s.len() <= MAX_ITEM));
    }

    #[test]
    fn client_secrets_are_filed_per_client() {
        let v = Vault::in_memory();
        v.save_client_secret("one", &ClientSecret::new("s1"))
            .unwrap();
        assert_eq!(v.load_client_secret("one").unwrap().unwrap().expose(), "s1");
        assert!(v.load_client_secret("two").unwrap().is_none());
    }
}
