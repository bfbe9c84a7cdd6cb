//! What the amo-connector window app and its tray process share, with no GUI toolkit: the
//! desktop (is there a tray host, is the window open and when it closes, notifications), the
//! background host of the engine's schedule, and how one binary starts the other.

pub mod desktop;
pub mod host;
pub mod launch;

pub use desktop::{
    notify, on_window_closed, tray_host_present, window_open, window_started, Note, OnClick,
    TRAY_HOST_MISSING,
};
pub use host::{Host, Shell};
