//! The tray on Windows: a Win32 message loop on the main thread (the notification-area icon
//! and its menu live there), reached from other threads through a queue and a thread message,
//! and the data folder followed with change notifications on a thread that blocks on them.

use std::io;
use std::os::windows::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_OBJECT_0};
use windows_sys::Win32::Storage::FileSystem::{
    FindCloseChangeNotification, FindFirstChangeNotificationW, FindNextChangeNotification,
    FILE_NOTIFY_CHANGE_FILE_NAME, FILE_NOTIFY_CHANGE_LAST_WRITE,
};
use windows_sys::Win32::System::Threading::{GetCurrentThreadId, WaitForSingleObject, INFINITE};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, GetMessageW, PeekMessageW, PostThreadMessageW, TranslateMessage, MSG,
    PM_NOREMOVE, WM_APP, WM_QUIT, WM_USER,
};

/// The UI thread's id, once [`init`] ran (0 before).
static UI_THREAD: AtomicU32 = AtomicU32::new(0);

type Job = Box<dyn FnOnce() + Send>;

/// What other threads asked the UI thread to run, oldest first.
static JOBS: Mutex<Vec<Job>> = Mutex::new(Vec::new());

/// Nothing to set up before the threads start.
pub fn prepare() {}

/// The window app gets the environment this process was given: nothing was changed.
pub fn as_given(_cmd: &mut Command) {}

/// Makes this thread the UI thread.
///
/// # Errors
/// None on Windows; the signature is the one GTK's side needs.
pub fn init() -> Result<(), String> {
    let mut msg = MSG::default();
    // A thread gets its message queue with its first look at it; posting to a thread
    // without one fails.
    // SAFETY: `msg` outlives the call; no message is taken off the queue.
    unsafe {
        PeekMessageW(
            &mut msg,
            std::ptr::null_mut(),
            WM_USER,
            WM_USER,
            PM_NOREMOVE,
        )
    };
    // SAFETY: no arguments.
    UI_THREAD.store(unsafe { GetCurrentThreadId() }, Ordering::Release);
    Ok(())
}

/// The message loop, until [`quit`]. The queue of jobs is run after every message, not only
/// the thread message that announces a job: one posted while the tray's menu is open is
/// dropped by the menu's own loop.
pub fn run() {
    let mut msg = MSG::default();
    loop {
        run_jobs();
        // SAFETY: `msg` outlives the call; any window of this thread, any message.
        match unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) } {
            0 => return,
            -1 => {
                eprintln!(
                    "amo-connector-tray: the message loop failed: {}",
                    io::Error::last_os_error()
                );
                return;
            }
            // SAFETY: a message GetMessageW just filled in.
            _ => unsafe {
                TranslateMessage(&msg);
                DispatchMessageW(&msg);
            },
        }
    }
}

/// Ends [`run`] (from any thread).
pub fn quit() {
    post(WM_QUIT);
}

/// Runs `f` on the UI thread, after what was queued before it.
pub fn on_ui_thread(f: impl FnOnce() + Send + 'static) {
    JOBS.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Box::new(f));
    post(WM_APP);
}

fn run_jobs() {
    let jobs = std::mem::take(&mut *JOBS.lock().unwrap_or_else(PoisonError::into_inner));
    for job in jobs {
        job();
    }
}

/// Posts `message` to the UI thread; before [`init`] there is none, and [`run`] finds the
/// jobs when it starts.
fn post(message: u32) {
    let ui = UI_THREAD.load(Ordering::Acquire);
    if ui != 0 {
        // SAFETY: plain arguments; a thread that has ended makes the call fail, harmlessly.
        unsafe { PostThreadMessageW(ui, message, 0, 0) };
    }
}

/// What keeps the data folder followed: its thread, which runs for the life of the process.
pub type Watch = std::thread::JoinHandle<()>;

/// Calls `wake` whenever the database `db` in the folder `root` changes (a connection made,
/// refreshed or removed by the window, by `amo` or by the host itself). Windows says only
/// that something in the folder changed, so the database's files are compared with what
/// they were: the activity log or a lock changing wakes nothing.
///
/// # Errors
/// The folder cannot be followed; the message names it.
pub fn watch(root: &Path, db: &Path, wake: impl Fn() + Send + 'static) -> Result<Watch, String> {
    let cannot = |e: io::Error| format!("cannot follow {}: {e}", root.display());
    let path: Vec<u16> = root
        .as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect();
    let filter = FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_FILE_NAME;
    // SAFETY: a NUL-terminated path; the handle is checked below.
    let handle = unsafe { FindFirstChangeNotificationW(path.as_ptr(), 0, filter) };
    if handle == INVALID_HANDLE_VALUE {
        return Err(cannot(io::Error::last_os_error()));
    }
    let changes = Changes(handle);
    let files = DbFiles::of(db);
    // Taken before returning, so a change made as soon as the watch is there counts.
    let mut seen = files.stamp();
    std::thread::Builder::new()
        .name("data-folder".into())
        .spawn(move || {
            while changes.next() {
                let now = files.stamp();
                if now != seen {
                    seen = now;
                    wake();
                }
            }
            eprintln!(
                "amo-connector-tray: changes to the data folder will go unnoticed: {}",
                io::Error::last_os_error()
            );
        })
        .map_err(cannot)
}

/// A folder's change notification, closed the way it must be.
struct Changes(HANDLE);

// SAFETY: a kernel handle, usable from any thread; only the watching thread uses it.
unsafe impl Send for Changes {}

impl Changes {
    /// Blocks until something in the folder changed, then asks for the next change (one that
    /// comes before that is kept and ends the next wait at once); false when either failed.
    fn next(&self) -> bool {
        // SAFETY: a live change notification handle.
        unsafe {
            WaitForSingleObject(self.0, INFINITE) == WAIT_OBJECT_0
                && FindNextChangeNotification(self.0) != 0
        }
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        // SAFETY: a live change notification handle, closed once.
        unsafe { FindCloseChangeNotification(self.0) };
    }
}

/// The database and its write-ahead log: what a change to the connections writes.
struct DbFiles([PathBuf; 2]);

impl DbFiles {
    fn of(db: &Path) -> DbFiles {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        DbFiles([db.to_path_buf(), wal.into()])
    }

    /// Each file's size and time of last write (none when it is not there).
    fn stamp(&self) -> [Option<(u64, SystemTime)>; 2] {
        self.0.each_ref().map(|f| {
            let m = std::fs::metadata(f).ok()?;
            Some((m.len(), m.modified().ok()?))
        })
    }
}

#[cfg(test)]
mod tests;
