//! Start at login on Windows: the value `amo-connector` under the user's Run key
//! (`HKCU\Software\Microsoft\Windows\CurrentVersion\Run`), whose data Windows runs as a
//! command line at logon. Per user, so no administrator is asked.
//!
//! The value's name comes from the engine; its data is a free function.

use std::path::Path;

use windows_registry::CURRENT_USER;
use windows_result::HRESULT;

use super::{unfit, HIDDEN_ARG};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// The user's Run key, under `HKEY_CURRENT_USER`.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// The value's name under [`RUN_KEY`].
pub const VALUE_NAME: &str = "amo-connector";

/// The Win32 error the registry gives for a key or value that is not there.
const ERROR_FILE_NOT_FOUND: u32 = 2;

/// The value's data for `exec`: the program in double quotes, then [`HIDDEN_ARG`]. Quoted
/// even without a space, so a path is never split at logon wherever it is installed (an
/// unquoted `C:\Program Files\…` would start `C:\Program` if there were one).
///
/// # Errors
/// [`Error::AutostartPathUnfit`] when `exec` holds a `"` or a control character, or is not
/// valid Unicode: no command line can quote it.
pub fn command(exec: &Path) -> Result<String> {
    let text = exec.to_str().ok_or_else(|| unfit(exec))?;
    if text.contains(|c: char| c == '"' || c.is_control()) {
        return Err(unfit(exec));
    }
    Ok(format!("\"{text}\" {HIDDEN_ARG}"))
}

impl Engine {
    /// The Run value's name: [`VALUE_NAME`]. A test build takes its own from the engine's
    /// environment, so tests running at once each have a value and none touches the real one.
    fn run_value(&self) -> String {
        #[cfg(test)]
        if let Some(name) = self.env_var("AMO_TEST_RUN_VALUE") {
            return name;
        }
        VALUE_NAME.to_owned()
    }

    /// Whether the value is there, whatever its data.
    pub(super) fn autostart_is_on(&self) -> bool {
        CURRENT_USER
            .open(RUN_KEY)
            .and_then(|key| key.get_type(self.run_value()))
            .is_ok()
    }

    /// Writes the value for `exec`, making the Run key if the profile has none yet; returns
    /// where the value is.
    pub(super) fn write_autostart(&self, exec: &Path) -> Result<String> {
        let data = command(exec)?;
        let name = self.run_value();
        CURRENT_USER
            .create(RUN_KEY)
            .and_then(|key| key.set_string(&name, &data))
            .map_err(|e| failed(&name, &e))?;
        Ok(place(&name))
    }

    /// Removes the value (one that is not there, or no Run key at all, is no error); returns
    /// where it was.
    pub(super) fn remove_autostart(&self) -> Result<String> {
        let name = self.run_value();
        let removed = CURRENT_USER
            .options()
            .read()
            .write()
            .open(RUN_KEY)
            .and_then(|key| key.remove_value(&name));
        match removed {
            Err(e) if e.code() != HRESULT::from_win32(ERROR_FILE_NOT_FOUND) => {
                Err(failed(&name, &e))
            }
            _ => Ok(place(&name)),
        }
    }
}

/// The value `name` as the user would find it in the Registry Editor.
fn place(name: &str) -> String {
    format!(r"HKCU\{RUN_KEY}\{name}")
}

fn failed(name: &str, e: &windows_result::Error) -> Error {
    Error::Autostart {
        path: place(name),
        reason: e.to_string(),
    }
}
