//! `amo api` sends the token to the account alone: hostile PATH forms, next links that
//! point elsewhere and redirects reach no other server, and are refused with a clear error.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{Run, World};

/// What the refusal of a PATH says.
const REFUSED: &str = "is not a path there, so nothing was sent";

/// A second server on loopback, on one port at 127.0.0.1 and (where the system has it) ::1,
/// that records every connection it is given. Nothing `amo api` does may ever reach it.
struct Trap {
    port: u16,
    addrs: Vec<SocketAddr>,
    got: Arc<Mutex<Vec<String>>>,
    markers: mpsc::Receiver<u32>,
    next_marker: AtomicU32,
}

impl Trap {
    fn start() -> Trap {
        let v4 = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = v4.local_addr().unwrap().port();
        let mut listeners = vec![v4];
        match TcpListener::bind(("::1", port)) {
            Ok(v6) => listeners.push(v6),
            Err(e) => eprintln!("origin: no ::1 here ({e}); the trap listens on 127.0.0.1 only"),
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let (tx, markers) = mpsc::channel();
        let addrs = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        for listener in listeners {
            let (got, tx) = (got.clone(), tx.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    Trap::take(stream, &got, &tx);
                }
            });
        }
        Trap {
            port,
            addrs,
            got,
            markers,
            next_marker: AtomicU32::new(0),
        }
    }

    /// Reads one request head (or what comes before the client stops sending), records it
    /// and answers 200 `{}`; a marker connection from [`Trap::received`] is only reported.
    fn take(mut stream: TcpStream, got: &Mutex<Vec<String>>, markers: &mpsc::Sender<u32>) {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while head.len() < 16_384 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        if let Some(n) = text
            .strip_prefix("MARKER ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
        {
            let _ = markers.send(n);
            return;
        }
        // The record names what came, never a token that came with it.
        let text: Vec<String> = text
            .lines()
            .map(|l| match l.split_once(':') {
                Some((k, _)) if k.eq_ignore_ascii_case("authorization") => {
                    format!("{k}: [a token, redacted]")
                }
                _ => l.to_owned(),
            })
            .collect();
        got.lock().unwrap().push(format!("from {peer}: {text:?}"));
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
              Connection: close\r\n\r\n{}",
        );
    }

    /// Everything the trap was sent so far. Each listener takes its connections in order, so
    /// once a marker sent now has come through, every earlier connection has been recorded.
    fn received(&self) -> Vec<String> {
        for addr in &self.addrs {
            let n = self.next_marker.fetch_add(1, Ordering::Relaxed);
            let mut s = TcpStream::connect(addr).expect("the trap accepts");
            s.write_all(format!("MARKER {n}\r\n\r\n").as_bytes())
                .unwrap();
            loop {
                let m = self
                    .markers
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the trap reports its marker");
                if m == n {
                    break;
                }
            }
        }
        self.got.lock().unwrap().clone()
    }
}

/// The protocol requests (API calls, token requests) the emulator has had.
fn api_requests(w: &World) -> usize {
    w.emu.requests().len()
}

/// A run that should have been refused before anything was sent, or why it was not.
fn refused(path: &str, r: &Run) -> Option<String> {
    (r.code != 1 || !r.stderr.contains(REFUSED) || !r.stdout.is_empty())
        .then(|| format!("{path:?} was not refused as it should be: {r}"))
}

