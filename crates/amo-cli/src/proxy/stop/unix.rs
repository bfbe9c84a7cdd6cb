//! On Unix: SIGINT (Ctrl+C), SIGTERM (`kill`, a service manager) and SIGHUP (the terminal
//! closed) stop the proxy.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// The signals that stop the proxy, caught from [`Stop::listen`] on.
pub struct Stop {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
    hangup: Option<Signal>,
}

impl Stop {
    pub fn listen() -> Stop {
        Stop {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
            hangup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// Waits for the first of them.
    pub async fn recv(&mut self) {
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
            () = next(&mut self.hangup) => {}
        }
    }
}

/// The next delivery of `signal`; never, when it could not be caught.
async fn next(signal: &mut Option<Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}
