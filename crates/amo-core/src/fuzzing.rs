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
    if let Ok(cb) = crate::connect::pasted_callback(input) {
        if let Some(referer) = &cb.referer {
            referer_host(referer);
        }
    }
}

/// The `exp` claim of anything that looks like a JWT.
pub fn jwt_expiry(token: &str) {
    let _ = crate::token_endpoint::jwt_expiry(token);
}

/// A token endpoint's answer: the first two bytes pick the status code and the content
/// type, the rest is the body. A token set read from it has a non-empty access token.
pub fn token_answer(data: &[u8]) {
    let [s, c, body @ ..] = data else {
        return;
    };
    let status = [200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503][*s as usize % 12];
    let ctype = [
        "application/json",
        "application/problem+json",
        "text/html",
        "",
    ][*c as usize % 4];
    let text = String::from_utf8_lossy(body);
    let Ok(value) = crate::http::interpret(status, ctype, &text) else {
        return;
    };
    if let Ok(issued) = crate::token_endpoint::token_answer(value) {
        assert!(!issued.set.access_token.expose().is_empty());
        assert!(issued
            .set
            .refresh_token
            .is_none_or(|t| !t.expose().is_empty()));
    }
}

/// A PATH for `amo api` or a `_links.next.href`, and after a NUL byte a query value: the
/// address built from it is on the account (scheme, host and port), carries no user info
/// and reads back as the same account, or the call is refused.
pub fn api_path(data: &str) {
    let (path, value) = data.split_once('\0').unwrap_or((data, ""));
    let query = if value.is_empty() {
        Vec::new()
    } else {
        vec![("query".to_owned(), value.to_owned())]
    };
    for root in ["https://example.amocrm.ru/", "http://127.0.0.1:17564/"] {
        let root = url::Url::parse(root).expect("the account's root parses");
        let Ok(url) = crate::api::api_url(&root, path, &query) else {
            continue;
        };
        assert_eq!(url.origin(), root.origin(), "{path:?} -> {url}");
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{path:?} -> {url}"
        );
        // What goes on the wire is the address as text: it names the same account again.
        let again = url::Url::parse(url.as_str()).expect("a built address parses again");
        assert_eq!(again.origin(), root.origin(), "{path:?} -> {url}");
        assert!(again.username().is_empty() && again.password().is_none());
    }
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
        super::token_answer(
            b"\x00\x00{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expires_in\":86400}",
        );
        // An expiry no clock can hold used to panic while adding it to the time of day.
        super::token_answer(b"\x00\x00{\"access_token\":\"a\",\"expires_in\":9223372036854775807}");
        super::token_answer(b"\x04\x01{\"title\":\"Bad\",\"hint\":\"Token has been revoked\"}");
        for seed in std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/seeds/api_path"
        ))
        .expect("the api_path seeds are there")
        {
            let seed = std::fs::read(seed.unwrap().path()).unwrap();
            super::api_path(&String::from_utf8_lossy(&seed));
        }
    }
}