#[test]
fn hostile_paths_are_refused_and_reach_no_other_server() {
    let w = World::new();
    w.connect();
    let trap = Trap::start();
    let (a, port) = (w.account(), trap.port);
    let t = format!("127.0.0.1:{port}");
    let forms = [
        // Backslashes, which URL parsing reads as slashes.
        format!("\\\\{t}/api/v4/account"),
        format!("/\\{t}/api/v4/account"),
        format!("\\/{t}/api/v4/account"),
        format!("http:\\\\{t}\\api\\v4\\account"),
        format!("http://{a}\\@{t}/api/v4/account"),
        // Tabs and line breaks, which it drops wherever they stand.
        format!("\t//{t}/api/v4/account"),
        format!("/\t/{t}/api/v4/account"),
        format!("/\r\n/{t}/api/v4/account"),
        format!("/\n/{t}/api/v4/account"),
        format!("h\tttp://{t}/api/v4/account"),
        format!("http:/\t/{t}/api/v4/account"),
        format!(" //{t}/api/v4/account"),
        // Scheme-relative.
        format!("//{t}/api/v4/account"),
        format!("///{t}/api/v4/account"),
        // Percent-encoded slashes, backslashes and control characters.
        format!("%2F%2F{t}/api/v4/account"),
        format!("/%2f%2f{t}/api/v4/account"),
        format!("/%09/{t}/api/v4/account"),
        format!("/%5C{t}/api/v4/account"),
        // Another server, however the scheme is spelled.
        format!("http://{t}/api/v4/account"),
        format!("HTTP://{t}/api/v4/account"),
        format!("hTtP://{t}/api/v4/account"),
        format!("https://{t}/api/v4/account"),
        format!("http:{t}/api/v4/account"),
        format!("http:/{t}/api/v4/account"),
        format!("ws://{t}/api/v4/account"),
        // User info: the account in front of another host, or on the account itself.
        format!("http://{a}@{t}/api/v4/account"),
        format!("http://user:password@{t}/api/v4/account"),
        format!("http://user@{a}/api/v4/account"),
        format!("http://{t}#@{a}/api/v4/account"),
        // The same server under other names: IPv6, a trailing dot, numbers, localhost.
        format!("http://[::1]:{port}/api/v4/account"),
        format!("http://[::ffff:127.0.0.1]:{port}/api/v4/account"),
        format!("http://127.0.0.1.:{port}/api/v4/account"),
        format!("http://2130706433:{port}/api/v4/account"),
        format!("http://0x7f.0.0.1:{port}/api/v4/account"),
        format!("http://localhost:{port}/api/v4/account"),
    ];
    let before = api_requests(&w);
    let mut wrong: Vec<String> = forms
        .iter()
        .filter_map(|path| refused(path, &w.amo(&["api", path])))
        .collect();
    if api_requests(&w) != before {
        wrong.push(format!(
            "the account was sent {} requests during these calls",
            api_requests(&w) - before
        ));
    }
    wrong.extend(trap.received());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_refusal_shows_control_characters_escaped() {
    let w = World::new();
    w.connect();
    let r = w.amo(&["api", "/\t/evil.example/\u{1b}[2J"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("/\\u{9}/evil.example/\\u{1b}[2J"), "{r}");
    assert!(
        !r.stderr.trim_end().chars().any(char::is_control),
        "{r:?}",
        r = r.stderr
    );
}

#[test]
fn plain_paths_and_the_accounts_own_address_still_work() {
    let w = World::new();
    w.connect();
    let a = w.account();
    for path in [
        "api/v4/account".to_owned(),
        "/api/v4/account".to_owned(),
        format!("http://{a}/api/v4/account"),
        format!("HTTP://{a}/api/v4/account?with=uuid"),
    ] {
        let r = w.amo(&["api", &path]);
        assert!(r.ok(), "{path}: {r}");
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(v["id"].as_u64().is_some(), "{path}: {v}");
    }
}

#[test]
fn a_next_link_elsewhere_is_refused_and_reaches_no_other_server() {
    let w = World::new();
    w.connect();
    w.emu.set_leads(5);
    let trap = Trap::start();
    let (a, port) = (w.account(), trap.port);
    let t = format!("127.0.0.1:{port}");
    let page = "api/v4/leads?page=2&limit=2";
    let links = [
        format!("http://{t}/{page}"),
        format!("HTTP://{t}/{page}"),
        format!("//{t}/{page}"),
        format!("\\\\{t}/{page}"),
        format!("/\\{t}/{page}"),
        format!("/\t/{t}/{page}"),
        format!("http://{a}@{t}/{page}"),
        format!("http://[::1]:{port}/{page}"),
        format!("http://127.0.0.1.:{port}/{page}"),
    ];
    let mut wrong = Vec::new();
    for link in &links {
        w.emu.set_next_link(Some(link));
        let before = api_requests(&w);
        let r = w.amo(&["api", "api/v4/leads?limit=2", "--paginate"]);
        wrong.extend(refused(link, &r));
        if api_requests(&w) != before + 1 {
            wrong.push(format!(
                "{link:?}: the account had more than the first page"
            ));
        }
    }
    wrong.extend(trap.received());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The account's own next links are still followed.
    w.emu.set_next_link(None);
    let r = w.amo(&["api", "api/v4/leads?limit=2", "--paginate"]);
    assert!(r.ok(), "{r}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["_embedded"]["leads"].as_array().unwrap().len(), 5);
}

#[test]
fn a_redirect_is_not_followed_and_is_reported() {
    let w = World::new();
    w.connect();
    w.emu.set_leads(5);
    let trap = Trap::start();
    let elsewhere = format!("http://127.0.0.1:{}/api/v4/account", trap.port);
    let mut wrong = Vec::new();
    for args in [
        &["api", "api/v4/account"][..],
        &["api", "api/v4/leads?limit=2", "--paginate"][..],
        &["api", "api/v4/contacts", "-X", "POST", "-f", "name=x"][..],
    ] {
        w.emu.redirect_api(&elsewhere, 1);
        let r = w.amo(args);
        if r.code != 1 || !r.stderr.contains("(302)") || !r.stderr.contains("never followed") {
            wrong.push(format!("{args:?}: the redirect was not reported: {r}"));
        }
    }
    wrong.extend(trap.received());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
