//! The request limiter every `amo` process and the app share, keyed the way amoCRM counts:
//! at most [`PER_INTEGRATION`] calls of one integration (its client ID) and at most
//! [`PER_ACCOUNT`] calls to one account in any [`WINDOW`]. Each budget is a sliding window of
//! send times in a file of its own under the data folder (`locks/rate/`), changed under an
//! exclusive file lock, so accounts on different integrations never wait for each other and
//! accounts on one integration share its budget across every process.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::paths::{set_private, DataDir};
use crate::types::AccountHost;

/// amoCRM's limit: 7 requests a second per integration.
pub const PER_INTEGRATION: usize = 7;
/// amoCRM's limit: 50 requests a second per account.
pub const PER_ACCOUNT: usize = 50;
/// The window: a second, and a margin for the time between our send and amoCRM's count of
/// it. A slot is counted from when its answer's head came back (see [`Slot`]), the latest
/// the request can have reached amoCRM, so the margin covers only the clock's granularity
/// (times are kept in whole milliseconds) and leaves 99 % of the budget usable.
pub const WINDOW: Duration = Duration::from_millis(1_010);

/// What a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget<'a> {
    /// The integration, by client ID. A long-lived token's integration is not known: its
    /// account stands in for it.
    Integration(Option<&'a str>),
    Account(&'a AccountHost),
}

impl Budget<'_> {
    fn limit(self) -> usize {
        match self {
            Budget::Integration(_) => PER_INTEGRATION,
            Budget::Account(_) => PER_ACCOUNT,
        }
    }

    /// The budget's file: its kind and a digest of its key, so that any client ID or host
    /// makes a plain file name.
    fn path(self, dir: &DataDir, account: &AccountHost) -> PathBuf {
        let (kind, key) = match self {
            Budget::Integration(Some(id)) => ("integration", format!("client:{id}")),
            Budget::Integration(None) => ("integration", format!("account:{account}")),
            Budget::Account(host) => ("account", host.to_string()),
        };
        let name = crate::secret::short_digest(&key);
        dir.locks().join("rate").join(format!("{kind}-{name}"))
    }
}

/// A request's place in its windows. It is counted from when it was taken; when dropped
/// (the answer's head came back, or the send failed) it is counted from then instead, the
/// latest the request can have reached amoCRM: a request held up on its way (a busy machine)
/// cannot bunch up with the ones sent after it.
#[must_use = "keep the slot until the answer's head is back"]
pub(crate) struct Slot {
    windows: Vec<(PathBuf, usize)>,
    taken: u64,
}

/// An answer back within this long of its slot's taking needs no new time: the window's
/// margin past a second already covers it (and the clock's millisecond).
const RESTAMP_AFTER: u64 = 5;

impl Drop for Slot {
    fn drop(&mut self) {
        if now_ms().saturating_sub(self.taken) <= RESTAMP_AFTER {
            return;
        }
        let _ = with_windows(&self.windows, Lock::Wait, |sent, now| {
            for times in sent {
                if let Some(t) = times.iter_mut().find(|t| **t == self.taken) {
                    *t = now.max(self.taken);
                }
                times.sort_unstable();
            }
        });
    }
}

/// Waits until a request of `client_id` (the integration whose token or secret it carries)
/// to `account` may be sent, then counts it against both budgets. Keep the slot until the
/// answer's head has come back.
///
/// # Errors
/// [`Error::DataFolder`] when a window file cannot be opened, locked or written.
pub(crate) async fn acquire(
    dir: &DataDir,
    client_id: Option<&str>,
    account: &AccountHost,
) -> Result<Slot> {
    // Always the integration's first, then the account's: two processes never hold one each
    // while waiting for the other.
    let windows: Vec<(PathBuf, usize)> = [Budget::Integration(client_id), Budget::Account(account)]
        .into_iter()
        .map(|b| (b.path(dir, account), b.limit()))
        .collect();
    loop {
        // Uncontended, the windows are read and written here, in microseconds; only a wait
        // for another holder's lock goes off the async thread.
        let taken = match try_take(&windows, Lock::Try)? {
            Some(taken) => taken,
            None => {
                let w = windows.clone();
                let waited = tokio::task::spawn_blocking(move || try_take(&w, Lock::Wait))
                    .await
                    .map_err(|e| Error::DataFolder {
                        path: windows[0].0.clone(),
                        reason: e.to_string(),
                    })??;
                let Some(taken) = waited else { continue };
                taken
            }
        };
        match taken {
            Ok(taken) => return Ok(Slot { windows, taken }),
            Err(wait) => tokio::time::sleep(wait).await,
        }
    }
}

