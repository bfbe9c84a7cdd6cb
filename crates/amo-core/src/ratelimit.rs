//! The request limiter every `amo` process and the app share: at most [`PER_WINDOW`] calls
//! to amoCRM in any [`WINDOW`], kept as a sliding window of send times in one file of the
//! data folder (`locks/rate-window`) under an exclusive file lock.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::paths::{set_private, DataDir};

/// amoCRM's limit: 7 requests a second per integration.
pub const PER_WINDOW: usize = 7;
/// The window: a second, and a margin for the time between our send and amoCRM's count of
/// it (two requests sent a second apart may arrive closer than that).
pub const WINDOW: Duration = Duration::from_millis(1_150);

/// A request's place in the window. It is counted from when it was taken; when dropped
/// (the answer's head came back, or the send failed) it is counted from then instead, the
/// latest the request can have reached amoCRM: a request held up on its way (a busy machine)
/// cannot bunch up with the ones sent after it.
#[must_use = "keep the slot until the answer's head is back"]
pub(crate) struct Slot {
    path: PathBuf,
    taken: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let _ = with_window(&self.path, |sent, now| {
            if let Some(t) = sent.iter_mut().find(|t| **t == self.taken) {
                *t = now.max(self.taken);
            }
            sent.sort_unstable();
        });
    }
}

/// Waits until a request may be sent, then counts it. One limiter for the data folder:
/// the integrations a person connects share it, which is never more than amoCRM allows.
/// Keep the slot until the answer's head has come back.
///
/// # Errors
/// [`Error::DataFolder`] when the window file cannot be opened, locked or written.
pub(crate) async fn acquire(dir: &DataDir) -> Result<Slot> {
    let path = dir.locks().join("rate-window");
    loop {
        let p = path.clone();
        let taken = tokio::task::spawn_blocking(move || try_take(&p))
            .await
            .map_err(|e| Error::DataFolder {
                path: path.clone(),
                reason: e.to_string(),
            })??;
        match taken {
            Ok(taken) => return Ok(Slot { path, taken }),
            Err(wait) => tokio::time::sleep(wait).await,
        }
    }
}

/// Under the file lock, reads the window's send times, lets `change` edit them, and writes
/// them back; answers what `change` answered.
fn with_window<T>(path: &Path, change: impl FnOnce(&mut Vec<u64>, u64) -> T) -> Result<T> {
    let fail = |e: std::io::Error| Error::DataFolder {
        path: PathBuf::from(path),
        reason: e.to_string(),
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(fail)?;
    set_private(path, 0o600).map_err(fail)?;
    crate::lockfile::lock(&file, path, crate::lockfile::Wait::RateWindow)?;
    // A file spoiled by a crash or a disk error (junk, bytes that are not text) is read for
    // what it still says and written back clean: it must never stop every call.
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(fail)?;
    let mut sent: Vec<u64> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let answer = change(&mut sent, now_ms());
    let mut out = sent
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    file.set_len(0).map_err(fail)?;
    file.seek(SeekFrom::Start(0)).map_err(fail)?;
    file.write_all(out.as_bytes()).map_err(fail)?;
    Ok(answer)
}

/// Under the file lock: takes a slot (its time) or says how long until the oldest leaves
/// the window.
fn try_take(path: &Path) -> Result<std::result::Result<u64, Duration>> {
    let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
    with_window(path, |sent, now| {
        let text: String = sent.iter().map(|t| format!("{t}\n")).collect();
        let (kept, wait) = decide(&text, now, window);
        *sent = kept;
        match wait {
            Some(wait) => Err(wait),
            None => Ok(now),
        }
    })
}

/// The window's send times after a request at `now` (when one may go), or the wait.
fn decide(text: &str, now: u64, window: u64) -> (Vec<u64>, Option<Duration>) {
    let mut sent: Vec<u64> = text
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        // A time in the future (a clock set back) counts as now.
        .map(|t: u64| t.min(now))
        .filter(|t| now - t < window)
        .collect();
    sent.sort_unstable();
    if sent.len() >= PER_WINDOW {
        let oldest = sent[sent.len() - PER_WINDOW];
        return (sent, Some(Duration::from_millis(oldest + window - now)));
    }
    sent.push(now);
    (sent, None)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eighth_request_in_a_window_waits_for_the_oldest_to_leave() {
        let text: String = (0..7).map(|i| format!("{}\n", 1_000 + i * 10)).collect();
        let (_, wait) = decide(&text, 1_100, 1_150);
        assert_eq!(wait, Some(Duration::from_millis(1_050)));
        let (sent, wait) = decide(&text, 2_150, 1_150);
        assert_eq!(wait, None);
        assert_eq!(
            sent.len(),
            7,
            "the oldest left, the new one came in: {sent:?}"
        );
    }

    #[test]
    fn a_window_file_of_bytes_that_are_not_text_is_taken_as_empty_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rate-window");
        std::fs::write(&path, b"\xff\xfe\x00garbage\n\xc3(\n").unwrap();
        let taken = try_take(&path).expect("the spoiled file does not stop the call");
        assert!(taken.is_ok(), "{taken:?}");
        let text = String::from_utf8(std::fs::read(&path).unwrap()).expect("rewritten as text");
        assert_eq!(text.lines().count(), 1, "only the new send time: {text:?}");
    }

    #[test]
    fn a_damaged_window_file_is_read_as_what_it_still_says() {
        let (sent, wait) = decide("junk\n\n5\n", 10, 1_150);
        assert_eq!((sent, wait), (vec![5, 10], None));
    }
}
