//! One account's tokens, held by one process at a time: a file lock in the data folder's
//! `locks/`, taken within its deadline (`lockfile.rs`) by every reader that may refresh and
//! by every writer.

use std::fs::{File, OpenOptions};

use crate::error::{Error, Result};
use crate::paths::{set_private, DataDir};
use crate::types::AccountHost;

/// An exclusive lock on one account's tokens, held across processes (a file lock in the
/// data folder's `locks/`), released when dropped.
pub(crate) struct AccountLock {
    _file: File,
}

impl AccountLock {
    pub(crate) fn acquire(dir: &DataDir, account: &AccountHost) -> Result<AccountLock> {
        let name: String = account
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.locks().join(format!("{name}.lock"));
        let fail = |e: std::io::Error| Error::DataFolder {
            path: path.clone(),
            reason: e.to_string(),
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(fail)?;
        set_private(&path, 0o600).map_err(fail)?;
        crate::lockfile::lock(&file, &path, crate::lockfile::Wait::Account)?;
        Ok(AccountLock { _file: file })
    }
}
