//! Starting the other binary on Windows: a process group and no console of its own, and,
//! with no `exec`, a detached start followed by this process's end to hand over.

use std::io;
use std::os::windows::process::CommandExt as _;
use std::process::Command;

use windows_sys::Win32::System::Threading::{CREATE_NEW_PROCESS_GROUP, DETACHED_PROCESS};

/// A process group of its own (Ctrl+C in this console does not reach it) and no console to
/// share (closing this one does not end it).
pub(super) fn detach(cmd: &mut Command) {
    cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | DETACHED_PROCESS);
}

/// Runs `cmd` in this process's place: it starts detached and this process ends. Returns
/// only when `cmd` could not be started.
pub fn replace_me(mut cmd: Command) -> io::Error {
    detach(&mut cmd);
    match cmd.spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e,
    }
}
