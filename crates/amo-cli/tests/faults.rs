//! amoCRM misbehaving: the token endpoint and the API answer 500, 429, an nginx page,
//! broken JSON or slowly; the stored tokens survive every failure and the user reads one
//! clear line.

mod common;

use amo_emulator::{Fault, FaultKind, FaultTarget};
use common::World;

/// What `amo refresh` must say about each failing answer of the token endpoint.
const TOKEN_FAULTS: &[(FaultKind, &str)] = &[
    (FaultKind::ServerError, "server error (500)"),
    (FaultKind::TooManyRequests, "too many requests (429)"),
    (FaultKind::Html403, "refused access (403)"),
    (FaultKind::Malformed, "not valid JSON"),
];

#[test]
fn a_failing_token_endpoint_leaves_the_tokens_untouched_and_says_what_happened() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let log = w.home().join("activity.log");
    for (kind, says) in TOKEN_FAULTS {
        let item = w.keychain_tokens().unwrap();
        w.emu.set_fault(Fault::new(FaultTarget::Token, *kind));
        let r = w.amo(&["refresh"]);
        assert_eq!(r.code, 1, "{kind:?}: {r}");
        let line = r.stderr.trim_end();
        assert!(!line.contains('\n'), "{kind:?}: one line: {r}");
        assert!(line.starts_with("amo: "), "{kind:?}: {r}");
        assert!(line.contains(says), "{kind:?}: says what happened: {r}");
        assert!(
            line.contains("Log: "),
            "{kind:?}: says where the log is: {r}"
        );
        assert!(
            w.keychain_tokens().as_deref() == Some(item.as_str()),
            "{kind:?}: the keychain item is unchanged"
        );
        let account = w.amo(&["account"]);
        assert!(
            account.ok(),
            "{kind:?}: the stored tokens still work: {account}"
        );
    }
    let stats = w.emu.stats();
    assert_eq!(stats.faults_served, TOKEN_FAULTS.len() as u64);
    assert_eq!(stats.refresh_grants, 0);
    assert_eq!(stats.revoked_refresh_used, 0);
    let status = w.status_json();
    assert_eq!(
        status[0]["state"], "connected",
        "a failed refresh is not fatal"
    );
    assert!(status[0]["last_error"].is_string(), "{status}");

    // The log the message points at exists and tells the story.
    let r = w.amo(&["refresh"]);
    assert!(r.ok(), "the refresh token was never spent: {r}");
    assert!(
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("refresh_failed")),
        "the log at {} records the failures",
        log.display()
    );
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_slow_token_endpoint_within_the_timeout_still_refreshes() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let item = w.keychain_tokens().unwrap();
    w.emu
        .set_fault(Fault::new(FaultTarget::Token, FaultKind::Slow).delay_ms(2_000));
    let started = std::time::Instant::now();
    let r = w.amo(&["refresh"]);
    assert!(r.ok(), "{r}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited"
    );
    assert_eq!(w.emu.stats().faults_served, 1);
    assert_eq!(w.emu.stats().refresh_grants, 1);
    assert_ne!(w.keychain_tokens().unwrap(), item, "the new pair is stored");
    assert!(w.amo(&["account"]).ok());
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn the_api_is_retried_after_a_429_and_a_403_page_says_blocked() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();
    let before = w.emu.stats();

    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::TooManyRequests));
    let r = w.amo(&["account", "--json"]);
    assert!(r.ok(), "backs off and tries again: {r}");
    let after = w.emu.stats();
    assert_eq!(after.account_requests, before.account_requests + 2);
    assert_eq!(after.faults_served, 1);

    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::TooManyRequests).times(3));
    let r = w.amo(&["account"]);
    assert_eq!(r.code, 1, "gives up after three 429s: {r}");
    assert!(r.stderr.contains("too many requests (429)"), "{r}");

    // nginx's HTML 403 for going over is waited out like a 429 …
    let before = w.emu.stats();
    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::Html403));
    let r = w.amo(&["account"]);
    assert!(r.ok(), "backs off after one HTML 403: {r}");
    assert_eq!(w.emu.stats().account_requests, before.account_requests + 2);

    // … and one that persists is reported as a block, the tokens untouched.
    let item = w.keychain_tokens().unwrap();
    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::Html403).times(3));
    let r = w.amo(&["account"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("blocked"), "{r}");
    assert!(!r.stderr.trim_end().contains('\n'), "one line: {r}");
    assert_eq!(w.keychain_tokens().as_deref(), Some(item.as_str()));
    assert_eq!(
        w.emu.stats().refresh_grants,
        0,
        "a 403 is no reason to refresh"
    );

    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::ServerError));
    let r = w.amo(&["account"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("server error (500)"), "{r}");

    assert!(w.amo(&["account"]).ok(), "and then it works again");
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}
