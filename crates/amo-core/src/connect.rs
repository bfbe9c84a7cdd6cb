//! Every way in but the loopback flow (an address pasted from the browser, an authorization
//! code, a long-lived token), and what every way ends with: the code exchanged with the
//! redirect URI its flow started with, the tokens stored, the connection recorded.
//!
//! An `impl Engine`: each step needs the settings, the token store, the database, the
//! journal and the events together, which the engine holds.

use chrono::Utc;
use url::Url;

use crate::callback::Callback;
use crate::db::{ConnectionRow, TokenFacts};
use crate::engine::{Engine, EngineEvent};
use crate::error::{Error, Result};
use crate::flow::Admitted;
use crate::secret::{AccessToken, AuthCode};
use crate::status::ConnectionStatus;
use crate::token_endpoint::{jwt_expiry, Grant};
use crate::types::{AccountHost, TokenKind, TokenSet};

impl Engine {
    /// Finishes a flow from the address the browser ended on (its state is checked).
    ///
    /// # Errors
    /// The state, referer and exchange errors of the loopback flow.
    pub async fn connect_pasted_url(&self, pasted: &str) -> Result<ConnectionStatus> {
        let r = match pasted_callback(pasted) {
            Ok(cb) => self.complete_pasted(&cb).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &r {
            self.fail(None, "flow_failed", e);
        }
        r
    }

    async fn complete_pasted(&self, cb: &Callback) -> Result<ConnectionStatus> {
        self.log("address_pasted", None, "", true);
        let client_id = self.settings()?.require_client_id()?.to_owned();
        match self.admit(cb, None, &client_id)? {
            Admitted::Ended(e) => Err(e),
            Admitted::Exchange {
                account,
                code,
                redirect_uri,
            } => {
                self.exchange(&account, &code, &client_id, &redirect_uri)
                    .await
            }
        }
    }

    /// Exchanges an authorization code copied from the integration's settings.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`] for a host outside amoCRM and Kommo; the exchange's errors.
    pub async fn connect_with_code(&self, code: &str, account: &str) -> Result<ConnectionStatus> {
        let account = AccountHost::parse(account)?;
        self.settings()?.check_account_host(&account)?;
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::CallbackIncomplete { missing: "code" });
        }
        self.log("code_pasted", Some(account.as_str()), "", true);
        let client_id = self.settings()?.require_client_id()?.to_owned();
        let redirect_uri = self.settings()?.redirect_uri.as_str().to_owned();
        let r = self
            .exchange(&account, &AuthCode::new(code), &client_id, &redirect_uri)
            .await;
        if let Err(e) = &r {
            self.fail(Some(&account), "flow_failed", e);
        }
        r
    }

    /// Stores a long-lived token after amoCRM accepts it.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`]; [`Error::Amo`] when amoCRM refuses the token.
    pub async fn connect_long_lived(&self, token: &str, account: &str) -> Result<ConnectionStatus> {
        let account = AccountHost::parse(account)?;
        let settings = self.settings()?;
        settings.account_url(&account, "/api/v4/account")?;
        let token = AccessToken::new(token.trim());
        if token.expose().is_empty() || token.expose().chars().any(char::is_whitespace) {
            return Err(Error::InvalidInput {
                field: "token",
                value: String::new(),
            });
        }
        let info = self.account_with(&account, &token).await;
        let info = info.inspect_err(|e| self.fail(Some(&account), "flow_failed", e))?;
        let set = TokenSet {
            kind: TokenKind::LongLived,
            expires_at: jwt_expiry(token.expose()),
            access_token: token,
            refresh_token: None,
        };
        self.store(&account, &set, None)?;
        self.remember_account(&account, &info)?;
        self.connected(&account)
    }

    /// Exchanges `code` with the client and redirect URI the flow started with.
    pub(crate) async fn exchange(
        &self,
        account: &AccountHost,
        code: &AuthCode,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<ConnectionStatus> {
        let settings = self.settings()?;
        let secret = self.client_secret(client_id)?;
        // A code is single use: spend it only when its tokens can be stored.
        self.inner.store.vault().probe()?;
        let url = settings.account_url(account, "/oauth2/access_token")?;
        let grant = Grant::Code(code);
        // The exchange counts against amoCRM's limits like any other call.
        let slot = crate::ratelimit::acquire(&self.inner.dir, Some(client_id), account).await?;
        let set = crate::token_endpoint::issue(
            &self.inner.http,
            url,
            client_id,
            &secret,
            redirect_uri,
            grant,
        )
        .await?
        .set;
        drop(slot);
        self.log("code_exchanged", Some(account.as_str()), "", true);
        self.store(account, &set, Some(client_id.to_owned()))?;
        if settings.account_url(account, "/api/v4/account").is_ok() {
            match self.account_with(account, &set.access_token).await {
                Ok(info) => self.remember_account(account, &info)?,
                Err(e) => self.log(
                    "account_unread",
                    Some(account.as_str()),
                    &e.describe(self.lang()),
                    false,
                ),
            }
        }
        self.connected(account)
    }

    pub(crate) fn store(
        &self,
        account: &AccountHost,
        set: &TokenSet,
        client_id: Option<String>,
    ) -> Result<()> {
        let _lock = self.inner.store.lock_here(account)?;
        self.inner.store.vault().save_tokens(account, set)?;
        let now = Utc::now();
        let db = self.db();
        let old = db.connection(account)?;
        if let Some(id) = &client_id {
            // Every connection's integration is one the user can see and choose.
            db.upsert_integration(id, None, None, now)?;
        }
        db.upsert_connection(&ConnectionRow {
            account: account.clone(),
            account_id: old.as_ref().and_then(|o| o.account_id),
            name: old.as_ref().and_then(|o| o.name.clone()),
            kind: set.kind,
            client_id,
            expires_at: set.expires_at,
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
            last_refresh_at: None,
            last_error: None,
            reconnect_reason: None,
            facts: Some(TokenFacts::of(set)),
        })?;
        drop(db);
        self.log("stored", Some(account.as_str()), "", true);
        Ok(())
    }

    pub(crate) fn connected(&self, account: &AccountHost) -> Result<ConnectionStatus> {
        self.log("connected", Some(account.as_str()), "", true);
        self.emit(EngineEvent::Connected {
            account: account.to_string(),
        });
        self.connection(account)
    }
}

