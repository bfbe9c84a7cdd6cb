//! The accounts and integrations one emulator serves: their numbers, ids, names, hosts and
//! credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{EmulatorConfig, DEFAULT_ACCOUNT_NAME};
use crate::tokens;

/// One account the emulator serves, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Its place: 1 for the first account, up to [`EmulatorConfig::accounts`]. The authorize
    /// page's `account` parameter and `POST /_emulator/select-account` name it so.
    pub number: usize,
    /// Its id, in `/api/v4/account` and in its tokens' `account_id` claim.
    pub id: u64,
    /// Its name, on the consent page and in `/api/v4/account`.
    pub name: String,
    /// `127.0.0.1:PORT`, its own listener: the account host, as `referer` carries it.
    pub host: String,
}

impl AccountInfo {
    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.host)
    }
}

/// One registered integration: what `client_id`, `client_secret` and `redirect_uri` must be.
/// `Debug` prints the secret redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

impl fmt::Debug for Integration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Integration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// The fixed facts of one account, as its answers need them.
#[derive(Debug, Clone)]
pub struct Account {
    pub info: AccountInfo,
    pub subdomain: String,
    pub amojo_id: String,
    pub uuid: String,
}

impl Account {
    /// Account `number` (from 1) of `config`, answering at `host`. Alone, it has the
    /// config's id and name; one of several has the id `account_id + number - 1` and the
    /// name "Account N" (or "NAME N" for a name other than the default).
    pub fn new(config: &EmulatorConfig, number: usize, host: String) -> Self {
        let alone = config.accounts <= 1;
        let name = if alone {
            config.account_name.clone()
        } else if config.account_name == DEFAULT_ACCOUNT_NAME {
            format!("Account {number}")
        } else {
            format!("{} {number}", config.account_name)
        };
        let offset = u64::try_from(number.saturating_sub(1)).unwrap_or(u64::MAX);
        Self {
            info: AccountInfo {
                number,
                id: config.account_id.saturating_add(offset),
                name,
                host,
            },
            subdomain: if number <= 1 {
                "emulator".to_owned()
            } else {
                format!("emulator{number}")
            },
            amojo_id: tokens::uuid_like(),
            uuid: tokens::uuid_like(),
        }
    }
}

/// The integrations of `config`: its own first, then `integrations - 1` with generated
/// credentials and the same redirect URI.
pub fn integrations_of(config: &EmulatorConfig) -> Vec<Integration> {
    let first = Integration {
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        redirect_uri: config.redirect_uri.clone(),
    };
    let more = (1..config.integrations).map(|_| Integration {
        client_id: tokens::uuid_like(),
        client_secret: tokens::alphanumeric(64),
        redirect_uri: config.redirect_uri.clone(),
    });
    std::iter::once(first).chain(more).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_keeps_the_configured_id_and_name() {
        let c = EmulatorConfig::new();
        let a = Account::new(&c, 1, "127.0.0.1:1".into());
        assert_eq!(a.info.id, c.account_id);
        assert_eq!(a.info.name, c.account_name);
        assert_eq!(a.subdomain, "emulator");
    }

    #[test]
    fn several_accounts_are_numbered_in_ids_and_names() {
        let c = EmulatorConfig::new().accounts(3);
        let a = Account::new(&c, 3, "127.0.0.1:1".into());
        assert_eq!(a.info.id, c.account_id + 2);
        assert_eq!(a.info.name, "Account 3");
        let mut named = c.clone();
        named.account_name = "Shop".into();
        assert_eq!(Account::new(&named, 2, String::new()).info.name, "Shop 2");
    }

    #[test]
    fn extra_integrations_have_their_own_credentials() {
        let c = EmulatorConfig::new().integrations(3);
        let all = integrations_of(&c);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].client_id, c.client_id);
        assert_ne!(all[1].client_id, all[2].client_id);
        assert_ne!(all[1].client_secret, c.client_secret);
        assert!(all.iter().all(|i| i.redirect_uri == c.redirect_uri));
        assert!(!format!("{:?}", all[1]).contains(&all[1].client_secret));
    }
}
