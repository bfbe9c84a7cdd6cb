//! `amo proxy` and `amo run --proxy`: a local client calls the account through the proxy with
//! a key of its own. It never sees a 401 while short-lived tokens come and go, twenty of them
//! at once stay under amoCRM's 7 a second, requests the proxy refuses reach nothing, `next`
//! links keep the client on the proxy, and a command run with `--proxy` never sees the token.

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{raw_request, status_of, Child, World};

/// A running `amo proxy --json`: its address and key, read from its first line.
struct Proxy {
    child: Child,
    url: String,
    key: String,
}

impl Proxy {
    fn start(w: &World, args: &[&str]) -> Proxy {
        let mut cmd = w.cmd();
        cmd.args(["proxy", "--json"]).args(args);
        let mut child = Child::spawn(cmd);
        let line = child.next_line(Duration::from_secs(60));
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the first line is {{url, key}} ({e}): {line}"));
        let (url, key) = (v["url"].as_str().unwrap(), v["key"].as_str().unwrap());
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        assert!(key.len() >= 43, "at least 256 bits in base64url: {line}");
        Proxy {
            url: url.to_owned(),
            key: key.to_owned(),
            child,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }

    /// The `Host` a client of this proxy sends.
    fn host(&self) -> String {
        self.addr().to_string()
    }

    /// Ctrl+C: the proxy stops cleanly, exit 0.
    fn stop(self) {
        self.stop_with("INT");
    }

    /// `kill -NAME`: the proxy stops cleanly, exit 0. On Windows, where no console event
    /// can be sent from here, it is ended instead.
    fn stop_with(self, name: &str) {
        #[cfg(target_os = "linux")]
        {
            let mut child = self.child;
            common::signal(child.pid(), name);
            let r = child.finish(Duration::from_secs(20));
            assert!(r.ok(), "amo proxy stops with 0 on SIG{name}: {r}");
        }
        #[cfg(not(target_os = "linux"))]
        {
            drop(self.child);
            let _ = name;
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// GET `url` with `key`: the status and the body.
async fn get(client: &reqwest::Client, url: &str, key: &str) -> (u16, String) {
    let resp = client.get(url).bearer_auth(key).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// The largest number of `times` (ms) in any window of a second.
fn busiest_second(mut times: Vec<u64>) -> usize {
    times.sort_unstable();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t < times[i] + 1_000)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn three_minutes_of_calls_with_sixty_second_tokens_show_the_client_no_401() {
    let w = World::new();
    w.emu.set_access_ttl(60);
    w.connect();
    let p = Proxy::start(&w, &[]);
    let url = format!("{}/api/v4/account", p.url);
    let started = Instant::now();
    let statuses: Vec<u16> = w.rt.block_on(async {
        let client = client();
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (client, url, key) = (client.clone(), url.clone(), p.key.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while started.elapsed() < Duration::from_secs(182) {
                        seen.push(get(&client, &url, &key).await.0);
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                    seen
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        all
    });
    p.stop();
    let not_ok: Vec<&u16> = statuses.iter().filter(|s| **s != 200).collect();
    assert!(statuses.len() > 450, "{} calls", statuses.len());
    assert!(not_ok.is_empty(), "every call answered 200: {not_ok:?}");
    let stats = w.emu.stats();
    assert_eq!(stats.revoked_refresh_used, 0, "{stats:?}");
    assert_eq!(stats.token_errors, 0, "{stats:?}");
    // One refresh at a time for all three clients: about one per 45 s of the run (a token
    // lasts 60 s and is renewed with a quarter of it left), never two together.
    let refreshes: Vec<u64> = w
        .emu
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/oauth2/access_token"))
        .map(|r| r.at_ms)
        .skip(1)
        .collect();
    assert!(
        (3..=6).contains(&refreshes.len()),
        "refreshes: {refreshes:?} ({stats:?})"
    );
    for pair in refreshes.windows(2) {
        assert!(
            pair[1] - pair[0] > 30_000,
            "refreshes bunched: {refreshes:?}"
        );
    }
    assert_eq!(stats.refresh_grants as usize, refreshes.len(), "{stats:?}");
}

#[test]
fn twenty_clients_at_once_and_amo_api_beside_them_stay_under_seven_a_second_without_a_429() {
    let w = World::with(|c| c.rate_limits(true));
    w.connect();
    w.emu.set_leads(40);
    let p = Proxy::start(&w, &[]);
    let since = w.emu.requests().len();
    // Eight pages of five leads, through the same limiter as the proxy, from another process.
    let mut paging = w.cmd();
    paging.args(["api", "--paginate", "api/v4/leads?limit=5"]);
    let paging = std::thread::spawn(move || paging.output().unwrap());
    let url = format!("{}/api/v4/account", p.url);
    let statuses: Vec<u16> = w.rt.block_on(async {
        let client = client();
        let workers: Vec<_> = (0..20)
            .map(|_| {
                let (client, url, key) = (client.clone(), url.clone(), p.key.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    for _ in 0..5 {
                        seen.push(get(&client, &url, &key).await.0);
                    }
                    seen
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        all
    });
    let paged = paging.join().unwrap();
    p.stop();
    assert_eq!(statuses.len(), 100);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let out = String::from_utf8_lossy(&paged.stdout);
    assert!(
        paged.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&paged.stderr)
    );
    assert_eq!(out.matches("\"id\"").count(), 40, "every lead once: {out}");
    let summary = w.emu.rate_summary();
    assert_eq!(summary.too_many_requests, 0, "{summary:?}");
    assert!(summary.max_per_integration <= 7, "{summary:?}");
    let times: Vec<u64> = w.emu.requests()[since..]
        .iter()
        .filter(|r| r.counted())
        .map(|r| r.at_ms)
        .collect();
    assert_eq!(times.len(), 108, "each call sent once: 100 and 8 pages");
    let busiest = busiest_second(times);
    assert!(busiest <= 7, "{busiest} requests in one second");
}

/// A loopback listener that only counts the connections it is given.
struct Trap {
    addr: SocketAddr,
    count: Arc<AtomicUsize>,
}

impl Trap {
    fn start() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Trap { addr, count }
    }

    /// Connections so far: a marker connection of its own is taken after every earlier one.
    fn connections(&self) -> usize {
        let before = self.count.load(Ordering::SeqCst);
        let _marker = std::net::TcpStream::connect(self.addr).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.count.load(Ordering::SeqCst) == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.count.load(Ordering::SeqCst) - 1
    }
}

#[test]
fn refused_requests_and_hostile_targets_reach_nothing() {
    let w = World::new();
    w.connect();
    let p = Proxy::start(&w, &["--read-only"]);
    let trap = Trap::start();
    let (host, key, t) = (p.host(), p.key.clone(), trap.addr.to_string());
    let ask = |line: &str, headers: &[(&str, &str)]| {
        let mut req = format!("{line}\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("Connection: close\r\n\r\n");
        let answer = raw_request(p.addr(), req.as_bytes()).expect("the proxy answers");
        (status_of(&answer), answer)
    };
    let bearer = format!("Bearer {key}");
    // Names DNS could point at 127.0.0.1, with the proxy's own port.
    let port = p.addr().port();
    let (rebound, sub) = (
        format!("rebind.example:{port}"),
        format!("localhost.evil:{port}"),
    );
    let ok = [("Host", host.as_str()), ("Authorization", bearer.as_str())];
    // The proxy works: this one reaches the emulator.
    assert_eq!(ask("GET /api/v4/account HTTP/1.1", &ok).0, 200);
    let before = w.emu.requests().len();

    // What is sent, with which headers, and the status that refuses it.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);
    let refusals: Vec<Case> = vec![
        ("no key", vec![("Host", &host)], 401),
        (
            "wrong key",
            vec![("Host", &host), ("Authorization", "Bearer x")],
            401,
        ),
        ("foreign Host", vec![("Host", "evil.example"), ok[1]], 400),
        ("rebound Host", vec![("Host", &rebound), ok[1]], 400),
        ("a subdomain", vec![("Host", &sub), ok[1]], 400),
        ("another port", vec![("Host", "127.0.0.1:1"), ok[1]], 400),
        ("trap's Host", vec![("Host", &t), ok[1]], 400),
        (
            "Origin",
            vec![ok[0], ok[1], ("Origin", "http://evil.example")],
            403,
        ),
    ];
    for (what, headers, status) in &refusals {
        let (got, answer) = ask("GET /api/v4/account HTTP/1.1", headers);
        assert_eq!(got, *status, "{what}: {answer}");
        assert!(
            answer.contains("application/problem+json"),
            "{what}: {answer}"
        );
        assert!(!answer.contains(&key), "{what}: the key is never echoed");
    }
    let (got, answer) = ask(
        "POST /api/v4/leads HTTP/1.1",
        &[ok[0], ok[1], ("Content-Length", "2")],
    );
    assert_eq!(got, 405, "read-only POST: {answer}");
    let big = (11 * 1024 * 1024).to_string();
    let (got, answer) = ask(
        "GET /api/v4/account HTTP/1.1",
        &[ok[0], ok[1], ("Content-Length", &big)],
    );
    assert_eq!(got, 413, "a body past 10 MiB: {answer}");
    let long = "x".repeat(9 * 1024);
    let (got, answer) = ask(
        "GET /api/v4/account HTTP/1.1",
        &[ok[0], ok[1], ("X-Long", &long)],
    );
    assert_eq!(got, 431, "a head past 8 KiB: {answer:.300}");

    let hostile = [
        format!("GET http://{t}/api/v4/account HTTP/1.1"),
        format!("GET http://{host}@{t}/api/v4/account HTTP/1.1"),
        format!("GET //{t}/api/v4/account HTTP/1.1"),
        format!("GET ///{t}/api/v4/account HTTP/1.1"),
        format!("GET \\\\{t}/api/v4/account HTTP/1.1"),
        format!("GET /\\{t}/api/v4/account HTTP/1.1"),
        format!("GET /%5c{t}/api/v4/account HTTP/1.1"),
        format!("GET /%2f%2f{t}/api/v4/account HTTP/1.1"),
        format!("GET /api/v4/../../{t}/x HTTP/1.1"),
        format!("GET /api/v4/%2e%2e/%2E%2e/{t}/x HTTP/1.1"),
        String::from("GET /api/v4/.%2e/x HTTP/1.1"),
        format!("CONNECT {t} HTTP/1.1"),
        String::from("OPTIONS * HTTP/1.1"),
        String::from("TRACE /api/v4/account HTTP/1.1"),
    ];
    for line in &hostile {
        let (got, answer) = ask(line, &ok);
        assert!(
            (400..=405).contains(&got),
            "{line:?} was not refused: {answer:.300}"
        );
    }
    assert_eq!(trap.connections(), 0, "nothing reached another listener");
    let after = w.emu.requests();
    assert_eq!(
        after.len(),
        before,
        "the emulator saw nothing refused: {:?}",
        &after[before..]
    );
    p.stop_with("TERM");
}

#[test]
fn following_next_links_through_the_proxy_gives_every_lead_once() {
    let w = World::new();
    w.connect();
    w.emu.set_leads(23);
    let p = Proxy::start(&w, &[]);
    let ids: Vec<u64> = w.rt.block_on(async {
        let client = client();
        let mut ids = Vec::new();
        let mut next = Some(format!("{}/api/v4/leads?limit=5", p.url));
        while let Some(url) = next.take() {
            assert!(url.starts_with(&p.url), "a link left the proxy: {url}");
            let (status, body) = get(&client, &url, &p.key).await;
            if status == 204 {
                break;
            }
            assert_eq!(status, 200, "{url}: {body}");
            let page: serde_json::Value = serde_json::from_str(&body).unwrap();
            for lead in page["_embedded"]["leads"].as_array().unwrap() {
                ids.push(lead["id"].as_u64().unwrap());
            }
            assert!(page["_links"]["self"]["href"]
                .as_str()
                .unwrap()
                .starts_with(&p.url));
            next = page["_links"]["next"]["href"].as_str().map(str::to_owned);
        }
        ids
    });
    p.stop();
    assert_eq!(ids.len(), 23, "{ids:?}");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        23,
        "each once: {ids:?}"
    );
}

#[test]
fn a_connection_to_make_again_is_a_502_that_says_so_and_the_token_stays_out() {
    let w = World::new();
    w.connect();
    let p = Proxy::start(&w, &[]);
    let tokens = w.keychain_token_values();
    let url = format!("{}/api/v4/account", p.url);
    let (status, body) = w.rt.block_on(get(&client(), &url, &p.key));
    assert_eq!(status, 200, "{body}");
    for (i, token) in tokens.iter().enumerate() {
        assert!(!body.contains(token.as_str()), "token #{i} in an answer");
    }
    w.emu.revoke(amo_emulator::Revoke::All);
    let (status, body) = w.rt.block_on(get(&client(), &url, &p.key));
    p.stop();
    assert_eq!(status, 502, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["kind"], "reconnect_needed", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("amo connect"),
        "{problem}"
    );
    let stats = w.emu.stats();
    assert_eq!(stats.refresh_grants, 0, "{stats:?}");
    assert_eq!(
        stats.revoked_refresh_used, 1,
        "one try with the dead refresh token"
    );
}

#[cfg(unix)]
#[test]
fn run_with_proxy_gives_the_command_a_key_and_never_the_token() {
    let w = World::new();
    w.connect();
    let script =
        "env; echo; curl -sS --max-time 20 -H \"Authorization: Bearer $AMO_ACCESS_TOKEN\" \
                  \"$AMO_API_BASE/account\"";
    let r = w.amo_env(
        &["run", "--proxy", "--", "sh", "-c", script],
        &[],
        Duration::from_secs(60),
    );
    assert!(r.ok(), "{r}");
    let tokens = w.keychain_token_values();
    for (i, token) in tokens.iter().enumerate() {
        assert!(
            !r.stdout.contains(token.as_str()),
            "token #{i} reached the command"
        );
    }
    assert!(
        !r.stdout.contains(w.emu.client_secret()),
        "the client secret stays out"
    );
    let var = |name: &str| {
        r.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}: {r}"))
            .to_owned()
    };
    let base = var("AMO_API_BASE");
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v4"),
        "{base}"
    );
    assert_eq!(var("AMO_ACCESS_TOKEN").len(), 43, "a proxy key");
    assert_eq!(var("AMO_ACCOUNT_HOST"), w.account());
    let answer = r.stdout.lines().last().unwrap_or_default();
    let account: serde_json::Value = serde_json::from_str(answer)
        .unwrap_or_else(|e| panic!("the command's call through the proxy ({e}): {r}"));
    assert!(account["id"].as_u64().is_some(), "{account}");
    // The key ended with the command: nothing listens there any more.
    let addr: SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v4")
        .parse()
        .unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the proxy stopped"
    );
}
