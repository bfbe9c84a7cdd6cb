//! Start at login: the app starts hidden in the tray when the user logs in. Written by the
//! engine so the window and `amo` share it; where it lives is each system's own, one file
//! each: an XDG autostart entry (`xdg.rs`) or a value under the user's Run key
//! (`windows.rs`). Either way its presence is the setting.
//!
//! An `impl Engine` for the switch and the other small settings; the binary's path and the
//! entry's or value's text are free functions.

use std::env::consts::EXE_SUFFIX;
use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::error::{Error, Result};

#[cfg(windows)]
mod windows;
#[cfg(not(windows))]
mod xdg;

#[cfg(windows)]
pub use windows::{command, RUN_KEY, VALUE_NAME};
#[cfg(not(windows))]
pub use xdg::{entry, ENTRY_NAME};

/// The argument that starts the app in the tray, without a window.
pub const HIDDEN_ARG: &str = "--hidden";
/// The app's binary name, as the package installs it (without the system's `.exe`).
pub const APP_BINARY: &str = "amo-connector";

/// What Linux adds to the name of a running program's file (`/proc/self/exe`, so
/// `std::env::current_exe`) once that file was replaced or removed, as a package upgrade does.
#[cfg(target_os = "linux")]
const DELETED: &str = " (deleted)";

/// The app's binary's file name on this system: [`APP_BINARY`], with `.exe` on Windows.
fn app_file_name() -> String {
    format!("{APP_BINARY}{EXE_SUFFIX}")
}

/// The app's binary beside `beside` (the running `amo` or app), else its bare name.
pub fn app_binary(beside: Option<&Path>) -> PathBuf {
    beside
        .and_then(Path::parent)
        .map(|dir| dir.join(app_file_name()))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(app_file_name()))
}

/// The running app's binary for the entry, from `exe` (`std::env::current_exe`): its file,
/// or on Linux after an upgrade replaced it (`/usr/bin/amo-connector (deleted)`) the new file
/// at the same path; else the bare name, found on `PATH` at login. Never a name ending in
/// ` (deleted)` that no file has.
pub fn this_app(exe: Option<&Path>) -> PathBuf {
    exe.and_then(installed)
        .unwrap_or_else(|| PathBuf::from(app_file_name()))
}

/// `exe` if it is a file, else the file it names without [`DELETED`].
#[cfg(target_os = "linux")]
fn installed(exe: &Path) -> Option<PathBuf> {
    if exe.is_file() {
        return Some(exe.to_owned());
    }
    let live = Path::new(exe.to_str()?.strip_suffix(DELETED)?);
    live.is_file().then(|| live.to_owned())
}

/// `exe` if it is a file.
#[cfg(not(target_os = "linux"))]
fn installed(exe: &Path) -> Option<PathBuf> {
    exe.is_file().then(|| exe.to_owned())
}

/// [`Error::AutostartPathUnfit`] for `path`, shown with its control characters escaped so
/// the message stays on one line (and a Windows path keeps its single backslashes).
fn unfit(path: &Path) -> Error {
    let shown = path
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    Error::AutostartPathUnfit { path: shown }
}

impl Engine {
    /// Whether the app starts at login.
    pub fn autostart(&self) -> bool {
        self.autostart_is_on()
    }

    /// Makes the app start at login (as `exec`, hidden) or no longer; returns where that is
    /// kept, for the user to read: the entry's path, or on Windows the Run value
    /// (`HKCU\Software\Microsoft\Windows\CurrentVersion\Run\amo-connector`). Turning
    /// off what is already off is no error.
    ///
    /// # Errors
    /// [`Error::Autostart`] when the entry or value cannot be written or removed;
    /// [`Error::AutostartPathUnfit`] when no entry or value can name `exec` (nothing is
    /// written).
    pub fn set_autostart(&self, on: bool, exec: &Path) -> Result<String> {
        if on {
            let place = self.write_autostart(exec)?;
            self.log("autostart_on", None, &place, true);
            Ok(place)
        } else {
            let place = self.remove_autostart()?;
            self.log("autostart_off", None, "", true);
            Ok(place)
        }
    }

    /// Whether notifications are on (the default).
    pub fn notifications(&self) -> bool {
        self.db().setting("notifications").ok().flatten().as_deref() != Some("off")
    }

    /// Turns notifications on or off.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn set_notifications(&self, on: bool) -> Result<()> {
        self.db()
            .set_setting("notifications", if on { "on" } else { "off" })
    }

    /// A saved flag or small value of the background host (`told`, `tray_notice`).
    pub fn host_setting(&self, key: &str) -> Option<String> {
        self.db().setting(&format!("host.{key}")).ok().flatten()
    }

    /// Saves one of the background host's values.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn set_host_setting(&self, key: &str, value: &str) -> Result<()> {
        self.db().set_setting(&format!("host.{key}"), value)
    }
}

/// Reads `on`/`off` (and the usual synonyms) for a switch setting.
///
/// # Errors
/// [`Error::InvalidInput`] for anything else.
pub fn parse_switch(field: &'static str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(Error::InvalidInput {
            field,
            value: value.into(),
        }),
    }
}

#[cfg(test)]
mod tests;
