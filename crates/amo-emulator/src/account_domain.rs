//! The account moved: a rename control that serves the account on a new address, and
//! `GET /oauth2/account/current/subdomain`, which says where it is now.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::problem::Problem;
use crate::shared::Shared;

/// The address one listener serves (`127.0.0.1:PORT`).
#[derive(Debug, Clone)]
pub struct Here(pub String);

/// Whether the account no longer answers at `here`: it was renamed to another address.
pub fn moved_away(shared: &Shared, here: &Here) -> bool {
    let st = shared.lock();
    let current = st
        .moved_to
        .as_deref()
        .unwrap_or(&shared.settings.account_host);
    current != here.0
}

/// `GET /oauth2/account/current/subdomain` with `X-Refresh-Token`: the account's current
/// address as `{id, subdomain, domain, top_level_domain}`; 401 for a token it never issued.
pub async fn current_subdomain(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get("x-refresh-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let st = shared.lock();
    if token.is_empty() || !st.knows_refresh(token) {
        return Problem::api_unauthorized().into_response();
    }
    let domain = st
        .moved_to
        .clone()
        .unwrap_or_else(|| shared.settings.account_host.clone());
    Json(json!({
        "id": shared.settings.account_id,
        "subdomain": domain.split(['.', ':']).next().unwrap_or(""),
        "domain": domain,
        "top_level_domain": "ru",
    }))
    .into_response()
}
