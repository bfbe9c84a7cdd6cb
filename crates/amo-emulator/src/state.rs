//! The emulator's memory: codes, tokens, the virtual clock, switches and counters.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::accounts::{Account, Integration};
use crate::faults::{Drawn, FaultQueue, FaultTarget};
use crate::problem::Problem;
use crate::ratelimit::{Limiter, RateLimits};
use crate::tokens::{self, Claims};

/// Authorization codes live 20 minutes.
pub const CODE_TTL_SECS: i64 = 20 * 60;
/// Refresh tokens live 3 months.
pub const REFRESH_TTL_SECS: i64 = 90 * 86_400;

/// Request and outcome counters, as `GET /_emulator/stats` answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// `GET /oauth` requests, any client.
    pub authorize_requests: u64,
    /// Codes handed out through a redirect.
    pub codes_issued: u64,
    /// Authorize steps that redirected with `error=access_denied`.
    pub authorize_denied: u64,
    /// `POST /oauth2/access_token` requests, whatever their fate.
    pub token_requests: u64,
    /// Successful code exchanges.
    pub code_grants: u64,
    /// Successful refreshes.
    pub refresh_grants: u64,
    /// Token requests answered with a problem (faults not included).
    pub token_errors: u64,
    /// Refresh attempts with a refresh token that was already spent or revoked.
    pub revoked_refresh_used: u64,
    /// `GET /api/v4/account` requests, whatever their fate.
    pub account_requests: u64,
    /// API requests refused with 401.
    pub api_unauthorized: u64,
    /// Requests that drew an injected fault.
    pub faults_served: u64,
    /// Requests refused with 429 by the rate limits (injected 429s not included).
    pub rate_limited: u64,
}

/// Which tokens `POST /_emulator/revoke` kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Revoke {
    /// Every live refresh token; their later use counts in `revoked_refresh_used`.
    Refresh,
    /// Every access token, long-lived ones included.
    Access,
    /// Only long-lived tokens.
    LongLived,
    /// Everything above.
    All,
}

/// The fixed facts every answer draws on.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The registered integrations, the config's first.
    pub integrations: Vec<Integration>,
    /// The accounts, by index (account number - 1).
    pub accounts: Vec<Account>,
    pub user_id: u64,
    pub auto_approve: bool,
    pub access_ttl_secs: i64,
    pub rate_limits: Option<RateLimits>,
}

impl Settings {
    /// The index of the integration whose client id is `client_id`.
    pub fn integration(&self, client_id: Option<&str>) -> Option<usize> {
        let id = client_id?;
        self.integrations.iter().position(|i| i.client_id == id)
    }

    /// The index of account `number` (from 1), if there is one.
    pub fn account_number(&self, number: usize) -> Option<usize> {
        (1..=self.accounts.len())
            .contains(&number)
            .then(|| number - 1)
    }
}

/// The token endpoint's success body.
#[derive(Debug, Clone, Serialize)]
pub struct TokenAnswer {
    pub token_type: &'static str,
    pub expires_in: i64,
    pub access_token: String,
    pub refresh_token: String,
    pub server_time: i64,
}

/// Whom a code or token was issued to: account and integration, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grantee {
    pub account: usize,
    pub integration: usize,
}

#[derive(Debug)]
struct CodeRecord {
    issued_at: i64,
    used: bool,
    to: Grantee,
}

#[derive(Debug)]
struct AccessRecord {
    expires_at: i64,
    revoked: bool,
    long_lived: bool,
    to: Grantee,
}

#[derive(Debug, PartialEq, Eq)]
enum RefreshStatus {
    Live,
    Spent,
    Revoked,
}

#[derive(Debug)]
struct RefreshRecord {
    expires_at: i64,
    status: RefreshStatus,
    to: Grantee,
}

