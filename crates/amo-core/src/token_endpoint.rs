//! The token endpoint (`POST /oauth2/access_token`): a grant sent, the answer read into a
//! token set, and what a JWT access token says of its own expiry.

use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::{AccessToken, AuthCode, ClientSecret, RefreshToken};
use crate::types::{TokenKind, TokenSet};

/// The grant sent to the token endpoint.
pub(crate) enum Grant<'a> {
    Code(&'a AuthCode),
    Refresh(&'a RefreshToken),
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

/// Posts a grant to the token endpoint, never following a redirect; the answer says which
/// fields amoCRM left out.
pub(crate) async fn issue(
    http: &Http,
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
    let resp = http.client(&url).post(url).json(&body).send().await?;
    token_answer(crate::http::read(resp).await?)
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
