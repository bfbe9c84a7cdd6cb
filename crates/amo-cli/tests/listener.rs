//! The loopback listener: it refuses hostile referers, wrong hosts and paths, survives a
//! flood of garbage, and says which address is taken when it cannot listen.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{get_request, raw_request, status_of, World};

#[test]
fn a_hostile_referer_is_refused_and_never_contacted() {
    let w = World::new();
    let hostile = TcpListener::bind("127.0.0.1:0").unwrap();
    let hostile_host = hostile.local_addr().unwrap().to_string();
    let mut c = w.start_connect(&[]);
    let state = c.state();
    let code = w.emu.issue_code();
    for referer in [
        hostile_host.as_str(),
        "evil.example.com",
        "evil.amocrm.ru.example.com",
    ] {
        let target = w.callback_target(&[("code", &code), ("state", &state), ("referer", referer)]);
        let answer = raw_request(w.redirect_addr(), &get_request(&target, &w.redirect_host()))
            .expect("the listener answers");
        assert_eq!(status_of(&answer), 400, "{referer}: {answer}");
        assert!(
            answer.contains("not an amoCRM or Kommo account"),
            "{referer}: the page says it was refused: {answer}"
        );
    }
    assert_eq!(w.emu.stats().token_requests, 0);

    // The state survives the refusals: the real callback still connects.
    let page = w.browse(c.authorize_url.as_str());
    assert_eq!(page.status, 200, "{page:?}");
    let run = c.finish();
    assert!(run.ok(), "{run}");
    assert_eq!(w.emu.stats().token_requests, 1);

    hostile.set_nonblocking(true).unwrap();
    match hostile.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the hostile referer was contacted: {other:?}"),
    }
    let mut secrets = w.keychain_token_values();
    secrets.extend([code, w.emu.client_secret().to_owned()]);
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_wrong_host_header_or_path_is_refused_and_the_flow_continues() {
    let w = World::new();
    let mut c = w.start_connect(&[]);
    let state = c.state();
    let code = w.emu.issue_code();
    let account = w.account();
    let params = [
        ("code", code.as_str()),
        ("state", state.as_str()),
        ("referer", account.as_str()),
    ];
    let target = w.callback_target(&params);
    let addr = w.redirect_addr();

    // A perfectly valid callback behind a foreign Host (DNS rebinding) is refused.
    for host in ["evil.example.com", "localhost.evil.example.com:80", ""] {
        let answer = raw_request(addr, &get_request(&target, host)).expect("an answer");
        assert_eq!(status_of(&answer), 400, "Host {host:?}: {answer}");
    }
    let no_host = format!("GET {target} HTTP/1.1\r\nConnection: close\r\n\r\n");
    let answer = raw_request(addr, no_host.as_bytes()).expect("an answer");
    assert_eq!(status_of(&answer), 400, "no Host: {answer}");

    // Another path is not found, whatever it carries.
    let query = &target[target.find('?').unwrap()..];
    for path in [
        "/",
        "/amocrm/callback/",
        "/amocrm",
        "/favicon.ico",
        "/amocrm/callbackx",
    ] {
        let answer = raw_request(
            addr,
            &get_request(&format!("{path}{query}"), &w.redirect_host()),
        )
        .expect("an answer");
        assert_eq!(status_of(&answer), 404, "{path}: {answer}");
    }
    // And another method is not allowed.
    let post = format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
        w.redirect_host()
    );
    let answer = raw_request(addr, post.as_bytes()).expect("an answer");
    assert_eq!(status_of(&answer), 405, "POST: {answer}");
    assert_eq!(w.emu.stats().token_requests, 0);

    // The code in the refused requests is still unspent, the state still valid.
    let page = w.browse(&w.callback_url(&params));
    assert_eq!(page.status, 200, "{page:?}");
    let run = c.finish();
    assert!(run.ok(), "{run}");
    assert_eq!(w.emu.stats().code_grants, 1);
    let mut secrets = w.keychain_token_values();
    secrets.extend([code, w.emu.client_secret().to_owned()]);
    w.assert_no_secret_in_data(&secrets);
}