/// The callback in an address pasted from the browser.
///
/// # Errors
/// [`Error::InvalidInput`] for something that is not an address (shown redacted and cut),
/// [`Error::CallbackInvalid`] for an address whose parameters break the callback's limits.
pub(crate) fn pasted_callback(pasted: &str) -> Result<Callback> {
    let pasted = pasted.trim();
    let url = (pasted.len() <= 16 * 1024)
        .then(|| Url::parse(pasted).ok())
        .flatten()
        .ok_or_else(|| Error::InvalidInput {
            field: "url",
            value: crate::journal::redact(&pasted.chars().take(200).collect::<String>()),
        })?;
    Callback::from_query(url.query().unwrap_or_default())
}

impl Error {
    /// Whether [`Engine::connect_pasted_url`] refused the address before its state was
    /// spent: the loopback flow still waits (paste again, or let the browser come back).
    /// Any other error ended the attempt.
    pub fn leaves_flow_waiting(&self) -> bool {
        matches!(
            self,
            Error::InvalidInput { .. }
                | Error::StateMissing
                | Error::StateUnknown
                | Error::RefererMissing
                | Error::RefererNotAllowed { .. }
                | Error::CallbackIncomplete { .. }
                | Error::CallbackInvalid { .. }
                | Error::StateStale
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_paste_leaves_the_flow_waiting() {
        let not_an_address = pasted_callback("not an address").unwrap_err();
        assert!(not_an_address.leaves_flow_waiting());
        for e in [
            Error::StateMissing,
            Error::StateUnknown,
            Error::StateStale,
            Error::RefererMissing,
            Error::RefererNotAllowed {
                host: "example.com".into(),
            },
            Error::CallbackIncomplete { missing: "code" },
            Error::CallbackInvalid { param: "referer" },
        ] {
            assert!(e.leaves_flow_waiting(), "{e:?}");
        }
    }

    #[test]
    fn a_paste_that_spent_the_state_ends_the_flow() {
        for e in [
            Error::StateExpired,
            Error::StateReused,
            Error::AccessDenied {
                error: "access_denied".into(),
            },
            Error::ClientMismatch {
                client_id: "other".into(),
            },
            Error::NotConfigured { what: "client_id" },
            Error::Cancelled,
        ] {
            assert!(!e.leaves_flow_waiting(), "{e:?}");
        }
    }
}
