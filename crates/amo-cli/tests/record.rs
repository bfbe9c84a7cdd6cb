//! The Secret Service is the record: `amo token`, `amo api` and `amo account` hand out only
//! what the keychain holds now: not a token removed or replaced there outside `amo`, nothing
//! once the keychain is out of reach (the session ended), and one data folder under every
//! spelling of its path.
// Linux only: the Secret Service's own behaviour (items changed with secret-tool, a locked
// collection, no session bus).
#![cfg(target_os = "linux")]

mod common;

use std::process::Command;

use common::{Run, World};

fn clear_outside(w: &World) {
    let status = Command::new("secret-tool")
        .args(["clear", "service", "amo-connector", "username"])
        .arg(format!("tokens:{}", w.account()))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_token_removed_or_replaced_in_the_keychain_outside_amo_is_never_served() {
    let w = World::new();
    w.connect();
    let first = w.amo(&["token"]);
    assert!(first.ok(), "{first}");

    // Replaced (as `secret-tool store` or Seahorse would): the new value is what is served.
    let attributes = common::item_attributes(&w);
    assert!(
        attributes.iter().any(|(k, _)| k == "service"),
        "{attributes:?}"
    );
    let stored = w.keychain_tokens().expect("one item holds the set");
    let mut set: serde_json::Value = serde_json::from_str(&stored).unwrap();
    set["access_token"] = "replaced-outside-amo".into();
    common::store_outside(&attributes, &set.to_string());
    let replaced = w.amo(&["token"]);
    assert!(replaced.ok(), "{replaced}");
    assert_eq!(replaced.stdout.trim(), "replaced-outside-amo", "{replaced}");

    // Removed: nothing is served, and `amo status` and `amo token` agree.
    clear_outside(&w);
    let gone = w.amo(&["token"]);
    assert_eq!(gone.code, 1, "{gone}");
    assert!(gone.stdout.is_empty(), "{gone}");
    let api = w.amo(&["api", "api/v4/account"]);
    assert!(!api.ok(), "{api}");
    assert!(api.stdout.is_empty(), "{api}");
    let status = w.status_json();
    assert_ne!(status[0]["state"], "connected", "{status}");
}

#[test]
fn with_the_keychain_out_of_reach_no_token_is_served() {
    // A session that ended (logout) or a Secret Service that is gone: nothing answers.
    let w = World::new();
    w.connect();
    assert!(w.amo(&["token"]).ok());
    assert!(w.amo(&["api", "api/v4/account"]).ok());
    let no_bus = |args: &[&str]| {
        let mut cmd = w.cmd();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(args);
        Run::from(cmd.output().unwrap())
    };
    for args in [&["token"][..], &["api", "api/v4/account"], &["account"]] {
        let r = no_bus(args);
        assert!(!r.ok(), "{args:?}: {r}");
        assert!(r.stdout.is_empty(), "{args:?}: {r}");
        assert!(r.stderr.contains("keychain"), "says why: {r}");
    }
}

#[test]
fn every_spelling_of_the_data_folder_is_one_folder() {
    let w = World::new();
    w.connect();
    let slash = format!("{}/", w.home().display());
    let dot = format!("{}/.", w.home().display());
    let with = |home: &str, args: &[&str]| {
        let mut cmd = w.cmd();
        cmd.env("AMO_CONNECTOR_HOME", home).args(args);
        Run::from(cmd.output().unwrap())
    };
    let plain = w.amo(&["token"]);
    assert!(plain.ok(), "{plain}");
    for home in [&slash, &dot] {
        let r = with(home, &["token"]);
        assert!(r.ok(), "{r}");
        assert_eq!(r.stdout, plain.stdout, "the same connection");
    }
    let d = w.amo(&["disconnect", "--account", &w.account()]);
    assert!(d.ok(), "{d}");
    for home in [&slash, &dot] {
        let r = with(home, &["token"]);
        assert_eq!(r.code, 1, "disconnected under every spelling: {r}");
        assert!(r.stdout.is_empty(), "{r}");
    }
}

#[test]
fn a_locked_keychain_serves_nothing() {
    // In a keychain session of its own, so locking it touches no other test.
    let w = World::new();
    let with_keyring =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
    let mut cmd = Command::new(with_keyring);
    for (k, v) in w.cmd().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let script = r#"
        set -u
        "$AMO" connect --timeout 60 >/dev/null 2>&1 || { echo "connect failed"; exit 3; }
        "$AMO" token >/dev/null || { echo "unlocked token failed"; exit 3; }
        dbus-send --session --print-reply --dest=org.freedesktop.secrets \
          /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
          array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
        for args in "token" "api api/v4/account" "account"; do
          out=$(timeout 60 "$AMO" $args 2>/tmp/amo-locked-err.$$) && { echo "served: $args"; exit 4; }
          [ -z "$out" ] || { echo "printed: $args"; exit 4; }
          grep -q "keychain" /tmp/amo-locked-err.$$ || { cat /tmp/amo-locked-err.$$; exit 5; }
        done
        rm -f /tmp/amo-locked-err.$$
        echo locked-refused
    "#;
    cmd.env("AMO", common::AMO).args(["bash", "-c", script]);
    let r = Run::from(cmd.output().unwrap());
    assert!(r.ok(), "{r}");
    assert!(r.stdout.contains("locked-refused"), "{r}");
}