/// One malformed request of the flood, by number; the answer does not matter, only that
/// nothing hangs.
fn malformed(addr: SocketAddr, host: &str, i: usize) -> Option<u16> {
    let request: Vec<u8> = match i % 6 {
        0 => (0..512).map(|b| (b * 7 + i) as u8).collect(),
        1 => {
            let mut r = format!("GET /amocrm/callback?state=x HTTP/1.1\r\nHost: {host}\r\nX-Pad: ")
                .into_bytes();
            r.extend(std::iter::repeat_n(b'a', 9 * 1024));
            r.extend_from_slice(b"\r\n\r\n");
            r
        }
        2 => Vec::new(),
        3 => b"HELLO\r\n\r\n".to_vec(),
        4 => format!("GET /amocrm/callback?%%%=%ZZ&state HTTP/1.1\r\nHost: {host}\r\n\r\n")
            .into_bytes(),
        _ => b"GET / HTTP/1.1\r\n".repeat(40),
    };
    raw_request(addr, &request).map(|a| status_of(&a))
}

#[test]
fn a_flood_of_malformed_requests_does_not_stop_the_real_callback() {
    let w = World::new();
    let mut c = w.start_connect(&[]);
    let addr = w.redirect_addr();
    let host = w.redirect_host();
    let started = Instant::now();

    // Connections that never send anything, held open across the real callback: more of
    // them than the listener serves at once (32).
    let idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap())
        .collect();
    // A request dribbled a byte at a time, also across the real callback.
    let stop = Arc::new(AtomicBool::new(false));
    let slow = {
        let stop = stop.clone();
        let head = format!("GET /amocrm/callback?state=slow HTTP/1.1\r\nHost: {host}\r\n");
        std::thread::spawn(move || {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
            s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut sent = 0;
            for b in head.bytes().cycle().take(4096) {
                if stop.load(Ordering::Relaxed) || s.write_all(&[b]).is_err() {
                    break;
                }
                sent += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            sent
        })
    };

    // A thousand malformed requests from eight clients at once.
    let answered: Vec<Vec<Option<u16>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let host = host.clone();
                s.spawn(move || {
                    (0..125)
                        .map(|i| malformed(addr, &host, t * 125 + i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let answered: Vec<Option<u16>> = answered.into_iter().flatten().collect();
    assert_eq!(answered.len(), 1000);
    for (i, answer) in answered.iter().enumerate() {
        match (i % 6, answer) {
            (_, Some(status)) => assert!((400..500).contains(status), "#{i}: {status}"),
            // Past 8 KiB the listener answers 431 and closes on the unread rest, which
            // the kernel may turn into a reset before the answer is read.
            (1, None) => {}
            (_, None) => panic!("#{i} got no answer"),
        }
    }
    let oversized: Vec<_> = answered.iter().skip(1).step_by(6).flatten().collect();
    assert!(!oversized.is_empty(), "no oversized request was answered");
    assert!(oversized.iter().all(|s| **s == 431), "{oversized:?}");
    // A half-closed connection that sent nothing gets an answer too.
    let mut half = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    half.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = half.read_to_string(&mut answer);
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert_eq!(w.emu.stats().token_requests, 0);

    // More idle connections, opened last, fill every slot just before the browser comes.
    let late_idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap())
        .collect();
    let page = w.browse(c.authorize_url.as_str());
    assert_eq!(page.status, 200, "{page:?}");
    let run = c.finish();
    assert!(run.ok(), "{run}");
    stop.store(true, Ordering::Relaxed);
    let dribbled = slow.join().unwrap();
    assert!(dribbled > 0, "the slow request was under way");
    drop((idle, late_idle));
    assert_eq!(w.emu.stats().code_grants, 1);
    eprintln!("flood and connect took {:?}", started.elapsed());
    let mut secrets = w.keychain_token_values();
    secrets.push(w.emu.client_secret().to_owned());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_taken_port_fails_fast_and_names_the_address() {
    let w = World::new();
    let addr = w.redirect_addr();
    let _taken = TcpListener::bind(addr).expect("the test takes the redirect port");
    let started = Instant::now();
    let r = w.amo_env(
        &["connect", "--no-browser", "--timeout", "30"],
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(r.code, 1, "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fails at once, not after the timeout"
    );
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{}", addr.port())),
        "{r}"
    );
    assert!(r.stderr.contains("already taken"), "{r}");
    assert!(
        !r.stdout.contains("/oauth?"),
        "no authorize address is offered: {r}"
    );
    w.assert_no_secret_in_data(&[w.emu.client_secret().to_owned()]);
}
