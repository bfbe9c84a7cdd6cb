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

/// What one listener serves: its address (`127.0.0.1:PORT`) and its account (by index).
#[derive(Debug, Clone)]
pub struct Here {
    pub host: String,
    pub account: usize,
}

/// Where account `account` (by index) answers now.
pub fn current_host(shared: &Shared, account: usize) -> String {
    shared
        .lock()
        .moved_to
        .get(&account)
        .cloned()
        .unwrap_or_else(|| shared.settings.accounts[account].info.host.clone())
}

/// Whether the account no longer answers at `here`: it was renamed to another address.
pub fn moved_away(shared: &Shared, here: &Here) -> bool {
    current_host(shared, here.account) != here.host
}

/// `GET /oauth2/account/current/subdomain` with `X-Refresh-Token`: the account's current
/// address as `{id, subdomain, domain, top_level_domain}`; 401 for a token it never issued.
pub async fn current_subdomain(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get("x-refresh-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let Some(account) = shared.lock().refresh_account(token) else {
        return Problem::api_unauthorized().into_response();
    };
    let domain = current_host(&shared, account);
    Json(json!({
        "id": shared.settings.accounts[account].info.id,
        "subdomain": domain.split(['.', ':']).next().unwrap_or(""),
        "domain": domain,
        "top_level_domain": "ru",
    }))
    .into_response()
}
