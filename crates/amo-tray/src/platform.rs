//! The tray's desktop, one file per platform with the same functions: the UI thread's loop
//! and how other threads reach it, the data folder's watch, and what the window app is
//! started with. GTK on Linux, a Win32 message loop on Windows.
//!
//! Each file has:
//! - `prepare()`: first in `main`, before any thread;
//! - `init() -> Result<(), String>`: makes this thread the UI thread, before the icon;
//! - `run()`: the UI loop, until [`quit`];
//! - `quit()`: ends `run`, from the UI thread;
//! - `on_ui_thread(f)`: runs `f` on the UI thread, from any thread;
//! - `watch(root, db, wake) -> Result<Watch, String>`: calls `wake` when the database in the
//!   folder `root` changes, for as long as the `Watch` is kept;
//! - `as_given(cmd)`: undoes on `cmd` what `prepare` changed in this process's environment.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{as_given, init, on_ui_thread, prepare, quit, run, watch};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{as_given, init, on_ui_thread, prepare, quit, run, watch};

#[cfg(not(any(target_os = "linux", windows)))]
compile_error!("amo-connector-tray has a desktop for Linux and Windows only");
