//! The message loop and the folder watch, without an icon: a job from another thread, a
//! quit, and which files of the data folder wake the host.

use std::sync::mpsc;
use std::time::Duration;

use super::*;

/// How long a test waits for what should come at once (Wine is slow to start a thread).
const DEADLINE: Duration = Duration::from_secs(30);
/// How long a test waits to be fairly sure something does not come.
const QUIET: Duration = Duration::from_millis(500);

#[test]
fn a_job_from_another_thread_runs_on_the_ui_thread_and_quit_ends_the_loop() {
    let (done, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        init().unwrap();
        let ui = std::thread::current().id();
        let (ran, ran_rx) = mpsc::channel();
        std::thread::spawn(move || {
            on_ui_thread(move || {
                ran.send(std::thread::current().id()).unwrap();
                quit();
            });
        });
        run();
        done.send(ran_rx.try_recv() == Ok(ui)).unwrap();
    });
    let on_ui = done_rx.recv_timeout(DEADLINE).expect("the loop ends");
    assert!(on_ui, "the job ran on the UI thread");
}

#[test]
fn the_database_changing_wakes_and_other_files_do_not() {
    let root = std::env::temp_dir().join(format!("amo-tray-watch-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let db = root.join("amo-connector.sqlite3");
    std::fs::write(&db, "a").unwrap();
    let (woke, woke_rx) = mpsc::channel();
    let _watch = watch(&root, &db, move || woke.send(()).unwrap()).unwrap();

    std::fs::write(root.join("activity.log"), "refreshed").unwrap();
    assert!(
        woke_rx.recv_timeout(QUIET).is_err(),
        "the log wakes nothing"
    );
    std::fs::write(&db, "ab").unwrap();
    woke_rx
        .recv_timeout(DEADLINE)
        .expect("a write to the database wakes");
    std::fs::write(root.join("amo-connector.sqlite3-wal"), "w").unwrap();
    woke_rx
        .recv_timeout(DEADLINE)
        .expect("a new write-ahead log wakes");
    // The watch keeps the folder open to the end of the process.
    let _ = std::fs::remove_dir_all(&root);
}
