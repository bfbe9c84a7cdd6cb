//! The proxy's side toward amoCRM: the account's token held in memory and renewed once for
//! all the requests that find it running out or refused (and across processes, under the
//! account's lock, as every refresh is); each call sent through the shared limiter, with
//! 429s and nginx's HTML 403s waited out as `amo api` waits them out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::{header, Method};
use url::Url;

use crate::api::{api_url, FIRST_BACKOFF, MAX_BACKOFF_TOTAL, MAX_TRIES};
use crate::engine::{Engine, REFRESH_MARGIN};
use crate::error::{Error, Result};
use crate::refresh::RefreshPolicy;
use crate::secret::AccessToken;
use crate::types::{AccountHost, TokenKind, TokenSet};

/// The longest wait for a slot in the shared limiter before a call is answered 503.
pub(crate) const SLOT_WAIT: Duration = Duration::from_secs(30);

/// The account (a moved account's new host) and the tokens the proxy uses now.
pub(crate) struct Held {
    pub(crate) account: AccountHost,
    pub(crate) set: TokenSet,
    /// The account's root address, and the integration whose budget its calls count
    /// against: read once per token, not at every call (each is a database read).
    pub(crate) root: Url,
    client_id: Option<String>,
    /// When the access token is to be renewed before it is sent (worked out once per token,
    /// not at every call: it reads the token's own lifetime); `None` for one that is not.
    renew_at: Option<DateTime<Utc>>,
}

impl Held {
    fn new(engine: &Engine, account: AccountHost, set: TokenSet) -> Result<Arc<Held>> {
        Ok(Arc::new(Held {
            root: engine.settings()?.account_url(&account, "/")?,
            client_id: engine.integration_of(&account)?,
            renew_at: renew_at(&set),
            account,
            set,
        }))
    }

    /// Whether the access token is too close to its end to send.
    fn runs_out(&self) -> bool {
        self.renew_at.is_some_and(|t| Utc::now() >= t)
    }
}

/// A call as it goes to amoCRM.
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Path and query, checked by the gate; joined to the account's address here.
    pub(crate) target: String,
    pub(crate) headers: header::HeaderMap,
    pub(crate) body: Bytes,
}

/// Why a call was not answered by amoCRM.
pub(crate) enum Failure {
    /// The target is not a path on the account: nothing was sent.
    Refused,
    /// No rate slot came within [`SLOT_WAIT`]: nothing was sent.
    Busy,
    /// The token or the call failed (the connection must be made again, the network, …).
    Engine(Error),
}

/// amoCRM's answer (its head; the body is still to be read) and the tokens it was sent with.
pub(crate) struct Forwarded {
    pub(crate) resp: reqwest::Response,
    pub(crate) held: Arc<Held>,
}

pub(crate) struct Upstream {
    engine: Engine,
    held: Mutex<Arc<Held>>,
    /// One renewal at a time in this process; the others wait and take its token.
    renewing: tokio::sync::Mutex<()>,
}

