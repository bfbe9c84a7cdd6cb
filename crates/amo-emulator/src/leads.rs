//! `GET /api/v4/leads` with `page` and `limit`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::account_domain::Here;
use crate::shared::Shared;

/// amoCRM's largest page.
const MAX_LIMIT: u32 = 250;

#[derive(Debug, Deserialize)]
pub struct LeadsQuery {
    page: Option<u32>,
    limit: Option<u32>,
}

/// `GET /api/v4/leads?page=P&limit=N`: HAL JSON with `_embedded.leads` and `_links`, or
/// 204 with no body past the last page (and for an empty list), as amoCRM answers.
pub async fn leads(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    headers: HeaderMap,
    Query(q): Query<LeadsQuery>,
) -> Response {
    if let Err(refusal) = crate::api::guard(&shared, &here, &headers, false).await {
        return refusal;
    }
    let total = shared.lock().leads;
    let page = q.page.unwrap_or(1).max(1);
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIMIT);
    let first = (page - 1).saturating_mul(limit);
    if first >= total {
        return StatusCode::NO_CONTENT.into_response();
    }
    let last = total.min(first.saturating_add(limit));
    let items: Vec<_> = (first..last)
        .map(|i| {
            let id = 1_000_000 + u64::from(i);
            json!({ "id": id, "name": format!("Lead #{}", i + 1), "price": i * 100 })
        })
        .collect();
    let href = |p: u32| format!("http://{}/api/v4/leads?page={p}&limit={limit}", here.host);
    let mut links = json!({ "self": { "href": href(page) } });
    if last < total {
        let next = shared.lock().next_link.clone();
        links["next"] = json!({ "href": next.unwrap_or_else(|| href(page + 1)) });
    }
    if page > 1 {
        links["prev"] = json!({ "href": href(page - 1) });
    }
    Json(json!({ "_page": page, "_links": links, "_embedded": { "leads": items } })).into_response()
}
