//! `amo token`: a token the emulator accepts, one refresh for twenty processes at once, exit
//! 1 without a connection and 2 when it must be made again, a long-lived token too short
//! for `--min-valid` said with its expiry, a `--min-valid` no token can meet refused before
//! anything is sent, and every refresh counted by the shared rate limiter.

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
    // The stored pair has ten minutes left: less than the hour every process asks for.
    let w = World::new();
    w.connect();
    common::age_stored_token(&w, Duration::from_secs(600));
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
    // Ten minutes left: asking for an hour forces the refresh amoCRM refuses.
    common::age_stored_token(&w, Duration::from_secs(600));
    let r = w.amo(&["token", "--min-valid", "1h"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stdout.is_empty(), "no token printed: {r}");
    assert!(r.stderr.contains("must be made again"), "{r}");
    assert!(r.stderr.contains("amo connect"), "{r}");
    let run = w.amo(&["run", "--min-valid", "1h", "--", "true"]);
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

#[test]
fn min_valid_longer_than_any_token_lasts_is_refused_before_anything_is_sent() {
    // The emulator issues 11-minute tokens: 2 days, a day or 20 minutes can never hold.
    let w = World::new();
    w.emu.set_access_ttl(660);
    w.connect();
    let before = w.emu.stats();
    for asked in ["2d", "1d", "20m"] {
        let r = w.amo(&["token", "--min-valid", asked]);
        assert_eq!(r.code, 1, "{r}");
        assert!(r.stdout.is_empty(), "{r}");
        assert!(r.stderr.contains("11 minutes"), "the lifetime: {r}");
        assert!(r.stderr.contains("--min-valid"), "what to do: {r}");
        let run = w.amo(&["run", "--min-valid", asked, "--", "true"]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("11 minutes"), "{run}");
    }
    let after = w.emu.stats();
    assert_eq!(
        after.refresh_grants, before.refresh_grants,
        "no refresh was spent"
    );
    assert_eq!(
        after.token_requests, before.token_requests,
        "nothing was sent"
    );

    // What a fresh token does meet is served.
    let r = w.amo(&["token", "--min-valid", "9m"]);
    assert!(r.ok(), "{r}");

    // In Russian too.
    let ru = w.amo_env(
        &["token", "--min-valid", "2d"],
        &[("AMO_LANG", "ru")],
        Duration::from_secs(30),
    );
    assert_eq!(ru.code, 1, "{ru}");
    assert!(ru.stderr.contains("11 минут"), "{ru}");
}

#[test]
fn every_refresh_takes_a_slot_of_the_shared_rate_limiter() {
    let w = World::new();
    w.connect();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let r = w.amo(&["refresh"]);
    assert!(r.ok(), "{r}");
    assert_eq!(w.emu.stats().refresh_grants, 1);
    // Once against the integration's budget and once against the account's.
    let folder = w.home().join("locks").join("rate");
    for kind in ["integration", "account"] {
        let sent: Vec<u64> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(kind))
            .flat_map(|p| {
                std::fs::read_to_string(p)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter_map(|l| l.parse().ok())
            .filter(|t: &u64| *t >= since)
            .collect();
        assert_eq!(sent.len(), 1, "the refresh counted once ({kind}): {sent:?}");
    }
}
