//! Starting the other binary on Unix: a process group of its own, and `exec` to hand over.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// A process group of its own, which a terminal's hang-up does not reach.
pub(super) fn detach(cmd: &mut Command) {
    cmd.process_group(0);
}

/// Runs `cmd` in this process's place: the same process, so whoever started this one (the
/// session's autostart, say) keeps its pid. Returns only when `cmd` could not be started.
pub fn replace_me(mut cmd: Command) -> io::Error {
    cmd.exec()
}
