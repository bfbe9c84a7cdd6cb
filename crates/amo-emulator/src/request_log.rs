//! The request log: every protocol request with its arrival time, account, integration,
//! path and answer's status, recorded by a middleware (which also enforces the rate limits)
//! and read back at `GET /_emulator/requests`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::account_domain::Here;
use crate::problem;
use crate::ratelimit::{self, RateLimits};
use crate::shared::Shared;

/// The largest token request body read (axum's own default limit).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// One protocol request as it arrived, and the status it was answered with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logged {
    /// Arrival, unix milliseconds (real time, not the emulator's clock).
    pub at_ms: u64,
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `Host` the client addressed.
    pub host: String,
    /// The listener that took it (`127.0.0.1:PORT`): an account's host, or an address a
    /// renamed account moved to.
    #[serde(default)]
    pub account_host: String,
    /// The id of that listener's account.
    #[serde(default)]
    pub account_id: u64,
    /// The integration it was made for: the `client_id` a token request sent, or the one
    /// whose access token an API request carried. `None` for other requests and unknown
    /// tokens.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The answer's status; `None` while the request is still being answered.
    #[serde(default)]
    pub status: Option<u16>,
}

impl Logged {
    /// Whether it counts toward amoCRM's rate limits: the token endpoint and `/api/v4/...`.
    pub fn counted(&self) -> bool {
        ratelimit::counts(self.path.split('?').next().unwrap_or(""))
    }
}

/// What a request log says about the rate limits, whether or not they were enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateSummary {
    /// Counted requests (token endpoint and `/api/v4/...`).
    pub counted: usize,
    /// The most counted requests one integration made in any window of a second.
    pub max_per_integration: usize,
    /// The most counted requests one account received in any window of a second.
    pub max_per_account: usize,
    /// Requests answered 429, by the rate limits or by an injected fault.
    pub too_many_requests: usize,
}

impl RateSummary {
    /// Summarises `log` (one emulator's, or several emulators' put together: accounts are
    /// told apart by id, integrations by client id) over windows of a second.
    pub fn of(log: &[Logged]) -> Self {
        Self::over(log, RateLimits::AMOCRM.window_ms)
    }

    /// Summarises `log` over windows of `window_ms`.
    pub fn over(log: &[Logged], window_ms: u64) -> Self {
        use std::collections::HashMap;
        let mut by_integration: HashMap<&str, Vec<u64>> = HashMap::new();
        let mut by_account: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut counted = 0;
        for r in log.iter().filter(|r| r.counted()) {
            counted += 1;
            if let Some(id) = &r.client_id {
                by_integration.entry(id).or_default().push(r.at_ms);
            }
            by_account.entry(r.account_id).or_default().push(r.at_ms);
        }
        let busiest = |times: &mut Vec<u64>| ratelimit::busiest_window(times, window_ms);
        Self {
            counted,
            max_per_integration: by_integration.values_mut().map(busiest).max().unwrap_or(0),
            max_per_account: by_account.values_mut().map(busiest).max().unwrap_or(0),
            too_many_requests: log.iter().filter(|r| r.status == Some(429)).count(),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Records every request except the control endpoints', refuses it with nginx's 429 page
/// when it goes over an enforced rate limit, else passes it on and records its status.
pub async fn log_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if path.starts_with("/_emulator/") {
        return next.run(req).await;
    }
    let Some(here) = req.extensions().get::<Here>().cloned() else {
        return next.run(req).await;
    };
    let counted = ratelimit::counts(req.uri().path());
    let (req, sent_client_id) = match token_client_id(req).await {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let settings = &shared.settings;
    let index = {
        let mut st = shared.lock();
        let client_id = sent_client_id.or_else(|| {
            let token = crate::api::bearer(req.headers())?;
            let integration = st.access_integration(token)?;
            Some(settings.integrations[integration].client_id.clone())
        });
        let at_ms = now_ms();
        let admitted = match (&settings.rate_limits, counted) {
            (Some(limits), true) if !st.limits_suspended => {
                st.limiter
                    .admit(limits, at_ms, here.account, client_id.as_deref())
            }
            _ => true,
        };
        st.requests.push(Logged {
            at_ms,
            method: req.method().to_string(),
            path,
            host,
            account_host: here.host.clone(),
            account_id: settings.accounts[here.account].info.id,
            client_id,
            status: None,
        });
        let index = st.requests.len() - 1;
        if !admitted {
            st.stats.rate_limited += 1;
            st.requests[index].status = Some(StatusCode::TOO_MANY_REQUESTS.as_u16());
            return problem::nginx_page(StatusCode::TOO_MANY_REQUESTS);
        }
        index
    };
    let response = next.run(req).await;
    if let Some(logged) = shared.lock().requests.get_mut(index) {
        logged.status = Some(response.status().as_u16());
    }
    response
}

/// For `POST /oauth2/access_token`: reads the body to learn its `client_id`, and gives the
/// request back whole. Other requests pass untouched. A body too large to read is a 413.
async fn token_client_id(req: Request) -> Result<(Request, Option<String>), Response> {
    if req.method() != Method::POST || req.uri().path() != "/oauth2/access_token" {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let client_id =
        crate::exchange::decode(&parts.headers, &bytes).and_then(|mut p| p.remove("client_id"));
    Ok((Request::from_parts(parts, Body::from(bytes)), client_id))
}

/// `GET /_emulator/requests` →
/// `{"requests":[{"at_ms","method","path","host","account_host","account_id","client_id",
/// "status"}...],"summary":{"counted","max_per_integration","max_per_account",
/// "too_many_requests"}}`.
pub async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    let st = shared.lock();
    let summary = RateSummary::of(&st.requests);
    Json(json!({ "requests": st.requests, "summary": summary })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(at_ms: u64, path: &str, client_id: Option<&str>, status: u16) -> Logged {
        Logged {
            at_ms,
            method: "GET".into(),
            path: path.into(),
            host: "127.0.0.1:1".into(),
            account_host: "127.0.0.1:1".into(),
            account_id: 1,
            client_id: client_id.map(str::to_owned),
            status: Some(status),
        }
    }

    #[test]
    fn summary_counts_busiest_second_per_integration_and_the_429s() {
        let mut log: Vec<Logged> = (0..8)
            .map(|i| logged(100 * i, "/api/v4/account", Some("a"), 200))
            .collect();
        log.push(logged(50, "/oauth2/access_token", Some("b"), 200));
        log.push(logged(60, "/oauth?client_id=a", None, 302));
        log.push(logged(2_000, "/api/v4/leads?page=2", Some("a"), 429));
        let s = RateSummary::of(&log);
        assert_eq!(s.counted, 10);
        assert_eq!(s.max_per_integration, 8);
        assert_eq!(s.max_per_account, 9);
        assert_eq!(s.too_many_requests, 1);
        assert_eq!(RateSummary::of(&[]), RateSummary::default());
    }
}
