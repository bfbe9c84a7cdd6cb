//! The readiness signal for `bench/`: the page calls `ready` in the frame after it first
//! drew the dashboard with its data, which writes the time (Unix seconds) to
//! `$AMO_BENCH_READY_FILE`, as the empty window's page does after its first frame; a window
//! built again (on *Open*) writes it again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static MARKED: AtomicBool = AtomicBool::new(false);

/// Marks the window interactive, once per window; a no-op unless the variable is set.
pub fn mark() {
    if MARKED.swap(true, Ordering::Relaxed) {
        return;
    }
    if let Some(path) = std::env::var_os("AMO_BENCH_READY_FILE") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let _ = std::fs::write(path, format!("{:.6}\n", now.as_secs_f64()));
    }
}

/// A new window is being built: its first dashboard marks again.
pub fn rearm() {
    MARKED.store(false, Ordering::Relaxed);
}
