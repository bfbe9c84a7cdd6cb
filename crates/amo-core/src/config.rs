//! Settings: what the user saved, what the environment overrides, and where calls go.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use url::Url;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::secret::ClientSecret;
use crate::types::{AccountHost, Platform};

/// The redirect URI used when the user sets none; register it exactly so in amoCRM.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:17563/amocrm/callback";

/// The environment variables that override saved settings.
pub const ENV_KEYS: &[&str] = &[
    "AMO_CLIENT_ID",
    "AMO_CLIENT_SECRET",
    "AMO_REDIRECT_URI",
    "AMO_PLATFORM",
    "AMO_BASE_URL",
];

/// The integration's redirect URI, exactly as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(Url);

impl RedirectUri {
    /// # Errors
    /// [`Error::InvalidRedirectUri`] unless it is an absolute http(s) address with a host.
    pub fn parse(s: &str) -> Result<RedirectUri> {
        let fail = |reason| Error::InvalidRedirectUri {
            value: s.chars().take(200).collect(),
            reason,
        };
        let url = Url::parse(s.trim()).map_err(|_| fail("not_url"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(fail("not_http"));
        }
        if url.fragment().is_some() || !url.username().is_empty() {
            return Err(fail("not_http"));
        }
        if url.scheme() == "http" && url.port_or_known_default().is_some() && !is_loopback(&url) {
            return Err(fail("http_not_loopback"));
        }
        Ok(RedirectUri(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The loopback address to listen on, when this URI points at this machine.
    pub fn loopback_addr(&self) -> Option<SocketAddr> {
        if self.0.scheme() != "http" || !is_loopback(&self.0) {
            return None;
        }
        let ip = match self.0.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        Some(SocketAddr::new(ip, self.0.port_or_known_default()?))
    }

    /// The `Host` header a browser sends for this URI.
    pub fn authority(&self) -> String {
        authority(&self.0)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// The settings in force: saved ones with the environment's overrides on top.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client_id: Option<String>,
    pub redirect_uri: RedirectUri,
    pub platform: Platform,
    /// `AMO_BASE_URL`: every amoCRM call goes to this loopback emulator.
    pub base_url: Option<Url>,
    /// The saved language of the window, if the user chose one.
    pub lang: Option<String>,
    /// The saved theme of the window (`light`, `dark`), if the user forced one.
    pub theme: Option<String>,
    /// Which `AMO_*` variables are in force.
    pub overridden: Vec<&'static str>,
    /// Hosts connections moved to when their accounts were renamed.
    pub moved_hosts: Vec<String>,
    /// `AMO_EMULATOR_ACCOUNTS` (with `AMO_BASE_URL` only): the other accounts the emulator
    /// serves, each on a port of its own address.
    pub emulator_accounts: Vec<AccountHost>,
}

impl Settings {
    /// Reads saved settings from `db` and applies overrides from `env`.
    ///
    /// # Errors
    /// A saved or overriding value that does not parse; `AMO_BASE_URL` off loopback.
    pub fn resolve(db: &Db, env: impl Fn(&str) -> Option<String>) -> Result<Settings> {
        let env = |k: &str| {
            env(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let overridden = ENV_KEYS
            .iter()
            .copied()
            .filter(|k| env(k).is_some())
            .collect();
        let client_id = env("AMO_CLIENT_ID").or(db.setting("client_id")?);
        // The chosen integration's own redirect URI and platform, else the saved defaults.
        let integration = match &client_id {
            Some(id) => db.integration(id)?,
            None => None,
        };
        let own = |pick: fn(&crate::db::IntegrationRow) -> Option<String>| {
            integration.as_ref().and_then(pick)
        };
        let redirect = env("AMO_REDIRECT_URI")
            .or(own(|i| i.redirect_uri.clone()))
            .or(db.setting("redirect_uri")?)
            .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned());
        let platform = env("AMO_PLATFORM")
            .or(own(|i| i.platform.clone()))
            .or(db.setting("platform")?);
        let base_url = env("AMO_BASE_URL")
            .map(|v| parse_base_url(&v))
            .transpose()?;
        let emulator_accounts = match (&base_url, env("AMO_EMULATOR_ACCOUNTS")) {
            (Some(base), Some(list)) => emulator_accounts(base, &list)?,
            _ => Vec::new(),
        };
        Ok(Settings {
            emulator_accounts,
            client_id,
            redirect_uri: RedirectUri::parse(&redirect)?,
            platform: platform
                .as_deref()
                .map(Platform::parse)
                .transpose()?
                .unwrap_or_default(),
            base_url,
            lang: db.setting("lang")?,
            theme: db.setting("theme")?.filter(|t| !t.is_empty()),
            overridden,
            moved_hosts: db.moved_hosts()?,
        })
    }

    /// # Errors
    /// [`Error::NotConfigured`] when no client ID is set.
    pub fn require_client_id(&self) -> Result<&str> {
        self.client_id
            .as_deref()
            .ok_or(Error::NotConfigured { what: "client_id" })
    }

    /// The authorize page for `state`.
    pub fn authorize_url(&self, client_id: &str, state: &str) -> Url {
        let mut url = match &self.base_url {
            Some(base) => base.join("/oauth").expect("a base URL joins a path"),
            None => Url::parse(self.platform.authorize_base()).expect("a constant URL"),
        };
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("state", state)
            .append_pair("mode", "post_message");
        url
    }

    /// Checks that a secret may be sent to `account`: an account host of amoCRM or Kommo
    /// ([`is_account_host`]), or with `AMO_BASE_URL` the emulator's own address, the other
    /// accounts it serves (`AMO_EMULATOR_ACCOUNTS`), and the addresses it moved renamed
    /// accounts to.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`].
    pub fn check_account_host(&self, account: &AccountHost) -> Result<()> {
        let allowed = match &self.base_url {
            Some(base) => {
                account.as_str() == authority(base)
                    || self.emulator_accounts.iter().any(|h| h == account)
                    || (self.moved_hosts.iter().any(|h| h == account.as_str())
                        && self.may_move_to(account))
            }
            None => is_account_host(account),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::RefererNotAllowed {
                host: account.as_str().chars().take(100).collect(),
            })
        }
    }

    /// Whether an account may be followed to `account` after amoCRM said it moved there:
    /// an account host, or with an emulator another port of its loopback host (where it
    /// serves a renamed account).
    pub fn may_move_to(&self, account: &AccountHost) -> bool {
        match &self.base_url {
            Some(base) => {
                account.hostname() == base.host_str().unwrap_or_default()
                    && account.as_str().contains(':')
            }
            None => is_account_host(account),
        }
    }

    /// The address of `path` on `account`, after checking the host.
    ///
    /// # Errors
    /// [`Error::RefererNotAllowed`], or [`Error::EmulatorConnection`] for a connection made
    /// with an emulator that is not the one configured now.
    pub fn account_url(&self, account: &AccountHost, path: &str) -> Result<Url> {
        if self.base_url.is_none() && is_local(account) {
            return Err(Error::EmulatorConnection {
                account: account.to_string(),
            });
        }
        self.check_account_host(account)?;
        let base = match &self.base_url {
            Some(base) if account.as_str() == authority(base) => base.clone(),
            Some(base) => Url::parse(&format!("{}://{account}/", base.scheme())).map_err(|_| {
                Error::RefererNotAllowed {
                    host: account.to_string(),
                }
            })?,
            None => Url::parse(&format!("https://{account}/")).map_err(|_| {
                Error::RefererNotAllowed {
                    host: account.to_string(),
                }
            })?,
        };
        Ok(base.join(path).expect("a checked host joins a path"))
    }
}

/// The domains whose accounts live on `{subdomain}.{domain}`.
pub const ACCOUNT_DOMAINS: &[&str] = &["amocrm.ru", "amocrm.com", "kommo.com"];

/// Subdomains of [`ACCOUNT_DOMAINS`] that are the platforms' own services (site, sign-in,
/// API gateways, help, mail, static files, …), never an account; `api-` with one letter
/// (`api-a`, `api-b`, … the `api_domain` gateways) is refused as well. A name here may
/// shadow a real account of that name: such an account connects by a pasted code only
/// after this list is changed, which is the safer mistake.
pub const SERVICE_SUBDOMAINS: &[&str] = &[
    "www",
    "id",
    "help",
    "developers",
    "developer",
    "docs",
    "api",
    "oauth",
    "oauth2",
    "auth",
    "login",
    "sso",
    "static",
    "cdn",
    "mail",
    "email",
    "smtp",
    "support",
    "status",
    "shop",
    "blog",
    "forum",
    "community",
    "academy",
    "partners",
    "market",
    "marketplace",
    "widgets",
];

/// Whether `account` is an account host: exactly one label in front of an
/// [`ACCOUNT_DOMAINS`] entry, no port, not a [`SERVICE_SUBDOMAINS`] name, and not an
/// internationalised or reserved label (`xn--…`, or any `--` in the third and fourth
/// places): amoCRM's subdomains are plain ASCII, and a punycode label can imitate one.
pub fn is_account_host(account: &AccountHost) -> bool {
    let h = account.as_str();
    ACCOUNT_DOMAINS.iter().any(|d| {
        let Some(sub) = h.strip_suffix(d).and_then(|s| s.strip_suffix('.')) else {
            return false;
        };
        let service = SERVICE_SUBDOMAINS.contains(&sub)
            || sub
                .strip_prefix("api-")
                .is_some_and(|x| x.len() == 1 && x.bytes().all(|b| b.is_ascii_lowercase()));
        let reserved = sub.get(2..4) == Some("--");
        !sub.is_empty() && !sub.contains('.') && !sub.contains(':') && !service && !reserved
    })
}

fn is_local(account: &AccountHost) -> bool {
    let h = account.hostname();
    h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `AMO_EMULATOR_ACCOUNTS`: comma-separated `HOST:PORT`s, each on the emulator's own
/// loopback host.
fn emulator_accounts(base: &Url, list: &str) -> Result<Vec<AccountHost>> {
    list.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let fail = || Error::BaseUrlNotLoopback {
                value: h.chars().take(200).collect(),
            };
            let host = AccountHost::parse(h).map_err(|_| fail())?;
            let same = host.hostname() == base.host_str().unwrap_or_default();
            if !same || !h.contains(':') {
                return Err(fail());
            }
            Ok(host)
        })
        .collect()
}

fn parse_base_url(v: &str) -> Result<Url> {
    let fail = || Error::BaseUrlNotLoopback {
        value: v.chars().take(200).collect(),
    };
    let url = Url::parse(v).map_err(|_| fail())?;
    if !matches!(url.scheme(), "http" | "https") || !is_loopback(&url) {
        return Err(fail());
    }
    Ok(url)
}

/// Settings to save from the setup form; `None` keeps what is saved.
#[derive(Debug, Default)]
pub struct NewSettings {
    pub client_id: Option<String>,
    pub client_secret: Option<ClientSecret>,
    pub redirect_uri: Option<String>,
    pub platform: Option<String>,
    pub lang: Option<String>,
    /// `light`, `dark`, or `system` (follow the desktop's theme).
    pub theme: Option<String>,
}

/// What [`NewSettings::check`] found valid, each field parsed; `None` keeps what is saved.
pub(crate) struct Checked {
    pub client_id: Option<String>,
    pub redirect: Option<RedirectUri>,
    pub platform: Option<Platform>,
    /// A language code, or empty to follow the system's.
    pub lang: Option<String>,
    /// `light`, `dark`, or empty to follow the desktop's.
    pub theme: Option<&'static str>,
}

impl NewSettings {
    /// Checks every field the form gave, before anything is saved.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field; [`Error::InvalidRedirectUri`].
    pub(crate) fn check(&self) -> Result<Checked> {
        let client_id = self.client_id.as_ref().map(|c| c.trim().to_owned());
        if let Some(id) = &client_id {
            if id.is_empty() || id.len() > 200 || id.chars().any(|c| c.is_whitespace()) {
                return Err(Error::InvalidInput {
                    field: "client_id",
                    value: id.clone(),
                });
            }
        }
        let redirect = self
            .redirect_uri
            .as_deref()
            .map(RedirectUri::parse)
            .transpose()?;
        let platform = self.platform.as_deref().map(Platform::parse).transpose()?;
        let lang = match self.lang.as_deref() {
            None => None,
            Some("" | "system") => Some(String::new()),
            Some(code) => Some(
                Lang::from_code(code)
                    .ok_or(Error::InvalidInput {
                        field: "lang",
                        value: code.into(),
                    })?
                    .code()
                    .to_owned(),
            ),
        };
        let theme = match self.theme.as_deref() {
            None => None,
            Some("" | "system") => Some(""),
            Some("light") => Some("light"),
            Some("dark") => Some("dark"),
            Some(other) => {
                return Err(Error::InvalidInput {
                    field: "theme",
                    value: other.into(),
                })
            }
        };
        Ok(Checked {
            client_id,
            redirect,
            platform,
            lang,
            theme,
        })
    }
}

/// Settings from an empty database, with `base` as `AMO_BASE_URL`: for tests.
#[cfg(test)]
pub(crate) fn test_settings(base: Option<&str>) -> Settings {
    let db = Db::open_in_memory().unwrap();
    let base = base.map(str::to_owned);
    Settings::resolve(&db, |k| {
        (k == "AMO_BASE_URL").then(|| base.clone()).flatten()
    })
    .unwrap()
}

#[cfg(test)]
mod tests;
