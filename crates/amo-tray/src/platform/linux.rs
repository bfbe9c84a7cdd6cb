//! The tray on Linux: GTK's main loop on the main thread (the AppIndicator icon lives
//! there), and the data folder followed with inotify through GIO.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use gtk::gio::prelude::*;
use gtk::{gio, glib};

/// GDK's switch for OpenGL, which the tray never draws with.
const GDK_GL: &str = "GDK_GL";
/// Whether [`prepare`] set [`GDK_GL`] (and the window's environment must not have it).
static SET_GDK_GL: AtomicBool = AtomicBool::new(false);

/// Keeps GDK from opening OpenGL at start (on X11 it probes GLX, which with Mesa's software
/// driver maps LLVM: some 20 MiB of PSS for an icon). Called first in `main`, before any
/// thread; a `GDK_GL` the user set is left alone.
pub fn prepare() {
    if std::env::var_os(GDK_GL).is_none() {
        std::env::set_var(GDK_GL, "disable");
        SET_GDK_GL.store(true, Ordering::Relaxed);
    }
}

/// The window app gets the environment this process was given.
pub fn as_given(cmd: &mut Command) {
    if SET_GDK_GL.load(Ordering::Relaxed) {
        cmd.env_remove(GDK_GL);
    }
}

/// Opens the display.
///
/// # Errors
/// No display: a message that says to start it in a desktop session.
pub fn init() -> Result<(), String> {
    gtk::init().map_err(|e| {
        format!("no display to put the tray icon on ({e}); start it in a desktop session")
    })
}

/// GTK's main loop, until [`quit`].
pub fn run() {
    gtk::main();
}

/// Ends [`run`].
pub fn quit() {
    gtk::main_quit();
}

/// Runs `f` on the GTK thread when it is idle.
pub fn on_ui_thread(f: impl FnOnce() + Send + 'static) {
    glib::idle_add_once(f);
}

/// What keeps the data folder followed.
pub type Watch = gio::FileMonitor;

/// Calls `wake` whenever the database `db` in the folder `root` changes (a connection made,
/// refreshed or removed by the window, by `amo` or by the host itself): inotify through GIO.
///
/// # Errors
/// The folder cannot be followed; the message names it.
pub fn watch(root: &Path, db: &Path, wake: impl Fn() + Send + 'static) -> Result<Watch, String> {
    let db_name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let monitor = gio::File::for_path(root)
        .monitor_directory(gio::FileMonitorFlags::NONE, gio::Cancellable::NONE)
        .map_err(|e| format!("cannot follow {}: {e}", root.display()))?;
    monitor.connect_changed(move |_, file, _, _| {
        let changed = file
            .basename()
            .is_some_and(|n| n.to_string_lossy().starts_with(&db_name));
        if changed {
            wake();
        }
    });
    Ok(monitor)
}
