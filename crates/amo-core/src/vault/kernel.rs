//! A copy of each connection's access token in the kernel's key retention service
//! (keyrings(7), the user's keyring), so `amo token`, `amo api` and every API call read it
//! with one system call instead of a Secret Service round trip over D-Bus.
//!
//! What is kept: the access token, its kind and expiry; never the refresh token nor the
//! client secret, which stay in the Secret Service alone. Each copy times out when its
//! token expires (a day at most) and is readable only by the user's own processes. The
//! Secret Service stays the record: every write there replaces or removes the copy first,
//! and a copy is only made under the account's lock, which every writer holds, so a reader
//! never puts back a pair a writer has just replaced.
//!
//! Copies are named per data folder, so two folders (a test's, a second profile) never
//! share one. Where the kernel refuses (no keyutils, a full quota), nothing is copied and
//! every read goes to the Secret Service as before.

use chrono::{TimeZone, Utc};
use linux_keyutils::{KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::AccessToken;
use crate::types::{AccountHost, TokenKind, TokenSet};

/// The longest a copy is kept, even for a token that is valid for years.
const MAX_KEEP_SECS: i64 = 24 * 60 * 60;

/// The copies of one data folder.
pub(crate) struct KernelCopies {
    scope: String,
}

#[derive(Serialize, Deserialize)]
struct Copied {
    kind: TokenKind,
    access_token: String,
    /// Unix time in milliseconds.
    expires_at: Option<i64>,
}

impl KernelCopies {
    /// The copies for the data folder at `root`.
    pub(crate) fn for_folder(root: &std::path::Path) -> KernelCopies {
        let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
        let scope = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        KernelCopies { scope }
    }

    fn name(&self, account: &AccountHost) -> String {
        format!("amo-connector:{}:{account}", self.scope)
    }

    /// The account's access token, if a copy is kept: a set without its refresh token.
    pub(crate) fn get(&self, account: &AccountHost) -> Option<TokenSet> {
        let key = user_keyring()?.search(&self.name(account)).ok()?;
        let copy: Copied = serde_json::from_slice(&key.read_to_vec().ok()?).ok()?;
        Some(TokenSet {
            kind: copy.kind,
            access_token: AccessToken::new(copy.access_token),
            refresh_token: None,
            expires_at: copy
                .expires_at
                .and_then(|t| Utc.timestamp_millis_opt(t).single()),
        })
    }

    /// Keeps a copy of `set`'s access token, replacing the account's earlier one. Best
    /// effort: a copy the kernel refuses is simply not there. The caller holds the
    /// account's lock.
    pub(crate) fn put(&self, account: &AccountHost, set: &TokenSet) {
        let keep = set
            .expires_at
            .map_or(MAX_KEEP_SECS, |t| (t - Utc::now()).num_seconds())
            .min(MAX_KEEP_SECS);
        if keep <= 0 {
            return;
        }
        let copy = serde_json::to_vec(&Copied {
            kind: set.kind,
            access_token: set.access_token.expose().to_owned(),
            expires_at: set.expires_at.map(|t| t.timestamp_millis()),
        })
        .expect("a copy serialises");
        let Some(ring) = user_keyring() else {
            return;
        };
        let Ok(key) = ring.add_key(&self.name(account), &copy) else {
            return;
        };
        // The user's processes may find and read it (a login's processes do not all share
        // one session keyring); nobody else may. A copy that cannot be limited so or made
        // to time out is not kept.
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::VIEW | Permission::READ | Permission::SEARCH | Permission::SETATTR)
            .build();
        let kept = key
            .set_perms(perms)
            .and_then(|()| key.set_timeout(usize::try_from(keep).unwrap_or(1)));
        if kept.is_err() {
            let _ = key.invalidate();
        }
    }

    /// Removes the account's copy, if one is kept.
    ///
    /// # Errors
    /// The kernel's answer, when a copy exists and could not be removed: the caller must
    /// then not change the Secret Service item, or the copy would outlive it.
    pub(crate) fn forget(&self, account: &AccountHost) -> Result<(), String> {
        let Some(ring) = user_keyring() else {
            return Ok(());
        };
        match ring.search(&self.name(account)) {
            Ok(key) => key
                .invalidate()
                .or_else(|_| ring.unlink_key(key))
                .map_err(|e| format!("the kernel keyring kept a copy of the old token ({e:?})")),
            // Not there, or not reachable at all (then no reader can find it either).
            Err(_) => Ok(()),
        }
    }
}

/// The user's keyring, or none where the kernel offers no key retention service.
fn user_keyring() -> Option<KeyRing> {
    KeyRing::from_special_id(KeyRingIdentifier::User, true).ok()
}

