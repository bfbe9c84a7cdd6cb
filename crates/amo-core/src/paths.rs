//! The data folder: where it is, and that only its owner can read it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The per-user data folder and the files in it.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `AMO_CONNECTOR_HOME`, else the OS's per-user app data folder.
    ///
    /// # Errors
    /// [`Error::DataFolder`] when the OS names no home folder.
    pub fn locate() -> Result<DataDir> {
        if let Some(home) = std::env::var_os("AMO_CONNECTOR_HOME").filter(|v| !v.is_empty()) {
            return Ok(DataDir {
                root: PathBuf::from(home),
            });
        }
        directories::ProjectDirs::from("", "", "amo-connector")
            .map(|d| DataDir {
                root: d.data_dir().to_path_buf(),
            })
            .ok_or_else(|| Error::DataFolder {
                path: PathBuf::from("~"),
                reason: "no home folder is known; set AMO_CONNECTOR_HOME".into(),
            })
    }

    pub fn at(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// Creates the folder (and `locks/`) private to the user: 0700, and names it by its
    /// canonical path from then on, so every spelling of one folder (`dir/`, `./dir`, a
    /// symbolic link) is one folder to everything that names things after it.
    ///
    /// # Errors
    /// [`Error::DataFolder`] when it cannot be created or its mode set.
    pub fn ensure(&mut self) -> Result<()> {
        for dir in [self.root.clone(), self.locks()] {
            fs::create_dir_all(&dir).map_err(|e| self.fail(&dir, e))?;
            set_private(&dir, 0o700).map_err(|e| self.fail(&dir, e))?;
        }
        // dunce: on Windows the plain `C:\...` form wherever it names the same folder, not the
        // `\\?\C:\...` form std returns, which people and some programs do not read.
        self.root = dunce::canonicalize(&self.root).map_err(|e| self.fail(&self.root, e))?;
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("amo-connector.sqlite3")
    }

    pub fn log(&self) -> PathBuf {
        self.root.join("activity.log")
    }

    pub fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }

    fn fail(&self, path: &Path, e: std::io::Error) -> Error {
        Error::DataFolder {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}

/// Sets owner-only permissions (a no-op where the OS has no Unix modes).
pub(crate) fn set_private(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}
