//! `amo-connector-tray`: amo-connector in the tray. It hosts the background work (the
//! engine's schedule: refresh when due, keep-alive, catching up after sleep, notices once
//! per incident) and the tray icon and menu, in a process without a web view; the window
//! app (`amo-connector`) starts it and is started by it (*Open*, a notice's click). One per
//! data folder (a lock in `locks/`); it notices changes made by the window or by `amo`
//! through the data folder's database (a file monitor) and checks again at once.

#[cfg(target_os = "linux")]
mod tray;

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::without_gl();
    match linux::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("amo-connector-tray: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("amo-connector-tray: only Linux desktops have it; start amo-connector instead");
    std::process::ExitCode::FAILURE
}

#[cfg(target_os = "linux")]
mod linux {
    use std::cell::RefCell;
    use std::fs::{File, TryLockError};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use amo_core::{ConnectionStatus, Engine, Lang};
    use amo_desktop::launch::{self, ACCOUNT_ARG, APP_BINARY, APP_BUS_NAME, QUIT_ARG};
    use amo_desktop::{bus, Host, Note, OnClick, Shell};
    use gtk::gio::prelude::*;
    use gtk::{gio, glib};
    use tray_icon::menu::MenuEvent;

    use crate::tray::{Tray, ACCOUNT, OPEN, QUIT, REFRESH_ALL};

    /// GDK's switch for OpenGL, which the tray never draws with.
    const GDK_GL: &str = "GDK_GL";
    /// Whether [`without_gl`] set [`GDK_GL`] (and the window's environment must not have it).
    static SET_GDK_GL: AtomicBool = AtomicBool::new(false);

    /// Keeps GDK from opening OpenGL at start (on X11 it probes GLX, which with Mesa's
    /// software driver maps LLVM: some 20 MiB of PSS for an icon). Called first in `main`,
    /// before any thread; a `GDK_GL` the user set is left alone.
    pub fn without_gl() {
        if std::env::var_os(GDK_GL).is_none() {
            std::env::set_var(GDK_GL, "disable");
            SET_GDK_GL.store(true, Ordering::Relaxed);
        }
    }

    /// `amo-connector` beside this binary, with the environment this process was given.
    fn app_command() -> std::io::Result<std::process::Command> {
        let mut cmd = launch::sibling(APP_BINARY)?;
        if SET_GDK_GL.load(Ordering::Relaxed) {
            cmd.env_remove(GDK_GL);
        }
        Ok(cmd)
    }

    thread_local! {
        /// The icon, owned by the GTK thread.
        static TRAY: RefCell<Option<Tray>> = const { RefCell::new(None) };
    }

