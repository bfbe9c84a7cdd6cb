//! Where a proxy listens: a TCP address, or a Unix socket file only its owner can use. The
//! socket file is the platform's part, one file per platform (`listen/unix.rs`,
//! `listen/windows.rs`) with the same `SocketListener`.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::error::{Error, Result};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix::SocketListener;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows::SocketListener;

/// Where a proxy listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address; port 0 takes a free one.
    Tcp(SocketAddr),
    /// A Unix socket file (not on Windows): made with mode 0600, so only its owner can
    /// connect; a stale socket file there (nothing listening) is replaced, anything else
    /// there is refused and left as it is; removed when the proxy stops.
    Unix(PathBuf),
}

impl From<SocketAddr> for Listen {
    fn from(addr: SocketAddr) -> Self {
        Listen::Tcp(addr)
    }
}

impl Listen {
    /// The proxy's origin for clients: `http://127.0.0.1:PORT` (a loopback address in place
    /// of an unspecified one), or for a socket `http://localhost`, the `Host` a client sends
    /// through it.
    pub fn url(&self) -> String {
        match self {
            Listen::Tcp(addr) => {
                let ip = match addr.ip() {
                    IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                    ip => ip,
                };
                format!("http://{}", SocketAddr::new(ip, addr.port()))
            }
            Listen::Unix(_) => "http://localhost".to_owned(),
        }
    }
}

/// `127.0.0.1:PORT`, or `unix:PATH`, as `--listen` takes it.
impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "{addr}"),
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// An accepted connection, whichever kind.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A bound listener; a socket file goes away with it.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Socket(SocketListener),
}

impl Listener {
    /// Binds `at`; gives the listener and where it is (the port TCP took).
    ///
    /// # Errors
    /// [`Error::Listen`] with the system's reason; for a socket also
    /// [`Error::SocketInUse`], [`Error::NotASocket`] and [`Error::UnixSocketUnsupported`].
    pub(crate) async fn bind(at: &Listen) -> Result<(Listener, Listen)> {
        match at {
            Listen::Tcp(addr) => {
                let failed = |e: io::Error| Error::Listen {
                    addr: at.to_string(),
                    reason: e.to_string(),
                };
                let listener = TcpListener::bind(addr).await.map_err(failed)?;
                let bound = listener.local_addr().map_err(failed)?;
                Ok((Listener::Tcp(listener), Listen::Tcp(bound)))
            }
            Listen::Unix(path) => {
                let listener = SocketListener::bind(path).await?;
                Ok((Listener::Socket(listener), at.clone()))
            }
        }
    }

    /// The next connection.
    pub(crate) async fn accept(&self) -> io::Result<Box<dyn Io>> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, _) = listener.accept().await?;
                Ok(Box::new(stream))
            }
            Listener::Socket(listener) => listener.accept().await,
        }
    }
}
