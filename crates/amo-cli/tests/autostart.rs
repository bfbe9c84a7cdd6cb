//! Start at login: `amo config set autostart on|off` writes and removes the XDG autostart
//! entry, which starts the app's binary hidden in the tray.

mod common;

use std::time::Duration;

use common::World;

const LIMIT: Duration = Duration::from_secs(30);

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
