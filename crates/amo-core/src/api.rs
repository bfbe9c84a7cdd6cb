//! HTTP to amoCRM: the one client, the token endpoint, and reading its answers (API calls
//! go through `client.rs`).

use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::{header, redirect, Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use url::Url;

use crate::error::{AmoProblem, Error, Result};
use crate::secret::{AccessToken, AuthCode, ClientSecret, RefreshToken};
use crate::types::{TokenKind, TokenSet};

/// The grant sent to the token endpoint.
pub(crate) enum Grant<'a> {
    Code(&'a AuthCode),
    Refresh(&'a RefreshToken),
}

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

/// The one HTTP client, built on first use so start-up pays nothing for it.
pub(crate) struct Http {
    /// For HTTPS: verifies servers against the system's root certificates.
    tls: OnceLock<reqwest::Client>,
    /// For plain HTTP (the emulator on loopback): reads no certificates, as it needs none.
    plain: OnceLock<reqwest::Client>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    token_type: Option<String>,
}

/// What the token endpoint issued. A missing `refresh_token` shows as `set.refresh_token`
/// being `None`; a missing `expires_in` is said here, the expiry then read from the access
/// token's own `exp` claim when it has one.
pub(crate) struct Issued {
    pub(crate) set: TokenSet,
    pub(crate) no_expires_in: bool,
}

impl Http {
    pub(crate) fn new() -> Http {
        Http {
            tls: OnceLock::new(),
            plain: OnceLock::new(),
        }
    }

    /// Builds the client for `url` ahead of need (for HTTPS, reading the system's
    /// certificates), so a flow's callback does not wait for it.
    pub(crate) fn warm(&self, url: &Url) {
        self.client(url);
    }

    /// The client for `url`'s scheme. Neither follows redirects.
    pub(crate) fn client(&self, url: &Url) -> &reqwest::Client {
        let https = url.scheme() == "https";
        let cell = if https { &self.tls } else { &self.plain };
        cell.get_or_init(|| {
            reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .tls_built_in_root_certs(https)
                .timeout(std::time::Duration::from_secs(30))
                .connect_timeout(std::time::Duration::from_secs(10))
                .user_agent(concat!("amo-connector/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        })
    }

    /// Posts a grant to the token endpoint, never following a redirect; the answer says
    /// which fields amoCRM left out.
    pub(crate) async fn issue(
        &self,
        url: Url,
        client_id: &str,
        secret: &ClientSecret,
        redirect_uri: &str,
        grant: Grant<'_>,
    ) -> Result<Issued> {
        let mut body = serde_json::json!({
            "client_id": client_id,
            "client_secret": secret.expose(),
            "redirect_uri": redirect_uri,
        });
        match grant {
            Grant::Code(code) => {
                body["grant_type"] = "authorization_code".into();
                body["code"] = code.expose().into();
            }
            Grant::Refresh(rt) => {
                body["grant_type"] = "refresh_token".into();
                body["refresh_token"] = rt.expose().into();
            }
        }
        let resp = self.client(&url).post(url).json(&body).send().await?;
        token_answer(read(resp).await?)
    }
}

/// Reads a token endpoint's JSON answer into a token set.
///
/// # Errors
/// [`Error::UnexpectedResponse`] when a field is missing, empty or of the wrong type.
pub(crate) fn token_answer(value: serde_json::Value) -> Result<Issued> {
    let answer: TokenAnswer =
        serde_json::from_value(value).map_err(|_| Error::UnexpectedResponse {
            status: 200,
            what: "token_fields",
        })?;
    if answer.access_token.is_empty()
        || answer
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        || answer.refresh_token.as_deref().is_some_and(str::is_empty)
    {
        return Err(Error::UnexpectedResponse {
            status: 200,
            what: "token_fields",
        });
    }
    let expires_at = match answer.expires_in {
        Some(secs) => Some(Utc::now() + Duration::seconds(secs.clamp(0, 100 * 365 * 86_400))),
        None => jwt_expiry(&answer.access_token),
    };
    Ok(Issued {
        no_expires_in: answer.expires_in.is_none(),
        set: TokenSet {
            kind: TokenKind::Oauth,
            access_token: AccessToken::new(answer.access_token),
            refresh_token: answer.refresh_token.map(RefreshToken::new),
            expires_at,
        },
    })
}

/// Turns an answer into JSON, or into the error that explains it.
pub(crate) async fn read(resp: Response) -> Result<serde_json::Value> {
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = resp.text().await?;
    interpret(status, &ctype, &text)
}

/// What an answer with `code`, content type `ctype` (lower case) and body `text` means: its
/// JSON object, or the error that explains it.
///
/// # Errors
/// [`Error::Amo`] for a problem+json refusal, else the status's own error.
pub(crate) fn interpret(code: u16, ctype: &str, text: &str) -> Result<serde_json::Value> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_redirection() {
        return Err(Error::UnexpectedResponse {
            status: code,
            what: "redirect",
        });
    }
    let json: Option<serde_json::Value> = serde_json::from_str(text).ok();
    if status.is_success() {
        return match json {
            Some(v) if v.is_object() => Ok(v),
            _ if ctype.contains("html") || text.trim_start().starts_with('<') => {
                Err(Error::UnexpectedResponse {
                    status: code,
                    what: "html",
                })
            }
            _ => Err(Error::UnexpectedResponse {
                status: code,
                what: "malformed_json",
            }),
        };
    }
    // A 5xx is amoCRM failing, not refusing: its problem+json body is no reason to reconnect.
    if status.is_server_error() {
        return Err(Error::ServerError { status: code });
    }
    if let Some(v) = json.filter(|v| v.get("title").is_some() || v.get("hint").is_some()) {
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        return Err(Error::Amo(AmoProblem {
            status: code,
            title: field("title"),
            detail: field("detail"),
            hint: field("hint"),
        }));
    }
    Err(match code {
        429 => Error::RateLimited,
        403 => Error::Blocked { status: code },
        _ if ctype.contains("html") || text.trim_start().starts_with('<') => {
            Error::UnexpectedResponse {
                status: code,
                what: "html",
            }
        }
        _ => Error::UnexpectedResponse {
            status: code,
            what: "status",
        },
    })
}

/// The `exp` claim of a JWT, if the token is one.
pub(crate) fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(jwt_claim(token, "exp")?, 0).single()
}

/// How long a JWT was issued for (`exp` − `iat`), if the token is one that says.
pub(crate) fn jwt_lifetime(token: &str) -> Option<chrono::Duration> {
    let secs = jwt_claim(token, "exp")? - jwt_claim(token, "iat")?;
    (secs > 0).then(|| chrono::Duration::seconds(secs))
}

/// A numeric claim of a JWT's payload.
fn jwt_claim(token: &str, name: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get(name)?.as_i64()
}
