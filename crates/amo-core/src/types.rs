//! Protocol newtypes: account host, client id, platform, token kind and the stored token set.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, Result};
use crate::secret::{AccessToken, RefreshToken};

/// An amoCRM account's host, such as `example.amocrm.ru` (lower case, with a port only for
/// the local emulator). Parsing checks the syntax only; whether a secret may be sent there
/// is [`crate::Settings::check_account_host`]'s call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountHost(String);

impl AccountHost {
    /// Reads a host as a person may type it: `example.amocrm.ru`, `HTTPS://Example.amocrm.ru/`.
    /// An `http://` or `https://` prefix (any case), one trailing `/` and surrounding blanks
    /// go; letters are lowered. What is left must be ASCII letters, digits, `-` and `.` in
    /// labels of 1–63 characters (no empty label, so no trailing dot), at most 253 in all,
    /// with an optional port. Everything else is refused rather than guessed at: user info
    /// (`user@host`), paths, queries, percent-encoding, `_`, IPv6 literals, non-ASCII.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when it is not a plain host name (with an optional port).
    pub fn parse(input: &str) -> Result<AccountHost> {
        let invalid = || Error::InvalidInput {
            field: "account",
            value: input.chars().take(80).collect(),
        };
        if !input.is_ascii() {
            return Err(invalid());
        }
        let s = input.trim().to_ascii_lowercase();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(&s);
        let s = s.strip_suffix('/').unwrap_or(s);
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if let Some(p) = port {
            let digits = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
            if !digits || p.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(invalid());
            }
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(invalid());
        }
        Ok(AccountHost(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host without a port.
    pub fn hostname(&self) -> &str {
        self.0.rsplit_once(':').map_or(&self.0, |(h, _)| h)
    }
}

impl fmt::Display for AccountHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// amoCRM (`www.amocrm.ru`) or Kommo (`www.kommo.com`): where the authorize page lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    #[default]
    Amocrm,
    Kommo,
}

impl Platform {
    /// # Errors
    /// [`Error::InvalidInput`] for anything but `amocrm` or `kommo`.
    pub fn parse(s: &str) -> Result<Platform> {
        match s.trim().to_ascii_lowercase().as_str() {
            "amocrm" | "amo" | "amocrm.ru" => Ok(Platform::Amocrm),
            "kommo" | "kommo.com" => Ok(Platform::Kommo),
            _ => Err(Error::InvalidInput {
                field: "platform",
                value: s.chars().take(40).collect(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Amocrm => "amocrm",
            Platform::Kommo => "kommo",
        }
    }

    /// The authorize page on the platform's public site.
    pub fn authorize_base(self) -> &'static str {
        match self {
            Platform::Amocrm => "https://www.amocrm.ru/oauth",
            Platform::Kommo => "https://www.kommo.com/oauth",
        }
    }
}

/// How a connection was made, which decides whether it can be refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Oauth,
    LongLived,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Oauth => "oauth",
            TokenKind::LongLived => "long_lived",
        }
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "oauth" => Some(TokenKind::Oauth),
            "long_lived" => Some(TokenKind::LongLived),
            _ => None,
        }
    }
}

/// The secret half of a connection, kept as one keychain item so it is replaced whole.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub kind: TokenKind,
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_as_people_type_them() {
        let h = AccountHost::parse(" https://Example.amocrm.ru/ ").unwrap();
        assert_eq!(h.as_str(), "example.amocrm.ru");
        assert_eq!(
            AccountHost::parse("127.0.0.1:8080").unwrap().hostname(),
            "127.0.0.1"
        );
        for bad in [
            "",
            "a b.ru",
            "evil.com/x",
            "user@evil.com",
            "x.ru:99999",
            "-a.ru",
            "a..ru",
        ] {
            assert!(AccountHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platforms_parse() {
        assert_eq!(Platform::parse("Kommo").unwrap(), Platform::Kommo);
        assert!(Platform::parse("bitrix").is_err());
    }
}
