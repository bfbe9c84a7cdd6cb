//! The data folder's shared files cannot wedge `amo`: a spoiled request window is read as
//! empty and written back clean, and a lock held by a process that stopped is reported by
//! name and holder's pid within its deadline instead of waited on forever.

mod common;

use std::path::{Path, PathBuf};

use common::World;

/// The request windows of the data folder `home` whose file names begin with `kind`
/// (`integration` or `account`).
fn windows(home: &Path, kind: &str) -> Vec<PathBuf> {
    let folder = home.join("locks").join("rate");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(kind))
        .collect();
    found.sort();
    found
}

#[test]
fn a_request_window_of_junk_bytes_is_taken_as_empty_and_rewritten() {
    let w = World::new();
    w.connect();
    let all: Vec<PathBuf> = ["integration", "account"]
        .iter()
        .flat_map(|kind| windows(w.home(), kind))
        .collect();
    assert_eq!(all.len(), 2, "one window of each budget: {all:?}");
    for window in &all {
        std::fs::write(window, b"\xff\xfe\x00\x01junk\n\xc3(\n17\n").unwrap();
    }
    for args in [&["api", "api/v4/account"][..], &["account"]] {
        let r = w.amo(args);
        assert!(r.ok(), "{args:?}: {r}");
    }
    for window in &all {
        let bytes = std::fs::read(window).unwrap();
        let text = String::from_utf8(bytes).expect("written back as text");
        assert!(
            text.lines().all(|l| l.parse::<u64>().is_ok()),
            "only send times: {text:?}"
        );
    }
}

// Linux only: the holder is flock(1) stopped by SIGSTOP, and the holder's pid comes from
// /proc/locks.
#[cfg(target_os = "linux")]
mod stopped_holder {
    use std::io::{BufRead, BufReader};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use super::common::World;

    /// A process (`flock(1)`) holding `path`'s lock, stopped as Ctrl+Z stops one; ended on drop.
    struct StoppedHolder {
        child: std::process::Child,
    }

    impl StoppedHolder {
        fn hold(path: &Path) -> StoppedHolder {
            let mut child = Command::new("flock")
                .arg("-x")
                .arg(path)
                .args(["sh", "-c", "echo held; exec cat"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("flock runs (util-linux)");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line.trim(), "held");
            let stopped = Command::new("kill")
                .args(["-STOP", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(stopped.success());
            StoppedHolder { child }
        }

        fn pid(&self) -> u32 {
            self.child.id()
        }
    }

    impl Drop for StoppedHolder {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn a_stopped_holder_of_an_accounts_lock_is_named_within_the_deadline() {
        let w = World::new();
        w.connect();
        let name = w.account().replace(':', "_");
        let lock = w.home().join("locks").join(format!("{name}.lock"));
        let holder = StoppedHolder::hold(&lock);
        let started = Instant::now();
        let r = w.amo_env(
            &["refresh"],
            &[("AMO_LOCK_WAIT_SECS", "2")],
            Duration::from_secs(60),
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{r}");
        assert_eq!(r.code, 1, "{r}");
        assert!(
            r.stderr.contains(&format!("{name}.lock")),
            "names the file: {r}"
        );
        assert!(
            r.stderr.contains(&holder.pid().to_string()),
            "names the holder: {r}"
        );
        assert!(r.stderr.contains("kill"), "says what to do: {r}");
        assert_eq!(w.emu.stats().refresh_grants, 0, "nothing was sent");
        drop(holder);
        let again = w.amo(&["refresh"]);
        assert!(again.ok(), "free once the holder is gone: {again}");
    }

    #[test]
    fn a_stopped_holder_of_the_request_window_is_named_within_the_deadline() {
        let w = World::new();
        w.connect();
        let window = super::windows(w.home(), "integration").remove(0);
        let holder = StoppedHolder::hold(&window);
        let r = w.amo_env(
            &["api", "api/v4/account"],
            &[("AMO_LOCK_WAIT_SECS", "1")],
            Duration::from_secs(60),
        );
        assert_eq!(r.code, 1, "{r}");
        let name = window.file_name().unwrap().to_string_lossy();
        assert!(r.stderr.contains(&*name), "names the file: {r}");
        assert!(
            r.stderr.contains(&holder.pid().to_string()),
            "names the holder: {r}"
        );
        assert!(r.stdout.is_empty(), "{r}");
    }
}
