//! What a hidden app gives back once its window is gone: WebKit's network process (a
//! new window starts a new one) and the heap pages the web view left free.

/// Once the window's web process has left (within a bound), ends this process's WebKit
/// network process, which nothing uses then, and returns free heap pages to the system.
pub fn after_window_closed() {
    #[cfg(target_os = "linux")]
    std::thread::spawn(|| {
        let me = std::process::id();
        // The web process leaves shortly after its view; the network process must outlive
        // it, or WebKit starts a new one for it at once. No web process, no work to do.
        let bound = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !children_named(me, "WebKitWebProcess").is_empty() {
            if std::time::Instant::now() > bound {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        for pid in children_named(me, "WebKitNetworkProcess") {
            // SIGTERM: WebKit starts a new one when the next web view needs it.
            // SAFETY: kill(2) on our own child's pid; no memory is touched.
            unsafe {
                kill(pid as i32, 15);
            }
        }
        // SAFETY: malloc_trim only walks glibc's own free lists.
        unsafe {
            malloc_trim(0);
        }
    });
}

#[cfg(target_os = "linux")]
extern "C" {
    fn malloc_trim(pad: usize) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

/// The children of `parent` whose command name starts like `name` (`comm` is cut at 15).
#[cfg(target_os = "linux")]
fn children_named(parent: u32, name: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let short = &name[..name.len().min(15)];
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let Some((head, tail)) = stat.rsplit_once(')') else {
                return false;
            };
            let comm = head.split_once('(').map_or("", |(_, c)| c);
            let ppid = tail
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            ppid == Some(parent) && comm == short
        })
        .collect()
}
