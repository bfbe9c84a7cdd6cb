//! Faults of real desktops: a slow amoCRM, a tab closed mid-exchange, Cancel pressed while
//! the code is exchanged, stale tabs, junk at the callback port, `localhost`, odd terminal
//! input, and processes opening a fresh data folder at once.

mod common;

use std::time::Duration;

use common::*;

/// The callback address the emulator sends the browser to for `authorize_url`, without
/// following it: what a browser tab holds after the user allowed access.
fn callback_of(w: &World, authorize_url: &url::Url) -> String {
    w.rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = client.get(authorize_url.as_str()).send().await.unwrap();
        resp.headers()["location"].to_str().unwrap().to_owned()
    })
}

fn log_text(w: &World) -> String {
    let dir = w.home();
    ["activity.log.1", "activity.log"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default())
        .collect()
}

#[test]
fn a_tab_from_a_timed_out_flow_cannot_complete_a_later_one() {
    let w = World::new();
    let run = w.amo_env(
        &["connect", "--no-browser", "--timeout", "1"],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("No answer came"), "{run}");
    let old = url::Url::parse(run.stdout.lines().next().unwrap()).unwrap();
    let stale = callback_of(&w, &old);

    let mut now = w.start_connect(&[]);
    let page = w.browse(&stale);
    assert_eq!(page.status, 400, "{page:?}");
    let page = w.browse(now.authorize_url.as_str());
    assert_eq!(page.status, 200, "{page:?}");
    assert!(now.finish().ok());
}

#[test]
fn the_exchange_uses_the_redirect_uri_the_flow_started_with() {
    let w = World::new();
    let c = w.start_connect(&[]);
    let callback = callback_of(&w, &c.authorize_url);
    // The settings changed since the flow started; amoCRM knows the old address only.
    let other = format!("http://127.0.0.1:{}/amocrm/callback", free_port());
    let run = w.amo_env(
        &["connect", "--paste", &callback],
        &[("AMO_REDIRECT_URI", &other)],
        Duration::from_secs(30),
    );
    assert!(run.ok(), "{run}");
    assert_eq!(w.emu.stats().code_grants, 1);
}

#[test]
fn a_callback_from_another_integration_is_refused() {
    let w = World::new();
    let mut c = w.start_connect(&[]);
    let mut callback = url::Url::parse(&callback_of(&w, &c.authorize_url)).unwrap();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .filter(|(k, _)| k != "client_id")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    callback
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("client_id", "another-integration");
    let page = w.browse(callback.as_str());
    assert_eq!(page.status, 400);
    let run = c.finish();
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("another integration"), "{run}");
    assert_eq!(w.emu.stats().token_requests, 0);
}

#[test]
fn junk_callbacks_do_not_crowd_out_the_flow() {
    let w = World::new();
    let mut c = w.start_connect(&[]);
    let junk_host = format!("{}.amocrm.ru", "x".repeat(7 * 1024));
    let addr = w.redirect_addr();
    std::thread::scope(|s| {
        for t in 0..10 {
            let (junk_host, w) = (&junk_host, &w);
            s.spawn(move || {
                for i in 0..30 {
                    let state = format!("junk{t}x{i}");
                    let target = w.callback_target(&[
                        ("code", "def502junk"),
                        ("state", &state),
                        ("referer", junk_host),
                    ]);
                    let answer = raw_request(addr, &get_request(&target, &w.redirect_host()));
                    assert_eq!(status_of(&answer.expect("an answer")), 400);
                }
            });
        }
    });
    let page = w.browse(c.authorize_url.as_str());
    assert_eq!(page.status, 200, "{page:?}");
    assert!(c.finish().ok());
    let size: usize = w.data_files().iter().map(|(_, b)| b.len()).sum();
    assert!(size < 3 * 1024 * 1024, "the data folder holds {size} bytes");
    let log = log_text(&w);
    assert!(!log.contains(&"x".repeat(100)), "junk kept in the log");
    // The flow's own history is still there, and the junk is counted, not listed.
    for step in [
        "\"state_created\"",
        "\"connected\"",
        "\"callbacks_refused\"",
    ] {
        assert!(log.contains(step), "{step} missing from the log");
    }
    assert!(
        log.contains("\"detail\":\"300\""),
        "the refusals are not counted"
    );
}

#[test]
fn localhost_listens_on_both_loopback_addresses() {
    let port = free_port();
    let uri = format!("http://localhost:{port}/amocrm/callback");
    let mut w = World::with(|c| c.with_redirect_uri(&uri));
    w.redirect_uri = uri;
    let mut c = w.start_connect(&[]);
    let host = format!("localhost:{port}");
    let v4: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let v6: std::net::SocketAddr = format!("[::1]:{port}").parse().unwrap();
    let stray = get_request("/amocrm/callback?state=stray", &host);
    assert_eq!(status_of(&raw_request(v4, &stray).expect("127.0.0.1")), 400);
    let callback = url::Url::parse(&callback_of(&w, &c.authorize_url)).unwrap();
    let target = &callback[url::Position::BeforePath..];
    let answer = raw_request(v6, &get_request(target, &host)).expect("::1 answers");
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(c.finish().ok());
}

#[test]
fn amocrm_words_reach_the_terminal_with_control_characters_escaped() {
    let w = World::with(|mut c| {
        c.account_name = "Acme\u{1b}]0;owned\u{7}\u{1b}[2J".into();
        c
    });
    let run = w.connect();
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{run}"
    );
    assert!(run.stdout.contains("Acme\\u{1b}]0;owned"), "{run}");
    let run = w.amo(&["account"]);
    assert!(run.ok() && !run.stdout.contains('\u{1b}'), "{run}");
}

