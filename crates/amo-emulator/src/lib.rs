//! A local amoCRM emulator: authorize page, token endpoint, `/api/v4/account` and
//! `/api/v4/leads`, the account-moved lookup, controls; one account or many, one integration
//! or several, amoCRM's rate limits when asked, and a log of every request.
//!
//! Start one in-process with [`Emulator::start`], or run the `amo-emulator` binary. The
//! protocol it speaks is the one in `amocrm-protocol.md`; the control endpoints and the
//! binary's flags are the "Emulator contract" in `DEVELOPERS.md`.

mod account_domain;
mod accounts;
mod api;
mod config;
mod control;
mod exchange;
mod faults;
mod handle;
mod leads;
mod oauth;
mod problem;
mod ratelimit;
mod request_log;
mod server;
mod shared;
mod state;
mod tokens;

pub use accounts::{AccountInfo, Integration};
pub use config::{
    EmulatorConfig, DEFAULT_ACCESS_TTL_SECS, DEFAULT_ACCOUNT_ID, DEFAULT_ACCOUNT_NAME,
    DEFAULT_REDIRECT_URI,
};
pub use faults::{Fault, FaultKind, FaultTarget, DEFAULT_SLOW_DELAY_MS};
pub use handle::EmulatorHandle;
pub use ratelimit::RateLimits;
pub use request_log::{Logged, RateSummary};
pub use server::Emulator;
pub use state::{Revoke, Stats, CODE_TTL_SECS, REFRESH_TTL_SECS};
