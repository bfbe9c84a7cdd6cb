//! What a hidden app gives back once its window is gone: WebKit's network process (a
//! new window starts a new one) and the heap pages the web view left free.

/// Ends this process's WebKit network process and returns free heap pages to the system.
pub fn after_window_closed() {
    #[cfg(target_os = "linux")]
    {
        let me = std::process::id();
        for pid in children_named(me, "WebKitNetworkProcess") {
            // SIGTERM: WebKit launches a new one when the next web view needs it.
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        // SAFETY: malloc_trim only walks glibc's own free lists.
        unsafe {
            malloc_trim(0);
        }
    }
}

#[cfg(target_os = "linux")]
extern "C" {
    fn malloc_trim(pad: usize) -> i32;
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
            let ppid = tail.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
            ppid == Some(parent) && comm == short
        })
        .collect()
}
