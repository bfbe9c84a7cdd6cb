//! Refresh: single flight across threads and processes, and API calls that refresh first;
//! a refresh the old host answers 404 follows the account to its new host (`moved.rs`).
//!
//! An `impl Engine`: a refresh reads the settings and the client secret, borrows the token
//! store and the token endpoint, and records its outcome in the database, the journal and
//! the events, all of which the engine holds; `engine.rs` calls back into it for status.

use chrono::Utc;

use crate::engine::{Engine, EngineEvent, REFRESH_MARGIN};
use crate::error::{Error, Result};
use crate::secret::AccessToken;
use crate::status::ConnectionStatus;
use crate::token_endpoint::Grant;
use crate::types::{AccountHost, TokenKind, TokenSet};

/// How long amoCRM's access tokens last when the token itself does not say (a day).
const DEFAULT_LIFETIME: chrono::Duration = chrono::Duration::days(1);
/// What a token just issued may already have spent of its life by the time it is handed out.
const ISSUE_MARGIN: chrono::Duration = chrono::Duration::minutes(1);

/// When to refresh.
#[derive(Clone, Copy)]
pub(crate) enum RefreshPolicy<'a> {
    /// Only when the access token expires within the margin.
    Expiring,
    /// Only when the access token would not stay valid this long.
    ValidFor(chrono::Duration),
    /// Now, unless another process refreshed since the caller last looked.
    Now,
    /// When the stored access token is still `rejected`, which amoCRM just refused.
    Rejected(&'a AccessToken),
}

impl Engine {
    /// Refreshes `account`'s tokens now (or takes the pair another process just got).
    ///
    /// # Errors
    /// [`Error::CannotRefresh`] for a long-lived token, [`Error::ReconnectNeeded`] when
    /// amoCRM revoked the refresh token, [`Error::KeychainUnavailable`] when the keychain
    /// cannot be written (nothing is sent then), [`Error::KeychainRefusedNewTokens`] when
    /// it refused the new pair, [`Error::TokenAnswerIncomplete`] when amoCRM's answer has
    /// no refresh token (the stored pair is kept), and the token endpoint's errors.
    pub async fn refresh(&self, account: &AccountHost) -> Result<ConnectionStatus> {
        let (account, _) = self.tokens(account, RefreshPolicy::Now).await?;
        self.connection(&account)
    }

    /// Refreshes when the access token expires within the margin; the app's background
    /// timer calls this.
    ///
    /// # Errors
    /// As [`Engine::refresh`].
    pub async fn refresh_if_needed(&self, account: &AccountHost) -> Result<ConnectionStatus> {
        let (account, _) = self.tokens(account, RefreshPolicy::Expiring).await?;
        self.connection(&account)
    }

    /// The account's host (a moved account's new one) and tokens, refreshed as `when` asks,
    /// with one refresh at a time across processes: take the lock, read the pair again,
    /// refresh only if still needed.
    pub(crate) async fn tokens(
        &self,
        account: &AccountHost,
        when: RefreshPolicy<'_>,
    ) -> Result<(AccountHost, TokenSet)> {
        let account = &self.follow_moves(account);
        let margin = match when {
            RefreshPolicy::Expiring => Some(REFRESH_MARGIN),
            RefreshPolicy::ValidFor(d) => Some(d),
            _ => None,
        };
        let seen = self.stored_tokens(account)?;
        if let RefreshPolicy::ValidFor(asked) = when {
            self.check_min_valid(account, &seen, asked)?;
        }
        if seen.kind == TokenKind::LongLived {
            return match when {
                RefreshPolicy::Expiring | RefreshPolicy::ValidFor(_) => Ok((account.clone(), seen)),
                _ => Err(Error::CannotRefresh {
                    account: account.to_string(),
                }),
            };
        }
        if margin.is_some_and(|m| !expiring(&seen, m)) {
            return Ok((account.clone(), seen));
        }
        let lock = self.inner.store.lock(account).await?;
        let current = self.stored_tokens(account)?;
        let changed = match (&current.refresh_token, &seen.refresh_token) {
            (Some(a), Some(b)) => !a.ct_eq(b),
            _ => false,
        };
        let needed = match when {
            RefreshPolicy::Expiring => expiring(&current, REFRESH_MARGIN),
            RefreshPolicy::ValidFor(d) => expiring(&current, d),
            RefreshPolicy::Now => !changed,
            RefreshPolicy::Rejected(bad) => current.access_token.ct_eq(bad),
        };
        if !needed {
            drop(lock);
            return Ok((account.clone(), current));
        }
        let result = match self.refresh_locked(account, &current).await {
            Err(e) if moved_answer(&e) => match self.follow_account(account, &current).await {
                Ok(Some(new)) => self
                    .refresh_locked(&new, &current)
                    .await
                    .map(|set| (new, set)),
                Ok(None) => Err(self.refresh_failed(account, "refresh_failed", e)),
                Err(lookup) => Err(lookup),
            },
            other => other.map(|set| (account.clone(), set)),
        };
        drop(lock);
        result
    }

