//! The keychain: without a Secret Service nothing is stored elsewhere and every command
//! says so; with one, what one `amo` process stores the next one reads.

mod common;

use common::{secret_lookup, World};

#[test]
fn tokens_stored_by_one_process_are_read_by_the_next() {
    let w = World::new();
    assert!(w.keychain_tokens().is_none());
    let mut secrets = w.connect_and_collect();

    // Between processes, the set is in the Secret Service.
    let item = w.keychain_tokens().expect("the set is stored");
    let stored: serde_json::Value = serde_json::from_str(&item).unwrap();
    assert_eq!(stored["kind"], "oauth");
    let access = stored["access_token"].as_str().unwrap().to_owned();
    assert!(access.len() > 100 && stored["refresh_token"].as_str().is_some());

    // A later process shows it masked and uses it as is.
    let status = w.status_json();
    let masked = status[0]["access_token"].as_str().unwrap();
    let (head, tail) = masked.split_once('…').expect("masked");
    assert!(
        access.starts_with(head) && access.ends_with(tail),
        "{masked}"
    );
    let before = w.emu.stats();
    assert!(w.amo(&["account"]).ok());
    let after = w.emu.stats();
    assert_eq!(after.api_unauthorized, 0);
    assert_eq!(
        after.token_requests, before.token_requests,
        "no refresh needed"
    );

    // A refresh in one process is what the next one reads.
    assert!(w.amo(&["refresh"]).ok());
    let rotated = w.keychain_tokens().unwrap();
    assert_ne!(rotated, item);
    let rotated: serde_json::Value = serde_json::from_str(&rotated).unwrap();
    let masked = w.status_json()[0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (head, tail) = masked.split_once('…').unwrap();
    let new_access = rotated["access_token"].as_str().unwrap();
    assert!(new_access.starts_with(head) && new_access.ends_with(tail));
    assert!(w.amo(&["account"]).ok());
    assert_eq!(w.emu.stats().api_unauthorized, 0);

    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
    assert!(w.amo(&["disconnect"]).ok());
    assert!(secret_lookup(&format!("tokens:{}", w.account())).is_none());
}

/// Linux only: these take the Secret Service away (no session bus); Windows' Credential
/// Manager is part of the system.
#[cfg(target_os = "linux")]
mod without_a_secret_service {
    use std::time::{Duration, Instant};

    use super::common::{self, Child, World};

    const NO_BUS: (&str, &str) = ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");

    /// Asserts a run failed and named the keychain.
    fn names_the_keychain(what: &str, r: &common::Run) {
        assert_ne!(r.code, 0, "{what}: {r}");
        assert!(
            r.stderr.contains("keychain"),
            "{what}: names the keychain: {r}"
        );
        assert!(!r.stderr.trim_end().contains('\n'), "{what}: one line: {r}");
    }

    #[test]
    fn without_a_secret_service_connect_fails_at_once_and_stores_nothing() {
        let w = World::new();
        let limit = Duration::from_secs(20);

        // The client secret from the environment: the flow must not even start, since the
        // tokens it would bring could not be kept.
        let started = Instant::now();
        let r = w.amo_env(
            &["connect", "--no-browser", "--timeout", "30"],
            &[NO_BUS],
            limit,
        );
        names_the_keychain("connect", &r);
        assert!(started.elapsed() < Duration::from_secs(10), "fails at once");
        assert!(!r.stdout.contains("/oauth?"), "no authorize address: {r}");

        // The client secret from the keychain. Only without the emulator override is a kept
        // secret read at all; the keychain's absence stops the flow before anything is sent.
        let mut cmd = w.cmd();
        cmd.env_remove("AMO_CLIENT_SECRET")
            .env_remove("AMO_BASE_URL")
            .env(NO_BUS.0, NO_BUS.1)
            .args(["connect", "--no-browser", "--timeout", "30"]);
        let r = Child::spawn(cmd).finish(limit);
        names_the_keychain("connect, secret in the keychain", &r);
        assert!(r.stderr.contains("keychain is not available"), "{r}");

        // A pasted code is not exchanged either.
        let code = w.emu.issue_code();
        let r = w.amo_env(
            &["connect", "--code", &code, "--account", &w.account()],
            &[NO_BUS],
            limit,
        );
        names_the_keychain("connect --code", &r);

        let stats = w.emu.stats();
        assert_eq!(stats.token_requests, 0, "nothing was exchanged: {stats:?}");
        assert_eq!(w.amo(&["status", "--json"]).stdout.trim(), "[]");
        assert!(w.keychain_tokens().is_none());
        w.assert_no_secret_in_data(&[code, w.emu.client_secret().to_owned()]);
    }

    #[test]
    fn without_a_secret_service_every_command_on_a_connection_names_the_keychain() {
        let w = World::new();
        let mut secrets = w.connect_and_collect();
        let item = w.keychain_tokens().unwrap();
        let before = w.emu.stats();
        let limit = Duration::from_secs(20);
        // Listing reads the database alone: it answers as it does with the keychain.
        for args in [&["status"][..], &["status", "--json"]] {
            let r = w.amo_env(args, &[NO_BUS], limit);
            assert!(r.ok(), "{args:?}: {r}");
            assert_eq!(r.stdout, w.amo(args).stdout, "{args:?}");
        }
        // Everything that uses or changes a token needs the keychain, and says so.
        for args in [
            &["token"][..],
            &["account"],
            &["api", "api/v4/account"],
            &["refresh"],
            &["disconnect"],
        ] {
            let r = w.amo_env(args, &[NO_BUS], limit);
            names_the_keychain(&args.join(" "), &r);
        }
        let after = w.emu.stats();
        assert_eq!(
            after.token_requests, before.token_requests,
            "no refresh is sent when its answer could not be stored"
        );

        // Back with the keychain, the connection is as it was.
        assert_eq!(w.keychain_tokens().as_deref(), Some(item.as_str()));
        assert_eq!(w.status_json()[0]["state"], "connected");
        assert!(w.amo(&["account"]).ok());
        secrets.extend(w.keychain_token_values());
        w.assert_no_secret_in_data(&secrets);
    }
}

/// Owns the Secret Service's name on the session bus and answers nothing.
#[cfg(target_os = "linux")]
const SILENT_OWNER: &str = "import dbus, time\n\
bus = dbus.SessionBus()\n\
bus.request_name('org.freedesktop.secrets')\n\
print('owned', flush=True)\n\
time.sleep(3600)\n";

/// A Secret Service that takes calls and never answers (its owner is stopped): `amo` says
/// the keychain does not answer, once the wait it was given is over, instead of hanging.
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_that_never_answers_is_an_error_not_a_hang() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let first_line = |child: &mut std::process::Child| {
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("a line");
        line.trim().to_owned()
    };
    let w = World::new();
    // A bus of the test's own, where a stopped process owns the Secret Service's name.
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("dbus-daemon runs");
    let address = first_line(&mut bus);
    // Ends the bus however the test ends.
    struct Ends(std::process::Child);
    impl Drop for Ends {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let bus = Ends(bus);
    // Debian's Python, which has the D-Bus bindings (scripts/setup installs them).
    let mut owner = Command::new("/usr/bin/python3")
        .args(["-c", SILENT_OWNER])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let owned = first_line(&mut owner);
    let owner = Ends(owner);
    assert_eq!(owned, "owned");
    let stopped = Command::new("kill")
        .args(["-STOP", &owner.0.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());

    let started = Instant::now();
    let r = w.amo_env(
        &["proxy-key"],
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &address),
            ("AMO_KEYCHAIN_WAIT_SECS", "1"),
        ],
        Duration::from_secs(60),
    );
    let took = started.elapsed();
    drop((owner, bus));
    assert!(!r.ok(), "{r}");
    assert!(
        r.stderr.contains("keychain is not available") && r.stderr.contains("within 1 s"),
        "{r}"
    );
    assert!(
        took < Duration::from_secs(30),
        "{took:?}: waited far past 1 s"
    );
}

