//! Several integrations: each connection keeps the integration that issued its tokens and is
//! refreshed with it, `amo integrations` lists them with their connections, and
//! `amo connect --integration` refuses one never added, naming those that were.

mod common;

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use common::{Run, World};

/// A second emulator: another integration (its own client ID), with the same secret as the
/// world's so that one `AMO_CLIENT_SECRET` serves both, and the same redirect URI.
fn second_integration(w: &World) -> EmulatorHandle {
    w.rt.block_on(Emulator::start({
        let mut c = EmulatorConfig::new()
            .auto_approve()
            .with_redirect_uri(&w.redirect_uri);
        c.client_secret = w.emu.client_secret().to_owned();
        c
    }))
    .expect("the second emulator starts")
}

/// `amo ARGS` against `emu`, as its integration (`client_id`).
fn amo_at(w: &World, emu: &EmulatorHandle, client_id: &str, args: &[&str]) -> Run {
    Run::from(
        w.cmd()
            .env("AMO_BASE_URL", emu.base_url())
            .env("AMO_CLIENT_ID", client_id)
            .args(args)
            .output()
            .expect("amo runs"),
    )
}

fn listed(w: &World) -> Vec<(String, u64)> {
    let r = w.amo(&["integrations", "--json"]);
    assert!(r.ok(), "{r}");
    let all: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("a JSON list");
    let mut ids: Vec<(String, u64)> = all
        .iter()
        .map(|i| {
            (
                i["client_id"].as_str().unwrap().to_owned(),
                i["connections"].as_u64().unwrap(),
            )
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn each_connection_is_refreshed_with_the_integration_that_issued_its_tokens() {
    let w = World::new();
    w.connect();
    let other = second_integration(&w);
    let code = other.issue_code();
    let r = amo_at(
        &w,
        &other,
        other.client_id(),
        &[
            "connect",
            "--code",
            &code,
            "--account",
            &other.account_host(),
        ],
    );
    assert!(r.ok(), "{r}");

    let mut expected = vec![
        (w.emu.client_id().to_owned(), 1),
        (other.client_id().to_owned(), 1),
    ];
    expected.sort();
    assert_eq!(listed(&w), expected);
    // With the other integration in force, the world's account is still refreshed with its
    // own: its emulator refuses any other client ID.
    let r = amo_at(
        &w,
        &w.emu,
        other.client_id(),
        &["refresh", "--account", &w.account()],
    );
    assert!(r.ok(), "{r}");
    assert_eq!(w.emu.stats().refresh_grants, 1);
    let r = amo_at(
        &w,
        &other,
        w.emu.client_id(),
        &["refresh", "--account", &other.account_host()],
    );
    assert!(r.ok(), "{r}");
    assert_eq!(other.stats().refresh_grants, 1);

    let table = w.amo(&["integrations"]);
    assert!(table.ok(), "{table}");
    assert_eq!(
        table.stdout.lines().count(),
        3,
        "a header and one line each: {table}"
    );
    assert!(table.stdout.contains(other.client_id()), "{table}");
}

#[test]
fn connect_with_an_integration_never_added_names_those_that_were() {
    let w = World::new();
    w.connect();
    let code = w.emu.issue_code();
    let r = w.amo(&[
        "connect",
        "--integration",
        "no-such-integration",
        "--code",
        &code,
        "--account",
        &w.account(),
    ]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("no-such-integration"), "{r}");
    assert!(
        r.stderr.contains(w.emu.client_id()),
        "names the added one: {r}"
    );
    assert!(
        r.stderr.contains("amo config set client_id"),
        "says what to do: {r}"
    );
    assert_eq!(
        w.emu.stats().code_grants,
        1,
        "nothing was sent: only the first connect"
    );

    let again = w.amo(&[
        "connect",
        "--integration",
        w.emu.client_id(),
        "--code",
        &code,
        "--account",
        &w.account(),
    ]);
    assert!(again.ok(), "an added integration is chosen: {again}");
}
