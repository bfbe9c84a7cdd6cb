use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Uri};

use super::answer::{request_headers, Links};
use super::body::Redactor;
use super::guard::{Gate, Refusal};
use super::key::ProxyKey;
use super::listen::Listen;

fn gate(addr: &str, read_only: bool) -> Gate {
    Gate {
        at: Listen::Tcp(addr.parse().unwrap()),
        key: ProxyKey::generate().unwrap(),
        read_only,
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn check(g: &Gate, method: &str, target: &str, extra: &[(&str, &str)]) -> Result<String, Refusal> {
    let bearer = format!("Bearer {}", g.key.expose());
    let mut pairs = vec![
        ("host", "127.0.0.1:8080"),
        ("authorization", bearer.as_str()),
    ];
    for (k, v) in extra {
        pairs.retain(|(n, _)| n != k);
        pairs.push((k, v));
    }
    let uri: Uri = target.parse().map_err(|_| Refusal::Target)?;
    g.check(
        &Method::from_bytes(method.as_bytes()).unwrap(),
        &uri,
        &headers(&pairs),
    )
    .map(|a| a.target)
}

#[test]
fn keys_are_long_random_and_redacted() {
    let (a, b) = (ProxyKey::generate().unwrap(), ProxyKey::generate().unwrap());
    assert_eq!(a.expose().len(), 43, "32 bytes in base64url");
    assert!(!a.matches(b.expose()));
    assert!(a.matches(a.expose()));
    assert_eq!(format!("{a:?}"), "ProxyKey([redacted])");
}

#[test]
fn a_plain_request_with_the_key_passes() {
    let g = gate("127.0.0.1:8080", false);
    assert_eq!(
        check(&g, "GET", "/api/v4/leads?page=2", &[]),
        Ok("/api/v4/leads?page=2".into())
    );
    assert!(check(&g, "PATCH", "/api/v4/leads", &[]).is_ok());
    assert!(check(&g, "GET", "/api/v4/x", &[("host", "localhost:8080")]).is_ok());
}

#[test]
fn only_the_proxys_own_host_is_answered() {
    let g = gate("127.0.0.1:8080", false);
    for host in [
        "evil.example:8080",
        "127.0.0.1",
        "127.0.0.1:8081",
        "127.0.0.2:8080",
        "127.1:8080",
        "[::1]:8080",
        "localhost.evil.example:8080",
        "127.0.0.1:8080@evil",
        "",
    ] {
        assert_eq!(
            check(&g, "GET", "/api/v4/account", &[("host", host)]),
            Err(Refusal::WrongHost),
            "{host}"
        );
    }
    let any = gate("0.0.0.0:8080", false);
    assert!(check(&any, "GET", "/api/v4/x", &[("host", "192.168.1.5:8080")]).is_ok());
    assert_eq!(
        check(&any, "GET", "/api/v4/x", &[("host", "rebind.example:8080")]),
        Err(Refusal::WrongHost)
    );
    let v6 = gate("[::1]:8080", false);
    assert!(check(&v6, "GET", "/api/v4/x", &[("host", "[::1]:8080")]).is_ok());
}

#[test]
fn through_a_socket_only_localhost_is_answered_and_pages_still_are_not() {
    let g = Gate {
        at: Listen::Unix("/run/user/1000/amo.sock".into()),
        key: ProxyKey::generate().unwrap(),
        read_only: false,
    };
    let bearer = format!("Bearer {}", g.key.expose());
    let uri: Uri = "/api/v4/account".parse().unwrap();
    let ask = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("authorization", bearer.as_str())];
        pairs.extend_from_slice(extra);
        g.check(&Method::GET, &uri, &headers(&pairs))
            .map(|a| a.host)
    };
    for host in ["localhost", "LOCALHOST", "localhost:80", "localhost:8080"] {
        assert_eq!(
            ask(&[("host", host)]),
            Ok(host.to_ascii_lowercase()),
            "{host}"
        );
    }
    for host in [
        "127.0.0.1",
        "127.0.0.1:80",
        "[::1]:80",
        "docker",
        "localhost.evil.example",
        "localhost:",
        "localhost:x",
        "%2Frun%2Fuser%2F1000%2Famo.sock",
        "",
    ] {
        assert_eq!(ask(&[("host", host)]), Err(Refusal::WrongHost), "{host}");
    }
    assert_eq!(ask(&[]), Err(Refusal::WrongHost), "no Host");
    assert_eq!(
        ask(&[("host", "localhost"), ("host", "localhost")]),
        Err(Refusal::WrongHost),
        "two"
    );
    assert_eq!(
        ask(&[("host", "localhost"), ("origin", "http://localhost")]),
        Err(Refusal::FromPage)
    );
}

#[test]
fn a_socket_is_reached_at_http_localhost() {
    let socket = Listen::Unix("/tmp/amo.sock".into());
    assert_eq!(socket.url(), "http://localhost");
    assert_eq!(socket.to_string(), "unix:/tmp/amo.sock");
    let any = Listen::Tcp("0.0.0.0:8080".parse().unwrap());
    assert_eq!(any.url(), "http://127.0.0.1:8080");
    assert_eq!(any.to_string(), "0.0.0.0:8080");
}

