//! Start at login on Linux and the other XDG desktops: the autostart entry
//! `$XDG_CONFIG_HOME/autostart/amo-connector.desktop`, which the session starts at login.
//!
//! Where the entry lives comes from the engine's environment; its text is a free function.

use std::path::{Path, PathBuf};

use super::{unfit, HIDDEN_ARG};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// The entry's file name.
pub const ENTRY_NAME: &str = "amo-connector.desktop";

/// The characters the Desktop Entry Specification reserves in an `Exec` argument: one with
/// any of them is quoted.
pub(super) const RESERVED: &str = " \t\n\"'\\><~|&;$*?#()`";

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
    let text = path.to_str().ok_or_else(|| unfit(path))?;
    if text.chars().any(char::is_control) {
        return Err(unfit(path));
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
                path: "~/.config/autostart".into(),
                reason: "neither XDG_CONFIG_HOME nor HOME is set".into(),
            })?;
        Ok(config.join("autostart").join(ENTRY_NAME))
    }

    /// Whether the entry is there.
    pub(super) fn autostart_is_on(&self) -> bool {
        self.autostart_path().is_ok_and(|p| p.is_file())
    }

    /// Writes the entry for `exec` through a temporary file, so a reader never meets half an
    /// entry; returns its path.
    pub(super) fn write_autostart(&self, exec: &Path) -> Result<String> {
        let path = self.autostart_path()?;
        let text = entry(exec)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(&path, &e))?;
        }
        let tmp = path.with_extension("desktop.tmp");
        std::fs::write(&tmp, text).map_err(|e| failed(&path, &e))?;
        std::fs::rename(&tmp, &path).map_err(|e| failed(&path, &e))?;
        Ok(path.display().to_string())
    }

    /// Removes the entry (one that is not there is no error); returns its path.
    pub(super) fn remove_autostart(&self) -> Result<String> {
        let path = self.autostart_path()?;
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(&path, &e)),
        }
        Ok(path.display().to_string())
    }
}

fn failed(path: &Path, e: &std::io::Error) -> Error {
    Error::Autostart {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}
