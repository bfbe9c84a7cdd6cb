//! What the desktop tells and shows the app, one file per platform with the same functions:
//! whether a tray host is there, whether the window app runs and when it ends, and notices
//! whose click opens the window at an account. The freedesktop session bus on Unix; the
//! taskbar, the single-instance window and WinRT toasts on Windows.

#[cfg(unix)]
mod freedesktop;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub use freedesktop::{
    notify, on_window_closed, tray_host_present, window_open, window_started, TRAY_HOST_MISSING,
};
#[cfg(windows)]
pub use windows::{
    notify, on_window_closed, tray_host_present, window_open, window_started, TRAY_HOST_MISSING,
};

/// One notification: title, body, the label of its "open" action, and the account a click
/// opens (none: the window as it is).
pub struct Note {
    pub title: String,
    pub body: String,
    pub open_label: String,
    pub account: Option<String>,
}

/// What a click asks for: open the window, at this account if any.
pub type OnClick = Box<dyn Fn(Option<String>) + Send + Sync + 'static>;
