//! API calls for `amo api`, `amo account` and the app: the account's token (refreshed first
//! when needed, once more on a 401), the shared rate limit, and 429s waited out.
//!
//! An `impl Engine`: a call borrows refresh (`refresh.rs`) for its token and the engine's
//! settings, clients and journal; the address check (`api_url`) stands alone.

use chrono::{DateTime, Duration, Utc};
use reqwest::{header, Method};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::refresh::RefreshPolicy;
use crate::secret::AccessToken;
use crate::types::{AccountHost, TokenKind, TokenSet};

mod address;
#[cfg(test)]
mod tests;

pub(crate) use address::api_url;

/// How long 429s (and nginx's HTML 403s) are waited out in all before giving up (and at
/// most [`MAX_TRIES`] sends).
pub const MAX_BACKOFF_TOTAL: std::time::Duration = std::time::Duration::from_secs(30);
/// The first wait when the answer names none (`Retry-After`); it doubles up to 8 s.
/// (pub(crate): the local proxy, `proxy/upstream.rs`, waits the same way.)
pub(crate) const FIRST_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);
/// How many times one call is sent while amoCRM keeps answering 429 (or nginx's 403).
/// (pub(crate): the local proxy, `proxy/upstream.rs`, tries as often.)
pub(crate) const MAX_TRIES: u32 = 3;

/// What `GET /api/v4/account` says of the account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountInfo {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub subdomain: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub current_user_id: Option<i64>,
    #[serde(default)]
    pub created_at: Option<i64>,
}

/// One call: a method, a path on the account's host (or an address on it, as
/// `_links.next.href` gives), query parameters and a JSON body.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl ApiRequest {
    pub fn get(path: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }
}

/// What the server answered, as it came.
#[derive(Debug, Clone)]
pub struct ApiAnswer {
    /// The account asked (a moved account's new host).
    pub account: AccountHost,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiAnswer {
    /// The content type, lower case.
    pub fn content_type(&self) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The error a failed answer means (problem+json as amoCRM's title, detail and hint).
    pub fn error(&self) -> Option<Error> {
        if (200..300).contains(&self.status) {
            return None;
        }
        self.json().err()
    }

    /// The answer's JSON object; a 204 reads as `{}`.
    ///
    /// # Errors
    /// The answer's own error, or [`Error::UnexpectedResponse`] when it is not JSON or is
    /// a redirect (never followed: the token goes to the account alone).
    pub fn json(&self) -> Result<serde_json::Value> {
        if self.status == 204 {
            return Ok(serde_json::json!({}));
        }
        if (300..400).contains(&self.status) {
            return Err(Error::UnexpectedResponse {
                status: self.status,
                what: "api_redirect",
            });
        }
        let text = String::from_utf8_lossy(&self.body);
        crate::http::interpret(self.status, &self.content_type(), &text)
    }
}

/// An access token handed to a script, with where to use it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub account: AccountHost,
    pub access_token: AccessToken,
    pub expires_at: Option<DateTime<Utc>>,
    pub api_base: String,
}

impl Engine {
    /// `https://{host}/api/v4` for `account` (the emulator's address under `AMO_BASE_URL`).
    ///
    /// # Errors
    /// As [`crate::Settings::account_url`].
    pub fn api_base(&self, account: &AccountHost) -> Result<String> {
        api_base_in(&self.settings()?, account)
    }

    /// An access token valid for at least `min_valid`, refreshed first (under the account's
    /// lock, one process at a time) when it would not be.
    ///
    /// # Errors
    /// [`Error::TokenExpiresTooSoon`] when even a fresh (or a long-lived) token expires
    /// sooner; the refresh's errors.
    pub async fn token_for(
        &self,
        account: &AccountHost,
        min_valid: Duration,
    ) -> Result<IssuedToken> {
        let (account, set) = self
            .tokens(account, RefreshPolicy::ValidFor(min_valid))
            .await?;
        if let Some(t) = set.expires_at.filter(|t| *t - Utc::now() < min_valid) {
            return Err(Error::TokenExpiresTooSoon {
                account: account.to_string(),
                expires_at: crate::journal::rfc3339(t),
            });
        }
        Ok(IssuedToken {
            api_base: self.api_base(&account)?,
            account,
            access_token: set.access_token,
            expires_at: set.expires_at,
        })
    }

