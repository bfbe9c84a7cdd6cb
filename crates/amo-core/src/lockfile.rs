//! Lock files of the data folder: an exclusive lock taken within a deadline, and when it is
//! not, an error that names the file and the process holding it.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a wait for a lock file may last before it is reported. `AMO_LOCK_WAIT_SECS`
/// (1–600) sets every deadline at once, so tests can prove one without waiting a minute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// An account's tokens: the holder may be refreshing (a 30 s request, a moved account's
    /// lookup, the keychain's retries).
    Account,
    /// The shared request window: held for the time it takes to read and write a few lines.
    RateWindow,
    /// Setting up the database, or rotating the activity log.
    Setup,
}

impl Wait {
    fn deadline(self) -> Duration {
        if let Some(secs) = std::env::var("AMO_LOCK_WAIT_SECS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|s| (1..=600).contains(s))
        {
            return Duration::from_secs(secs);
        }
        Duration::from_secs(match self {
            Wait::Account => 75,
            Wait::RateWindow => 10,
            Wait::Setup => 30,
        })
    }

    /// The longest pause between tries: a request window is held for microseconds, and a
    /// waiter that sleeps long behind a crowd of others loses a slot's worth of time.
    fn longest_pause(self) -> Duration {
        match self {
            Wait::RateWindow => Duration::from_millis(1),
            Wait::Account | Wait::Setup => LONGEST_PAUSE,
        }
    }
}

/// The first pause between tries, doubled up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(50);

/// Takes `file`'s exclusive lock, waiting at most `wait`'s deadline (blocking the thread).
///
/// # Errors
/// [`Error::LockTimeout`] naming `path` and, where the system tells, the holder's pid;
/// [`Error::DataFolder`] when the system refuses the lock for another reason.
pub(crate) fn lock(file: &File, path: &Path, wait: Wait) -> Result<()> {
    lock_for(file, path, wait.deadline(), wait.longest_pause())
}

fn lock_for(file: &File, path: &Path, deadline: Duration, longest: Duration) -> Result<()> {
    let started = Instant::now();
    let mut pause = FIRST_PAUSE.min(longest);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(Error::DataFolder {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        }
        if started.elapsed() >= deadline {
            return Err(Error::LockTimeout {
                path: path.to_path_buf(),
                holder: holder::pid(file),
                waited_secs: deadline.as_secs(),
            });
        }
        std::thread::sleep(pause.min(deadline.saturating_sub(started.elapsed())));
        pause = (pause * 2).min(longest);
    }
}

#[cfg(target_os = "linux")]
mod holder {
    //! The holder from `/proc/locks`, which lists every file lock with its owner's pid and
    //! the locked file's device and inode.

    use std::fs::File;
    use std::os::unix::fs::MetadataExt;

    pub(super) fn pid(file: &File) -> Option<u32> {
        let meta = file.metadata().ok()?;
        let (dev, ino) = (meta.dev(), meta.ino());
        // The kernel prints the device as MAJOR:MINOR in hex (see makedev(3) for the split).
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        let id = format!("{major:02x}:{minor:02x}:{ino}");
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        locks.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF"; a waiter's line has "->".
            let at = fields.iter().position(|f| *f == "FLOCK" || *f == "POSIX")?;
            if fields.get(1) == Some(&"->") {
                return None;
            }
            (fields.get(at + 4) == Some(&id.as_str()))
                .then(|| fields.get(at + 3)?.parse().ok())
                .flatten()
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod holder {
    //! Other systems name no holder of a lock file.

    pub(super) fn pid(_file: &std::fs::File) -> Option<u32> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_held_elsewhere_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = File::create(&path).unwrap();
        held.lock().unwrap();
        // A second open file description of the same file: flock locks conflict between them.
        let other = File::open(&path).unwrap();
        let started = Instant::now();
        let err = lock_for(&other, &path, Duration::from_millis(300), LONGEST_PAUSE).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        match err {
            Error::LockTimeout {
                path: p, holder, ..
            } => {
                assert_eq!(p, path);
                if cfg!(target_os = "linux") {
                    assert_eq!(holder, Some(std::process::id()));
                }
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        lock_for(&other, &path, Duration::from_millis(300), LONGEST_PAUSE)
            .expect("free once the holder lets go");
    }
}