impl Upstream {
    /// Reads the account's tokens, refreshed first when they expire soon.
    ///
    /// # Errors
    /// As [`Engine::api_session`].
    pub(crate) async fn open(engine: &Engine, account: &AccountHost) -> Result<Upstream> {
        let (account, set) = engine.tokens(account, RefreshPolicy::Expiring).await?;
        Ok(Upstream {
            engine: engine.clone(),
            held: Mutex::new(Held::new(engine, account, set)?),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    /// The tokens held now (shared: a call does not copy them).
    pub(crate) fn held(&self) -> Arc<Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends `call` with the current token, renewed first when it runs out; on a 401
    /// renews it (unless another request or process already did) and sends once more.
    pub(crate) async fn forward(&self, call: &Call) -> std::result::Result<Forwarded, Failure> {
        let mut held = self.current().await.map_err(Failure::Engine)?;
        let mut renewed = false;
        loop {
            let resp = self.send(&held, call).await?;
            if resp.status().as_u16() != 401 {
                return Ok(Forwarded { resp, held });
            }
            if renewed || held.set.kind != TokenKind::Oauth {
                return Err(Failure::Engine(self.refused(&held, resp).await));
            }
            self.engine
                .log("api_unauthorized", Some(held.account.as_str()), "", false);
            held = self
                .renew(&held.set.access_token)
                .await
                .map_err(Failure::Engine)?;
            renewed = true;
        }
    }

    /// The tokens to send with: the held ones, or new ones when they run out.
    async fn current(&self) -> Result<Arc<Held>> {
        let held = self.held();
        if !held.runs_out() {
            return Ok(held);
        }
        self.renew(&held.set.access_token).await
    }

    /// Replaces `stale` (running out, or refused by amoCRM). The first request here to ask
    /// refreshes, under the account's lock; one that waited finds the new token held, and a
    /// process that refreshed first is seen under that lock, so one refresh token is never
    /// spent twice.
    async fn renew(&self, stale: &AccessToken) -> Result<Arc<Held>> {
        let _one = self.renewing.lock().await;
        let held = self.held();
        if !held.set.access_token.ct_eq(stale) {
            return Ok(held);
        }
        let (account, set) = self
            .engine
            .tokens(&held.account, RefreshPolicy::Rejected(stale))
            .await?;
        let new = Held::new(&self.engine, account, set)?;
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = new.clone();
        Ok(new)
    }

    /// What a 401 means when a fresh token did not cure it, or for a long-lived token
    /// (which cannot be refreshed): amoCRM's problem; for a long-lived token, the
    /// connection is marked as one to make again, as `amo api` marks it.
    async fn refused(&self, held: &Held, resp: reqwest::Response) -> Error {
        let ctype = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let text = resp.text().await.unwrap_or_default();
        match crate::http::interpret(401, &ctype, &text) {
            Err(Error::Amo(p)) if held.set.kind != TokenKind::Oauth => {
                let reason = crate::error::amo_said(&p);
                if let Err(e) =
                    self.engine
                        .db()
                        .mark_failed(&held.account, &reason, true, Utc::now())
                {
                    return e;
                }
                Error::ReconnectNeeded {
                    account: held.account.to_string(),
                    reason,
                }
            }
            Err(e) => e,
            Ok(_) => Error::UnexpectedResponse {
                status: 401,
                what: "status",
            },
        }
    }

    /// Sends `call` with `held`'s token through the shared limiter, waiting out 429s (and
    /// nginx's HTML 403s) within [`MAX_BACKOFF_TOTAL`] and [`MAX_TRIES`] sends; past them the
    /// last answer goes back as it came.
    async fn send(
        &self,
        held: &Held,
        call: &Call,
    ) -> std::result::Result<reqwest::Response, Failure> {
        let engine = &self.engine;
        let url = api_url(&held.root, &call.target, &[]).map_err(|_| Failure::Refused)?;
        let client_id = held.client_id.as_deref();
        let with_body = !call.body.is_empty()
            || !matches!(call.method, Method::GET | Method::HEAD | Method::DELETE);
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let acquire = crate::ratelimit::acquire(&engine.inner.dir, client_id, &held.account);
            let slot = tokio::time::timeout(SLOT_WAIT, acquire)
                .await
                .map_err(|_| Failure::Busy)?
                .map_err(Failure::Engine)?;
            let mut builder = engine
                .inner
                .http
                .client(&url)
                .request(call.method.clone(), url.clone())
                .headers(call.headers.clone())
                .bearer_auth(held.set.access_token.expose());
            if with_body {
                builder = builder.body(call.body.clone());
            }
            let resp = builder.send().await;
            drop(slot);
            let resp = resp.map_err(|e| Failure::Engine(e.into()))?;
            let status = resp.status().as_u16();
            let html = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
            if status != 429 && !(status == 403 && html) {
                return Ok(resp);
            }
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let wait = retry_after.unwrap_or(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(8));
            if attempt >= MAX_TRIES || started.elapsed() + wait > MAX_BACKOFF_TOTAL {
                return Ok(resp);
            }
            drop(resp);
            let detail = format!("{status} {}; waiting {} ms", url.path(), wait.as_millis());
            engine.log("api_throttled", Some(held.account.as_str()), &detail, false);
            tokio::time::sleep(wait).await;
        }
    }
}

/// When `set`'s access token becomes too close to its end to send: with a quarter of its
/// lifetime left (at most the refresh margin), so a token that lasts 20 s is renewed 5 s
/// before it ends and one that lasts a day 10 minutes before. `None`: it is never renewed
/// (a long-lived token, or one whose end is not known).
fn renew_at(set: &TokenSet) -> Option<DateTime<Utc>> {
    if set.kind != TokenKind::Oauth {
        return None;
    }
    let margin = crate::token_endpoint::jwt_lifetime(set.access_token.expose())
        .map_or(REFRESH_MARGIN, |life| (life / 4).min(REFRESH_MARGIN));
    set.expires_at.map(|t| t - margin)
}
