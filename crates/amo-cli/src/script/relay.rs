//! `amo run` as the parent of its command: how the signals that end a program reach the
//! child while `amo` waits for it, one file per platform.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::Relay;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::Relay;
