//! The relay on Windows: the console gives Ctrl+C and Ctrl+Break to every process attached
//! to it, the child included, so `amo` only keeps them from ending itself and waits.

use std::io;
use std::process::ExitStatus;

use tokio::process::{Child, Command};
use tokio::signal::windows::{ctrl_break, ctrl_c, CtrlBreak, CtrlC};

/// Ctrl+C and Ctrl+Break, held (never read) while the child runs: a console event with a
/// listener is handled, so it does not end `amo` before its child.
pub struct Relay {
    _ctrl_c: Option<CtrlC>,
    _ctrl_break: Option<CtrlBreak>,
}

impl Relay {
    /// Starts holding the console's events; call it before the child starts.
    ///
    /// # Errors
    /// None today; the signature matches the Unix relay.
    pub fn listen() -> io::Result<Relay> {
        Ok(Relay {
            _ctrl_c: ctrl_c().ok(),
            _ctrl_break: ctrl_break().ok(),
        })
    }

    /// Nothing to set on Windows.
    pub fn prepare(_cmd: &mut Command) {}

    /// Waits for the child to end.
    ///
    /// # Errors
    /// The child's status could not be read.
    pub async fn wait(self, child: &mut Child) -> io::Result<ExitStatus> {
        child.wait().await
    }
}
