//! Start at login: the XDG autostart entry (`$XDG_CONFIG_HOME/autostart/amo-connector.desktop`)
//! that starts the app hidden in the tray. Written by the engine so the window and `amo`
//! share it; the entry's presence is the setting.
//!
//! An `impl Engine` for where the entry lives only (the engine's environment decides); the
//! entry's text and the binary's path are free functions.

use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::error::{Error, Result};

/// The entry's file name.
pub const ENTRY_NAME: &str = "amo-connector.desktop";
/// The argument that starts the app in the tray, without a window.
pub const HIDDEN_ARG: &str = "--hidden";
/// The app's binary name, as the package installs it.
pub const APP_BINARY: &str = "amo-connector";

/// What Linux adds to the name of a running program's file (`/proc/self/exe`, so
/// `std::env::current_exe`) once that file was replaced or removed, as a package upgrade does.
const DELETED: &str = " (deleted)";

/// The characters the Desktop Entry Specification reserves in an `Exec` argument: one with
/// any of them is quoted.
const RESERVED: &str = " \t\n\"'\\><~|&;$*?#()`";

/// The entry for `exec`: the same binary the menu entry starts, with [`HIDDEN_ARG`].
///
/// # Errors
/// [`Error::AutostartPathUnfit`] when `exec` holds a control character or is not UTF-8: no
/// desktop entry can name it.
pub fn entry(exec: &Path) -> Result<String> {
    Ok(format!(
        "[Desktop Entry]\nType=Application\nName=amo-connector\n\
         Comment=Keeps amoCRM connections refreshed\nExec={} {HIDDEN_ARG}\nIcon=amo-connector\n\
         Terminal=false\nX-GNOME-Autostart-enabled=true\nNoDisplay=false\n",
        exec_program(exec)?
    ))
}

/// `path` as the program of an `Exec` value, written so that a desktop reading it by the
/// Desktop Entry Specification gets `path` back: it undoes the escapes of a string value
/// (`\\` for a backslash), then the quoting of the argument, then the field codes (`%%` for
/// a `%`); so each is applied here in the opposite order.
fn exec_program(path: &Path) -> Result<String> {
    let unfit = || Error::AutostartPathUnfit {
        path: path.to_string_lossy().escape_debug().to_string(),
    };
    let text = path.to_str().ok_or_else(unfit)?;
    if text.chars().any(char::is_control) {
        return Err(unfit());
    }
    let word = quote(&text.replace('%', "%%"));
    Ok(word.replace('\\', "\\\\"))
}

/// `word` as one `Exec` argument: as it is, or in double quotes (with `"`, `` ` ``, `$` and
/// `\` escaped by a backslash) when it is empty or holds a reserved character.
fn quote(word: &str) -> String {
    if !word.is_empty() && !word.contains(|c| RESERVED.contains(c)) {
        return word.to_owned();
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('"');
    for c in word.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// The app's binary beside `beside` (the running `amo` or app), else its bare name.
pub fn app_binary(beside: Option<&Path>) -> PathBuf {
    beside
        .and_then(Path::parent)
        .map(|dir| dir.join(APP_BINARY))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(APP_BINARY))
}

/// The running app's binary for the entry, from `exe` (`std::env::current_exe`): its file,
/// or after an upgrade replaced it (`/usr/bin/amo-connector (deleted)`) the new file at the
/// same path; else the bare name, found on `PATH` at login. Never a name ending in
/// ` (deleted)` that no file has.
pub fn this_app(exe: Option<&Path>) -> PathBuf {
    exe.and_then(installed)
        .unwrap_or_else(|| PathBuf::from(APP_BINARY))
}

/// `exe` if it is a file, else the file it names without [`DELETED`].
fn installed(exe: &Path) -> Option<PathBuf> {
    if exe.is_file() {
        return Some(exe.to_owned());
    }
    let live = Path::new(exe.to_str()?.strip_suffix(DELETED)?);
    live.is_file().then(|| live.to_owned())
}

impl Engine {
    /// Where the autostart entry lives: `$XDG_CONFIG_HOME/autostart/`, else `~/.config/autostart/`.
    ///
    /// # Errors
    /// [`Error::Autostart`] when neither variable says where home is.
    pub fn autostart_path(&self) -> Result<PathBuf> {
        let config = self
            .env_var("XDG_CONFIG_HOME")
            .filter(|v| Path::new(v).is_absolute())
            .map(PathBuf::from)
            .or_else(|| {
                self.env_var("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| Path::new(&h).join(".config"))
            })
            .ok_or_else(|| Error::Autostart {
                path: PathBuf::from("~/.config/autostart"),
                reason: "neither XDG_CONFIG_HOME nor HOME is set".into(),
            })?;
        Ok(config.join("autostart").join(ENTRY_NAME))
    }

    /// Whether the app starts at login.
    pub fn autostart(&self) -> bool {
        self.autostart_path().is_ok_and(|p| p.is_file())
    }

    /// Writes the entry (starting `exec` hidden) or removes it; returns its path.
    ///
    /// # Errors
    /// [`Error::Autostart`] when the folder or file cannot be written or removed;
    /// [`Error::AutostartPathUnfit`] when no entry can name `exec` (nothing is written).
    pub fn set_autostart(&self, on: bool, exec: &Path) -> Result<PathBuf> {
        let path = self.autostart_path()?;
        let fail = |e: std::io::Error| Error::Autostart {
            path: path.clone(),
            reason: e.to_string(),
        };
        if on {
            let text = entry(exec)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            let tmp = path.with_extension("desktop.tmp");
            std::fs::write(&tmp, text).map_err(fail)?;
            std::fs::rename(&tmp, &path).map_err(fail)?;
            self.log("autostart_on", None, &path.display().to_string(), true);
        } else {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(e)),
            }
            self.log("autostart_off", None, "", true);
        }
        Ok(path)
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
