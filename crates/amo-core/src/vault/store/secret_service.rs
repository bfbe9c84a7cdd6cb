//! The Secret Service (GNOME Keyring, KeePassXC, KWallet's bridge), through one D-Bus
//! connection and one encrypted session kept for the life of the process, as libsecret keeps
//! them.
//!
//! Items carry the attributes `service`, `username`, `target` and `application` the
//! connector has always given them, so the items stored before are the ones found now.

use std::collections::HashMap;
use std::time::Instant;

use dbus_secret_service::{EncryptionType, Error, SecretService};

use super::{patience, Answer, Fault};
use crate::vault::SERVICE;

/// The D-Bus error a call gets when no answer came within the client's own wait (two
/// seconds in this client), or when the other side left without answering.
const NO_REPLY: &str = "org.freedesktop.DBus.Error.NoReply";

pub(crate) struct Keychain {
    service: Option<SecretService>,
}

impl Keychain {
    pub(crate) fn new() -> Keychain {
        Keychain { service: None }
    }

    pub(crate) fn read(&mut self, key: &str) -> Answer<String> {
        let secret = self.attempt(|ss| {
            let found = ss.search_items(attributes(key, false))?;
            let copies = found.unlocked.len() + found.locked.len();
            if copies > 1 {
                return Ok(Err(copies));
            }
            if let Some(item) = found.unlocked.first() {
                return item.get_secret().map(|s| Ok(Some(s)));
            }
            match found.locked.first() {
                Some(item) => {
                    item.unlock()?;
                    item.get_secret().map(|s| Ok(Some(s)))
                }
                None => Ok(Ok(None)),
            }
        })?;
        let secret = secret
            .map_err(|copies| {
                Fault::Failed(format!(
                    "{copies} keychain items are named {key}; remove all but one (Passwords \
                     and Keys, or secret-tool clear service {SERVICE} username {key})"
                ))
            })?
            .ok_or(Fault::Missing)?;
        String::from_utf8(secret)
            .map_err(|_| Fault::Failed(format!("the keychain item {key} is not text")))
    }

    pub(crate) fn write(&mut self, key: &str, value: &str) -> Answer<()> {
        self.attempt(|ss| {
            let collection = ss.get_default_collection()?;
            collection.ensure_unlocked()?;
            collection.create_item(
                &format!("{key}@{SERVICE}"),
                attributes(key, true),
                value.as_bytes(),
                true,
                "text/plain",
            )?;
            Ok(())
        })
    }

    pub(crate) fn remove(&mut self, key: &str) -> Answer<()> {
        let removed = self.attempt(|ss| {
            let found = ss.search_items(attributes(key, false))?;
            let mut removed = false;
            for item in &found.locked {
                item.unlock()?;
            }
            for item in found.unlocked.iter().chain(found.locked.iter()) {
                item.delete()?;
                removed = true;
            }
            Ok(removed)
        })?;
        if removed {
            Ok(())
        } else {
            Err(Fault::Missing)
        }
    }

    /// Runs `call` on the kept session, connecting first when there is none.
    ///
    /// A call the daemon has not answered in time is asked again, at most
    /// [`ASKED_AGAIN`] times, on the same connection: the connection stays even when the
    /// call then fails, so the daemon never answers a caller that left (a busy daemon is not
    /// sent more than that either). Any other D-Bus error drops the connection (the daemon
    /// may have restarted) and the call is made once more on a new one.
    fn attempt<T>(&mut self, call: impl Fn(&SecretService) -> Result<T, Error>) -> Answer<T> {
        let until = Instant::now() + patience();
        let (mut asked_again, mut reconnected) = (0, false);
        loop {
            if self.service.is_none() {
                self.service = Some(SecretService::connect(EncryptionType::Dh).map_err(fault)?);
            }
            let Some(ss) = self.service.as_ref() else {
                unreachable!("connected just above")
            };
            match call(ss) {
                Ok(v) => return Ok(v),
                Err(Error::Dbus(e)) if e.name() == Some(NO_REPLY) => {
                    if asked_again == ASKED_AGAIN || Instant::now() >= until {
                        return Err(fault(Error::Dbus(e)));
                    }
                    asked_again += 1;
                }
                Err(Error::Dbus(e)) if !answered(&e) => {
                    self.service = None;
                    if reconnected {
                        return Err(fault(Error::Dbus(e)));
                    }
                    reconnected = true;
                }
                Err(e) => return Err(fault(e)),
            }
        }
    }
}

/// How many times a call the daemon did not answer in time is asked again.
const ASKED_AGAIN: u32 = 2;

/// Whether `e` is the Secret Service's own answer about the items (locked, no such
/// object), as opposed to a connection or session that is gone.
fn answered(e: &dbus::Error) -> bool {
    e.name().is_some_and(|n| {
        n.starts_with("org.freedesktop.Secret.Error.")
            && n != "org.freedesktop.Secret.Error.NoSession"
    })
}

/// An item's attributes: those it is searched by, and when it is made also the
/// `application` it was always made with.
fn attributes(key: &str, made: bool) -> HashMap<&str, &str> {
    let mut a = HashMap::from([
        ("service", SERVICE),
        ("username", key),
        ("target", "default"),
    ]);
    if made {
        a.insert("application", "rust-keyring");
    }
    a
}

fn fault(e: Error) -> Fault {
    match e {
        Error::Locked | Error::Prompt => Fault::Refused(e.to_string()),
        // An item removed by another process between the search and the call.
        Error::Dbus(e) if e.name() == Some("org.freedesktop.Secret.Error.NoSuchObject") => {
            Fault::Missing
        }
        Error::Dbus(e) if e.name() == Some("org.freedesktop.Secret.Error.IsLocked") => {
            Fault::Refused(format!("DBus error: {e}"))
        }
        Error::NoResult => Fault::Refused("there is no default keyring to keep the item in".into()),
        other => Fault::Failed(other.to_string()),
    }
}
