//! Many accounts in one data folder: two hundred `amo connect`s, each to an account of its
//! own, leave the Secret Service daemon running, and `amo status` lists every account.
//!
//! GNOME Keyring keeps secrets in locked memory and gives little of it back: a client that
//! adds and removes throwaway items makes the daemon lock more at each change of a large
//! collection. Where the daemon runs with no limit (as root here) it goes on, so the locked
//! memory is measured as well.
// Linux only: gnome-keyring's own daemon, found on the session bus.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Instant;

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use common::{OwnKeyring, Run};

const ACCOUNTS: usize = 200;

/// How much more the keyring daemon may lock after the connects. A probe item added and
/// removed at every connect made it lock about 25 MB more; with the kept probe item it is
/// about 11 MB, the encrypted sessions' share (a daemon past its locking limit goes on in
/// ordinary memory).
const LOCKED_GROWTH_LIMIT_KB: u64 = 20 * 1024;

/// The process that owns `org.freedesktop.secrets` on the session bus `bus`.
fn keyring_daemon(bus: &str) -> Option<u32> {
    let out = Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)
        .and_then(|pid| pid.parse().ok())
}

/// The locked memory of process `pid`, in kB (`VmLck`).
fn locked_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

#[test]
fn two_hundred_accounts_connect_into_one_folder_and_the_keyring_daemon_stays_up() {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // One redirect URI for all: the connects run one after another, each binding it in turn.
    let redirect_uri = format!("http://127.0.0.1:{}/amocrm/callback", common::free_port());
    // Declared after the runtime, so they stop before it does.
    let emulators: Vec<EmulatorHandle> = (0..ACCOUNTS)
        .map(|_| {
            rt.block_on(Emulator::start(
                EmulatorConfig::new()
                    .auto_approve()
                    .with_redirect_uri(&redirect_uri),
            ))
            .expect("an emulator starts")
        })
        .collect();
    let keyring = OwnKeyring::start();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let browser = work.path().join("browser");
    common::write_browser(&browser);
    let amo = |emu: &EmulatorHandle, args: &[&str]| {
        let mut c = Command::new(common::AMO);
        for var in ["AMO_LANG", "LC_ALL", "LC_MESSAGES", "AMO_STATE_TTL_SECS"] {
            c.env_remove(var);
        }
        c.env("LANG", "en_US.UTF-8")
            .env("AMO_CONNECTOR_HOME", home.path())
            .env("AMO_BASE_URL", emu.base_url())
            .env("AMO_CLIENT_ID", emu.client_id())
            .env("AMO_CLIENT_SECRET", emu.client_secret())
            .env("AMO_REDIRECT_URI", &redirect_uri)
            .env("BROWSER", &browser)
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.bus)
            .stdin(Stdio::null())
            .args(args);
        Run::from(c.output().expect("amo runs"))
    };

    let daemon = keyring_daemon(&keyring.bus).expect("a Secret Service on the session bus");
    let locked_before = locked_kb(daemon);
    for (i, emu) in emulators.iter().enumerate() {
        let r = amo(emu, &["connect", "--timeout", "60"]);
        let now = keyring_daemon(&keyring.bus);
        assert_eq!(
            now,
            Some(daemon),
            "the keyring daemon (pid {daemon}) is gone after connect #{} ({} kB locked when \
             last seen): {r}",
            i + 1,
            locked_kb(daemon)
        );
        assert!(r.ok(), "connect #{}: {r}", i + 1);
    }
    let grown = locked_kb(daemon).saturating_sub(locked_before);
    assert!(
        grown < LOCKED_GROWTH_LIMIT_KB,
        "{ACCOUNTS} connects made the keyring daemon lock {grown} kB more \
         ({locked_before} kB before); as a probe added and removed at each connect made it"
    );

    let status = amo(&emulators[0], &["status", "--json"]);
    assert!(status.ok(), "{status}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&status.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}: {status}"));
    let listed: BTreeSet<&str> = rows.iter().filter_map(|r| r["account"].as_str()).collect();
    let expected: Vec<String> = emulators.iter().map(|e| e.account_host()).collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(listed, expected, "every account is listed once");
    let not_connected: Vec<_> = rows.iter().filter(|r| r["state"] != "connected").collect();
    assert!(not_connected.is_empty(), "{not_connected:?}");
    // Listing asks the keychain nothing: with the session bus out of reach it is the same.
    let listing = Instant::now();
    let mut cmd = Command::new(common::AMO);
    cmd.env("LANG", "en_US.UTF-8")
        .env("AMO_CONNECTOR_HOME", home.path())
        .env("AMO_BASE_URL", emulators[0].base_url())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["status", "--json"]);
    let without = Run::from(cmd.output().expect("amo runs"));
    assert!(without.ok(), "{without}");
    assert_eq!(without.stdout, status.stdout);
    eprintln!(
        "amo status --json of {ACCOUNTS} without a keychain: {:?}",
        listing.elapsed()
    );
    assert_eq!(
        keyring_daemon(&keyring.bus),
        Some(daemon),
        "the keyring daemon is still there"
    );
    eprintln!(
        "{ACCOUNTS} connects in {:.0?}; the keyring daemon locked {grown} kB more",
        started.elapsed()
    );
    // The keyring, its items and its home end with `keyring`.
}
