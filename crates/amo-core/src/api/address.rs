//! Where `amo api` may send the token: a PATH on the account or the account's own address,
//! checked as written and again once joined, so every other form is refused before anything
//! is sent.

use url::Url;

use crate::error::{Error, Result};

/// The address `path` names on the account whose root is `root`, with `query` added: a
/// path on the account (`api/v4/leads`, `/api/v4/leads?limit=250`) or an address on it
/// (`https://example.amocrm.ru/api/v4/leads?page=2`, as `_links.next.href` gives).
///
/// URL parsing reads `\` as `/`, drops tabs and line breaks wherever they stand and takes
/// `//host` as another host, so a PATH is refused as written when it holds any of those
/// (or white space, or a scheme without `//`), and the address built from it is checked
/// again: the account's scheme, host and port, no user info, no encoded slash, backslash
/// or control character in its path.
///
/// # Errors
/// [`Error::ApiPathRefused`]; nothing is to be sent then.
pub(crate) fn api_url(root: &Url, path: &str, query: &[(String, String)]) -> Result<Url> {
    let refused = || Error::ApiPathRefused {
        path: shown(path),
        account: root[url::Position::BeforeHost..url::Position::AfterPort].to_owned(),
    };
    if path
        .chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return Err(refused());
    }
    let mut url = match scheme_of(path) {
        // An address: only in full (`scheme://host`), with no user info, even an empty one.
        Some(scheme) => {
            let Some(rest) = path[scheme.len()..].strip_prefix("://") else {
                return Err(refused());
            };
            if rest
                .split(['/', '?', '#'])
                .next()
                .unwrap_or("")
                .contains('@')
            {
                return Err(refused());
            }
            Url::parse(path).map_err(|_| refused())?
        }
        // A path: one leading `/` or none; `//` would name a host.
        None if path.starts_with("//") => return Err(refused()),
        None => root
            .join(&format!("/{}", path.strip_prefix('/').unwrap_or(path)))
            .map_err(|_| refused())?,
    };
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url.set_fragment(None);
    if url.origin() != root.origin()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.cannot_be_a_base()
        || encodes_separator(url.path())
    {
        return Err(refused());
    }
    Ok(url)
}

/// The scheme `path` starts with (`http` of `http:…`), if it starts with one.
fn scheme_of(path: &str) -> Option<&str> {
    let end = path.find(':')?;
    let scheme = &path[..end];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// True when `path` holds a percent-encoded `/`, `\` or control character: no amoCRM path
/// has one, and a server that decodes it may read another address.
fn encodes_separator(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && std::str::from_utf8(&w[1..])
                .ok()
                .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .is_some_and(|b| b == b'/' || b == b'\\' || b.is_ascii_control())
    })
}

/// `path` as an error shows it: at most 200 characters, control characters escaped.
fn shown(path: &str) -> String {
    path.chars()
        .take(200)
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
