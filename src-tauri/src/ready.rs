//! The readiness signal for `bench/`: the page calls `ready` in the frame after it first
//! drew the dashboard with its data, which writes the time (Unix seconds) to
//! `$AMO_BENCH_READY_FILE`, as the empty window's page does after its first frame.

use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// Marks the window interactive, once; a no-op unless the variable is set.
pub fn mark() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        if let Some(path) = std::env::var_os("AMO_BENCH_READY_FILE") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let _ = std::fs::write(path, format!("{:.6}\n", now.as_secs_f64()));
        }
    });
}
