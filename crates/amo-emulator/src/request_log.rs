//! The request log: every protocol request with its arrival time, method, path and `Host`,
//! recorded by a middleware and read back at `GET /_emulator/requests`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::shared::Shared;

/// One protocol request as it arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logged {
    /// Arrival, unix milliseconds (real time, not the emulator's clock).
    pub at_ms: u64,
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `Host` the client addressed.
    pub host: String,
}

/// Records every request except the control endpoints', then passes it on.
pub async fn log_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if !path.starts_with("/_emulator/") {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_owned();
        shared.lock().requests.push(Logged {
            at_ms,
            method: req.method().to_string(),
            path,
            host,
        });
    }
    next.run(req).await
}

/// `GET /_emulator/requests` → `{"requests":[{"at_ms","method","path","host"}...]}`.
pub async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "requests": shared.lock().requests })).into_response()
}