/// How a window file's lock is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// Waiting for another holder (blocking the thread).
    Wait,
    /// Only if no one holds it; else nothing is done.
    Try,
}

/// Under the files' locks, taken in order, reads each window's send times, lets `change`
/// edit them, and writes them back; answers what `change` answered (`None`: with
/// [`Lock::Try`], another holds a lock, and nothing was changed).
fn with_windows<T>(
    windows: &[(PathBuf, usize)],
    lock: Lock,
    change: impl FnOnce(&mut [Vec<u64>], u64) -> T,
) -> Result<Option<T>> {
    let kept: Vec<Arc<Mutex<Kept>>> = windows.iter().map(|(path, _)| kept(path)).collect();
    let mut held = Vec::with_capacity(windows.len());
    let mut sent = Vec::with_capacity(windows.len());
    for (entry, (path, _)) in kept.iter().zip(windows) {
        // This process's own threads first (a file lock does not keep them apart), then the
        // other processes.
        let mut own = match lock {
            Lock::Wait => entry.lock().unwrap_or_else(|p| p.into_inner()),
            Lock::Try => match entry.try_lock() {
                Ok(own) => own,
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            },
        };
        let Some(times) = read_window(&mut own, path, lock)? else {
            return Ok(None);
        };
        held.push((Locked(own), path));
        sent.push(times);
    }
    let answer = change(&mut sent, now_ms());
    for ((own, path), times) in held.iter_mut().zip(&sent) {
        let fail = |e: std::io::Error| Error::DataFolder {
            path: PathBuf::from(*path),
            reason: e.to_string(),
        };
        let before = own.0.len;
        let Some((file, _)) = own.0.open.as_mut() else {
            unreachable!("read_window opened it")
        };
        let mut out: String = times.iter().map(|t| format!("{t}\n")).collect();
        if out.is_empty() {
            out.push('\n');
        }
        // Written over in place, and blanks where it is shorter than before (lines of blanks
        // are read as nothing): cutting a file to length is a journal change on ext4, a good
        // part of the call's time. A file grown past any window's size (junk) is cut.
        if before > MAX_FILE {
            file.set_len(0).map_err(fail)?;
        } else if out.len() < before {
            out.extend(std::iter::repeat_n(' ', before - out.len()));
        }
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        file.write_all(out.as_bytes()).map_err(fail)?;
        own.0.len = out.len();
    }
    Ok(Some(answer))
}

/// A window file this process keeps open: opening it at every call walked its path each
/// time. It is opened again now and then ([`REOPEN_AFTER`]), so a data folder removed and
/// made anew under a running process is followed.
#[derive(Default)]
struct Kept {
    /// The file, and when it was opened.
    open: Option<(File, Instant)>,
    /// Its length, as last read or written.
    len: usize,
}

/// How long a kept window file is used before it is opened again.
const REOPEN_AFTER: Duration = Duration::from_secs(10);

/// A window file longer than this is junk (the account's window holds 50 times of 14
/// bytes) and is cut when written.
const MAX_FILE: usize = 4096;

/// A kept window file, locked (for other processes) while this is held; the lock is let go
/// when it is dropped, however the call ends.
struct Locked<'a>(std::sync::MutexGuard<'a, Kept>);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some((file, _)) = &self.0.open {
            let _ = file.unlock();
        }
    }
}