    /// Sends `request` to `account`: refreshes first when the token expires soon, once more
    /// on a 401 (then tries once again), waits out 429s within [`MAX_BACKOFF_TOTAL`], and
    /// keeps every `amo` process and the app under amoCRM's 7 requests a second. Any status
    /// comes back as an answer; [`ApiAnswer::error`] reads a failed one.
    ///
    /// # Errors
    /// [`Error::ReconnectNeeded`] and the refresh's errors, [`Error::ApiPathRefused`] for a
    /// path that is not one on the account (nothing is sent), [`Error::Network`].
    pub async fn api(&self, account: &AccountHost, request: &ApiRequest) -> Result<ApiAnswer> {
        self.api_session(account).await?.call(request).await
    }

    /// Calls on `account` that share one read of its tokens, as `--paginate` makes: the
    /// keychain is read once, not once a page, and again only to refresh.
    ///
    /// # Errors
    /// As [`Engine::api`].
    pub async fn api_session(&self, account: &AccountHost) -> Result<ApiSession> {
        let (account, set) = self.tokens(account, RefreshPolicy::Expiring).await?;
        Ok(ApiSession {
            engine: self.clone(),
            account,
            set,
        })
    }

    /// `GET /api/v4/account` through the same client as `amo api`: refreshes first when
    /// needed, and once more on a 401.
    ///
    /// # Errors
    /// [`Error::ReconnectNeeded`], [`Error::Amo`], [`Error::RateLimited`], [`Error::Blocked`],
    /// [`Error::Network`] and the like.
    pub async fn account_info(&self, account: &AccountHost) -> Result<AccountInfo> {
        let request = ApiRequest::get("/api/v4/account");
        let result = match self.api(account, &request).await {
            Ok(answer) => answer.json().and_then(|v| {
                serde_json::from_value::<AccountInfo>(v).map_err(|_| Error::UnexpectedResponse {
                    status: 200,
                    what: "account_fields",
                })
            }),
            Err(e) => Err(e),
        };
        let account = self.follow_moves(account);
        match &result {
            Ok(info) => {
                self.remember_account(&account, info)?;
                self.log("api_account", Some(account.as_str()), &info.name, true);
            }
            Err(e) => self.fail(Some(&account), "api_failed", e),
        }
        result
    }

    pub(crate) fn remember_account(&self, account: &AccountHost, info: &AccountInfo) -> Result<()> {
        let db = self.db();
        if let Some(mut row) = db.connection(account)? {
            row.name = Some(info.name.clone());
            row.account_id = Some(info.id);
            db.upsert_connection(&row)?;
        }
        Ok(())
    }

    /// The integration whose budget a call to `account` counts against: the one that issued
    /// the connection's tokens (the configured one while a connection is being made), none
    /// for a long-lived token, whose integration is not known.
    pub(crate) fn integration_of(&self, account: &AccountHost) -> Result<Option<String>> {
        let row = self.db().connection(account)?;
        Ok(match row {
            Some(r) if r.client_id.is_some() => r.client_id,
            Some(r) if r.kind != TokenKind::Oauth => None,
            _ => self.settings()?.client_id,
        })
    }

    /// `GET /api/v4/account` with a token not stored yet (a connection being made).
    pub(crate) async fn account_with(
        &self,
        account: &AccountHost,
        token: &AccessToken,
    ) -> Result<AccountInfo> {
        let request = ApiRequest::get("/api/v4/account");
        let value = self.send(account, &request, token).await?.json()?;
        serde_json::from_value(value).map_err(|_| Error::UnexpectedResponse {
            status: 200,
            what: "account_fields",
        })
    }

    fn request_url(&self, account: &AccountHost, request: &ApiRequest) -> Result<Url> {
        let root = self.settings()?.account_url(account, "/")?;
        api_url(&root, &request.path, &request.query)
    }