#[cfg(test)]
mod tests {
    //! Against the kernel's own keyring (the test's user), each test under a folder name
    //! of its own.

    use chrono::Duration;

    use super::*;
    use crate::secret::RefreshToken;
    use crate::vault::double::Double;
    use crate::vault::Vault;

    fn acc() -> AccountHost {
        AccountHost::parse("example.amocrm.ru").unwrap()
    }

    fn set(access: &str, valid: Duration) -> TokenSet {
        TokenSet {
            kind: TokenKind::Oauth,
            access_token: AccessToken::new(access.to_owned()),
            refresh_token: Some(RefreshToken::new(format!("def50200{access}-refresh"))),
            expires_at: Some(Utc::now() + valid),
        }
    }

    /// The `/proc/keys` line of `copies`' key for `account`: its timeout and permissions.
    fn proc_keys_line(copies: &KernelCopies, account: &AccountHost) -> Option<String> {
        let name = copies.name(account);
        std::fs::read_to_string("/proc/keys")
            .ok()?
            .lines()
            .find(|l| l.contains(&format!(" {name}: ")))
            .map(str::to_owned)
    }

    #[test]
    fn a_copy_holds_the_access_token_alone_for_its_folder_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let copies = KernelCopies::for_folder(dir.path());
        let theirs = KernelCopies::for_folder(other.path());
        assert!(copies.get(&acc()).is_none());

        let s = set("access-one", Duration::hours(24));
        copies.put(&acc(), &s);
        let got = copies.get(&acc()).expect("the copy is kept");
        assert_eq!(got.access_token.expose(), "access-one");
        assert!(got.refresh_token.is_none(), "never the refresh token");
        assert_eq!(
            got.expires_at.map(|t| t.timestamp_millis()),
            s.expires_at.map(|t| t.timestamp_millis())
        );
        assert!(
            theirs.get(&acc()).is_none(),
            "another folder's copies are apart"
        );

        // Readable by the user's processes, by nobody else, and gone within a day.
        let line = proc_keys_line(&copies, &acc()).expect("listed in /proc/keys");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (timeout, perms) = (fields[3], fields[4]);
        assert!(timeout.ends_with('h') || timeout.ends_with('m'), "{line}");
        let perms = u32::from_str_radix(perms, 16).unwrap();
        assert_eq!(perms & 0xff, 0, "no rights for others: {line}");
        assert_eq!(perms & 0xff00, 0, "no rights for the group: {line}");
        assert_ne!(perms & 0x0002_0000, 0, "the user may read: {line}");

        copies.put(&acc(), &set("access-two", Duration::hours(1)));
        assert_eq!(
            copies.get(&acc()).unwrap().access_token.expose(),
            "access-two"
        );
        copies.forget(&acc()).unwrap();
        assert!(copies.get(&acc()).is_none());
        copies.forget(&acc()).expect("forgetting nothing is fine");
    }

    #[test]
    fn an_expired_token_is_not_copied() {
        let dir = tempfile::tempdir().unwrap();
        let copies = KernelCopies::for_folder(dir.path());
        copies.put(&acc(), &set("stale", Duration::seconds(-5)));
        assert!(copies.get(&acc()).is_none());
    }

    #[test]
    fn the_vault_replaces_the_copy_with_every_write_and_drops_it_before_a_failed_one() {
        let dir = tempfile::tempdir().unwrap();
        let d = Double::new();
        let v = Vault::with_double(d.clone()).with_kernel_copies(dir.path());
        assert!(v.keeps_copies());
        v.save_tokens(&acc(), &set("first", Duration::hours(24)))
            .unwrap();
        assert_eq!(
            v.copied_tokens(&acc()).unwrap().access_token.expose(),
            "first"
        );
        v.save_tokens(&acc(), &set("second", Duration::hours(24)))
            .unwrap();
        assert_eq!(
            v.copied_tokens(&acc()).unwrap().access_token.expose(),
            "second"
        );

        // A write the keychain refuses leaves no copy: the next read goes to the keychain,
        // which still has the set it had.
        d.refuse_writes(true);
        assert!(v
            .save_tokens(&acc(), &set("third", Duration::hours(24)))
            .is_err());
        assert!(v.copied_tokens(&acc()).is_none());
        assert_eq!(
            v.load_tokens(&acc())
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            "second"
        );
        d.refuse_writes(false);

        v.save_tokens(&acc(), &set("fourth", Duration::hours(24)))
            .unwrap();
        assert!(v.delete_tokens(&acc()).unwrap());
        assert!(
            v.copied_tokens(&acc()).is_none(),
            "a removed set leaves no copy"
        );
    }
}
