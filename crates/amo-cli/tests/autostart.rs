//! Start at login: `amo config set autostart on|off` writes and removes the XDG autostart
//! entry, which starts the app's binary hidden in the tray.
// Linux only: the XDG autostart entry and the desktop's own tools (desktop-file-validate,
// gio launch); tests/windows.rs proves the Run value.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Child, Run, World};

const LIMIT: Duration = Duration::from_secs(30);

/// Runs `desktop-file-validate` on the entry at `path` and asserts it finds nothing to say.
fn assert_valid(path: &Path) {
    let out = Command::new("desktop-file-validate")
        .arg(path)
        .output()
        .expect(
            "desktop-file-validate runs (package desktop-file-utils; scripts/setup installs it)",
        );
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        out.status.success() && said.is_empty(),
        "desktop-file-validate: {said}\n{text}"
    );
}

/// `amo` installed in `dir` beside a stand-in `amo-connector` that writes its arguments
/// (`$0` first) to `argv` in this world's work folder, one a line.
fn install_in(w: &World, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let amo = dir.join("amo");
    if std::fs::hard_link(common::AMO, &amo).is_err() {
        std::fs::copy(common::AMO, &amo).unwrap();
    }
    let argv = w.work.path().join("argv");
    let app = dir.join("amo-connector");
    std::fs::write(
        &app,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '{argv}.tmp' && mv '{argv}.tmp' '{argv}'\n",
            argv = argv.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();
    amo
}

/// `amo config set autostart on` run from `amo`, with this world's environment.
fn autostart_on(w: &World, amo: &Path, config: &str) -> Run {
    let base = w.cmd();
    let mut cmd = Command::new(amo);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("XDG_CONFIG_HOME", config)
        .args(["config", "set", "autostart", "on"])
        .stdin(Stdio::null());
    Child::spawn(cmd).finish(LIMIT)
}

#[test]
fn autostart_on_writes_an_entry_that_starts_hidden_and_off_removes_it() {
    let w = World::new();
    let config = w.home().join("xdg-config");
    let config = config.to_str().unwrap();
    let env = [("XDG_CONFIG_HOME", config)];
    let entry = w.home().join("xdg-config/autostart/amo-connector.desktop");

    let on = w.amo_env(&["config", "set", "autostart", "on"], &env, LIMIT);
    assert!(on.ok(), "{on}");
    let text = std::fs::read_to_string(&entry).expect("the entry is written");
    assert_valid(&entry);
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("an Exec line");
    assert!(exec.ends_with(" --hidden"), "{exec}");
    assert!(exec.contains("amo-connector"), "{exec}");
    assert!(!exec.contains("/amo "), "the app starts, not amo: {exec}");
    let shown = w.amo_env(&["config", "show"], &env, LIMIT);
    let line = shown
        .stdout
        .lines()
        .find(|l| l.starts_with("Start at login"));
    assert!(line.is_some_and(|l| l.ends_with("on")), "{shown}");

    let off = w.amo_env(&["config", "set", "autostart", "off"], &env, LIMIT);
    assert!(off.ok(), "{off}");
    assert!(!entry.exists(), "the entry is removed");

    let bad = w.amo_env(&["config", "set", "autostart", "sometimes"], &env, LIMIT);
    assert!(!bad.ok(), "{bad}");
    assert!(bad.stderr.contains("sometimes"), "{bad}");
}

#[test]
fn an_app_installed_under_an_awkward_folder_is_started_by_its_entry() {
    let w = World::new();
    let config = w.home().join("xdg-config");
    let dir = w
        .work
        .path()
        .join("my apps $HOME \"q\" it's \\b `x` (1);&|~*?#")
        .join("bin");
    let amo = install_in(&w, &dir);
    let on = autostart_on(&w, &amo, config.to_str().unwrap());
    assert!(on.ok(), "{on}");
    let entry = config.join("autostart/amo-connector.desktop");
    assert_valid(&entry);

    // The desktop's own reader starts it: GLib's, through `gio launch`.
    let launch = Command::new("gio")
        .arg("launch")
        .arg(&entry)
        .stdin(Stdio::null())
        .output()
        .expect("gio runs (package libglib2.0-bin)");
    assert!(
        launch.status.success(),
        "gio launch: {}",
        String::from_utf8_lossy(&launch.stderr)
    );
    let argv = w.work.path().join("argv");
    let deadline = Instant::now() + LIMIT;
    while !argv.exists() {
        assert!(Instant::now() < deadline, "the entry did not start the app");
        std::thread::sleep(Duration::from_millis(20));
    }
    let args = std::fs::read_to_string(&argv).unwrap();
    let app = dir.join("amo-connector");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [app.to_str().unwrap(), "--hidden"],
        "the entry starts the app beside amo, hidden"
    );
}

#[test]
fn a_percent_sign_in_the_apps_path_is_written_as_a_literal_percent() {
    let w = World::new();
    let config = w.home().join("xdg-config");
    let amo = install_in(&w, &w.work.path().join("100%u"));
    let on = autostart_on(&w, &amo, config.to_str().unwrap());
    assert!(on.ok(), "{on}");
    let entry = config.join("autostart/amo-connector.desktop");
    assert_valid(&entry);
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains("/100%%u/amo-connector --hidden\n"), "{text}");
}

#[test]
fn an_app_whose_path_holds_a_line_break_is_refused_and_nothing_is_written() {
    let w = World::new();
    let config = w.home().join("xdg-config");
    let amo = install_in(&w, &w.work.path().join("a\nX-Injected=1"));
    let on = autostart_on(&w, &amo, config.to_str().unwrap());
    assert_eq!(on.code, 1, "{on}");
    assert!(on.stderr.contains("line break"), "{on}");
    assert!(
        on.stderr.contains("a\\nX-Injected=1"),
        "the path, escaped: {on}"
    );
    assert!(
        !config.join("autostart/amo-connector.desktop").exists(),
        "no entry is written"
    );
}

#[test]
fn notifications_can_be_turned_off_and_on() {
    let w = World::new();
    let off = w.amo_env(&["config", "set", "notifications", "off"], &[], LIMIT);
    assert!(off.ok(), "{off}");
    let shown = w.amo_env(&["config", "show"], &[], LIMIT);
    let line = shown
        .stdout
        .lines()
        .find(|l| l.starts_with("Notifications"))
        .unwrap_or_default()
        .to_owned();
    assert!(line.ends_with("off"), "{shown}");
    let on = w.amo_env(&["config", "set", "notifications", "on"], &[], LIMIT);
    assert!(on.ok(), "{on}");
}
