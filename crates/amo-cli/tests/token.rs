//! `amo token`: a token the emulator accepts, one refresh for twenty processes at once, exit
//! 1 without a connection and 2 when it must be made again, and a long-lived token too
//! short for `--min-valid` said with its expiry.

mod common;

use std::time::Duration;

use amo_emulator::Revoke;
use common::{Child, World};

/// The status `GET /api/v4/account` answers with `token` at `base` (`http://127.0.0.1:P`).
fn api_status(w: &World, base: &str, token: &str) -> u16 {
    w.rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/api/v4/account"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn amo_token_prints_a_token_the_emulator_accepts() {
    let w = World::new();
    w.connect();
    let r = w.amo(&["token"]);
    assert!(r.ok(), "{r}");
    let token = r.stdout.trim();
    assert_eq!(r.stdout.lines().count(), 1, "the token alone: {r}");
    assert_eq!(api_status(&w, &w.emu.base_url(), token), 200);

    let j = w.amo(&["token", "--json", "--account", &w.account()]);
    assert!(j.ok(), "{j}");
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["account"], w.account());
    assert_eq!(v["access_token"], token, "no refresh was needed");
    assert_eq!(v["api_base"], format!("{}/api/v4", w.emu.base_url()));
    assert!(v["expires_at"].as_str().is_some(), "{v}");
    assert_eq!(w.emu.stats().refresh_grants, 0);

    let status = w.status_json();
    assert_eq!(
        status[0]["api_base"],
        format!("{}/api/v4", w.emu.base_url())
    );
    assert!(
        !status.to_string().contains(token),
        "status masks the token"
    );
}

#[test]
fn twenty_tokens_at_once_with_an_expiring_token_make_exactly_one_refresh() {
    // The first pair lives ten minutes: less than the hour every process asks for.
    let w = World::new();
    w.emu.set_access_ttl(600);
    w.connect();
    w.emu.set_access_ttl(86_400);
    let children: Vec<Child> = (0..20)
        .map(|_| {
            let mut cmd = w.cmd();
            cmd.args(["token", "--min-valid", "1h"]);
            Child::spawn(cmd)
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let r = c.finish(Duration::from_secs(120));
            assert!(r.ok(), "amo token #{i}: {r}");
            r.stdout.trim().to_owned()
        })
        .collect();
    let stats = w.emu.stats();
    assert_eq!(stats.refresh_grants, 1, "{stats:?}");
    assert_eq!(stats.revoked_refresh_used, 0, "{stats:?}");
    for (i, t) in tokens.iter().enumerate() {
        assert_eq!(api_status(&w, &w.emu.base_url(), t), 200, "token #{i}");
    }
    assert_eq!(w.emu.stats().api_unauthorized, 0);
}

#[test]
fn no_connection_is_exit_1_and_one_to_make_again_is_exit_2() {
    let w = World::new();
    let none = w.amo(&["token"]);
    assert_eq!(none.code, 1, "{none}");
    assert!(none.stdout.is_empty(), "{none}");
    assert!(
        none.stderr.contains("amo connect"),
        "says what to do: {none}"
    );

    w.connect();
    assert!(w.emu.revoke(Revoke::Refresh) >= 1);
    // The stored token lives a day: asking for two forces the refresh amoCRM refuses.
    let r = w.amo(&["token", "--min-valid", "48h"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stdout.is_empty(), "no token printed: {r}");
    assert!(r.stderr.contains("must be made again"), "{r}");
    assert!(r.stderr.contains("amo connect"), "{r}");
    let run = w.amo(&["run", "--min-valid", "48h", "--", "true"]);
    assert_eq!(run.code, 2, "amo run tells the same: {run}");
    assert_eq!(
        w.emu.stats().revoked_refresh_used,
        1,
        "sent once, not again"
    );
}

#[test]
fn a_long_lived_token_shorter_than_min_valid_says_when_it_expires() {
    let w = World::new();
    let token = w.emu.issue_long_lived_token(1);
    let c = w.amo_stdin(
        &["connect", "--long-lived-token", "--account", &w.account()],
        &token,
    );
    assert!(c.ok(), "{c}");
    let ok = w.amo(&["token", "--min-valid", "1h"]);
    assert!(ok.ok(), "{ok}");
    assert_eq!(ok.stdout.trim(), token);
    let short = w.amo(&["token", "--min-valid", "2d"]);
    assert_eq!(short.code, 1, "{short}");
    assert!(short.stdout.is_empty(), "{short}");
    assert!(short.stderr.contains("expires at 20"), "says when: {short}");
    assert!(
        short.stderr.contains("--min-valid"),
        "says what to do: {short}"
    );
    let bad = w.amo(&["token", "--min-valid", "soon"]);
    assert_eq!(bad.code, 1, "{bad}");
}

/// The kernel keyring's copies of `w`'s access token that this process can see
/// (`/proc/keys`), as their payloads: named for its data folder, as the vault names them
/// (other runs' copies of an account on the same port may still be there).
#[cfg(target_os = "linux")]
fn kernel_copies(w: &World) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(w.home().as_os_str().as_encoded_bytes());
    let scope: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let name = format!(" amo-connector:{scope}:{}: ", w.account());
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    keys.lines()
        .filter(|l| l.contains(" user ") && l.contains(&name))
        .filter_map(|l| i32::from_str_radix(l.split_whitespace().next()?, 16).ok())
        .filter_map(|id| {
            let key = linux_keyutils::Key::from_id(linux_keyutils::KeySerialId::new(id));
            key.read_to_vec().ok()
        })
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn the_kernel_copy_answers_without_the_secret_service_and_follows_every_change() {
    let w = World::new();
    w.connect();
    // With the session bus (and so the Secret Service) out of reach, the copy answers.
    let no_bus = |args: &[&str]| {
        let mut cmd = w.cmd();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(args);
        common::Run::from(cmd.output().unwrap())
    };
    let first = no_bus(&["token"]);
    assert!(first.ok(), "{first}");
    let first = first.stdout.trim().to_owned();
    assert_eq!(api_status(&w, &w.emu.base_url(), &first), 200);

    // It holds the access token and never the refresh token, under this folder's name.
    let stored = common::secret_lookup(&format!("tokens:{}", w.account())).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    let copies = kernel_copies(&w);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].contains(&first), "the access token is copied");
    assert!(!copies[0].contains(&refresh), "never the refresh token");

    // A refresh replaces it: the next read without the bus is the new token.
    let r = w.amo(&["refresh"]);
    assert!(r.ok(), "{r}");
    let second = no_bus(&["token"]);
    assert!(second.ok(), "{second}");
    let second = second.stdout.trim().to_owned();
    assert_ne!(second, first, "the refreshed token, not the old copy");
    assert_eq!(api_status(&w, &w.emu.base_url(), &second), 200);

    // Disconnecting removes it: nothing answers without the keychain any more.
    let d = w.amo(&["disconnect", "--account", &w.account()]);
    assert!(d.ok(), "{d}");
    assert!(kernel_copies(&w).is_empty());
    let gone = no_bus(&["token"]);
    assert!(!gone.ok(), "no token after a disconnect: {gone}");
    assert!(gone.stdout.is_empty(), "{gone}");
    let gone = w.amo(&["token"]);
    assert_eq!(gone.code, 1, "{gone}");
}
