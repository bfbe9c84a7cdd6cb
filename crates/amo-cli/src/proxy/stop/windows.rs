//! On Windows: Ctrl+C, Ctrl+Break and closing the console window stop the proxy.

use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, CtrlBreak, CtrlC, CtrlClose};

/// The console events that stop the proxy, caught from [`Stop::listen`] on.
pub struct Stop {
    ctrl_c: Option<CtrlC>,
    ctrl_break: Option<CtrlBreak>,
    ctrl_close: Option<CtrlClose>,
}

impl Stop {
    pub fn listen() -> Stop {
        Stop {
            ctrl_c: ctrl_c().ok(),
            ctrl_break: ctrl_break().ok(),
            ctrl_close: ctrl_close().ok(),
        }
    }

    /// Waits for the first of them.
    pub async fn recv(&mut self) {
        let ctrl_c = async {
            match self.ctrl_c.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let ctrl_break = async {
            match self.ctrl_break.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let ctrl_close = async {
            match self.ctrl_close.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = ctrl_break => {}
            _ = ctrl_close => {}
        }
    }
}
