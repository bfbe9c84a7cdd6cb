//! The account moved: a renamed account keeps working, through its token's `api_domain`.

mod common;

use common::World;

#[test]
fn a_renamed_account_keeps_working() {
    let w = World::new();
    w.connect();
    let old = w.account();
    let new = w.rt.block_on(w.emu.rename()).unwrap();
    assert_ne!(old, new);

    let r = w.amo(&["account", "--json"]);
    assert!(r.ok(), "{r}");
    let status = w.status_json();
    assert_eq!(status.as_array().unwrap().len(), 1, "{status}");
    assert_eq!(status[0]["account"], new.as_str(), "{status}");
    assert_eq!(status[0]["state"], "connected", "{status}");
    assert_eq!(status[0]["api_base"], format!("http://{new}/api/v4"));
    assert_eq!(status[0]["moved_from"], old.as_str(), "{status}");
    let lookups = w
        .emu
        .requests()
        .into_iter()
        .filter(|q| q.path == "/oauth2/account/current/subdomain")
        .count();
    assert_eq!(lookups, 1);
    let stats = w.emu.stats();
    assert_eq!(stats.revoked_refresh_used, 0, "{stats:?}");
    assert_eq!(stats.refresh_grants, 1, "{stats:?}");

    // Scripts that still name the old host reach the new one.
    let api = w.amo(&["api", "api/v4/account", "--account", &old]);
    assert!(api.ok(), "{api}");
    let token = w.amo(&["token", "--json", "--account", &old]);
    assert!(token.ok(), "{token}");
    let v: serde_json::Value = serde_json::from_str(&token.stdout).unwrap();
    assert_eq!(v["account"], new.as_str());
    assert_eq!(v["api_base"], format!("http://{new}/api/v4"));
    let log = std::fs::read_to_string(w.home().join("activity.log")).unwrap();
    assert!(log.contains("account_moved"), "the move is recorded: {log}");
    assert!(log.contains(&format!("{old} → {new}")), "{log}");
}

#[test]
fn a_renamed_account_is_followed_by_amo_api_too() {
    let w = World::new();
    w.connect();
    let new = w.rt.block_on(w.emu.rename()).unwrap();
    let r = w.amo(&["api", "api/v4/account"]);
    assert!(r.ok(), "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["_links"]["self"]["href"],
        format!("http://{new}/api/v4/account")
    );
    assert_eq!(w.status_json()[0]["account"], new.as_str());
}