    /// Runs the tray until *Quit*; returns at once when another tray process holds this
    /// data folder.
    ///
    /// # Errors
    /// No tray host, no display, or the data folder cannot be opened: a message that says
    /// what to do.
    pub fn run() -> Result<(), String> {
        if !bus::tray_host_present() {
            return Err(format!(
                "this desktop has no tray host ({} has no owner on the session bus); start \
                 {APP_BINARY}, which refreshes the connections while its window is open",
                bus::TRAY_WATCHER
            ));
        }
        let engine = Engine::open().map_err(|e| e.describe(Lang::detect()))?;
        let Some(_lock) = lock(&engine)? else {
            return Ok(());
        };
        gtk::init().map_err(|e| {
            format!("no display to put the tray icon on ({e}); start it in a desktop session")
        })?;
        let lang = engine.lang();
        let tray = Tray::create(lang)?;
        TRAY.with(|t| *t.borrow_mut() = Some(tray));

        let host = Arc::new(Host::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("background")
            .enable_all()
            .build()
            .map_err(|e| format!("the background worker could not start: {e}"))?;
        let (h, e) = (host.clone(), engine.clone());
        runtime.spawn(async move { h.run(&e, &TrayShell).await });

        let h = host.clone();
        MenuEvent::set_event_handler(Some(move |event: MenuEvent| on_menu(&h, event.id.as_ref())));
        let _monitor = watch(&engine, host.clone())?;
        let e = engine.clone();
        if let Err(err) = bus::on_vanished(APP_BUS_NAME, move || window_closed(&e)) {
            eprintln!("amo-connector-tray: the window's closing will go unnoticed: {err}");
        }
        gtk::main();
        TRAY.with(|t| t.borrow_mut().take());
        runtime.shutdown_background();
        Ok(())
    }

    /// Holds `locks/tray.lock` for the life of the process; `None` when another tray
    /// process holds it (this one then leaves quietly).
    fn lock(engine: &Engine) -> Result<Option<File>, String> {
        let path = launch::tray_lock(engine.data_dir());
        let file = File::create(&path)
            .map_err(|e| format!("cannot open {}: {e}; check the data folder", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => {
                eprintln!(
                    "amo-connector-tray: already running for {}",
                    engine.data_dir().root().display()
                );
                Ok(None)
            }
            Err(TryLockError::Error(e)) => Err(format!(
                "cannot lock {}: {e}; check the data folder",
                path.display()
            )),
        }
    }

    /// Wakes the host whenever the database changes (a connection made, refreshed or
    /// removed by the window, by `amo` or by the host itself): inotify through GIO.
    fn watch(engine: &Engine, host: Arc<Host>) -> Result<gio::FileMonitor, String> {
        let root = engine.data_dir().root().to_path_buf();
        let db = engine.data_dir().database();
        let db_name = db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let monitor = gio::File::for_path(&root)
            .monitor_directory(gio::FileMonitorFlags::NONE, gio::Cancellable::NONE)
            .map_err(|e| format!("cannot follow {}: {e}", root.display()))?;
        monitor.connect_changed(move |_, file, _, _| {
            let changed = file
                .basename()
                .is_some_and(|n| n.to_string_lossy().starts_with(&db_name));
            if changed {
                host.wake();
            }
        });
        Ok(monitor)
    }

    fn on_menu(host: &Host, id: &str) {
        match id {
            OPEN => open_window(None),
            REFRESH_ALL => host.refresh_all(),
            QUIT => quit(),
            other => {
                if let Some(account) = other.strip_prefix(ACCOUNT) {
                    open_window(Some(account.to_owned()));
                }
            }
        }
    }

    /// *Open* and a notice's click: the window app, shown (a running one is brought
    /// forward by its single-instance handling), at `account`.
    fn open_window(account: Option<String>) {
        let started = app_command().and_then(|mut cmd| {
            if let Some(a) = account {
                cmd.args([ACCOUNT_ARG, a.as_str()]);
            }
            launch::start(cmd)
        });
        if let Err(e) = started {
            eprintln!("amo-connector-tray: the window could not be opened: {e}");
        }
    }

    /// *Quit*: ends an open window, then this process.
    fn quit() {
        if bus::name_has_owner(APP_BUS_NAME) {
            let asked = app_command().and_then(|mut cmd| {
                cmd.arg(QUIT_ARG);
                cmd.status()
            });
            if let Err(e) = asked {
                eprintln!("amo-connector-tray: the open window could not be closed: {e}");
            }
        }
        gtk::main_quit();
    }

    /// The window app ended: the first time, a notice says the app is still in the tray.
    fn window_closed(engine: &Engine) {
        if engine.host_setting("tray_notice").is_some() {
            return;
        }
        let _ = engine.set_host_setting("tray_notice", "shown");
        if !engine.notifications() {
            return;
        }
        let lang = engine.lang();
        let note = Note {
            title: lang.tr("notice.tray.title", &[]),
            body: lang.tr("notice.tray.body", &[]),
            open_label: lang.tr("tray.open", &[]),
            account: None,
        };
        bus::notify(note, || TrayShell.on_click());
    }

    /// The tray as the schedule's shell: redraws after each check; a click opens the window.
    struct TrayShell;

    impl Shell for TrayShell {
        fn checked(&self, lang: Lang, all: Vec<ConnectionStatus>) {
            glib::idle_add_once(move || {
                TRAY.with(|t| {
                    if let Some(tray) = t.borrow_mut().as_mut() {
                        tray.update(lang, &all);
                    }
                });
            });
        }

        fn on_click(&self) -> OnClick {
            Box::new(open_window)
        }
    }
}
