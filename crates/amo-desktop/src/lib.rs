//! What the amo-connector window app and its tray process share, with no GUI toolkit: the
//! session bus (is there a tray host, notifications, is the window open), the background
//! host of the engine's schedule, and how one binary starts the other.

pub mod bus;
pub mod host;
pub mod launch;

pub use bus::{notify, tray_host_present, Note, OnClick};
pub use host::{Host, Shell};
