//! The keychain itself, reached from one thread per process that keeps its connection.
//!
//! The platform's part is one file per keychain with the same `Keychain` (read, write,
//! remove an item by name): `store/secret_service.rs` (Linux and the other Unixes) and
//! `store/native.rs` (macOS Keychain, Windows Credential Manager).
//!
//! Every call goes to the one `keychain` thread, which owns the `Keychain` and so its
//! connection, and runs the calls one after another. A caller waits at most [`patience`]:
//! past that it gets an error, and the call goes on to its end on that thread.
//!
//! One connection per process matters on Linux: a Secret Service session per call (a D-Bus
//! connection and a key exchange each) kept GNOME Keyring busy enough under a burst of
//! refreshes that a client gave up on its `OpenSession` and left; the daemon then handles
//! the session of a caller that is gone and aborts (`aes_negotiate: assertion 'session'
//! failed`). A caller whose connection stays can time out without that.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
mod secret_service;
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
use secret_service::Keychain;

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod native;
#[cfg(any(target_os = "macos", target_os = "windows"))]
use native::Keychain;

/// What went wrong with a keychain call, in the vault's terms.
#[derive(Debug)]
pub(crate) enum Fault {
    /// No item by that name.
    Missing,
    /// The keychain refused: locked, access denied, or a prompt dismissed.
    Refused(String),
    /// Anything else: no keychain, no answer, an error of its own.
    Failed(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Missing => f.write_str("no such item"),
            Fault::Refused(why) => write!(f, "access refused or keychain locked: {why}"),
            Fault::Failed(why) => f.write_str(why),
        }
    }
}

pub(crate) type Answer<T> = std::result::Result<T, Fault>;

type Job = Box<dyn FnOnce(&mut Keychain) + Send>;

/// How long a keychain call may take before it is reported as not answering: a busy
/// daemon gets time, a wedged one does not hang the caller. `AMO_KEYCHAIN_WAIT_SECS`
/// (1–600) sets it, for tests.
pub(crate) fn patience() -> Duration {
    let secs = std::env::var("AMO_KEYCHAIN_WAIT_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| (1..=600).contains(s))
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Reads the item `key`.
pub(crate) fn read(key: &str) -> Answer<String> {
    let key = key.to_owned();
    call(move |k| k.read(&key))
}

/// Writes `value` as the item `key`, replacing the one there.
pub(crate) fn write(key: &str, value: &str) -> Answer<()> {
    let (key, value) = (key.to_owned(), value.to_owned());
    call(move |k| k.write(&key, &value))
}

/// Removes the item `key`; [`Fault::Missing`] when there was none.
pub(crate) fn remove(key: &str) -> Answer<()> {
    let key = key.to_owned();
    call(move |k| k.remove(&key))
}

/// Runs `job` on the keychain thread and waits for its answer, at most [`patience`].
fn call<T: Send + 'static>(
    job: impl FnOnce(&mut Keychain) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let (done, answer) = mpsc::channel();
    let job: Job = Box::new(move |keychain| {
        let _ = done.send(job(keychain));
    });
    thread()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .map_err(|_| Fault::Failed("the keychain thread has stopped".into()))?;
    let wait = patience();
    answer.recv_timeout(wait).unwrap_or_else(|e| match e {
        mpsc::RecvTimeoutError::Timeout => Err(Fault::Failed(format!(
            "it did not answer within {} s",
            wait.as_secs()
        ))),
        mpsc::RecvTimeoutError::Disconnected => Err(Fault::Failed(
            "the keychain call stopped without an answer".into(),
        )),
    })
}

/// The keychain thread's queue, the thread started at the first call.
fn thread() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (queue, jobs) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                let mut keychain = Keychain::new();
                for job in jobs {
                    // A call that panics answers nothing (its caller is told so); the
                    // thread goes on to the next.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        job(&mut keychain)
                    }));
                }
            });
        // A thread that could not start drops the jobs' end: each call then says so.
        drop(started);
        Mutex::new(queue)
    })
}
