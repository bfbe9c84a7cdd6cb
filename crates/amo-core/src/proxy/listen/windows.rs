//! No Unix sockets for the proxy on Windows: `--listen unix:PATH` is refused, naming what to
//! use instead.

use std::io;
use std::path::Path;

use super::Io;
use crate::error::{Error, Result};

/// Never made: there is no socket file to listen on here.
pub(crate) enum SocketListener {}

impl SocketListener {
    /// # Errors
    /// Always [`Error::UnixSocketUnsupported`].
    pub(super) async fn bind(_path: &Path) -> Result<SocketListener> {
        Err(Error::UnixSocketUnsupported)
    }

    pub(super) async fn accept(&self) -> io::Result<Box<dyn Io>> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_file_is_refused_with_what_to_use_instead() {
        let refused = SocketListener::bind(Path::new(r"C:\amo.sock")).await.err();
        let e = refused.expect("no socket file on Windows");
        assert!(matches!(e, Error::UnixSocketUnsupported), "{e}");
        assert!(e.to_string().contains("--listen 127.0.0.1:PORT"), "{e}");
    }
}
