//! A connection as a person sees it, derived from its database row alone (the row keeps the
//! token set's expiry and [`TokenFacts`] whenever the set is stored): its state (connected,
//! expires soon, expired, must be made again) and whether a script can use it. No secret:
//! the access token is masked.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::ConnectionRow;
use crate::types::TokenKind;

/// Tokens this close to expiry show as "expires soon".
pub const EXPIRES_SOON: chrono::Duration = chrono::Duration::hours(1);

/// A connection as a person sees it: no secret, the access token masked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionStatus {
    pub account: String,
    pub name: Option<String>,
    pub account_id: Option<i64>,
    pub kind: TokenKind,
    /// The integration the tokens were issued to (not a secret); none for a long-lived token.
    pub client_id: Option<String>,
    pub access_token_masked: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub reconnect_reason: Option<String>,
    pub state: ConnState,
    pub usable: bool,
    /// Catalogue key of where the tokens live (`storage.secret_service`, …).
    pub storage: &'static str,
    /// Where scripts send API calls: `https://{host}/api/v4`.
    pub api_base: Option<String>,
    /// The host the account had before amoCRM renamed it, when the connection followed it.
    pub moved_from: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnState {
    Connected,
    ExpiresSoon,
    Expired,
    ReconnectNeeded,
}

impl ConnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::Connected => "connected",
            ConnState::ExpiresSoon => "expires_soon",
            ConnState::Expired => "expired",
            ConnState::ReconnectNeeded => "reconnect_needed",
        }
    }
}

/// What a status is derived with besides the row and the tokens.
pub(crate) struct Seen {
    pub now: DateTime<Utc>,
    /// The reason shown when the row knows of no tokens in the keychain (given only then).
    pub tokens_missing: Option<String>,
    pub storage: &'static str,
    pub api_base: Option<String>,
    pub moved_from: Option<String>,
}

impl ConnectionStatus {
    /// The status of `row`, from what it records of its token set (none: the keychain had
    /// no tokens for it when last looked at).
    pub(crate) fn derive(row: ConnectionRow, seen: Seen) -> Self {
        let now = seen.now;
        let facts = row.facts;
        let expires_at = row.expires_at;
        let expired = expires_at.is_some_and(|t| t <= now);
        let can_refresh = facts.as_ref().is_some_and(|f| f.refreshable);
        let reconnect_reason = match (&facts, row.reconnect_reason) {
            (_, Some(reason)) => Some(reason),
            (None, None) => Some(seen.tokens_missing.unwrap_or_default()),
            (Some(_), None) => None,
        };
        let state = if reconnect_reason.is_some() {
            ConnState::ReconnectNeeded
        } else if expired {
            ConnState::Expired
        } else if expires_at.is_some_and(|t| t - now < EXPIRES_SOON) {
            ConnState::ExpiresSoon
        } else {
            ConnState::Connected
        };
        let usable = state != ConnState::ReconnectNeeded && (!expired || can_refresh);
        ConnectionStatus {
            account: row.account.to_string(),
            name: row.name,
            account_id: row.account_id,
            kind: row.kind,
            client_id: row.client_id,
            access_token_masked: facts.map(|f| f.access_masked),
            expires_at,
            expired,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_refresh_at: row.last_refresh_at,
            last_error: row.last_error,
            reconnect_reason,
            state,
            usable,
            storage: seen.storage,
            api_base: seen.api_base,
            moved_from: seen.moved_from,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::db::TokenFacts;
    use crate::secret::{AccessToken, RefreshToken};
    use crate::types::{AccountHost, TokenSet};

    fn row(reconnect: Option<&str>, tokens: Option<&TokenSet>) -> ConnectionRow {
        let t = Utc::now() - Duration::days(1);
        ConnectionRow {
            account: AccountHost::parse("example.amocrm.ru").unwrap(),
            account_id: Some(1),
            name: Some("Example".into()),
            kind: TokenKind::Oauth,
            client_id: None,
            expires_at: tokens.and_then(|t| t.expires_at),
            created_at: t,
            updated_at: t,
            last_refresh_at: None,
            last_error: None,
            reconnect_reason: reconnect.map(str::to_owned),
            facts: tokens.map(TokenFacts::of),
        }
    }

    fn tokens(valid: Duration, refresh: bool) -> TokenSet {
        TokenSet {
            kind: TokenKind::Oauth,
            access_token: AccessToken::new("access-token-value-0123456789"),
            refresh_token: refresh.then(|| RefreshToken::new("refresh")),
            expires_at: Some(Utc::now() + valid),
        }
    }

    fn seen() -> Seen {
        Seen {
            now: Utc::now(),
            tokens_missing: Some("missing".into()),
            storage: "storage.secret_service",
            api_base: None,
            moved_from: None,
        }
    }

    #[test]
    fn the_state_follows_the_expiry_the_refresh_token_and_the_reason() {
        let cases = [
            (
                tokens(Duration::hours(5), true),
                None,
                ConnState::Connected,
                true,
            ),
            (
                tokens(Duration::minutes(30), true),
                None,
                ConnState::ExpiresSoon,
                true,
            ),
            (
                tokens(Duration::minutes(-1), true),
                None,
                ConnState::Expired,
                true,
            ),
            (
                tokens(Duration::minutes(-1), false),
                None,
                ConnState::Expired,
                false,
            ),
            (
                tokens(Duration::hours(5), true),
                Some("revoked"),
                ConnState::ReconnectNeeded,
                false,
            ),
        ];
        for (set, reason, state, usable) in cases {
            let s = ConnectionStatus::derive(row(reason, Some(&set)), seen());
            assert_eq!(
                (s.state, s.usable),
                (state, usable),
                "{reason:?} {:?}",
                set.expires_at
            );
            let masked = s.access_token_masked.unwrap();
            assert!(!masked.contains("0123456789"), "masked: {masked}");
        }
    }

    #[test]
    fn a_row_without_tokens_must_be_made_again() {
        let s = ConnectionStatus::derive(row(None, None), seen());
        assert_eq!(s.state, ConnState::ReconnectNeeded);
        assert_eq!(s.reconnect_reason.as_deref(), Some("missing"));
        assert!(!s.usable);
    }
}
