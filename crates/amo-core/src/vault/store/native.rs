//! The platform's own keychain through the keyring crate: the macOS Keychain, Windows'
//! Credential Manager. Each call stands alone; there is no connection to keep.

use super::{Answer, Fault};
use crate::vault::SERVICE;

pub(crate) struct Keychain;

impl Keychain {
    pub(crate) fn new() -> Keychain {
        Keychain
    }

    pub(crate) fn read(&mut self, key: &str) -> Answer<String> {
        entry(key)?.get_password().map_err(fault)
    }

    pub(crate) fn write(&mut self, key: &str, value: &str) -> Answer<()> {
        entry(key)?.set_password(value).map_err(fault)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Answer<()> {
        entry(key)?.delete_credential().map_err(fault)
    }
}

fn entry(key: &str) -> Answer<keyring::Entry> {
    keyring::Entry::new(SERVICE, key).map_err(fault)
}

fn fault(e: keyring::Error) -> Fault {
    match e {
        keyring::Error::NoEntry => Fault::Missing,
        // Windows' credential store can answer a read or removal that meets another
        // process's removal of the same item with `ERROR_KEY_DELETED`: a rotation's old
        // parts going, which the readers retry past.
        #[cfg(windows)]
        keyring::Error::PlatformFailure(inner)
            if inner
                .downcast_ref::<keyring::windows::Error>()
                .is_some_and(|code| code.0 == ERROR_KEY_DELETED) =>
        {
            Fault::Missing
        }
        keyring::Error::PlatformFailure(e) => Fault::Failed(e.to_string()),
        keyring::Error::NoStorageAccess(e) => Fault::Refused(e.to_string()),
        other => Fault::Failed(other.to_string()),
    }
}

#[cfg(windows)]
const ERROR_KEY_DELETED: u32 = 1018;
