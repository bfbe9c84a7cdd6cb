//! Refresh: one refresh at a time across processes, a revoked refresh token that is never
//! sent twice, a 401 that refreshes once, a refresh before a call when the token expires, and
//! answers that lack a field.

mod common;

use std::time::Duration;

use amo_emulator::{EmulatorConfig, Fault, FaultKind, FaultTarget, Revoke};
use common::{Child, World};

#[test]
fn twenty_refreshes_at_once_all_succeed_and_never_reuse_a_spent_token() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let children: Vec<Child> = (0..20)
        .map(|_| {
            let mut cmd = w.cmd();
            cmd.arg("refresh");
            Child::spawn(cmd)
        })
        .collect();
    for (i, mut child) in children.into_iter().enumerate() {
        let r = child.finish(Duration::from_secs(120));
        assert!(r.ok(), "refresh #{i}: {r}");
    }
    let stats = w.emu.stats();
    assert_eq!(stats.revoked_refresh_used, 0, "{stats:?}");
    assert!((1..=20).contains(&stats.refresh_grants), "{stats:?}");
    assert_eq!(stats.token_errors, 0, "{stats:?}");

    // The keychain holds the newest pair: its access token works without a refresh, and
    // its refresh token is the live one.
    let item = w.keychain_tokens().unwrap();
    secrets.extend(w.keychain_token_values());
    let account = w.amo(&["account"]);
    assert!(account.ok(), "{account}");
    let after = w.emu.stats();
    assert_eq!(
        after.api_unauthorized, 0,
        "the stored access token is accepted"
    );
    assert_eq!(
        after.refresh_grants, stats.refresh_grants,
        "no refresh was needed"
    );
    assert_eq!(w.keychain_tokens().as_deref(), Some(item.as_str()));
    let again = w.amo(&["refresh"]);
    assert!(again.ok(), "{again}");
    assert_eq!(w.emu.stats().revoked_refresh_used, 0);
    assert_eq!(w.emu.stats().refresh_grants, stats.refresh_grants + 1);
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_revoked_refresh_token_asks_for_a_new_connection_and_is_not_sent_again() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let item = w.keychain_tokens().unwrap();
    assert!(w.emu.revoke(Revoke::Refresh) >= 1);

    let r = w.amo(&["refresh"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("must be made again"), "{r}");
    assert!(
        r.stderr.contains("Token has been revoked"),
        "amoCRM's words: {r}"
    );
    assert_eq!(w.emu.stats().revoked_refresh_used, 1);

    let status = w.amo(&["status", "--json"]);
    assert_eq!(status.code, 1, "no usable connection: {status}");
    let rows: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(rows[0]["state"], "reconnect_needed", "{status}");
    assert_eq!(rows[0]["usable"], false);
    assert!(
        rows[0]["reconnect_reason"]
            .as_str()
            .is_some_and(|s| s.contains("Token has been revoked")),
        "{status}"
    );
    assert_eq!(
        w.keychain_tokens().as_deref(),
        Some(item.as_str()),
        "nothing is deleted"
    );

    let tokens = w.emu.stats().token_requests;
    let second = w.amo(&["refresh"]);
    assert_eq!(second.code, 1, "{second}");
    assert!(second.stderr.contains("must be made again"), "{second}");
    let stats = w.emu.stats();
    assert_eq!(
        stats.revoked_refresh_used, 1,
        "the dead token is not sent again"
    );
    assert_eq!(stats.token_requests, tokens);
    let account = w.amo(&["account"]);
    assert!(account.ok(), "the access token still works: {account}");
    assert_eq!(w.emu.stats().token_requests, tokens);

    // Connecting again clears it.
    secrets.extend(w.connect_and_collect());
    assert_eq!(w.status_json()[0]["state"], "connected");
    assert!(w.amo(&["refresh"]).ok());
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_rejected_access_token_is_refreshed_once_and_the_call_succeeds() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let before = w.emu.stats();
    assert!(w.emu.revoke(Revoke::Access) >= 1);

    let r = w.amo(&["account", "--json"]);
    assert!(r.ok(), "{r}");
    let info: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(info["name"], "Emulated account");
    let after = w.emu.stats();
    assert_eq!(after.refresh_grants, before.refresh_grants + 1);
    assert_eq!(after.api_unauthorized, before.api_unauthorized + 1);
    assert_eq!(after.account_requests, before.account_requests + 2);
    assert_eq!(after.revoked_refresh_used, 0);
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn an_access_token_expiring_within_the_margin_is_refreshed_before_the_call() {
    let w = World::with(|c| EmulatorConfig {
        access_ttl_secs: 300,
        ..c
    });
    let mut secrets = w.connect_and_collect();
    assert_eq!(w.status_json()[0]["state"], "expires_soon");
    let before = w.emu.stats();

    let r = w.amo(&["account"]);
    assert!(r.ok(), "{r}");
    let after = w.emu.stats();
    assert_eq!(after.refresh_grants, before.refresh_grants + 1);
    assert_eq!(after.account_requests, before.account_requests + 1);
    assert_eq!(
        after.api_unauthorized, 0,
        "the refresh came before the call"
    );
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_refresh_answer_without_a_refresh_token_keeps_the_stored_pair_and_names_the_field() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let item = w.keychain_tokens().unwrap();
    w.emu
        .set_fault(Fault::new(FaultTarget::Token, FaultKind::NoRefreshToken));

    let r = w.amo(&["refresh"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("without refresh_token") && r.stderr.contains("kept"),
        "names the missing field: {r}"
    );
    assert_eq!(w.emu.stats().refresh_grants, 1, "amoCRM did answer");
    assert_eq!(
        w.keychain_tokens().as_deref(),
        Some(item.as_str()),
        "the keychain item is unchanged"
    );
    let row = &w.status_json()[0];
    assert_eq!(row["state"], "connected", "{row}");
    assert_eq!(row["usable"], true);
    assert!(
        row["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("refresh_token")),
        "{row}"
    );

    // The stored access token still works, with no refresh on the way.
    let before = w.emu.stats();
    let account = w.amo(&["account"]);
    assert!(account.ok(), "{account}");
    let after = w.emu.stats();
    assert_eq!(after.token_requests, before.token_requests);
    assert_eq!(after.api_unauthorized, 0);
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_refresh_answer_without_expires_in_keeps_the_new_pair_and_says_so() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let item = w.keychain_tokens().unwrap();
    // Ten days ahead on amoCRM's clock: an expiry read from the new access token's own
    // `exp` is eleven days off, one guessed from a usual lifetime would be one.
    w.emu.advance_clock(10 * 86_400);
    w.emu
        .set_fault(Fault::new(FaultTarget::Token, FaultKind::NoExpiresIn));

    let r = w.amo(&["refresh"]);
    assert!(r.ok(), "{r}");
    assert_ne!(
        w.keychain_tokens().unwrap(),
        item,
        "the rotated pair is kept"
    );
    let row = &w.status_json()[0];
    let expires = row["expires_at"].as_str().expect("an expiry is known");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    let ahead = expires.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        (ahead - chrono::Duration::days(11)).num_seconds().abs() < 60,
        "read from the token: {ahead}"
    );
    let log = std::fs::read_to_string(w.home().join("activity.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("token_answer_incomplete") && l.contains("expires_in")),
        "the log says what was missing"
    );

    // The kept refresh token is the live one.
    secrets.extend(w.keychain_token_values());
    let again = w.amo(&["refresh"]);
    assert!(again.ok(), "{again}");
    assert_eq!(w.emu.stats().revoked_refresh_used, 0);
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}
