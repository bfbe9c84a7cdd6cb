//! The account moved: its access token's `api_domain` claim names the gateway that knows
//! the account's current host (`GET https://{api_domain}/oauth2/account/current/subdomain`
//! with `X-Refresh-Token`); the connection moves there, tokens and history kept.
//!
//! An `impl Engine`: moving a connection rewrites its row, its keychain item and its lock
//! under the engine's database and token store, and refresh asks it where an account went.

use base64::Engine as _;
use chrono::Utc;
use reqwest::header;

use crate::config::{Settings, ACCOUNT_DOMAINS};
use crate::engine::{Engine, EngineEvent};
use crate::error::{Error, Result};
use crate::types::{AccountHost, TokenSet};

/// How many recorded moves are followed from an old host to the current one.
const MAX_HOPS: usize = 8;

/// Whether `host` may be asked where an account went: an `api-<letter>` gateway of amoCRM
/// or Kommo, or the emulator's own address when `AMO_BASE_URL` is set.
pub fn is_api_domain(settings: &Settings, host: &AccountHost) -> bool {
    if let Some(base) = &settings.base_url {
        let own = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
            None => base.host_str().unwrap_or_default().to_owned(),
        };
        return host.as_str() == own;
    }
    let Some((sub, domain)) = host.as_str().split_once('.') else {
        return false;
    };
    let gateway =
        sub.len() == 5 && sub.starts_with("api-") && sub.as_bytes()[4].is_ascii_lowercase();
    gateway && ACCOUNT_DOMAINS.contains(&domain)
}

/// The `api_domain` claim of a JWT access token, if it has one.
pub(crate) fn api_domain_claim(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(claims.get("api_domain")?.as_str()?.to_owned())
}

fn moved_key(account: &AccountHost) -> String {
    format!("moved_to:{account}")
}

impl Engine {
    /// Where the connection of `account` lives now: itself, or the host it moved to.
    pub(crate) fn follow_moves(&self, account: &AccountHost) -> AccountHost {
        let mut at = account.clone();
        let db = self.db();
        for _ in 0..MAX_HOPS {
            if db.connection(&at).ok().flatten().is_some() {
                return at;
            }
            match db.setting(&moved_key(&at)).ok().flatten() {
                Some(next) => match AccountHost::parse(&next) {
                    Ok(next) => at = next,
                    Err(_) => return at,
                },
                None => return at,
            }
        }
        at
    }

    /// Asks the token's `api_domain` where `account` is now; when it names another host,
    /// moves the connection there and returns it. Called under the account's lock.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`] when the `api_domain` or the new host is not one a
    /// secret may go to; the lookup's own errors; the keychain's and database's.
    pub(crate) async fn follow_account(
        &self,
        account: &AccountHost,
        current: &TokenSet,
    ) -> Result<Option<AccountHost>> {
        let Some(claim) = api_domain_claim(current.access_token.expose()) else {
            return Ok(None);
        };
        let Some(refresh_token) = &current.refresh_token else {
            return Ok(None);
        };
        let settings = self.settings()?;
        let refused = |host: &str| Error::RefererNotAllowed {
            host: host.chars().take(100).collect(),
        };
        let gateway = AccountHost::parse(&claim).map_err(|_| refused(&claim))?;
        if !is_api_domain(&settings, &gateway) {
            return Err(refused(&claim));
        }
        let path = "/oauth2/account/current/subdomain";
        let url = match &settings.base_url {
            Some(base) => base.join(path),
            None => url::Url::parse(&format!("https://{gateway}{path}")),
        }
        .map_err(|_| refused(&claim))?;
        let client_id = self.integration_of(account)?;
        let slot =
            crate::ratelimit::acquire(&self.inner.dir, client_id.as_deref(), account).await?;
        self.log(
            "account_lookup",
            Some(account.as_str()),
            gateway.as_str(),
            true,
        );
        let resp = self
            .inner
            .http
            .client(&url)
            .get(url)
            .header("X-Refresh-Token", refresh_token.expose())
            .header(header::ACCEPT, "application/json")
            .send()
            .await;
        drop(slot);
        let resp = resp?;
        let status = resp.status().as_u16();
        let answer = crate::http::read(resp).await?;
        let domain =
            answer
                .get("domain")
                .and_then(|d| d.as_str())
                .ok_or(Error::UnexpectedResponse {
                    status,
                    what: "account_fields",
                })?;
        let new = AccountHost::parse(domain).map_err(|_| refused(domain))?;
        if !settings.may_move_to(&new) {
            return Err(refused(domain));
        }
        if &new == account {
            return Ok(None);
        }
        self.move_connection(account, &new, current)?;
        Ok(Some(new))
    }

    /// Moves a connection's tokens and record from `old` to `new`, and remembers the move so
    /// `--account old` keeps working.
    fn move_connection(&self, old: &AccountHost, new: &AccountHost, set: &TokenSet) -> Result<()> {
        self.inner.store.vault().save_tokens(new, set)?;
        {
            let db = self.db();
            if let Some(mut row) = db.connection(old)? {
                row.account = new.clone();
                row.updated_at = Utc::now();
                db.upsert_connection(&row)?;
                db.delete_connection(old)?;
            }
            db.set_setting(&moved_key(old), new.as_str())?;
        }
        self.inner.store.vault().delete_tokens(old)?;
        let detail = format!("{old} → {new}");
        self.log("account_moved", Some(new.as_str()), &detail, true);
        self.emit(EngineEvent::Refreshed {
            account: new.to_string(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_settings as settings;

    #[test]
    fn only_the_platforms_api_gateways_are_asked_where_an_account_went() {
        let s = settings(None);
        for ok in ["api-a.amocrm.ru", "api-b.amocrm.com", "api-c.kommo.com"] {
            assert!(is_api_domain(&s, &AccountHost::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "api.amocrm.ru",
            "api-ab.amocrm.ru",
            "api-1.amocrm.ru",
            "example.amocrm.ru",
            "api-a.evil.com",
            "api-a.amocrm.ru.evil.com",
            "127.0.0.1:9",
        ] {
            assert!(
                !is_api_domain(&s, &AccountHost::parse(bad).unwrap()),
                "{bad}"
            );
        }
        let emu = settings(Some("http://127.0.0.1:4567"));
        assert!(is_api_domain(
            &emu,
            &AccountHost::parse("127.0.0.1:4567").unwrap()
        ));
        assert!(!is_api_domain(
            &emu,
            &AccountHost::parse("127.0.0.1:4568").unwrap()
        ));
        assert!(!is_api_domain(
            &emu,
            &AccountHost::parse("api-a.amocrm.ru").unwrap()
        ));
    }

    #[test]
    fn the_claim_is_read_from_the_token() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.sig",
            b64("{}"),
            b64(r#"{"api_domain":"api-a.amocrm.ru"}"#)
        );
        assert_eq!(api_domain_claim(&token).as_deref(), Some("api-a.amocrm.ru"));
        assert_eq!(api_domain_claim("opaque"), None);
    }
}
