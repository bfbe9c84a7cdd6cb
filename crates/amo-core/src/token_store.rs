//! The token store: a connection's tokens in the keychain (the only record of them) and the
//! account's lock that every writer, and every reader that may refresh, holds. It knows
//! nothing of refresh: `refresh.rs` borrows it.

use crate::account_lock::AccountLock;
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::types::{AccountHost, TokenSet};
use crate::vault::Vault;

/// The waits between tries of writing a newly issued pair: three tries over a second.
const KEEP_WAITS: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(250),
    std::time::Duration::from_millis(750),
];

/// Tokens by account, and the lock that makes one process at a time change them.
pub(crate) struct TokenStore {
    vault: Vault,
    dir: DataDir,
}

impl TokenStore {
    pub(crate) fn new(vault: Vault, dir: DataDir) -> TokenStore {
        TokenStore { vault, dir }
    }

    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The account's tokens.
    ///
    /// # Errors
    /// [`Error::NotConnected`] when the keychain has none; [`Error::KeychainUnavailable`].
    pub(crate) fn load(&self, account: &AccountHost) -> Result<TokenSet> {
        self.vault
            .load_tokens(account)?
            .ok_or_else(|| Error::NotConnected {
                account: account.to_string(),
            })
    }

    /// Writes a pair amoCRM just issued, trying again after a refusal: the pair it replaces
    /// is already dead at amoCRM, so this one is worth a second and third try.
    ///
    /// # Errors
    /// The keychain's last refusal.
    pub(crate) async fn keep(&self, account: &AccountHost, set: &TokenSet) -> Result<()> {
        let mut waits = KEEP_WAITS.iter();
        loop {
            match self.vault.save_tokens(account, set) {
                Ok(()) => return Ok(()),
                Err(e) => match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => return Err(e),
                },
            }
        }
    }

    /// Takes the account's lock on this thread, waiting within its deadline.
    ///
    /// # Errors
    /// As [`AccountLock::acquire`].
    pub(crate) fn lock_here(&self, account: &AccountHost) -> Result<AccountLock> {
        AccountLock::acquire(&self.dir, account)
    }

    /// Takes the account's lock (waiting, within its deadline, for another process's
    /// refresh) off the async runtime.
    ///
    /// # Errors
    /// As [`AccountLock::acquire`].
    pub(crate) async fn lock(&self, account: &AccountHost) -> Result<AccountLock> {
        let dir = self.dir.clone();
        let acc = account.clone();
        tokio::task::spawn_blocking(move || AccountLock::acquire(&dir, &acc))
            .await
            .map_err(|e| Error::DataFolder {
                path: self.dir.locks(),
                reason: e.to_string(),
            })?
    }
}
