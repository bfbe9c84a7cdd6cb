//! Entry points for the fuzz targets in `fuzz/`: each feeds untrusted bytes to one parser
//! and checks what must hold of its answer. Not part of the engine's API.

use crate::callback::Callback;
use crate::types::AccountHost;

/// The redirect URI the listener targets check requests against.
const HOST: &str = "127.0.0.1:17563";
const PATH: &str = "/amocrm/callback";

/// A request head as the listener reads it, then the callback in its query.
pub fn request_head(data: &[u8]) {
    if let Ok(query) = crate::listener::check_request(data, HOST, PATH) {
        callback(&query);
    }
}

/// A callback's query: whatever it holds, what is kept stays within the limits.
pub fn callback(query: &str) {
    let Ok(cb) = Callback::from_query(query) else {
        return;
    };
    for (value, max) in [
        (&cb.state, 128),
        (&cb.code, 4096),
        (&cb.referer, 259),
        (&cb.error, 64),
        (&cb.client_id, 200),
    ] {
        if let Some(v) = value {
            assert!(v.len() <= max && !v.chars().any(char::is_control), "{v:?}");
        }
    }
    if let Some(referer) = &cb.referer {
        referer_host(referer);
    }
}

/// An account host as a referer or a person gives it: a host that parses is normalised,
/// parses again to itself and holds nothing but host characters.
pub fn referer_host(input: &str) {
    let Ok(host) = AccountHost::parse(input) else {
        return;
    };
    let s = host.as_str();
    assert!(
        s.len() <= 259
            && s.chars().all(|c| c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, '.' | '-' | ':')),
        "{s:?}"
    );
    assert_eq!(
        AccountHost::parse(s)
            .map(|h| h.as_str().to_owned())
            .ok()
            .as_deref(),
        Some(s)
    );
}

/// An address pasted from the browser.
pub fn pasted_url(input: &str) {
    if let Ok(cb) = crate::flow::pasted_callback(input) {
        if let Some(referer) = &cb.referer {
            referer_host(referer);
        }
    }
}

/// The `exp` claim of anything that looks like a JWT.
pub fn jwt_expiry(token: &str) {
    let _ = crate::flow::jwt_expiry(token);
}

#[cfg(test)]
mod tests {
    /// The fuzz targets' seeds, run as plain tests so that a broken target shows in CI.
    #[test]
    fn every_target_takes_its_seeds() {
        super::request_head(
            b"GET /amocrm/callback?code=c&state=s&referer=ex.amocrm.ru HTTP/1.1\r\n\
              Host: 127.0.0.1:17563\r\n\r\n",
        );
        super::request_head(b"\xff\xfe garbage\r\n\r\n");
        super::callback("referer=HTTPS://Ex.AmoCRM.ru/&state=a&code=b&x=%00");
        super::referer_host("Example.amocrm.ru.");
        // Found by the fuzzer: a port with a sign parsed, and was kept as typed.
        super::referer_host("127.81127.8060:+80");
        super::pasted_url("http://127.0.0.1:17563/amocrm/callback?code=a&state=b");
        super::jwt_expiry("eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.");
    }
}
