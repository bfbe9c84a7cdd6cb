//! What ends `amo proxy`: Ctrl+C and the signals a service manager or a closing terminal
//! sends, one file per platform.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::Stop;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::Stop;
