//! The OAuth state: a callback is honoured only with the state of a flow this app started,
//! once, before it expires; everything else is refused before anything reaches amoCRM.

mod common;

use std::time::{Duration, Instant};

use common::{raw_request, status_of, World};

/// The real state with its last character changed: close, but not the one.
fn near_miss(state: &str) -> String {
    let mut s: Vec<char> = state.chars().collect();
    let last = s.last_mut().unwrap();
    *last = if *last == 'A' { 'B' } else { 'A' };
    s.into_iter().collect()
}

/// `amo connect --paste` with the address a browser would end on: a fresh code, `state`
/// and the account as referer. The code, and how `amo` ended.
fn paste_fresh_code(w: &World, state: &str) -> (String, common::Run) {
    let code = w.emu.issue_code();
    let url = w.callback_url(&[("code", &code), ("state", state), ("referer", &w.account())]);
    let r = w.amo(&["connect", "--paste", &url]);
    (code, r)
}

#[test]
fn wrong_and_missing_states_are_refused_on_the_loopback_and_the_real_callback_connects() {
    let w = World::new();
    let mut c = w.start_connect(&[]);
    let state = c.state();
    let code = w.emu.issue_code();
    let account = w.account();
    let addr = w.redirect_addr();
    let host = w.redirect_host();

    let forged = [
        (
            "another state",
            w.callback_target(&[
                ("code", &code),
                ("state", "Zm9yZ2VkLXN0YXRlLWZyb20tYW5vdGhlci1wcm9jZXNzLXgx"),
                ("referer", &account),
            ]),
            "not started by this app",
        ),
        (
            "a near miss",
            w.callback_target(&[
                ("code", &code),
                ("state", &near_miss(&state)),
                ("referer", &account),
            ]),
            "not started by this app",
        ),
        (
            "a widget install with no state",
            w.callback_target(&[("code", &code), ("referer", &account), ("from_widget", "1")]),
            "carries no state",
        ),
        (
            "an empty state",
            w.callback_target(&[("code", &code), ("state", ""), ("referer", &account)]),
            "carries no state",
        ),
    ];
    for (what, target, says) in &forged {
        let answer = raw_request(addr, &common::get_request(target, &host))
            .unwrap_or_else(|| panic!("{what}: the listener answers"));
        assert_eq!(status_of(&answer), 400, "{what}: {answer}");
        assert!(answer.contains(says), "{what}: the page says why: {answer}");
    }
    assert_eq!(
        w.emu.stats().token_requests,
        0,
        "no refused callback reaches the token endpoint"
    );
    let none = w.amo(&["status", "--json"]);
    assert_eq!(none.stdout.trim(), "[]", "no connection appears: {none}");

    // The flow is still waiting: the real browser finishes it.
    let page = w.browse(c.authorize_url.as_str());
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("Connected to"), "{page:?}");
    let run = c.finish();
    assert!(run.ok(), "{run}");
    assert_eq!(w.emu.stats().token_requests, 1);
    assert_eq!(w.emu.stats().code_grants, 1);
    assert_eq!(w.status_json()[0]["state"], "connected");

    let mut secrets = w.keychain_token_values();
    secrets.push(code);
    secrets.push(w.emu.client_secret().to_owned());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_replayed_callback_address_is_refused_after_success() {
    let w = World::new();
    let mut c = w.start_connect(&[]);
    let page = w.browse(c.authorize_url.as_str());
    assert!(c.finish().ok());
    assert!(
        page.url.contains("code=") && page.url.contains("state="),
        "the browser ended on the callback: {page:?}"
    );
    let item = w.keychain_tokens().expect("connected");
    let status = w.amo(&["status", "--json"]).stdout;
    let before = w.emu.stats();

    // The listener has closed: a replay to it finds nobody.
    assert!(
        std::net::TcpStream::connect_timeout(&w.redirect_addr(), Duration::from_secs(2)).is_err(),
        "the listener frees its port when the flow ends"
    );
    // Pasting the address the browser ended on is refused: the state was spent.
    let r = w.amo(&["connect", "--paste", &page.url]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("already been used"), "{r}");
    assert_eq!(
        w.emu.stats().token_requests,
        before.token_requests,
        "the replayed code is never sent"
    );
    assert_eq!(w.keychain_tokens().as_deref(), Some(item.as_str()));
    assert_eq!(w.amo(&["status", "--json"]).stdout, status);

    let code = common::query_param(&url::Url::parse(&page.url).unwrap(), "code").unwrap();
    let mut secrets = w.keychain_token_values();
    secrets.extend([code, w.emu.client_secret().to_owned()]);
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn an_expired_state_is_refused() {
    let w = World::new();
    let started = Instant::now();
    let mut c = w.start_connect(&[("AMO_STATE_TTL_SECS", "1")]);
    let state = c.state();
    let run = c.finish();
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("No answer came from the browser"),
        "{run}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the state's 1 s life ended the wait, not --timeout 30"
    );

    let (code, r) = paste_fresh_code(&w, &state);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("expired"),
        "the message says the link expired: {r}"
    );
    assert_eq!(w.emu.stats().token_requests, 0);
    assert_eq!(w.amo(&["status", "--json"]).stdout.trim(), "[]");
    w.assert_no_secret_in_data(&[code, w.emu.client_secret().to_owned()]);
}