    /// The account's tokens as the keychain holds them now. The row follows what is found:
    /// tokens gone from the keychain mark it as needing a new connection, and a set changed
    /// outside the connector updates what views show of it.
    fn stored_tokens(&self, account: &AccountHost) -> Result<TokenSet> {
        match self.inner.store.load(account) {
            Ok(set) => {
                self.db().note_tokens(account, &set)?;
                Ok(set)
            }
            Err(e @ Error::NotConnected { .. }) => {
                if self.db().connection(account)?.is_some() {
                    self.tokens_missing(account)?;
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Refuses, before anything is sent, a `min_valid` that even a token issued this moment
    /// would not meet: refreshing for it would spend a refresh token on every call and fail.
    fn check_min_valid(
        &self,
        account: &AccountHost,
        set: &TokenSet,
        asked: chrono::Duration,
    ) -> Result<()> {
        if set.kind != TokenKind::Oauth {
            return Ok(());
        }
        let lifetime = crate::token_endpoint::jwt_lifetime(set.access_token.expose())
            .or_else(|| {
                let row = self.db().connection(account).ok()??;
                let issued = row.last_refresh_at?;
                Some(row.expires_at? - issued).filter(|d| *d > chrono::Duration::zero())
            })
            .unwrap_or(DEFAULT_LIFETIME);
        if asked > lifetime - ISSUE_MARGIN {
            return Err(Error::MinValidTooLong {
                account: account.to_string(),
                asked_secs: asked.num_seconds(),
                lifetime_secs: lifetime.num_seconds(),
            });
        }
        Ok(())
    }

    async fn refresh_locked(&self, account: &AccountHost, current: &TokenSet) -> Result<TokenSet> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::CannotRefresh {
                account: account.to_string(),
            });
        };
        let settings = self.settings()?;
        let row = self.db().connection(account)?;
        if let Some(reason) = row.as_ref().and_then(|r| r.reconnect_reason.clone()) {
            // That refresh token was refused for good: sending it again only adds noise.
            return Err(Error::ReconnectNeeded {
                account: account.to_string(),
                reason,
            });
        }
        let client_id = row
            .and_then(|r| r.client_id)
            .or(settings.client_id.clone())
            .ok_or(Error::NotConfigured { what: "client_id" })?;
        let secret = self.client_secret(&client_id)?;
        let url = settings.account_url(account, "/oauth2/access_token")?;
        // amoCRM's answer spends the refresh token: ask only when the keychain can keep it.
        if let Err(e) = self.inner.store.vault().probe() {
            return Err(self.refresh_failed(account, "refresh_failed", e));
        }
        // A refresh counts against amoCRM's 7 requests a second like any other call.
        let slot = crate::ratelimit::acquire(&self.inner.dir, Some(&client_id), account).await?;
        self.log("refresh_started", Some(account.as_str()), "", true);
        let answer = crate::token_endpoint::issue(
            &self.inner.http,
            url,
            &client_id,
            &secret,
            self.redirect_uri_of(&client_id)?.as_str(),
            Grant::Refresh(refresh_token),
        )
        .await;
        drop(slot);
        let issued = match answer {
            Ok(issued) => issued,
            Err(Error::Amo(p)) if Error::Amo(p.clone()).needs_reconnect() => {
                let e = Error::ReconnectNeeded {
                    account: account.to_string(),
                    reason: crate::error::amo_said(&p),
                };
                return Err(self.refresh_failed(account, "refresh_failed", e));
            }
            // A 404 may mean the account moved: the caller asks where before recording it.
            Err(e) if moved_answer(&e) => return Err(e),
            Err(e) => return Err(self.refresh_failed(account, "refresh_failed", e)),
        };
        if issued.set.refresh_token.is_none() {
            // A pair without a refresh token would end the connection when the access
            // token expires; the stored one may still refresh.
            let e = Error::TokenAnswerIncomplete {
                account: account.to_string(),
                missing: "refresh_token",
            };
            return Err(self.refresh_failed(account, "refresh_failed", e));
        }
        let new = issued.set;
        if let Err(e) = self.inner.store.keep(account, &new).await {
            let reason = match e {
                Error::KeychainUnavailable { reason } => reason,
                other => other.describe(self.lang()),
            };
            let e = Error::KeychainRefusedNewTokens {
                account: account.to_string(),
                reason,
            };
            return Err(self.refresh_failed(account, "new_tokens_unsaved", e));
        }
        self.db().mark_refreshed(account, &new, Utc::now())?;
        self.log("refreshed", Some(account.as_str()), "", true);
        if issued.no_expires_in {
            let lang = self.lang();
            let detail = match new.expires_at {
                Some(t) => {
                    let time = crate::when::date_time(lang, &t.with_timezone(&chrono::Local));
                    lang.tr("detail.no_expires_in", &[("time", &time)])
                }
                None => lang.tr("detail.no_expiry", &[]),
            };
            self.log(
                "token_answer_incomplete",
                Some(account.as_str()),
                &detail,
                false,
            );
        }
        self.emit(EngineEvent::Refreshed {
            account: account.to_string(),
        });
        Ok(new)
    }

    /// Records a failed refresh on the connection and in the activity log, and hands the
    /// error back (or the database's, when even the record fails).
    pub(crate) fn refresh_failed(&self, account: &AccountHost, step: &str, e: Error) -> Error {
        let reason = match &e {
            Error::ReconnectNeeded { reason, .. } => reason.clone(),
            other => other.describe(self.lang()),
        };
        let marked = self
            .db()
            .mark_failed(account, &reason, e.needs_reconnect(), Utc::now());
        if let Err(db) = marked {
            return db;
        }
        self.fail(Some(account), step, &e);
        e
    }
}

fn expiring(set: &TokenSet, margin: chrono::Duration) -> bool {
    set.expires_at.is_some_and(|t| t - Utc::now() < margin)
}

/// Whether a token endpoint's answer is the 404 of a host the account has left.
fn moved_answer(e: &Error) -> bool {
    matches!(e, Error::Amo(p) if p.status == 404)
        || matches!(e, Error::UnexpectedResponse { status: 404, .. })
}

#[cfg(test)]
mod tests;
