//! The `/_emulator/...` control endpoints tests use to look inside and steer the emulator.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::account_domain::Here;
use crate::faults::Fault;
use crate::shared::Shared;
use crate::state::{Grantee, Revoke};

#[derive(Deserialize)]
struct DenyBody {
    deny: bool,
}

#[derive(Deserialize)]
struct ClockBody {
    advance_secs: i64,
}

#[derive(Deserialize)]
struct RevokeBody {
    what: Revoke,
}

#[derive(Deserialize)]
struct LongLivedBody {
    #[serde(default = "default_days")]
    days: u32,
}

fn default_days() -> u32 {
    365
}

/// Reads a JSON body whatever its content type (an empty body reads as `{}`) and hands
/// it to `answer`; a body that does not fit is a 400 `{"error"}` naming what was wrong.
fn with_body<T: DeserializeOwned>(body: &[u8], answer: impl FnOnce(T) -> Response) -> Response {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    match serde_json::from_slice(body) {
        Ok(parsed) => answer(parsed),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// `GET /_emulator/stats` → the counters.
pub async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().stats.clone()).into_response()
}

/// `POST /_emulator/fault` `{"target","kind","times"?,"delay_ms"?}` → `{"ok","pending_faults"}`.
pub async fn fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |fault: Fault| {
        let mut st = shared.lock();
        st.faults.push(fault);
        Json(json!({ "ok": true, "pending_faults": st.faults.pending() })).into_response()
    })
}

/// `DELETE /_emulator/fault` → `{"ok","pending_faults":0}`: drops every pending fault.
pub async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().faults.clear();
    Json(json!({ "ok": true, "pending_faults": 0 })).into_response()
}

/// `POST /_emulator/deny` `{"deny":bool}` → `{"ok","deny"}`.
pub async fn deny(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: DenyBody| {
        shared.lock().deny = b.deny;
        Json(json!({ "ok": true, "deny": b.deny })).into_response()
    })
}

/// `POST /_emulator/clock` `{"advance_secs":N}` → `{"ok","offset_secs","now"}`.
pub async fn clock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: ClockBody| {
        let mut st = shared.lock();
        let offset = st.advance_clock(b.advance_secs);
        Json(json!({ "ok": true, "offset_secs": offset, "now": st.now() })).into_response()
    })
}

/// `POST /_emulator/revoke` `{"what":"refresh"|"access"|"long-lived"|"all"}` →
/// `{"ok","revoked":N}`.
pub async fn revoke(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: RevokeBody| {
        let n = shared.lock().revoke(b.what);
        Json(json!({ "ok": true, "revoked": n })).into_response()
    })
}

/// `POST /_emulator/long-lived-token` `{"days":N}` → `{"token","expires_at"}`: a token of
/// the first integration for the account of the listener asked.
pub async fn long_lived_token(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    body: Bytes,
) -> Response {
    with_body(&body, |b: LongLivedBody| {
        let to = Grantee {
            account: here.account,
            integration: 0,
        };
        let (token, expires_at) = shared.lock().issue_long_lived(&shared.settings, to, b.days);
        Json(json!({ "token": token, "expires_at": expires_at })).into_response()
    })
}

#[derive(Deserialize)]
struct LeadsBody {
    count: u32,
}

#[derive(Deserialize)]
struct AccessTtlBody {
    secs: i64,
}

/// `POST /_emulator/leads` `{"count":N}` → `{"ok","leads"}`: how many leads the list holds.
pub async fn leads(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: LeadsBody| {
        shared.lock().leads = b.count;
        Json(json!({ "ok": true, "leads": b.count })).into_response()
    })
}

#[derive(Deserialize)]
struct NextLinkBody {
    href: Option<String>,
}

#[derive(Deserialize)]
struct RedirectBody {
    location: String,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

/// `POST /_emulator/next-link` `{"href":"..."|null}` → `{"ok","href"}`: the next link leads
/// pages give from now on (`null`: their own again).
pub async fn next_link(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: NextLinkBody| {
        shared.lock().next_link = b.href.clone();
        Json(json!({ "ok": true, "href": b.href })).into_response()
    })
}

/// `POST /_emulator/redirect` `{"location","times"?}` → `{"ok"}`: the next `times` API
/// requests (default 1) are answered `302 Found` to `location`.
pub async fn redirect(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: RedirectBody| {
        shared.lock().redirect = Some((b.location, b.times.max(1)));
        Json(json!({ "ok": true })).into_response()
    })
}

/// `POST /_emulator/access-ttl` `{"secs":N}` → `{"ok","secs"}`: the lifetime of access
/// tokens issued from now on.
pub async fn access_ttl(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: AccessTtlBody| {
        shared.lock().access_ttl = Some(b.secs.max(1));
        Json(json!({ "ok": true, "secs": b.secs.max(1) })).into_response()
    })
}

#[derive(Deserialize)]
struct SelectAccountBody {
    account: Option<usize>,
}

/// `POST /_emulator/select-account` `{"account":N|null}` → `{"ok","account","account_host"}`:
/// the account (by number, from 1) the authorize step grants from now on when its request
/// names none (`null`: the account of the listener reached again); 404 `{"error"}` for a
/// number no account has.
pub async fn select_account(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    with_body(&body, |b: SelectAccountBody| {
        let index = match b.account {
            None => None,
            Some(n) => match shared.settings.account_number(n) {
                Some(i) => Some(i),
                None => {
                    let error = format!("no account {n}");
                    return (StatusCode::NOT_FOUND, Json(json!({ "error": error })))
                        .into_response();
                }
            },
        };
        shared.lock().selected_account = index;
        let host = index.map(|i| shared.settings.accounts[i].info.host.clone());
        Json(json!({ "ok": true, "account": b.account, "account_host": host })).into_response()
    })
}