#[test]
fn pasted_addresses_without_a_known_state_are_refused() {
    let w = World::new();
    let code = w.emu.issue_code();
    let account = w.account();
    let cases = [
        (
            w.callback_url(&[("code", &code), ("referer", &account), ("from_widget", "1")]),
            "carries no state",
        ),
        (
            w.callback_url(&[
                ("code", &code),
                ("state", "bm90LWEtc3RhdGUtdGhpcy1hcHAtbWFkZQ"),
                ("referer", &account),
            ]),
            "not started by this app",
        ),
    ];
    for (url, says) in &cases {
        let r = w.amo(&["connect", "--paste", url]);
        assert_eq!(r.code, 1, "{r}");
        assert!(r.stderr.contains(says), "{r}");
    }
    assert_eq!(w.emu.stats().token_requests, 0);
    assert_eq!(w.amo(&["status", "--json"]).stdout.trim(), "[]");
    w.assert_no_secret_in_data(&[code, w.emu.client_secret().to_owned()]);
}

#[test]
fn access_denied_ends_the_flow_spends_the_state_and_keeps_the_connection() {
    let w = World::new();
    let secrets = w.connect_and_collect();
    let item = w.keychain_tokens().expect("connected");
    let status = w.amo(&["status", "--json"]);
    assert!(status.ok(), "{status}");
    let tokens_before = w.emu.stats().token_requests;

    w.emu.set_deny(true);
    let mut c = w.start_connect(&[]);
    let state = c.state();
    let page = w.browse(c.authorize_url.as_str());
    assert_eq!(page.status, 400, "{page:?}");
    assert!(page.body.contains("Access was not granted"), "{page:?}");
    let run = c.finish();
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("Access was not granted") && run.stderr.contains("access_denied"),
        "{run}"
    );
    assert_eq!(w.emu.stats().authorize_denied, 1);

    // The state is spent: a code arriving later with it is refused.
    w.emu.set_deny(false);
    let (code, r) = paste_fresh_code(&w, &state);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("already been used"), "{r}");
    assert_eq!(w.emu.stats().token_requests, tokens_before);

    // The existing connection is untouched.
    assert_eq!(w.keychain_tokens().as_deref(), Some(item.as_str()));
    assert_eq!(w.amo(&["status", "--json"]).stdout, status.stdout);
    let account = w.amo(&["account"]);
    assert!(account.ok(), "{account}");

    let mut secrets = secrets;
    secrets.push(code);
    w.assert_no_secret_in_data(&secrets);
}
