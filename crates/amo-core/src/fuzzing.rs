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

/// The `exp` claim of anything that looks like a JWT: a time read from the input is the
/// time a token carrying that `exp` reads as, and a token built with an `exp` taken from the
/// input's first bytes (beside a claim holding the whole input) reads as exactly that time.
pub fn jwt_expiry(token: &str) {
    use crate::token_endpoint::jwt_expiry;
    if let Some(at) = jwt_expiry(token) {
        assert_eq!(
            jwt_expiry(&jwt_with(at.timestamp(), "")),
            Some(at),
            "{token:?}"
        );
    }
    let mut first = [0u8; 8];
    first
        .iter_mut()
        .zip(token.bytes())
        .for_each(|(b, c)| *b = c);
    // Seconds within the years 9999 BC to AD 9999, all of which chrono keeps.
    let exp = i64::from_le_bytes(first) % 253_402_300_800;
    let expected = chrono::DateTime::from_timestamp(exp, 0).expect("a time chrono keeps");
    let built = jwt_with(exp, token);
    assert_eq!(jwt_expiry(&built), Some(expected), "{built}");
}

/// A JWT shaped like amoCRM's whose claims are `exp` and `x` (holding `extra`).
fn jwt_with(exp: i64, extra: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let claims = serde_json::json!({ "exp": exp, "x": extra });
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
    )
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
    use std::collections::BTreeSet;
    use std::path::Path;

    /// A target fed its input as the target's `fuzz_target!` takes it.
    type Target = fn(&[u8]);

    /// Every target, by its name in `fuzz/Cargo.toml`; one that takes text never sees a seed
    /// that is not UTF-8.
    const TARGETS: [(&str, Target); 7] = [
        ("request_head", super::request_head),
        ("callback", |d| super::callback(text(d))),
        ("referer", |d| super::referer_host(text(d))),
        ("pasted_url", |d| super::pasted_url(text(d))),
        ("jwt_expiry", |d| super::jwt_expiry(text(d))),
        ("token_answer", super::token_answer),
        ("api_path", |d| super::api_path(text(d))),
    ];

    fn text(data: &[u8]) -> &str {
        std::str::from_utf8(data).expect("a seed of a target that takes text is UTF-8")
    }

    /// The `[[bin]]` names of the fuzz crate's manifest.
    fn bins(manifest: &str) -> BTreeSet<&str> {
        let mut in_bin = false;
        let mut names = BTreeSet::new();
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if let Some(value) = line.strip_prefix("name = ").filter(|_| in_bin) {
                names.insert(value.trim_matches('"'));
            }
        }
        names
    }

    /// Every target runs over every file of `fuzz/seeds/<target>/`, so that a broken target
    /// or seed shows in CI; a target with no seeds there fails.
    #[test]
    fn every_target_takes_its_seeds() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
        let named: BTreeSet<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        assert_eq!(bins(&manifest), named, "the targets of fuzz/Cargo.toml");
        for (name, target) in TARGETS {
            let dir = fuzz.join("seeds").join(name);
            let seeds: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{name}: no seeds at {}: {e}", dir.display()))
                .map(|entry| entry.unwrap().path())
                .collect();
            assert!(!seeds.is_empty(), "{name}: {} is empty", dir.display());
            for seed in seeds {
                eprintln!("{name}: {}", seed.display());
                target(&std::fs::read(&seed).unwrap());
            }
        }
    }

    /// Inputs beside the seeds: edge cases, and what the fuzzer found.
    #[test]
    fn the_targets_take_their_edge_cases() {
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
        // An `exp` past every time chrono keeps, and first bytes that make a negative `exp`.
        super::jwt_expiry("e30.eyJleHAiOjkyMjMzNzIwMzY4NTQ3NzU4MDd9.");
        super::jwt_expiry("\u{ff}\u{ff}\u{ff}\u{ff}");
        super::token_answer(
            b"\x00\x00{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expires_in\":86400}",
        );
        // An expiry no clock can hold must not overflow when it is added to the time of day.
        super::token_answer(b"\x00\x00{\"access_token\":\"a\",\"expires_in\":9223372036854775807}");
        super::token_answer(b"\x04\x01{\"title\":\"Bad\",\"hint\":\"Token has been revoked\"}");
    }
}