/// One `amo` process makes several keychain calls (a refresh reads the set, checks that the
/// keychain keeps what it is given, writes the new set) over one D-Bus connection and one
/// Secret Service session, as watched on the session bus. A session per call kept GNOME
/// Keyring busy enough under load that a caller left mid-`OpenSession`, which the daemon
/// does not survive.
#[cfg(target_os = "linux")]
#[test]
fn one_process_opens_one_secret_service_session_for_all_its_keychain_calls() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    // On a bus of its own, where only this test's `amo` calls the Secret Service.
    let keyring = common::OwnKeyring::start();
    let bus = [("DBUS_SESSION_BUS_ADDRESS", keyring.bus.as_str())];
    let limit = std::time::Duration::from_secs(60);
    let w = World::new();
    let r = w.amo_env(&["connect", "--timeout", "60"], &bus, limit);
    assert!(r.ok(), "{r}");
    let mut monitor = Command::new("dbus-monitor")
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.bus)
        .args([
            "--session",
            "type='method_call',destination='org.freedesktop.secrets'",
            "type='signal',interface='org.amoconnector.Test'",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor runs");
    let (line, lines) = mpsc::channel();
    let out = monitor.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if line.send(l).is_err() {
                break;
            }
        }
    });
    // Marks the watch: sent until the monitor shows it, so it is known to be watching, and
    // once more at the end, so everything before it has been shown.
    let mark = |name: &str| {
        let sent = Command::new("dbus-send")
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.bus)
            .args([
                "--session",
                "--type=signal",
                "/",
                &format!("org.amoconnector.Test.{name}"),
            ])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    // Reads lines into `seen` until one shows the mark `name`, or none comes for `quiet`.
    let until = |name: &str, quiet: u64, seen: &mut Vec<String>| -> bool {
        let wanted = format!("member={name}");
        while let Ok(l) = lines.recv_timeout(std::time::Duration::from_millis(quiet)) {
            let found = l.contains(&wanted);
            seen.push(l);
            if found {
                return true;
            }
        }
        false
    };
    let mut seen = Vec::new();
    let started = std::time::Instant::now();
    loop {
        mark("Start");
        if until("Start", 200, &mut seen) {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "dbus-monitor never watched"
        );
    }
    seen.clear();

    let r = w.amo_env(&["refresh"], &bus, limit);
    mark("End");
    // Sent once the monitor watches: it is shown, after everything sent before it.
    let ended = until("End", 30_000, &mut seen);
    let _ = monitor.kill();
    let _ = monitor.wait();
    assert!(r.ok(), "{r}");
    assert!(ended, "the end mark was not seen");

    let calls: Vec<&String> = seen
        .iter()
        .filter(|l| l.starts_with("method call") && l.contains("org.freedesktop.Secret."))
        .collect();
    let sessions = calls
        .iter()
        .filter(|l| l.contains("member=OpenSession"))
        .count();
    let senders: std::collections::BTreeSet<&str> = calls
        .iter()
        .filter_map(|l| l.split_whitespace().find_map(|f| f.strip_prefix("sender=")))
        .collect();
    assert!(
        calls.len() >= 4,
        "a refresh reads and writes the keychain: {calls:#?}"
    );
    assert_eq!(sessions, 1, "one session for the whole process: {calls:#?}");
    assert_eq!(
        senders.len(),
        1,
        "one connection for the whole process: {senders:?}"
    );
}