/// The kept entry for the window file at `path`.
fn kept(path: &Path) -> Arc<Mutex<Kept>> {
    static KEPT: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<Kept>>>>> = OnceLock::new();
    let mut all = KEPT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    all.entry(path.to_path_buf()).or_default().clone()
}

/// Opens (or takes the kept) window file, locks it and reads its send times; `None` when,
/// with [`Lock::Try`], another process holds it. A file spoiled by a crash or a disk error
/// (junk, bytes that are not text) is read for what it still says and written back clean: it
/// must never stop every call.
fn read_window(kept: &mut Kept, path: &Path, lock: Lock) -> Result<Option<Vec<u64>>> {
    let fail = |e: std::io::Error| Error::DataFolder {
        path: PathBuf::from(path),
        reason: e.to_string(),
    };
    let file = match &mut kept.open {
        Some((file, at)) if at.elapsed() <= REOPEN_AFTER => file,
        open => &mut open.insert((open_window(path)?, Instant::now())).0,
    };
    match lock {
        Lock::Wait => crate::lockfile::lock(file, path, crate::lockfile::Wait::RateWindow)?,
        Lock::Try => match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        },
    }
    // One read from the start: a file's read comes back short only at its end, and the file
    // never holds more than MAX_FILE bytes unless it is junk, which a longer read shows
    // (and the write then cuts). `read_to_end` would first ask the file's size and then read
    // again to find the end: three more calls of the system at every call of the API.
    let mut buf = [0; MAX_FILE + 1];
    let read = file.seek(SeekFrom::Start(0)).and_then(|_| loop {
        match file.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            read => break read,
        }
    });
    let n = match read {
        Ok(n) => n,
        Err(e) => {
            let _ = file.unlock();
            return Err(fail(e));
        }
    };
    kept.len = n;
    let times = String::from_utf8_lossy(&buf[..n])
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    Ok(Some(times))
}

/// Opens one window file, making it (private) and its folder the first time.
fn open_window(path: &Path) -> Result<File> {
    let fail = |e: std::io::Error| Error::DataFolder {
        path: PathBuf::from(path),
        reason: e.to_string(),
    };
    let open = |create| {
        OpenOptions::new()
            .create(create)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
    };
    match open(false) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder).map_err(fail)?;
                set_private(folder, 0o700).map_err(fail)?;
            }
            let file = open(true).map_err(fail)?;
            set_private(path, 0o600).map_err(fail)?;
            Ok(file)
        }
        Err(e) => Err(fail(e)),
    }
}

/// Under the files' locks: takes a slot in every window (its time) or says how long until
/// each one that is full has room; `None` when, with [`Lock::Try`], another holds a lock.
fn try_take(
    windows: &[(PathBuf, usize)],
    lock: Lock,
) -> Result<Option<std::result::Result<u64, Duration>>> {
    let span = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
    let limits: Vec<usize> = windows.iter().map(|(_, limit)| *limit).collect();
    with_windows(windows, lock, |sent, now| {
        let mut wait = None;
        for (times, limit) in sent.iter_mut().zip(&limits) {
            if let Some(w) = room(times, now, span, *limit) {
                wait = Some(wait.map_or(w, |x: Duration| x.max(w)));
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        for times in sent.iter_mut() {
            times.push(now);
        }
        Ok(now)
    })
}

/// Keeps in `sent` only the times still in the window at `now` and answers how long until
/// one more request fits under `limit`, or `None` when it fits now.
fn room(sent: &mut Vec<u64>, now: u64, span: u64, limit: usize) -> Option<Duration> {
    // A time in the future (a clock set back) counts as now.
    sent.iter_mut().for_each(|t| *t = (*t).min(now));
    sent.retain(|t| now - t < span);
    sent.sort_unstable();
    if sent.len() >= limit {
        let oldest = sent[sent.len() - limit];
        return Some(Duration::from_millis(oldest + span - now));
    }
    None
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