/// Everything that changes, kept behind one `Mutex` so each request sees and changes it
/// in one step.
#[derive(Debug, Default)]
pub struct AccountState {
    clock_offset: i64,
    pub deny: bool,
    pub faults: FaultQueue,
    pub stats: Stats,
    codes: HashMap<String, CodeRecord>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    /// Where each renamed account (by index) answers now; the others, at their first address.
    pub moved_to: HashMap<usize, String>,
    /// `POST /_emulator/select-account`: the account (by index) the authorize step grants
    /// when its request names none (`None`: the account of the listener it reached).
    pub selected_account: Option<usize>,
    /// The arrival times the rate limits count.
    pub limiter: Limiter,
    /// The configured rate limits are not enforced for now (a test setting up many accounts
    /// before it measures); requests are still logged.
    pub limits_suspended: bool,
    /// `POST /_emulator/access-ttl`: the lifetime of access tokens issued from now on.
    pub access_ttl: Option<i64>,
    /// How many leads `GET /api/v4/leads` lists.
    pub leads: u32,
    /// `POST /_emulator/next-link`: the `_links.next.href` every leads page with a next
    /// page gives instead of its own.
    pub next_link: Option<String>,
    /// `POST /_emulator/redirect`: where the next API requests are sent with a 302, and
    /// how many of them.
    pub redirect: Option<(String, u32)>,
    /// Every protocol request, in order of arrival (control requests not included).
    pub requests: Vec<crate::request_log::Logged>,
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl AccountState {
    /// Unix seconds on the emulator's clock: the real time plus every advance.
    pub fn now(&self) -> i64 {
        real_now() + self.clock_offset
    }

    /// Moves the clock; returns the total offset from real time.
    pub fn advance_clock(&mut self, secs: i64) -> i64 {
        self.clock_offset = self.clock_offset.saturating_add(secs);
        self.clock_offset
    }

    /// Takes one use of a pending fault for a request of `target`, counting it.
    pub fn draw_fault(&mut self, target: FaultTarget) -> Option<Drawn> {
        let drawn = self.faults.draw(target);
        if drawn.is_some() {
            self.stats.faults_served += 1;
        }
        drawn
    }

    /// Hands out a new authorization code for `to`.
    pub fn issue_code(&mut self, to: Grantee) -> String {
        let code = tokens::authorization_code();
        let issued_at = self.now();
        self.codes.insert(
            code.clone(),
            CodeRecord {
                issued_at,
                used: false,
                to,
            },
        );
        self.stats.codes_issued += 1;
        code
    }

    /// The account (by index) of a refresh token this emulator issued (live, spent or
    /// revoked).
    pub fn refresh_account(&self, token: &str) -> Option<usize> {
        self.refresh.get(token).map(|r| r.to.account)
    }

    /// Whether `token` is an access token account `account` (by index) should honour now.
    pub fn access_valid(&self, token: &str, account: usize) -> bool {
        let now = self.now();
        self.access
            .get(token)
            .is_some_and(|a| !a.revoked && now < a.expires_at && a.to.account == account)
    }

    /// The integration (by index) that was issued access token `token`, whatever its state.
    pub fn access_integration(&self, token: &str) -> Option<usize> {
        self.access.get(token).map(|a| a.to.integration)
    }

    /// Issues a long-lived token for `to`, valid for `days`; returns it and its expiry.
    pub fn issue_long_lived(&mut self, s: &Settings, to: Grantee, days: u32) -> (String, i64) {
        let now = self.now();
        let expires_at = now + i64::from(days) * 86_400;
        let token = self.mint_access(s, to, now, expires_at, true);
        (token, expires_at)
    }

    /// Revokes every current (unexpired, unrevoked) token of a kind; returns how many.
    pub fn revoke(&mut self, what: Revoke) -> usize {
        let now = self.now();
        let mut n = 0;
        if matches!(what, Revoke::Refresh | Revoke::All) {
            let live =
                |r: &&mut RefreshRecord| r.status == RefreshStatus::Live && now < r.expires_at;
            for r in self.refresh.values_mut().filter(live) {
                r.status = RefreshStatus::Revoked;
                n += 1;
            }
        }
        let access_hit = |a: &AccessRecord| match what {
            Revoke::Access | Revoke::All => true,
            Revoke::LongLived => a.long_lived,
            Revoke::Refresh => false,
        };
        let current = |a: &&mut AccessRecord| !a.revoked && now < a.expires_at && access_hit(a);
        for a in self.access.values_mut().filter(current) {
            a.revoked = true;
            n += 1;
        }
        n
    }

    /// Answers one token request to account `account` (by index), its parameters already
    /// decoded, counting the outcome.
    pub fn exchange(
        &mut self,
        s: &Settings,
        account: usize,
        p: &HashMap<String, String>,
    ) -> Result<TokenAnswer, Problem> {
        let result = self.exchange_inner(s, account, p);
        if result.is_err() {
            self.stats.token_errors += 1;
        }
        result
    }

    fn exchange_inner(
        &mut self,
        s: &Settings,
        account: usize,
        p: &HashMap<String, String>,
    ) -> Result<TokenAnswer, Problem> {
        let get = |k: &str| p.get(k).map(String::as_str);
        let grant = get("grant_type");
        if !matches!(grant, Some("authorization_code" | "refresh_token")) {
            return Err(Problem::unsupported_grant());
        }
        let Some(integration) = s.integration(get("client_id")) else {
            return Err(Problem::bad_request("Check the `client_id` parameter"));
        };
        let to = Grantee {
            account,
            integration,
        };
        let client = &s.integrations[integration];
        if !get("client_secret").is_some_and(|x| tokens::ct_eq(x, &client.client_secret)) {
            return Err(Problem::invalid_client());
        }
        match get("redirect_uri") {
            None => return Err(Problem::bad_request("Check the `redirect_uri` parameter")),
            Some(uri) if uri != client.redirect_uri => {
                return Err(Problem::bad_request(
                    "Redirect URI is not associated with client",
                ))
            }
            Some(_) => {}
        }
        let now = self.now();
        if grant == Some("authorization_code") {
            let code =
                get("code").ok_or_else(|| Problem::bad_request("Check the `code` parameter"))?;
            // A code granted to another account or integration cannot be read here.
            let rec = self
                .codes
                .get_mut(code)
                .filter(|c| c.to == to)
                .ok_or_else(|| Problem::bad_request("Cannot decrypt the authorization code"))?;
            if now >= rec.issued_at + CODE_TTL_SECS {
                return Err(Problem::bad_request("Authorization code has expired"));
            }
            if rec.used {
                return Err(Problem::bad_request("Authorization code has been revoked"));
            }
            rec.used = true;
            self.stats.code_grants += 1;
        } else {
            let token = get("refresh_token")
                .ok_or_else(|| Problem::bad_request("Check the `refresh_token` parameter"))?;
            // A token this emulator never issued most likely belongs to another integration
            // (or another emulator run): amoCRM calls that "not linked to client". So is one
            // issued to another integration, or for another account.
            let rec = self
                .refresh
                .get_mut(token)
                .filter(|r| r.to == to)
                .ok_or_else(|| Problem::bad_token("Token is not linked to client"))?;
            if rec.status != RefreshStatus::Live {
                self.stats.revoked_refresh_used += 1;
                return Err(Problem::bad_token("Token has been revoked"));
            }
            if now >= rec.expires_at {
                return Err(Problem::bad_token("Token has expired"));
            }
            rec.status = RefreshStatus::Spent;
            self.stats.refresh_grants += 1;
        }
        Ok(self.issue_pair(s, to, now))
    }

    fn issue_pair(&mut self, s: &Settings, to: Grantee, now: i64) -> TokenAnswer {
        let ttl = self.access_ttl.unwrap_or(s.access_ttl_secs);
        let access_token = self.mint_access(s, to, now, now + ttl, false);
        let refresh_token = tokens::refresh_token();
        self.refresh.insert(
            refresh_token.clone(),
            RefreshRecord {
                expires_at: now + REFRESH_TTL_SECS,
                status: RefreshStatus::Live,
                to,
            },
        );
        TokenAnswer {
            token_type: "Bearer",
            expires_in: ttl,
            access_token,
            refresh_token,
            server_time: now,
        }
    }

    fn mint_access(
        &mut self,
        s: &Settings,
        to: Grantee,
        now: i64,
        expires_at: i64,
        long_lived: bool,
    ) -> String {
        let account = &s.accounts[to.account].info;
        let token = tokens::access_token(&Claims {
            client_id: &s.integrations[to.integration].client_id,
            user_id: s.user_id,
            account_id: account.id,
            api_domain: &account.host,
            issued_at: now,
            expires_at,
        });
        self.access.insert(
            token.clone(),
            AccessRecord {
                expires_at,
                revoked: false,
                long_lived,
                to,
            },
        );
        token
    }
}
