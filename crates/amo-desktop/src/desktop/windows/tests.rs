//! The window app's traces as the tray reads them, made by the tests themselves: a window of
//! the single-instance class and title, in a thread or in a child process (this test binary
//! again, running [`child_app`]). Each test takes names of its own, so a real amo-connector
//! on the machine and the other tests stay out of it.
//!
//! Under Wine a window needs a display driver: scripts/windows/prefix sets the prefix's to
//! `null`, so these run without a display too. A window that cannot be made fails them.

use std::os::windows::io::AsRawHandle as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WAIT_OBJECT_0, WAIT_TIMEOUT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, RegisterClassW, WNDCLASSW, WS_OVERLAPPED,
};

use super::*;

/// The variable that makes [`child_app`] play the window app under the names it gives.
const CHILD_ID: &str = "AMO_DESKTOP_TEST_APP_ID";
/// How long a test waits for what should come at once (Wine starts a process slowly).
const DEADLINE: Duration = Duration::from_secs(30);

/// An identifier no other test and no installed app uses.
fn test_id(test: &str) -> String {
    format!("app.amo-connector.test.{test}.{}", std::process::id())
}

unsafe extern "system" fn window_proc(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
    // SAFETY: the arguments Windows gave this procedure.
    unsafe { DefWindowProcW(hwnd, msg, w, l) }
}

/// A top-level window of the plugin's class and title, as the window app keeps one.
fn make_window(names: &Instance) -> HWND {
    // SAFETY: NUL-terminated names that outlive the calls; the class is registered before
    // the window is made, and registering it again (another window here) fails harmlessly.
    let window = unsafe {
        let module = GetModuleHandleW(std::ptr::null());
        let class = WNDCLASSW {
            lpfnWndProc: Some(window_proc),
            hInstance: module,
            lpszClassName: names.class.as_ptr(),
            ..Default::default()
        };
        RegisterClassW(&class);
        CreateWindowExW(
            0,
            names.class.as_ptr(),
            names.title.as_ptr(),
            WS_OVERLAPPED,
            0,
            0,
            0,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            module,
            std::ptr::null(),
        )
    };
    assert!(
        !window.is_null(),
        "no window: {}",
        io::Error::last_os_error()
    );
    window
}

/// Waits (with a deadline) until the window under `names` is there or gone.
fn until_window(names: &Instance, there: bool) -> bool {
    let start = Instant::now();
    while names.window().is_some() != there {
        if start.elapsed() > DEADLINE {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// This test binary again, playing the window app under `id`.
fn start_child_app(id: &str) -> Child {
    let me = std::env::current_exe().unwrap();
    Command::new(me)
        .args(["--exact", "desktop::windows::tests::child_app", "--ignored"])
        .env(CHILD_ID, id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The window app as the tray sees it: its window, then its start told; it runs until killed.
#[test]
#[ignore = "the window app that `an_ending_app_is_seen_each_time` starts and ends"]
fn child_app() {
    let Ok(id) = std::env::var(CHILD_ID) else {
        return;
    };
    let names = Instance::of(&id);
    let _window = make_window(&names);
    names.started();
    loop {
        std::thread::park();
    }
}

#[test]
fn the_names_follow_the_identifier_in_tauri_conf() {
    let conf: serde_json::Value =
        serde_json::from_str(include_str!("../../../../../tauri.conf.json")).unwrap();
    assert_eq!(conf["identifier"].as_str(), Some(APP_ID));
    let names = Instance::of("app.example");
    assert_eq!(names.class, wide("app.example-sic"));
    assert_eq!(names.title, wide("app.example-siw"));
    assert_eq!(names.started, wide("Local\\app.example-started"));
}

#[test]
fn no_app_runs_without_its_window() {
    assert!(Instance::of(&test_id("none")).window().is_none());
}

#[test]
fn the_app_runs_while_its_window_is_there() {
    let id = test_id("window");
    let names = Instance::of(&id);
    let (made, made_rx) = mpsc::channel();
    let (close, close_rx) = mpsc::channel::<()>();
    let owner = std::thread::spawn(move || {
        // A window belongs to the thread that made it, which alone may destroy it.
        let window = make_window(&Instance::of(&id));
        made.send(()).unwrap();
        let _ = close_rx.recv();
        // SAFETY: this thread's own window.
        assert_ne!(unsafe { DestroyWindow(window) }, 0);
    });
    made_rx.recv().unwrap();
    assert!(names.window().is_some());
    close.send(()).unwrap();
    owner.join().unwrap();
    assert!(names.window().is_none());
}

#[test]
fn a_start_sets_the_event_once() {
    let names = Instance::of(&test_id("event"));
    let event = names.started_event().unwrap();
    // SAFETY: a live event handle; a zero timeout only looks.
    let now = |e: &OwnedHandle| unsafe { WaitForSingleObject(e.as_raw_handle(), 0) };
    assert_eq!(now(&event), WAIT_TIMEOUT, "not set before a start");
    names.started();
    assert_eq!(now(&event), WAIT_OBJECT_0, "set by the start");
    assert_eq!(now(&event), WAIT_TIMEOUT, "taken by the one wait");
}

#[test]
fn an_ending_app_is_seen_each_time() {
    let id = test_id("ends");
    let names = Instance::of(&id);
    let (ended, ended_rx) = mpsc::channel();

    // Running before the tray looks: found by its window, its process waited on.
    let mut first = start_child_app(&id);
    assert!(until_window(&names, true), "the first app's window");
    Instance::of(&id)
        .on_closed(move || ended.send(()).unwrap())
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(ended_rx.try_recv().is_err(), "no end while it runs");
    first.kill().unwrap();
    first.wait().unwrap();
    ended_rx
        .recv_timeout(DEADLINE)
        .expect("the first app's end is seen");

    // Started after: the tray wakes on its start, then waits on its process.
    let mut second = start_child_app(&id);
    assert!(until_window(&names, true), "the second app's window");
    std::thread::sleep(Duration::from_millis(300));
    assert!(ended_rx.try_recv().is_err(), "no end while it runs");
    second.kill().unwrap();
    second.wait().unwrap();
    ended_rx
        .recv_timeout(DEADLINE)
        .expect("the second app's end is seen");
    assert!(until_window(&names, false));
}
