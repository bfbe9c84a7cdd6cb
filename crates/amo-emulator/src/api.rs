//! The `/api/v4` side: `GET /api/v4/account` behind a Bearer token, 404 for the rest.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::account_domain::{self, Here};
use crate::faults::FaultTarget;
use crate::problem::Problem;
use crate::shared::Shared;

/// When the emulated account was created, and last changed.
const CREATED_AT: i64 = 1_600_000_000;
const UPDATED_AT: i64 = 1_700_000_000;

/// `GET /api/v4/account`'s query: `with=amojo_id,uuid,...`.
#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    with: Option<String>,
}

/// `GET /api/v4/account`.
pub async fn account(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    headers: HeaderMap,
    Query(q): Query<AccountQuery>,
) -> Response {
    if let Err(refusal) = guard(&shared, &here, &headers, true).await {
        return refusal;
    }
    let s = &shared.settings;
    let a = &s.accounts[here.account];
    let mut body = json!({
        "id": a.info.id,
        "name": a.info.name,
        "subdomain": a.subdomain,
        "created_at": CREATED_AT,
        "created_by": 0,
        "updated_at": UPDATED_AT,
        "updated_by": s.user_id,
        "current_user_id": s.user_id,
        "country": "RU",
        "currency": "RUB",
        "currency_symbol": "₽",
        "customers_mode": "disabled",
        "is_unsorted_on": true,
        "mobile_feature_version": 0,
        "is_loss_reason_enabled": true,
        "is_helpbot_enabled": false,
        "is_technical_account": false,
        "contact_name_display_order": 1,
        "amojo_id": a.amojo_id,
        "version": 11,
        "_links": { "self": { "href": format!("http://{}/api/v4/account", here.host) } },
    });
    let with = q.with.unwrap_or_default();
    if with.split(',').any(|w| w.trim() == "uuid") {
        body["uuid"] = json!(a.uuid);
    }
    Json(body).into_response()
}

/// Any other `/api/v4/...` path: 401 without a valid token, else 404.
pub async fn other(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    headers: HeaderMap,
) -> Response {
    match guard(&shared, &here, &headers, false).await {
        Err(refusal) => refusal,
        Ok(()) => Problem::api_not_found().into_response(),
    }
}

/// Counts the request, serves a pending redirect or fault, then checks the Bearer token
/// (refused at an address the account has left, and when issued for another account).
pub async fn guard(
    shared: &Shared,
    here: &Here,
    headers: &HeaderMap,
    is_account: bool,
) -> Result<(), Response> {
    let drawn = {
        let mut st = shared.lock();
        if is_account {
            st.stats.account_requests += 1;
        }
        if let Some((location, times)) = st.redirect.as_mut() {
            let answer = (StatusCode::FOUND, [(header::LOCATION, location.clone())]);
            *times -= 1;
            if *times == 0 {
                st.redirect = None;
            }
            return Err(answer.into_response());
        }
        st.draw_fault(FaultTarget::Api)
    };
    if let Some(drawn) = drawn {
        tokio::time::sleep(drawn.delay).await;
        if let Some(answer) = drawn.response() {
            return Err(answer);
        }
    }
    let token = bearer(headers);
    let moved = account_domain::moved_away(shared, here);
    let mut st = shared.lock();
    if !moved && token.is_some_and(|t| st.access_valid(t, here.account)) {
        Ok(())
    } else {
        st.stats.api_unauthorized += 1;
        Err(Problem::api_unauthorized().into_response())
    }
}

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}
