//! `POST /oauth2/access_token`: both grants, JSON or form bodies, never a redirect.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::Value;
use url::form_urlencoded;

use crate::account_domain::{self, Here};
use crate::faults::FaultTarget;
use crate::problem::Problem;
use crate::shared::Shared;

/// Counts the request, lets a pending fault answer instead, else decodes the body and
/// runs the grant under the lock, so rotation and reuse counting are atomic.
pub async fn access_token(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let drawn = {
        let mut st = shared.lock();
        st.stats.token_requests += 1;
        st.draw_fault(FaultTarget::Token)
    };
    if let Some(drawn) = drawn {
        tokio::time::sleep(drawn.delay).await;
        if let Some(answer) = drawn.response() {
            return answer;
        }
    }
    if account_domain::moved_away(&shared, &here) {
        shared.lock().stats.token_errors += 1;
        return Problem::account_moved().into_response();
    }
    let Some(params) = decode(&headers, &body) else {
        shared.lock().stats.token_errors += 1;
        return Problem::unsupported_grant().into_response();
    };
    let result = shared
        .lock()
        .exchange(&shared.settings, here.account, &params);
    match result {
        Ok(answer) => {
            let mut answer = serde_json::to_value(answer).expect("a token answer serialises");
            if let Some(field) = drawn.and_then(|d| d.omitted_field()) {
                if let Some(map) = answer.as_object_mut() {
                    map.remove(field);
                }
            }
            Json(answer).into_response()
        }
        Err(problem) => problem.into_response(),
    }
}

/// Reads the body as JSON or as a form, by content type (or by its first byte when the
/// type says neither). `None` when a JSON body is not an object.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let json = ctype.contains("json") || (!ctype.contains("form") && looks_json);
    if !json {
        return Some(form_urlencoded::parse(body).into_owned().collect());
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    Some(
        map.into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                Value::Null => None,
                other => Some((k, other.to_string())),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn typed(t: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
        h
    }

    #[test]
    fn decodes_form_bodies() {
        let p = decode(&typed("application/x-www-form-urlencoded"), b"a=1&b=x%2By").unwrap();
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "x+y");
    }

    #[test]
    fn decodes_json_bodies_with_or_without_type() {
        let body = br#"{"code":"c","n":5,"z":null}"#;
        for h in [typed("application/json; charset=utf-8"), HeaderMap::new()] {
            let p = decode(&h, body).unwrap();
            assert_eq!(p["code"], "c");
            assert_eq!(p["n"], "5");
            assert!(!p.contains_key("z"));
        }
    }

    #[test]
    fn refuses_json_that_is_not_an_object() {
        assert!(decode(&typed("application/json"), b"[1,2]").is_none());
        assert!(decode(&typed("application/json"), b"{broken").is_none());
    }
}
