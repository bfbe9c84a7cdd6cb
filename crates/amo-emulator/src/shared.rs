//! What every handler shares: the emulator's fixed settings and the account's state behind
//! one lock. Handlers import this; the server (`server.rs`) wires them to their routes.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::JoinHandle;

use crate::state::{AccountState, Settings};

/// What every handler shares: fixed settings and the locked state.
#[derive(Debug)]
pub struct Shared {
    pub settings: Settings,
    pub(crate) state: Mutex<AccountState>,
    /// The servers of the addresses a renamed account moved to.
    pub(crate) extra: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    /// Locks the state; a panic in another handler does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, AccountState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
