//! What a request must be before anything of it goes to amoCRM: addressed to the proxy
//! itself (its own `Host`, a plain path), made by no web page (no `Origin`), with the key,
//! by a method the proxy forwards, to a path without dot segments or backslashes.

use std::net::IpAddr;

use super::listen::Listen;

use hyper::{header, HeaderMap, Method, Uri};

use super::key::ProxyKey;

/// Why a request is refused. Nothing of a refused request is sent anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A `Host` other than the proxy's own address: a page on another name that resolves
    /// to this machine (DNS rebinding), or a client that mistook the proxy for another;
    /// through a socket, anything but `localhost`.
    WrongHost,
    /// An `Origin` header: a request made by a web page.
    FromPage,
    NoKey,
    WrongKey,
    /// Not GET or HEAD, on a read-only proxy.
    ReadOnly,
    /// A method the API has no use for (CONNECT, TRACE, OPTIONS, …).
    Method,
    /// A target that is not a plain path: absolute form, `*`, `//`, dot segments (plain or
    /// percent-encoded), backslashes.
    Target,
    /// A body past the limit.
    TooLarge,
    /// A body that could not be read whole in time.
    Body,
}

impl Refusal {
    pub(crate) fn status(self) -> u16 {
        match self {
            Refusal::WrongHost | Refusal::Target | Refusal::Body => 400,
            Refusal::FromPage => 403,
            Refusal::NoKey | Refusal::WrongKey => 401,
            Refusal::ReadOnly | Refusal::Method => 405,
            Refusal::TooLarge => 413,
        }
    }

    /// Its name in answers and in the catalogue (`proxy.<kind>`).
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Refusal::WrongHost => "wrong_host",
            Refusal::FromPage => "from_page",
            Refusal::NoKey => "no_key",
            Refusal::WrongKey => "wrong_key",
            Refusal::ReadOnly => "read_only",
            Refusal::Method => "method",
            Refusal::Target => "target",
            Refusal::TooLarge => "too_large",
            Refusal::Body => "body",
        }
    }
}

/// What a request passes: where the proxy listens, its key, whether it only reads.
pub(crate) struct Gate {
    /// Where it listens (the port it took, or its socket file).
    pub(crate) at: Listen,
    pub(crate) key: ProxyKey,
    pub(crate) read_only: bool,
}

/// A request the gate let through.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Admitted {
    /// The `Host` it named (the proxy's own address, lower case; through a socket,
    /// `localhost`): links in answers point back there.
    pub(crate) host: String,
    /// Its path and query, as it came.
    pub(crate) target: String,
}

impl Gate {
    /// Checks, in this order, `Host`, `Origin`, the key, the method and the target.
    pub(crate) fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<Admitted, Refusal> {
        let host = self.own_host(headers).ok_or(Refusal::WrongHost)?;
        if headers.contains_key(header::ORIGIN) {
            return Err(Refusal::FromPage);
        }
        self.check_key(headers)?;
        self.check_method(method)?;
        let target = plain_target(uri).ok_or(Refusal::Target)?;
        Ok(Admitted { host, target })
    }

    /// The one `Host` header, when it names this proxy. On TCP: an IP literal it listens
    /// on (any, when it listens on all addresses) or `localhost` for a loopback proxy, with
    /// its port; a name that DNS answers could point here is never one of them. Through a
    /// socket: `localhost`, with any port or none, which is what curl (`--unix-socket` with
    /// `http://localhost/…`), Node (`socketPath`) and Docker clients send. No browser
    /// reaches a socket, so no page can rebind a name to it; one name still keeps out a
    /// request meant for another server that something forwards here.
    fn own_host(&self, headers: &HeaderMap) -> Option<String> {
        let mut all = headers.get_all(header::HOST).iter();
        let value = all.next()?;
        if all.next().is_some() {
            return None;
        }
        let host = value.to_str().ok()?.to_ascii_lowercase();
        let addr = match &self.at {
            Listen::Tcp(addr) => addr,
            Listen::Unix(_) => {
                let name = split_host_port(&host).map_or(host.as_str(), |(name, _)| name);
                return (name == "localhost").then_some(host);
            }
        };
        let (name, port) = split_host_port(&host)?;
        if port != addr.port() {
            return None;
        }
        let ours = addr.ip();
        let named = if name == "localhost" {
            ours.is_loopback() || ours.is_unspecified()
        } else {
            let ip: IpAddr = name.parse().ok()?;
            // An IPv6 literal comes in brackets, an IPv4 one without.
            let bracketed = host.starts_with('[');
            bracketed == ip.is_ipv6() && (ours.is_unspecified() || ip == ours)
        };
        named.then_some(host)
    }

    /// `Authorization: Bearer KEY`, once, with this proxy's key.
    fn check_key(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut all = headers.get_all(header::AUTHORIZATION).iter();
        let value = all.next().ok_or(Refusal::NoKey)?;
        if all.next().is_some() {
            return Err(Refusal::WrongKey);
        }
        let value = value.to_str().map_err(|_| Refusal::WrongKey)?;
        let (scheme, given) = value.trim().split_once(' ').ok_or(Refusal::WrongKey)?;
        if scheme.eq_ignore_ascii_case("bearer") && self.key.matches(given.trim()) {
            Ok(())
        } else {
            Err(Refusal::WrongKey)
        }
    }

    fn check_method(&self, method: &Method) -> Result<(), Refusal> {
        match *method {
            Method::GET | Method::HEAD => Ok(()),
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE if self.read_only => {
                Err(Refusal::ReadOnly)
            }
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE => Ok(()),
            _ => Err(Refusal::Method),
        }
    }
}

/// `host` split into its name (an IPv6 literal without brackets) and port; `None` without
/// a port.
fn split_host_port(host: &str) -> Option<(&str, u16)> {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            (v6, after.strip_prefix(':')?)
        }
        None => host.rsplit_once(':')?,
    };
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, port.parse().ok()?))
}

/// The target as a plain path (and query) on the proxy: origin form, one leading `/`, no
/// backslash, no `.` or `..` segment however encoded. The upstream checks it once more
/// against the account's address ([`crate::api::api_url`]).
fn plain_target(uri: &Uri) -> Option<String> {
    if uri.scheme().is_some() || uri.authority().is_some() {
        return None;
    }
    let target = uri.path_and_query()?.as_str();
    if !target.starts_with('/') || target.starts_with("//") {
        return None;
    }
    let path = target.split('?').next().unwrap_or("");
    if path.contains('\\') || has_dot_segment(path) {
        return None;
    }
    Some(target.to_owned())
}

/// Whether a segment of `path` is `.` or `..`, written plainly or with `%2e`.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let plain = segment.to_ascii_lowercase().replace("%2e", ".");
        plain == "." || plain == ".."
    })
}