    async fn send(
        &self,
        account: &AccountHost,
        request: &ApiRequest,
        token: &AccessToken,
    ) -> Result<ApiAnswer> {
        let url = self.request_url(account, request)?;
        let method =
            Method::from_bytes(request.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                Error::InvalidInput {
                    field: "method",
                    value: request.method.chars().take(20).collect(),
                }
            })?;
        let started = std::time::Instant::now();
        let mut backoff = FIRST_BACKOFF;
        let client_id = self.integration_of(account)?;
        for attempt in 1.. {
            let slot =
                crate::ratelimit::acquire(&self.inner.dir, client_id.as_deref(), account).await?;
            let mut builder = self
                .inner
                .http
                .client(&url)
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose())
                .header(header::ACCEPT, "application/json");
            if let Some(body) = &request.body {
                builder = builder
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let resp = builder.send().await;
            drop(slot);
            let resp = resp?;
            let status = resp.status();
            let answer = ApiAnswer {
                account: account.clone(),
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_owned(),
                headers: resp
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                    .collect(),
                body: Vec::new(),
            };
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(std::time::Duration::from_secs);
            let body = resp.bytes().await?.to_vec();
            let answer = ApiAnswer { body, ..answer };
            // nginx's HTML 429 or 403 is amoCRM's answer to going over: waited out like a
            // 429, within the same bounded total; a 403 that persists is then reported
            // as a block. A problem+json 403 is a refusal, not a throttle.
            let throttled = answer.status == 429
                || (answer.status == 403 && answer.content_type().contains("html"));
            if !throttled {
                return Ok(answer);
            }
            let wait = retry_after.unwrap_or(backoff);
            backoff = (backoff * 2).min(std::time::Duration::from_secs(8));
            if attempt >= MAX_TRIES || started.elapsed() + wait > MAX_BACKOFF_TOTAL {
                return Ok(answer);
            }
            let detail = format!(
                "{} {}; waiting {} ms",
                answer.status,
                url.path(),
                wait.as_millis()
            );
            self.log("api_throttled", Some(account.as_str()), &detail, false);
            tokio::time::sleep(wait).await;
        }
        unreachable!("the loop above returns")
    }
}

/// Calls on one account with its tokens read once; see [`Engine::api_session`].
pub struct ApiSession {
    engine: Engine,
    account: AccountHost,
    set: TokenSet,
}

impl ApiSession {
    /// Sends `request` as [`Engine::api`] does, with the tokens this session holds.
    ///
    /// # Errors
    /// As [`Engine::api`].
    pub async fn call(&mut self, request: &ApiRequest) -> Result<ApiAnswer> {
        let engine = self.engine.clone();
        // The session began with a token good for the refresh margin; a long run of calls
        // looks again only when it is about to run out.
        if self
            .set
            .expires_at
            .is_some_and(|t| t - Utc::now() < Duration::minutes(1))
        {
            (self.account, self.set) = engine
                .tokens(&self.account, RefreshPolicy::Expiring)
                .await?;
        }
        let mut answer = engine
            .send(&self.account, request, &self.set.access_token)
            .await?;
        if answer.status == 401 {
            if self.set.kind != TokenKind::Oauth {
                if let Some(Error::Amo(p)) = answer.error() {
                    let reason = crate::error::amo_said(&p);
                    engine
                        .db()
                        .mark_failed(&self.account, &reason, true, Utc::now())?;
                    return Err(Error::ReconnectNeeded {
                        account: self.account.to_string(),
                        reason,
                    });
                }
                return Ok(answer);
            }
            engine.log("api_unauthorized", Some(self.account.as_str()), "", false);
            let rejected = self.set.access_token.clone();
            (self.account, self.set) = engine
                .tokens(&self.account, RefreshPolicy::Rejected(&rejected))
                .await?;
            answer = engine
                .send(&self.account, request, &self.set.access_token)
                .await?;
        }
        Ok(answer)
    }
}

/// Where `account`'s API calls go under `settings`: `https://{host}/api/v4`.
pub(crate) fn api_base_in(
    settings: &crate::config::Settings,
    account: &AccountHost,
) -> Result<String> {
    let url = settings.account_url(account, "/api/v4")?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
