//! A local amoCRM emulator: authorize page, token endpoint, `/api/v4/account` and
//! `/api/v4/leads`, the account-moved lookup, controls.
//!
//! Start one in-process with [`Emulator::start`], or run the `amo-emulator` binary. The
//! protocol it speaks is the one in `amocrm-protocol.md`; the control endpoints and the
//! binary's flags are the "Emulator contract" in `DEVELOPERS.md`.

mod account_domain;
mod api;
mod config;
mod control;
mod exchange;
mod faults;
mod leads;
mod oauth;
mod problem;
mod request_log;
mod server;
mod shared;
mod state;
mod tokens;

pub use config::{
    EmulatorConfig, DEFAULT_ACCESS_TTL_SECS, DEFAULT_ACCOUNT_ID, DEFAULT_ACCOUNT_NAME,
    DEFAULT_REDIRECT_URI,
};
pub use faults::{Fault, FaultKind, FaultTarget, DEFAULT_SLOW_DELAY_MS};
pub use request_log::Logged;
pub use server::{Emulator, EmulatorHandle};
pub use state::{Revoke, Stats, CODE_TTL_SECS, REFRESH_TTL_SECS};
