//! Start at login: the XDG autostart entry (`$XDG_CONFIG_HOME/autostart/amo-connector.desktop`)
//! that starts the app hidden in the tray. Written by the engine so the window and `amo`
//! share it; the entry's presence is the setting.

use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::error::{Error, Result};

/// The entry's file name.
pub const ENTRY_NAME: &str = "amo-connector.desktop";
/// The argument that starts the app in the tray, without a window.
pub const HIDDEN_ARG: &str = "--hidden";
/// The app's binary name, as the package installs it.
pub const APP_BINARY: &str = "amo-connector";

/// The entry for `exec`: the same binary the menu entry starts, with [`HIDDEN_ARG`].
pub fn entry(exec: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=amo-connector\n\
         Comment=Keeps amoCRM connections refreshed\nExec={} {HIDDEN_ARG}\nIcon=amo-connector\n\
         Terminal=false\nX-GNOME-Autostart-enabled=true\nNoDisplay=false\n",
        quote(exec)
    )
}

/// `path` as one word of a desktop entry's `Exec` (quoted when it has a space or a quote).
fn quote(path: &Path) -> String {
    let s = path.display().to_string();
    if s.chars()
        .any(|c| c.is_whitespace() || "\"'\\$`".contains(c))
    {
        let inner: String = s
            .chars()
            .flat_map(|c| {
                let esc = matches!(c, '"' | '`' | '$' | '\\');
                esc.then_some('\\').into_iter().chain([c])
            })
            .collect();
        format!("\"{inner}\"")
    } else {
        s
    }
}

/// The app's binary beside `beside` (the running `amo` or app), else its bare name.
pub fn app_binary(beside: Option<&Path>) -> PathBuf {
    beside
        .and_then(Path::parent)
        .map(|dir| dir.join(APP_BINARY))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(APP_BINARY))
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
    /// [`Error::Autostart`] when the folder or file cannot be written or removed.
    pub fn set_autostart(&self, on: bool, exec: &Path) -> Result<PathBuf> {
        let path = self.autostart_path()?;
        let fail = |e: std::io::Error| Error::Autostart {
            path: path.clone(),
            reason: e.to_string(),
        };
        if on {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            let tmp = path.with_extension("desktop.tmp");
            std::fs::write(&tmp, entry(exec)).map_err(fail)?;
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
mod tests {
    use super::*;
    use crate::paths::DataDir;
    use crate::vault::Vault;

    fn engine(home: &Path) -> Engine {
        let home = home.to_owned();
        Engine::open_with(
            DataDir::at(home.join("data")),
            Vault::in_memory(),
            move |k| (k == "HOME").then(|| home.display().to_string()),
        )
        .unwrap()
    }

    #[test]
    fn autostart_on_writes_an_entry_that_starts_hidden_and_off_removes_it() {
        let home = tempfile::tempdir().unwrap();
        let e = engine(home.path());
        assert!(!e.autostart());
        let exec = Path::new("/opt/my apps/amo-connector");
        let path = e.set_autostart(true, exec).unwrap();
        assert_eq!(
            path,
            home.path().join(".config/autostart/amo-connector.desktop")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .any(|l| l == "Exec=\"/opt/my apps/amo-connector\" --hidden"),
            "{text}"
        );
        assert!(e.autostart());
        e.set_autostart(false, exec).unwrap();
        assert!(!path.exists());
        e.set_autostart(false, exec).unwrap();
    }

    #[test]
    fn notifications_are_on_until_turned_off() {
        let home = tempfile::tempdir().unwrap();
        let e = engine(home.path());
        assert!(e.notifications());
        e.set_notifications(false).unwrap();
        assert!(!e.notifications());
        assert!(parse_switch("autostart", "maybe").is_err());
        assert!(parse_switch("autostart", "ON").unwrap());
    }
}
