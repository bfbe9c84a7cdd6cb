//! How the window app and the tray process start each other: the binaries sit side by side,
//! a second start of the window app hands its arguments to the first, and those arguments.

use std::env::consts::EXE_SUFFIX;
use std::fs::{File, TryLockError};
use std::io;
use std::path::PathBuf;

use amo_core::DataDir;
use std::process::{Child, Command, Stdio};

// How a process is detached and replaced: one file per platform, the same functions.
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as process;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as process;

pub use process::replace_me;

/// The window app's binary.
pub const APP_BINARY: &str = amo_core::autostart::APP_BINARY;
/// The tray process's binary, installed beside the window app's.
pub const TRAY_BINARY: &str = "amo-connector-tray";
/// Starts the app hidden: the tray process where there is a tray host, no window.
pub const HIDDEN_ARG: &str = amo_core::autostart::HIDDEN_ARG;
/// Ends the running window app (the tray's *Quit*); starts nothing.
pub const QUIT_ARG: &str = "--quit";
/// `--account HOST`: the window opens at that account's card.
pub const ACCOUNT_ARG: &str = "--account";

/// The lock the tray process holds for the life of the process, one per data folder.
pub fn tray_lock(dir: &DataDir) -> PathBuf {
    dir.locks().join("tray.lock")
}

/// Whether a tray process holds `dir`'s tray lock now (false when the lock file is missing
/// or free). Taking the lock to look releases it at once.
pub fn tray_running(dir: &DataDir) -> bool {
    File::open(tray_lock(dir)).is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)))
}

/// The account `args` ask the window to open at (`--account HOST`).
pub fn account_arg<S: AsRef<str>>(args: &[S]) -> Option<String> {
    let at = args.iter().position(|a| a.as_ref() == ACCOUNT_ARG)?;
    args.get(at + 1).map(|a| a.as_ref().to_owned())
}

/// Whether `args` hold `flag`.
pub fn has<S: AsRef<str>>(args: &[S], flag: &str) -> bool {
    args.iter().any(|a| a.as_ref() == flag)
}

/// Binary `name` (with the system's `.exe`) beside the running executable, if it is there.
pub fn beside_me(name: &str) -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    Some(me.parent()?.join(format!("{name}{EXE_SUFFIX}"))).filter(|p| p.is_file())
}

/// The command for binary `name` beside this one, detached from this process's group and
/// console (a terminal closing does not end it) with no standard input.
///
/// # Errors
/// [`io::ErrorKind::NotFound`] when `name` is not installed beside this executable.
pub fn sibling(name: &str) -> io::Result<Command> {
    let path = beside_me(name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{name} is not installed beside this program; reinstall amo-connector"),
        )
    })?;
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::null());
    process::detach(&mut cmd);
    Ok(cmd)
}

/// Starts `cmd` and reaps it when it ends, so a short-lived one leaves no zombie.
///
/// # Errors
/// The program could not be started.
pub fn start(mut cmd: Command) -> io::Result<()> {
    let mut child: Child = cmd.spawn()?;
    std::thread::Builder::new()
        .name("reaper".into())
        .spawn(move || {
            let _ = child.wait();
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_arg_reads_the_host_after_the_flag() {
        let args = ["amo-connector", "--account", "example.amocrm.ru"];
        assert_eq!(account_arg(&args).as_deref(), Some("example.amocrm.ru"));
        assert_eq!(account_arg(&["amo-connector", "--account"]), None);
        assert_eq!(account_arg(&["amo-connector", "--hidden"]), None);
    }

    #[test]
    fn a_held_tray_lock_means_a_tray_runs() {
        let tmp = std::env::temp_dir().join(format!("amo-desktop-lock-{}", std::process::id()));
        let mut dir = DataDir::at(&tmp);
        dir.ensure().unwrap();
        assert!(!tray_running(&dir), "no lock file yet");
        let held = File::create(tray_lock(&dir)).unwrap();
        assert!(!tray_running(&dir), "the file alone is no tray");
        held.lock().unwrap();
        assert!(tray_running(&dir));
        // The tray's lock goes with its process, which closes the file.
        drop(held);
        assert!(!tray_running(&dir));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_binary_beside_me_is_found_by_its_bare_name() {
        let me = std::env::current_exe().unwrap();
        let bare = me.file_stem().unwrap().to_str().unwrap();
        assert_eq!(beside_me(bare), Some(me.clone()));
        assert_eq!(beside_me("amo-connector-not-installed"), None);
    }

    #[test]
    fn has_finds_a_flag_among_the_arguments() {
        assert!(has(&["amo-connector", "--quit"], QUIT_ARG));
        assert!(!has(&["amo-connector", "--quitting"], QUIT_ARG));
    }
}
