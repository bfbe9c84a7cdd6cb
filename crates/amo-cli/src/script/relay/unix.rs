//! The relay on Unix: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to `amo` go on to its child,
//! and `amo` waits for the child's end, so no child outlives `amo` with the token.
//!
//! The child runs in `amo`'s own process group, as any command a shell starts: it stays in
//! the terminal's foreground and can read from it. A key pressed in the terminal (Ctrl+C,
//! Ctrl+\) already signals that whole group, the child included; passing it on again would
//! give the child a second one while it handles the first. So a SIGINT or SIGQUIT sent by
//! the kernel (the terminal) is not passed on; one sent by a process (`kill`, a supervisor,
//! a task runner) reaches only `amo` and is. SIGTERM and SIGHUP are always passed on: a
//! hangup may reach only the session's leader, and a second one changes nothing for a
//! program that is ending. A signal the child sent `amo` itself is not sent back.

use std::io;
use std::process::ExitStatus;

use libc::{c_int, pid_t, SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle, SignalsInfo};
use signal_hook::low_level::siginfo::{Cause, Origin};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The signals that end a program, which `amo` passes on.
const RELAYED: [c_int; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];

/// The relayed signals, caught from [`Relay::listen`] until the child has ended.
pub struct Relay {
    handle: Handle,
    origins: mpsc::UnboundedReceiver<Origin>,
}

impl Relay {
    /// Starts catching the relayed signals; call it before the child starts, so none of them
    /// can end `amo` while the child runs. A signal ignored when `amo` started (`nohup`)
    /// stays ignored, and the child inherits that.
    ///
    /// # Errors
    /// The handlers or the thread that reads them could not be set up.
    pub fn listen() -> io::Result<Relay> {
        let wanted: Vec<c_int> = RELAYED.into_iter().filter(|&s| !ignored(s)).collect();
        let mut signals = SignalsInfo::<WithOrigin>::new(&wanted)?;
        let handle = signals.handle();
        let (tx, origins) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("signal-relay".into())
            .spawn(move || {
                for origin in signals.forever() {
                    if tx.send(origin).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Relay { handle, origins })
    }

    /// On Linux the child also gets SIGTERM when `amo` dies of anything, SIGKILL included.
    pub fn prepare(cmd: &mut Command) {
        #[cfg(target_os = "linux")]
        {
            let parent = pid_t::try_from(std::process::id()).unwrap_or(0);
            // SAFETY: between fork and exec the closure makes two system calls and builds an
            // error from a number: nothing allocates or takes a lock.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, SIGTERM) == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    // `amo` died before the line above: nothing would tell the child.
                    if libc::getppid() != parent {
                        return Err(io::Error::from_raw_os_error(libc::ESRCH));
                    }
                    Ok(())
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = cmd;
    }

    /// Passes each caught signal on to `child` (as [`relays`] decides) until it ends, and
    /// returns how it ended.
    ///
    /// # Errors
    /// The child's status could not be read.
    pub async fn wait(mut self, child: &mut Child) -> io::Result<ExitStatus> {
        loop {
            tokio::select! {
                status = child.wait() => return status,
                Some(origin) = self.origins.recv() => {
                    // No id once the child is reaped: its number may belong to another
                    // process by then.
                    let Some(pid) = child.id().and_then(|p| pid_t::try_from(p).ok()) else {
                        continue;
                    };
                    let sender = origin.process.map(|p| p.pid);
                    if relays(origin.signal, origin.cause, sender, pid) {
                        // SAFETY: a plain system call on the child's (not yet reaped) id.
                        unsafe { libc::kill(pid, origin.signal) };
                    }
                }
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.handle.close();
    }
}

/// Whether `signal`, caught by `amo` with `cause` from `sender`, goes on to `child`.
fn relays(signal: c_int, cause: Cause, sender: Option<pid_t>, child: pid_t) -> bool {
    if sender == Some(child) {
        return false;
    }
    let from_terminal = cause == Cause::Kernel && matches!(signal, SIGINT | SIGQUIT);
    !from_terminal
}

/// Whether `signal` is ignored in this process now (as `nohup` leaves SIGHUP).
fn ignored(signal: c_int) -> bool {
    // SAFETY: a query only (no new action); `old` is a valid place for the answer.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signal_hook::low_level::siginfo::Sent;

    const CHILD: pid_t = 4242;
    const OTHER: pid_t = 99;

    #[test]
    fn signals_sent_by_a_process_go_on_to_the_child() {
        for signal in RELAYED {
            assert!(
                relays(signal, Cause::Sent(Sent::User), Some(OTHER), CHILD),
                "{signal}"
            );
        }
    }

    #[test]
    fn terminal_keys_are_not_given_to_the_child_twice() {
        assert!(!relays(SIGINT, Cause::Kernel, None, CHILD));
        assert!(!relays(SIGQUIT, Cause::Kernel, None, CHILD));
        // A hangup from the kernel may reach only the session's leader: it goes on.
        assert!(relays(SIGHUP, Cause::Kernel, None, CHILD));
        assert!(relays(SIGTERM, Cause::Kernel, None, CHILD));
    }

    #[test]
    fn a_signal_from_the_child_is_not_sent_back_to_it() {
        for signal in RELAYED {
            assert!(
                !relays(signal, Cause::Sent(Sent::User), Some(CHILD), CHILD),
                "{signal}"
            );
        }
    }
}
