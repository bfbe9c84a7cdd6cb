//! What goes each way besides the body: the headers sent on to amoCRM and the ones passed
//! back, links to the account pointed back at the proxy, and the proxy's own answers in
//! `application/problem+json`.

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use url::Url;

use super::body::{self, Body, Redactor};
use super::guard::Refusal;
use super::upstream::Forwarded;
use crate::error::Error;
use crate::i18n::Lang;

pub(crate) type Answer = Response<Body>;

/// The largest JSON answer read whole to point its links back at the proxy; a larger one
/// streams through as it came.
const MAX_JSON: usize = 16 * 1024 * 1024;
/// How long a client told to wait for a rate slot should wait before asking again.
const BUSY_RETRY_SECS: u32 = 5;

/// Headers that concern one connection only (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Request headers not sent on: the proxy's own (its address, the key), what names the
/// client or a page, the body's length (set again), and any encoding but identity, which
/// would keep links from being pointed back at the proxy.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "authorization",
    "proxy-authorization",
    "cookie",
    "origin",
    "referer",
    "user-agent",
    "accept-encoding",
    "content-length",
    "expect",
    "forwarded",
    "x-real-ip",
];

/// Answer headers not passed back: a cookie or a challenge of amoCRM's site, and what it
/// says of its own address (another protocol, HTTPS only), which the proxy's is not.
const NOT_RETURNED: &[&str] = &[
    "set-cookie",
    "www-authenticate",
    "proxy-authenticate",
    "alt-svc",
    "strict-transport-security",
];

