//! `amo-connector-tray`: amo-connector in the tray. It hosts the background work (the
//! engine's schedule: refresh when due, keep-alive, catching up after sleep, notices once
//! per incident) and the tray icon and menu, in a process without a web view; the window
//! app (`amo-connector`) starts it and is started by it (*Open*, a notice's click). One per
//! data folder (a lock in `locks/`); it notices changes made by the window or by `amo`
//! through the data folder's database (a folder watch) and checks again at once.

// Keeps a console window from opening beside the tray on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod menu;
mod platform;
mod tray;

use std::cell::RefCell;
use std::fs::{File, TryLockError};
use std::sync::Arc;

use amo_core::{ConnectionStatus, Engine, Lang};
use amo_desktop::launch::{self, ACCOUNT_ARG, APP_BINARY, QUIT_ARG};
use amo_desktop::{Host, Note, OnClick, Shell};
use tray_icon::menu::MenuEvent;

use crate::menu::{ACCOUNT, MORE_ACCOUNTS, MORE_ATTENTION, OPEN, QUIT, REFRESH_ALL};
use crate::tray::Tray;

fn main() -> std::process::ExitCode {
    platform::prepare();
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("amo-connector-tray: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

thread_local! {
    /// The icon, owned by the UI thread.
    #[allow(
        clippy::missing_const_for_thread_local,
        reason = "it is const; on windows-gnu std builds every thread-local from a function"
    )]
    static TRAY: RefCell<Option<Tray>> = const { RefCell::new(None) };
}

/// Runs the tray until *Quit*; returns at once when another tray process holds this data
/// folder.
///
/// # Errors
/// No tray host, no display, or the data folder cannot be opened: a message that says what
/// to do.
fn run() -> Result<(), String> {
    if !amo_desktop::tray_host_present() {
        return Err(format!(
            "this desktop has no tray host ({}); start {APP_BINARY}, which refreshes the \
             connections while its window is open",
            amo_desktop::TRAY_HOST_MISSING
        ));
    }
    let engine = Engine::open().map_err(|e| e.describe(Lang::detect()))?;
    let Some(_lock) = lock(&engine)? else {
        return Ok(());
    };
    platform::init()?;
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
    let dir = engine.data_dir();
    let h = host.clone();
    let _watch = platform::watch(dir.root(), &dir.database(), move || h.wake())?;
    let e = engine.clone();
    if let Err(err) = amo_desktop::on_window_closed(move || window_closed(&e)) {
        eprintln!("amo-connector-tray: the window's closing will go unnoticed: {err}");
    }
    platform::run();
    host.end();
    TRAY.with(|t| t.borrow_mut().take());
    runtime.shutdown_background();
    Ok(())
}

/// Holds `locks/tray.lock` for the life of the process; `None` when another tray process
/// holds it (this one then leaves quietly).
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

fn on_menu(host: &Host, id: &str) {
    match id {
        OPEN | MORE_ATTENTION | MORE_ACCOUNTS => open_window(None),
        REFRESH_ALL => host.refresh_all(),
        QUIT => quit(),
        other => {
            if let Some(account) = other.strip_prefix(ACCOUNT) {
                open_window(Some(account.to_owned()));
            }
        }
    }
}

/// `amo-connector` beside this binary, with the environment this process was given.
fn app_command() -> std::io::Result<std::process::Command> {
    let mut cmd = launch::sibling(APP_BINARY)?;
    platform::as_given(&mut cmd);
    Ok(cmd)
}

/// *Open*, the lines that count what the menu leaves out (*N more need attention*, *Open
/// amo-connector to see all N*) and a notice's click: the window app, shown (a running one
/// is brought forward by its single-instance handling), at `account`.
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
    if amo_desktop::window_open() {
        let asked = app_command().and_then(|mut cmd| {
            cmd.arg(QUIT_ARG);
            cmd.status()
        });
        if let Err(e) = asked {
            eprintln!("amo-connector-tray: the open window could not be closed: {e}");
        }
    }
    platform::quit();
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
    amo_desktop::notify(note, || TrayShell.on_click());
}

/// The tray as the schedule's shell: redraws after each check; a click opens the window.
struct TrayShell;

impl Shell for TrayShell {
    fn checked(&self, lang: Lang, all: Vec<ConnectionStatus>) {
        platform::on_ui_thread(move || {
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
