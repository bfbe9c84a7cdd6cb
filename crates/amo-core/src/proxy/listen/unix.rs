//! The proxy's Unix socket file: mode 0600 before anyone can connect, a stale one replaced,
//! anything else at its path refused and left alone, removed when the listener goes.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{UnixListener, UnixSocket, UnixStream};

use super::Io;
use crate::error::{Error, Result};

/// Connections waiting to be accepted, as std's `UnixListener::bind` allows.
const BACKLOG: u32 = 128;
/// How long a socket file found at the path has to take a connection to count as in use.
const PROBE: Duration = Duration::from_secs(2);

/// A listening socket and its file.
pub(crate) struct SocketListener {
    listener: UnixListener,
    _file: SocketFile,
}

impl SocketListener {
    /// Listens on a socket file at `path`, only its owner allowed in.
    ///
    /// # Errors
    /// [`Error::NotASocket`] when something other than a socket is at `path` (it is left
    /// alone); [`Error::SocketInUse`] when a program listens there; [`Error::Listen`] with
    /// the system's reason otherwise (no such folder, a path too long, no permission).
    pub(super) async fn bind(path: &Path) -> Result<SocketListener> {
        clear_stale(path).await?;
        let failed = failed(path);
        let socket = UnixSocket::new_stream().map_err(&failed)?;
        // bind(2) makes the file with the umask's mode, often wider than 0600. It is narrowed
        // between bind and listen: a socket bound but not yet listening refuses every
        // connection (ECONNREFUSED), so no connection is ever taken while the mode is wider.
        // No umask is changed (it is the whole process's, and other threads make files
        // meanwhile), and nothing is renamed onto the path (a rename replaces whatever has
        // appeared there since it was checked, a regular file included).
        socket.bind(path).map_err(&failed)?;
        let file = SocketFile::made(path).map_err(&failed)?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(&failed)?;
        let listener = socket.listen(BACKLOG).map_err(&failed)?;
        Ok(SocketListener {
            listener,
            _file: file,
        })
    }

    /// The next connection.
    pub(super) async fn accept(&self) -> io::Result<Box<dyn Io>> {
        let (stream, _) = self.listener.accept().await?;
        Ok(Box::new(stream))
    }
}

/// The socket file this listener made, known by device and inode: dropping it removes the
/// file, unless something else has replaced it at the path since.
struct SocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl SocketFile {
    fn made(path: &Path) -> io::Result<SocketFile> {
        let meta = fs::symlink_metadata(path)?;
        if !meta.file_type().is_socket() {
            return Err(io::Error::other(
                "the socket file was replaced as it was made",
            ));
        }
        Ok(SocketFile {
            path: path.to_owned(),
            id: (meta.dev(), meta.ino()),
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours =
            fs::symlink_metadata(&self.path).is_ok_and(|meta| (meta.dev(), meta.ino()) == self.id);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Makes way at `path`: nothing there, or a socket file nothing listens on (left by a proxy
/// that was killed), which is removed. A symbolic link is not followed.
async fn clear_stale(path: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(failed(path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(Error::NotASocket {
            path: path.to_owned(),
        });
    }
    match tokio::time::timeout(PROBE, UnixStream::connect(path)).await {
        Ok(Ok(_)) | Err(_) => Err(Error::SocketInUse {
            path: path.to_owned(),
        }),
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed(path)(e)),
        },
        // Another user's socket (no permission), and the like: not ours to replace.
        Ok(Err(e)) => Err(failed(path)(e)),
    }
}

/// [`Error::Listen`] for `path`, with the system's reason.
fn failed(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |e| Error::Listen {
        addr: format!("unix:{}", path.display()),
        reason: e.to_string(),
    }
}