#[test]
fn a_pasted_address_and_code_can_come_from_standard_input() {
    let w = World::new();
    let c = w.start_connect(&[]);
    let callback = callback_of(&w, &c.authorize_url);
    let run = w.amo_stdin(&["connect", "--paste", "-"], &format!("{callback}\n"));
    assert!(run.ok(), "{run}");
    let run = w.amo_stdin(
        &["connect", "--code", "-", "--account", &w.account()],
        &w.emu.issue_code(),
    );
    assert!(run.ok(), "{run}");
    assert_eq!(w.emu.stats().code_grants, 2);
}

#[test]
fn processes_opening_a_fresh_data_folder_at_once_all_succeed() {
    let w = World::new();
    for round in 0..6 {
        let home = w.work.path().join(format!("fresh{round}"));
        let children: Vec<_> = (0..6)
            .map(|_| {
                let mut cmd = w.cmd();
                cmd.env("AMO_CONNECTOR_HOME", &home)
                    .args(["config", "show"]);
                Child::spawn(cmd)
            })
            .collect();
        for mut child in children {
            let run = child.finish(Duration::from_secs(30));
            assert!(run.ok(), "round {round}: {run}");
        }
    }
}

/// What Linux alone can show: Ctrl-C arrives as SIGINT, the browser is a shell script, and a
/// reset connection's request is still read (Windows discards it).
#[cfg(target_os = "linux")]
mod linux_only {
    use std::io::Write;
    use std::time::{Duration, Instant};

    use amo_emulator::{Fault, FaultKind, FaultTarget};

    use super::callback_of;
    use super::common::*;

    /// Waits until the emulator has received `n` token requests (at most 20 s).
    fn await_token_requests(w: &World, n: u64) {
        let until = Instant::now() + Duration::from_secs(20);
        while w.emu.stats().token_requests < n {
            assert!(
                Instant::now() < until,
                "no token request reached the emulator"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // Linux only: the browser script plays the user (Windows has no shell to write one in).
    #[test]
    fn a_slow_token_endpoint_still_connects_promptly() {
        let w = World::new();
        w.emu
            .set_fault(Fault::new(FaultTarget::Token, FaultKind::Slow).delay_ms(12_000));
        let started = Instant::now();
        let run = w.amo_env(
            &["connect", "--timeout", "120"],
            &[],
            Duration::from_secs(60),
        );
        let took = started.elapsed();
        assert!(run.ok(), "{run}");
        assert!(took < Duration::from_secs(25), "connect took {took:?}");
        assert!(w.keychain_tokens().is_some());
    }

    // Linux only: Windows discards what a reset connection brought before it was read, so
    // the request of a tab closed this abruptly never reaches any listener there.
    #[test]
    fn a_tab_closed_during_the_exchange_still_connects() {
        let w = World::new();
        w.emu
            .set_fault(Fault::new(FaultTarget::Token, FaultKind::Slow).delay_ms(3_000));
        let mut c = w.start_connect(&[]);
        let callback = url::Url::parse(&callback_of(&w, &c.authorize_url)).unwrap();
        let target = &callback[url::Position::BeforePath..];
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.connect(&w.redirect_addr().into()).unwrap();
        let mut stream: std::net::TcpStream = socket.into();
        stream
            .write_all(&get_request(target, &w.redirect_host()))
            .unwrap();
        // The tab is closed at once: the connection is reset, not closed.
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
        let run = c.finish();
        assert!(run.ok(), "{run}");
        assert_eq!(w.emu.stats().code_grants, 1);
        assert!(w.keychain_tokens().is_some());
    }

    // Linux only: Ctrl-C is sent as SIGINT.
    #[test]
    fn cancel_during_the_exchange_reports_the_connection_it_made() {
        let w = World::new();
        w.emu
            .set_fault(Fault::new(FaultTarget::Token, FaultKind::Slow).delay_ms(3_000));
        let mut c = w.start_connect(&[]);
        let url = c.authorize_url.to_string();
        let browser = std::thread::scope(|s| {
            let tab = s.spawn(|| w.browse(&url));
            await_token_requests(&w, 1);
            c.child.interrupt();
            tab.join().unwrap()
        });
        let run = c.finish();
        assert!(run.ok(), "cancelled while tokens were stored: {run}");
        assert!(run.stdout.contains("Connected"), "{run}");
        assert!(run.stderr.contains("under way finishes"), "{run}");
        assert_eq!(browser.status, 200, "{browser:?}");
        assert!(w.keychain_tokens().is_some());
    }

    // Linux only: Ctrl-C is sent as SIGINT.
    #[test]
    fn cancel_with_no_exchange_under_way_cancels() {
        let w = World::new();
        let mut c = w.start_connect(&[]);
        c.child.interrupt();
        let run = c.finish();
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("cancelled"), "{run}");
    }

    // Linux only: Ctrl-C is sent as SIGINT.
    #[test]
    fn a_tab_from_a_cancelled_flow_cannot_complete_a_later_one() {
        let w = World::new();
        let mut old = w.start_connect(&[]);
        let stale = callback_of(&w, &old.authorize_url);
        old.child.interrupt();
        assert_eq!(old.finish().code, 1);

        let mut now = w.start_connect(&[]);
        let page = w.browse(&stale);
        assert_eq!(page.status, 400, "{page:?}");
        assert!(page.body.contains("earlier sign-in"), "{}", page.body);
        let pasted = w.amo(&["connect", "--paste", &stale]);
        assert_eq!(pasted.code, 1, "{pasted}");
        assert!(pasted.stderr.contains("already been used"), "{pasted}");
        // The later flow still waits, and its own tab completes it.
        let page = w.browse(now.authorize_url.as_str());
        assert_eq!(page.status, 200, "{page:?}");
        assert!(now.finish().ok());
        assert_eq!(w.emu.stats().code_grants, 1);
    }
}