#[test]
fn pages_keys_and_methods_are_refused() {
    let g = gate("127.0.0.1:8080", true);
    let t = "/api/v4/account";
    let origin = [("origin", "http://127.0.0.1:8080")];
    assert_eq!(check(&g, "GET", t, &origin), Err(Refusal::FromPage));
    assert_eq!(
        check(&g, "GET", t, &[("authorization", "Bearer nope")]),
        Err(Refusal::WrongKey)
    );
    let mut no_key = headers(&[("host", "127.0.0.1:8080")]);
    let uri: Uri = t.parse().unwrap();
    assert_eq!(
        g.check(&Method::GET, &uri, &no_key).unwrap_err(),
        Refusal::NoKey
    );
    no_key.append("authorization", HeaderValue::from_static("Basic abc"));
    assert_eq!(
        g.check(&Method::GET, &uri, &no_key).unwrap_err(),
        Refusal::WrongKey
    );
    assert_eq!(check(&g, "POST", t, &[]), Err(Refusal::ReadOnly));
    assert_eq!(check(&g, "DELETE", t, &[]), Err(Refusal::ReadOnly));
    assert!(check(&g, "HEAD", t, &[]).is_ok());
    assert_eq!(check(&g, "TRACE", t, &[]), Err(Refusal::Method));
}

#[test]
fn targets_other_than_a_plain_path_are_refused() {
    let g = gate("127.0.0.1:8080", false);
    for target in [
        "http://127.0.0.1:9/api/v4/account",
        "//127.0.0.1:9/api/v4/account",
        "/api/v4/../../x",
        "/api/v4/%2e%2e/x",
        "/api/v4/%2E./x",
        "/api/./v4",
        "*",
    ] {
        assert_eq!(
            check(&g, "GET", target, &[]),
            Err(Refusal::Target),
            "{target}"
        );
    }
    assert!(check(&g, "GET", "/api/v4/leads?query=a..b", &[]).is_ok());
}

#[test]
fn hop_by_hop_and_the_proxys_own_headers_stay_here() {
    let h = headers(&[
        ("host", "127.0.0.1:8080"),
        ("authorization", "Bearer key"),
        ("connection", "keep-alive, x-secret"),
        ("x-secret", "1"),
        ("keep-alive", "timeout=5"),
        ("accept-encoding", "gzip"),
        ("content-type", "application/json"),
        ("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT"),
        ("x-forwarded-for", "1.2.3.4"),
    ]);
    let out = request_headers(&h);
    let names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["content-type", "if-modified-since"]);
}

#[test]
fn links_on_the_account_point_back_at_the_proxy() {
    let links = Links {
        account: url::Url::parse("https://example.amocrm.ru/").unwrap(),
        proxy: "http://127.0.0.1:8080".into(),
    };
    let mut doc = serde_json::json!({
        "_links": {
            "self": {"href": "https://example.amocrm.ru/api/v4/leads?page=1"},
            "next": {"href": "https://example.amocrm.ru/api/v4/leads?page=2&limit=5"},
            "other": {"href": "https://evil.example/api/v4/leads"},
            "list": [{"href": "https://example.amocrm.ru/a"}]
        },
        "_embedded": {"leads": [{"id": 1, "_links": {"self": {"href": "https://example.amocrm.ru/api/v4/leads/1"}}}]},
        "note": "https://example.amocrm.ru/not-a-link"
    });
    assert!(links.rewrite_json(&mut doc));
    assert_eq!(
        doc["_links"]["next"]["href"],
        "http://127.0.0.1:8080/api/v4/leads?page=2&limit=5"
    );
    assert_eq!(
        doc["_links"]["other"]["href"],
        "https://evil.example/api/v4/leads"
    );
    assert_eq!(doc["_links"]["list"][0]["href"], "http://127.0.0.1:8080/a");
    assert_eq!(
        doc["_embedded"]["leads"][0]["_links"]["self"]["href"],
        "http://127.0.0.1:8080/api/v4/leads/1"
    );
    assert_eq!(doc["note"], "https://example.amocrm.ru/not-a-link");
    assert_eq!(links.rewrite("https://user@example.amocrm.ru/x"), None);
    assert_eq!(links.rewrite("http://example.amocrm.ru/x"), None);
}

#[test]
fn the_token_is_masked_even_split_across_chunks() {
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.sig";
    let text = format!("a{token}b{token}");
    let bytes = text.as_bytes();
    for cut in 0..bytes.len() {
        let mut r = Redactor::new(&[token, ""]);
        let mut out = r.push(&bytes[..cut]).to_vec();
        out.extend_from_slice(&r.push(&bytes[cut..]));
        out.extend_from_slice(&r.finish());
        assert_eq!(out.len(), bytes.len(), "same length, cut at {cut}");
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains(token), "cut at {cut}: {out}");
        assert!(out.starts_with("a***") && out.contains("*b*"), "{out}");
    }
    assert_eq!(Redactor::new(&[]).all(b"plain"), b"plain");
}
