//! The desktop on Windows: the taskbar's notification area is the tray host; the window app
//! is found by the hidden window Tauri's single-instance plugin keeps, and it has ended when
//! its process has; notices are WinRT toasts whose click opens the window at an account.
//!
//! The plugin's named mutex is never opened here: while any other process holds a handle to
//! it, a newly started app finds it taken and leaves as a second instance. The kernel does
//! the waiting (on the app's process, on an event the app sets when it starts), so a hidden
//! tray stays idle.

use std::io;
use std::os::windows::io::{AsRawHandle as _, FromRawHandle as _, OwnedHandle};
use std::sync::OnceLock;

use tauri_winrt_notification::Toast;
use windows_sys::Win32::Foundation::{HWND, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{
    CreateEventW, OpenProcess, SetEvent, WaitForSingleObject, INFINITE, PROCESS_SYNCHRONIZE,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    FindWindowW, GetWindowThreadProcessId, IsWindow,
};

use super::{Note, OnClick};

/// The window app's Tauri identifier: the stem of its single-instance names, and its toasts'
/// app id (the Start menu shortcut the installer makes carries it).
const APP_ID: &str = "app.amo-connector.desktop";
/// Why [`tray_host_present`] says no, for a message that tells the user.
pub const TRAY_HOST_MISSING: &str = "the taskbar has no notification area";
/// The action of a toast's *Open* button; a click anywhere on the toast does the same.
const OPEN: &str = "open";

/// Whether the taskbar's notification area is there (Explorer's `Shell_TrayWnd`). Without
/// it an icon would be invisible, so the app quits when its window closes.
pub fn tray_host_present() -> bool {
    let taskbar = wide("Shell_TrayWnd");
    // SAFETY: a NUL-terminated class name; no window name.
    !unsafe { FindWindowW(taskbar.as_ptr(), std::ptr::null()) }.is_null()
}

/// Whether the window app runs: its single-instance window is there.
pub fn window_open() -> bool {
    Instance::of(APP_ID).window().is_some()
}

/// Calls `f` each time the window app ends, from a thread that waits on its process and,
/// while none runs, on the event [`window_started`] sets.
///
/// # Errors
/// The event could not be made or the thread not started; the reason is in the message.
pub fn on_window_closed(f: impl Fn() + Send + 'static) -> Result<(), String> {
    Instance::of(APP_ID).on_closed(f)
}

/// Tells a tray that waits for the window app that it now runs. Called once its
/// single-instance window is made, so the tray finds it.
pub fn window_started() {
    Instance::of(APP_ID).started();
}

/// The names a Tauri app with the single-instance plugin is found by: the hidden window the
/// plugin makes (class `{id}-sic`, title `{id}-siw`) and the event the app sets when it
/// starts (`Local\{id}-started`: this session's).
struct Instance {
    class: Vec<u16>,
    title: Vec<u16>,
    started: Vec<u16>,
}

impl Instance {
    fn of(id: &str) -> Instance {
        Instance {
            class: wide(&format!("{id}-sic")),
            title: wide(&format!("{id}-siw")),
            started: wide(&format!("Local\\{id}-started")),
        }
    }

    /// The single-instance window, while the app runs.
    fn window(&self) -> Option<HWND> {
        // SAFETY: NUL-terminated class and window names.
        let window = unsafe { FindWindowW(self.class.as_ptr(), self.title.as_ptr()) };
        (!window.is_null()).then_some(window)
    }

    /// The app's started event, made by whoever comes first; auto-reset, so each start wakes
    /// one wait.
    fn started_event(&self) -> io::Result<OwnedHandle> {
        // SAFETY: default security, a NUL-terminated name.
        let event = unsafe { CreateEventW(std::ptr::null(), 0, 0, self.started.as_ptr()) };
        if event.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh handle that nothing else closes.
        Ok(unsafe { OwnedHandle::from_raw_handle(event) })
    }

    fn started(&self) {
        match self.started_event() {
            // SAFETY: a live event handle.
            Ok(event) => unsafe {
                SetEvent(event.as_raw_handle());
            },
            Err(e) => eprintln!("amo-connector: a waiting tray will not see the window: {e}"),
        }
    }

    fn on_closed(self, f: impl Fn() + Send + 'static) -> Result<(), String> {
        let started = self
            .started_event()
            .map_err(|e| format!("the window app's start cannot be followed: {e}"))?;
        std::thread::Builder::new()
            .name("window-app".into())
            .spawn(move || self.follow(&started, f))
            .map_err(|e| format!("the window app cannot be followed: {e}"))?;
        Ok(())
    }

    /// Waits for the app to end and calls `f`, or for it to start, over and over; returns
    /// only when a wait fails or the app's process cannot be opened.
    fn follow(&self, started: &OwnedHandle, f: impl Fn()) {
        loop {
            let Some(window) = self.window() else {
                if !wait(started) {
                    return gave_up(&io::Error::last_os_error());
                }
                continue;
            };
            match process_of(window) {
                Ok(process) => {
                    if !wait(&process) {
                        return gave_up(&io::Error::last_os_error());
                    }
                    f();
                }
                // It ended between the look and the opening.
                // SAFETY: IsWindow takes any value, a stale one included.
                Err(_) if unsafe { IsWindow(window) } == 0 => f(),
                Err(e) => return gave_up(&e),
            }
        }
    }
}

fn gave_up(e: &io::Error) {
    eprintln!("amo-connector: the window app's end will go unnoticed: {e}");
}

/// The process that owns `window`, opened to be waited on.
fn process_of(window: HWND) -> io::Result<OwnedHandle> {
    let mut pid = 0;
    // SAFETY: `pid` outlives the call; a stale window gives 0.
    unsafe { GetWindowThreadProcessId(window, &mut pid) };
    if pid == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: plain arguments; the handle is checked below.
    let process = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
    if process.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that nothing else closes.
    Ok(unsafe { OwnedHandle::from_raw_handle(process) })
}

/// Blocks until `handle` is signalled; false when the wait failed.
fn wait(handle: &OwnedHandle) -> bool {
    // SAFETY: a live handle opened for synchronisation.
    unsafe { WaitForSingleObject(handle.as_raw_handle(), INFINITE) == WAIT_OBJECT_0 }
}

static ON_CLICK: OnceLock<OnClick> = OnceLock::new();

/// Shows `note` as a toast; the first call keeps `on_click` for every toast's click.
/// Failures (toasts turned off, no WinRT as under Wine) are reported on stderr and otherwise
/// ignored: a notice is a courtesy, and the window shows the same state.
pub fn notify(note: Note, on_click: impl FnOnce() -> OnClick) {
    let clicked: &'static OnClick = ON_CLICK.get_or_init(on_click);
    let account = note.account;
    let shown = Toast::new(APP_ID)
        .title(&note.title)
        .text1(&note.body)
        .add_button(&note.open_label, OPEN)
        .on_activated(move |_action| {
            clicked(account.clone());
            Ok(())
        })
        .show();
    if let Err(e) = shown {
        eprintln!("amo-connector: the notification was not shown ({e})");
    }
}

/// `s` as a NUL-terminated UTF-16 string.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

#[cfg(test)]
mod tests;
