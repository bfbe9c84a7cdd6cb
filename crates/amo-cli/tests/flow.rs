//! The whole loopback flow through `amo` against the emulator, with the real keychain and a
//! real SQLite file; then status, account, refresh and disconnect.

mod common;

use common::{secret_lookup, World};

// Linux only: it reads the code from the curl browser script's log; tests/windows.rs walks
// the same flow on Windows.
#[cfg(target_os = "linux")]
#[test]
fn loopback_flow_connects_and_every_command_follows() {
    let w = World::new();
    let r = w.connect();
    assert!(
        r.stdout.contains("/oauth?client_id="),
        "the authorize URL is printed: {r}"
    );
    assert!(r.stdout.contains("Connected to Emulated account"), "{r}");
    if common::BROWSER_SCRIPT {
        assert!(
            w.browser_log().starts_with("200 "),
            "the browser got the success page"
        );
    }

    // The tokens are in the keychain, never in SQLite.
    let item = w
        .keychain_tokens()
        .expect("the token set is in the Secret Service");
    let stored: serde_json::Value = serde_json::from_str(&item).unwrap();
    let access = stored["access_token"].as_str().unwrap().to_owned();
    let refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    assert!(w.home().join("amo-connector.sqlite3").exists());

    let status = w.status_json();
    let row = &status[0];
    assert_eq!(row["account"], w.account());
    assert_eq!(row["name"], "Emulated account");
    assert_eq!(row["kind"], "oauth");
    assert_eq!(row["state"], "connected");
    assert_eq!(row["expired"], false);
    assert!(row["account_id"].as_i64().is_some());
    for key in ["expires_at", "created_at", "updated_at"] {
        let t = row[key].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok(),
            "{key} is RFC 3339: {t}"
        );
    }
    let masked = row["access_token"].as_str().unwrap();
    assert!(
        masked.contains('…') && !access.contains(masked),
        "masked: {masked}"
    );

    let table = w.amo(&["status"]);
    assert!(table.ok() && table.stdout.contains("Connected"), "{table}");
    assert!(
        table.stdout.contains("System keychain (Secret Service)"),
        "{table}"
    );

    let account = w.amo(&["account", "--json"]);
    assert!(account.ok(), "{account}");
    let info: serde_json::Value = serde_json::from_str(&account.stdout).unwrap();
    assert_eq!(info["name"], "Emulated account");

    let time = |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap());
    let before = time(&status[0]["expires_at"]).unwrap();
    let refreshed = w.amo(&["refresh"]);
    assert!(refreshed.ok(), "{refreshed}");
    let after = w.status_json();
    assert!(
        time(&after[0]["expires_at"]).unwrap() > before,
        "the expiry moved"
    );
    assert!(after[0]["last_refresh_at"].is_string());
    let new_item = w.keychain_tokens().unwrap();
    assert!(!new_item.contains(&refresh), "the refresh token rotated");
    assert_eq!(w.emu.stats().revoked_refresh_used, 0);

    // Nothing secret in the data folder: tokens (old and new), the client secret, the code.
    let code = w
        .browser_log()
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let new: serde_json::Value = serde_json::from_str(&new_item).unwrap();
    w.assert_no_secret_in_data(&[
        access,
        refresh,
        new["access_token"].as_str().unwrap().to_owned(),
        new["refresh_token"].as_str().unwrap().to_owned(),
        w.emu.client_secret().to_owned(),
        code,
    ]);

    let gone = w.amo(&["disconnect"]);
    assert!(gone.ok(), "{gone}");
    assert!(w.keychain_tokens().is_none(), "the keychain entry is gone");
    let none = w.amo(&["status", "--json"]);
    assert_eq!(none.code, 1, "no usable connection: exit 1");
    assert_eq!(none.stdout.trim(), "[]");
}

#[test]
fn the_client_secret_is_kept_in_the_keychain_and_never_shown() {
    let w = World::new();
    // Saved with no emulator in force: with AMO_BASE_URL set the keychain's secret is off
    // limits (tests/emulator.rs), so it is the real integration's place.
    let mut set = w.cmd();
    set.env_remove("AMO_CLIENT_SECRET")
        .env_remove("AMO_BASE_URL")
        .args(["config", "set", "client_secret"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = set.spawn().unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        w.emu.client_secret().as_bytes(),
    )
    .unwrap();
    let saved = common::Run::from(child.wait_with_output().unwrap());
    assert!(saved.ok(), "{saved}");
    let item = secret_lookup(&format!("client-secret:{}", w.emu.client_id()));
    assert_eq!(item.as_deref(), Some(w.emu.client_secret()));
    let shown = w.amo(&["config", "show"]);
    assert!(shown.ok(), "{shown}");
    assert!(!shown.stdout.contains(w.emu.client_secret()), "{shown}");
    assert!(!shown.stderr.contains(w.emu.client_secret()), "{shown}");
    w.assert_no_secret_in_data(&[w.emu.client_secret().to_owned()]);
    common::clear_secret(&format!("client-secret:{}", w.emu.client_id()));
    assert_eq!(
        secret_lookup(&format!("client-secret:{}", w.emu.client_id())),
        None
    );
}

#[test]
fn a_pasted_code_and_a_long_lived_token_connect_too() {
    let w = World::new();
    let code = w.emu.issue_code();
    let r = w.amo(&["connect", "--code", &code, "--account", &w.account()]);
    assert!(r.ok(), "{r}");
    assert_eq!(w.status_json()[0]["kind"], "oauth");
    let again = w.amo(&["connect", "--code", &code, "--account", &w.account()]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already used"), "{again}");
    assert!(w.amo(&["disconnect"]).ok());

    let token = w.emu.issue_long_lived_token(30);
    let r = w.amo_stdin(
        &["connect", "--long-lived-token", "--account", &w.account()],
        &token,
    );
    assert!(r.ok(), "{r}");
    let status = w.status_json();
    assert_eq!(status[0]["kind"], "long_lived");
    assert_eq!(status[0]["state"], "connected");
    assert!(w.amo(&["account"]).ok());
    let refresh = w.amo(&["refresh"]);
    assert_eq!(refresh.code, 1);
    assert!(refresh.stderr.contains("cannot be refreshed"), "{refresh}");
    assert!(w.amo(&["disconnect"]).ok());
    assert!(w.keychain_tokens().is_none());
}

#[test]
fn a_host_outside_amocrm_gets_no_code() {
    let w = World::new();
    let r = w.amo(&[
        "connect",
        "--code",
        "def502001234",
        "--account",
        "evil.example.com",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not an amoCRM or Kommo account"), "{r}");
    assert_eq!(w.emu.stats().token_requests, 0);
}