/// The names a `Connection` header lists, which are hop-by-hop too.
fn connection_named(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The client's headers that go on to amoCRM (the token is added by the sender).
pub(crate) fn request_headers(headers: &HeaderMap) -> HeaderMap {
    let named = connection_named(headers);
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        let dropped = HOP_BY_HOP.contains(&n)
            || NOT_FORWARDED.contains(&n)
            || n.starts_with("x-forwarded-")
            || n.starts_with("sec-")
            || named.iter().any(|c| c == n);
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Where links go: addresses on the account become the same path on the proxy.
pub(crate) struct Links {
    /// The account's root address (`https://example.amocrm.ru/`).
    pub(crate) account: Url,
    /// The proxy's origin as the client named it (`http://127.0.0.1:PORT`).
    pub(crate) proxy: String,
}

impl Links {
    /// `href` on the proxy, when it is an address on the account.
    pub(crate) fn rewrite(&self, href: &str) -> Option<String> {
        let url = Url::parse(href).ok()?;
        if url.origin() != self.account.origin()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return None;
        }
        Some(format!(
            "{}{}",
            self.proxy,
            &url[url::Position::BeforePath..]
        ))
    }

    /// Points every `_links.*.href` in `doc` (at any depth, one link or a list of them)
    /// that names the account at the proxy instead; true when one changed.
    pub(crate) fn rewrite_json(&self, doc: &mut Value) -> bool {
        let mut changed = false;
        match doc {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key == "_links" {
                        if let Value::Object(links) = value {
                            for link in links.values_mut() {
                                changed |= self.rewrite_link(link);
                            }
                        }
                    } else {
                        changed |= self.rewrite_json(value);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    changed |= self.rewrite_json(item);
                }
            }
            _ => {}
        }
        changed
    }

    fn rewrite_link(&self, link: &mut Value) -> bool {
        match link {
            Value::Array(list) => list.iter_mut().fold(false, |c, l| self.rewrite_link(l) | c),
            Value::Object(map) => {
                let new = map
                    .get("href")
                    .and_then(Value::as_str)
                    .and_then(|h| self.rewrite(h));
                match new {
                    Some(href) => {
                        map.insert("href".into(), Value::String(href));
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }
}

/// amoCRM's answer, passed back: its status, its end-to-end headers (`Location` on the
/// account pointed back at the proxy, any header holding a token dropped), and its body
/// with the token masked; a JSON body is read whole to point its links at the proxy, any
/// other streams through.
pub(crate) async fn relay(sent: Forwarded, links: &Links, head: bool, lang: Lang) -> Answer {
    let Forwarded { mut resp, held } = sent;
    let token = held.set.access_token.expose().to_owned();
    let refresh = held
        .set
        .refresh_token
        .as_ref()
        .map(|r| r.expose().to_owned())
        .unwrap_or_default();
    let secrets = [token.as_str(), refresh.as_str()];
    let status = resp.status();
    let mut headers = answer_headers(resp.headers(), &secrets, links);
    let mut builder = Response::builder().status(status);
    let no_body = head
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational();
    if no_body {
        if !head {
            headers.remove(header::CONTENT_LENGTH);
        }
        *builder.headers_mut().expect("a valid status") = headers;
        return builder.body(Body::empty()).unwrap_or_else(|_| internal());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    let small = resp.content_length().is_none_or(|n| n <= MAX_JSON as u64);
    let mut read = Vec::new();
    if json && small {
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    read.extend_from_slice(&chunk);
                    if read.len() > MAX_JSON {
                        break;
                    }
                }
                Ok(None) => {
                    let mut bytes = read;
                    if let Ok(mut doc) = serde_json::from_slice::<Value>(&bytes) {
                        if links.rewrite_json(&mut doc) {
                            bytes = serde_json::to_vec(&doc).unwrap_or(bytes);
                        }
                    }
                    headers.remove(header::CONTENT_LENGTH);
                    *builder.headers_mut().expect("a valid status") = headers;
                    let bytes = Redactor::new(&secrets).all(&bytes);
                    return builder
                        .body(Body::full(bytes))
                        .unwrap_or_else(|_| internal());
                }
                Err(e) => return failure(&Error::from(e), lang),
            }
        }
    }
    *builder.headers_mut().expect("a valid status") = headers;
    let body = body::stream(resp, read, Redactor::new(&secrets));
    builder.body(body).unwrap_or_else(|_| internal())
}

/// amoCRM's headers as they go back to the client.
fn answer_headers(headers: &HeaderMap, secrets: &[&str], links: &Links) -> HeaderMap {
    let named = connection_named(headers);
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || NOT_RETURNED.contains(&n)
            || named.iter().any(|c| c == n)
            || body::contains_any(value.as_bytes(), secrets)
        {
            continue;
        }
        let value = if *name == header::LOCATION {
            let moved = value.to_str().ok().and_then(|v| links.rewrite(v));
            match moved.and_then(|v| HeaderValue::from_str(&v).ok()) {
                Some(v) => v,
                None => value.clone(),
            }
        } else {
            value.clone()
        };
        out.append(name.clone(), value);
    }
    out
}

/// A problem+json answer of the proxy's own.
fn problem(
    status: u16,
    kind: &str,
    title: &str,
    detail: &str,
    extra: &[(HeaderName, &str)],
) -> Answer {
    let body = json!({
        "type": "about:blank",
        "status": status,
        "title": title,
        "detail": detail,
        "kind": kind,
    });
    problem_with(status, body, extra)
}

fn problem_with(status: u16, body: Value, extra: &[(HeaderName, &str)]) -> Answer {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/problem+json")
        .header(header::CACHE_CONTROL, "no-store");
    for (name, value) in extra {
        builder = builder.header(name, *value);
    }
    builder
        .body(Body::full(body.to_string()))
        .unwrap_or_else(|_| internal())
}

/// The answer to a request the gate refused; nothing of it went anywhere.
pub(crate) fn refusal(r: Refusal, lang: Lang) -> Answer {
    let kind = r.kind();
    let title = lang.tr(&format!("proxy.{kind}"), &[]);
    let detail = lang.tr(&format!("proxy.{kind}_fix"), &[]);
    let extra: &[(HeaderName, &str)] = match r {
        Refusal::NoKey | Refusal::WrongKey => &[(header::WWW_AUTHENTICATE, "Bearer")],
        Refusal::ReadOnly => &[(header::ALLOW, "GET, HEAD")],
        Refusal::Method => &[(header::ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE")],
        Refusal::TooLarge | Refusal::Body => &[(header::CONNECTION, "close")],
        _ => &[],
    };
    problem(r.status(), kind, &title, &detail, extra)
}

/// 503: no rate slot came in time; the client may ask again after `Retry-After`.
pub(crate) fn busy(lang: Lang) -> Answer {
    let secs = BUSY_RETRY_SECS.to_string();
    let title = lang.tr("proxy.busy", &[]);
    let detail = lang.tr("proxy.busy_fix", &[("secs", &secs)]);
    problem(
        503,
        "busy",
        &title,
        &detail,
        &[(header::RETRY_AFTER, &secs)],
    )
}

/// 502: the engine could not make the call (the connection must be made again, amoCRM
/// cannot be reached, …), told as `amo` tells it, with what to do.
pub(crate) fn failure(e: &Error, lang: Lang) -> Answer {
    let mut title = e.message(lang);
    if let Error::Amo(p) = e {
        title.push_str(&format!(" [amoCRM: {}]", crate::error::amo_said(p)));
    }
    let mut body = json!({
        "type": "about:blank",
        "status": 502,
        "title": title,
        "detail": e.fix(lang),
        "kind": e.kind(),
    });
    if let Error::Amo(p) = e {
        body["amo"] = json!(p);
    }
    problem_with(502, body, &[])
}

fn internal() -> Answer {
    let mut answer = Response::new(Body::empty());
    *answer.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    answer
}
