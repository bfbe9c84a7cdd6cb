//! `amo proxy --listen unix:PATH`: the proxy on a socket file only its owner can open. A call
//! through it with the key reaches the account (curl `--unix-socket`, as documented), the
//! file is 0600 whatever the umask, refused requests reach nothing, the file goes when the
//! proxy stops, a stale socket file is replaced, and anything else at the path is refused
//! and left as it was.

#![cfg(target_os = "linux")]

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{status_of, Child, World, AMO};

/// A running `amo proxy --json --listen unix:PATH`, started under umask 000 so that a socket
/// file left at the umask's mode would be open to everyone.
struct SocketProxy {
    child: Child,
    path: PathBuf,
    key: String,
}

impl SocketProxy {
    fn start(w: &World, path: &Path) -> SocketProxy {
        let mut child = Child::spawn(amo_under_umask_000(w, path));
        let line = child.next_line(Duration::from_secs(60));
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the first line is {{url, key, socket}} ({e}): {line}"));
        assert_eq!(v["url"], "http://localhost", "{line}");
        assert_eq!(v["socket"], path.to_str().unwrap(), "{line}");
        assert!(line.starts_with("{\"url\":"), "url first: {line}");
        let key = v["key"].as_str().unwrap().to_owned();
        assert_eq!(key.len(), 43, "{line}");
        SocketProxy {
            child,
            path: path.to_owned(),
            key,
        }
    }

    /// Ctrl+C: the proxy stops cleanly, exit 0.
    fn stop(mut self) {
        common::signal(self.child.pid(), "INT");
        let r = self.child.finish(Duration::from_secs(20));
        assert!(r.ok(), "amo proxy stops with 0 on SIGINT: {r}");
    }

    /// `curl --unix-socket PATH http://localhost/TARGET` with the key, as the README says:
    /// the status and the body.
    fn curl(&self, target: &str) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "30", "-w", "\n%{http_code}"])
            .arg("--unix-socket")
            .arg(&self.path)
            .args(["-H", &format!("Authorization: Bearer {}", self.key)])
            .arg(format!("http://localhost{target}"))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        (status.trim().parse().unwrap_or(0), body.to_owned())
    }
}

/// `amo proxy --json --listen unix:PATH` under `sh -c 'umask 000; exec amo …'`, with the
/// world's environment.
fn amo_under_umask_000(w: &World, path: &Path) -> Command {
    let world = w.cmd();
    let mut cmd = Command::new("sh");
    for (name, value) in world.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.args(["-c", "umask 000; exec \"$0\" \"$@\"", AMO])
        .args(["proxy", "--json", "--listen"])
        .arg(format!("unix:{}", path.display()))
        .stdin(std::process::Stdio::null());
    cmd
}

/// Sends `request` as is through the socket at `path` and reads the answer until the proxy
/// closes; `None` when nothing answered.
fn raw_socket_request(path: &Path, request: &str) -> Option<String> {
    let mut s = UnixStream::connect(path).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let _ = s.write_all(request.as_bytes());
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    (!buf.is_empty()).then(|| String::from_utf8_lossy(&buf).into_owned())
}

/// Whether a socket is at `path`, and its mode bits in octal; `None` when nothing is there.
fn socket_mode(path: &Path) -> Option<(bool, String)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mode = format!("{:o}", meta.permissions().mode() & 0o7777);
    Some((meta.file_type().is_socket(), mode))
}

#[test]
fn a_call_through_the_socket_with_the_key_reaches_the_account_and_the_file_is_0600() {
    let w = World::new();
    w.connect();
    let path = w.work.path().join("amo.sock");
    let p = SocketProxy::start(&w, &path);
    assert_eq!(
        socket_mode(&path),
        Some((true, "600".into())),
        "a socket only its owner can open, under umask 000"
    );
    let (status, body) = p.curl("/api/v4/account");
    assert_eq!(status, 200, "{body}");
    let account: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(account["id"].as_u64().is_some(), "{account}");
    assert_eq!(
        account["_links"]["self"]["href"], "http://localhost/api/v4/account",
        "links point back at the proxy as a client of the socket names it"
    );
    p.stop();
}

#[test]
fn refused_requests_through_the_socket_reach_nothing() {
    let w = World::new();
    w.connect();
    let path = w.work.path().join("amo.sock");
    let p = SocketProxy::start(&w, &path);
    assert_eq!(p.curl("/api/v4/account").0, 200, "the proxy works");
    let before = w.emu.requests().len();
    let bearer = format!("Bearer {}", p.key);
    let other = format!("Bearer {}", "A".repeat(43));
    // What is sent, with which headers, and the status that refuses it.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);
    let cases: [Case; 6] = [
        ("no key", vec![("Host", "localhost")], 401),
        (
            "wrong key",
            vec![("Host", "localhost"), ("Authorization", "Bearer x")],
            401,
        ),
        (
            "a key of the right shape",
            vec![("Host", "localhost"), ("Authorization", &other)],
            401,
        ),
        (
            "a page",
            vec![
                ("Host", "localhost"),
                ("Authorization", &bearer),
                ("Origin", "http://evil.example"),
            ],
            403,
        ),
        (
            "another host",
            vec![("Host", "evil.example"), ("Authorization", &bearer)],
            400,
        ),
        (
            "an address",
            vec![("Host", "127.0.0.1:80"), ("Authorization", &bearer)],
            400,
        ),
    ];
    for (what, headers, status) in &cases {
        let mut req = String::from("GET /api/v4/account HTTP/1.1\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("Connection: close\r\n\r\n");
        let answer = raw_socket_request(&path, &req).expect("the proxy answers");
        assert_eq!(status_of(&answer), *status, "{what}: {answer}");
        assert!(
            answer.contains("application/problem+json"),
            "{what}: {answer}"
        );
        assert!(!answer.contains(&p.key), "{what}: the key is never echoed");
    }
    let after = w.emu.requests();
    assert_eq!(
        after.len(),
        before,
        "the emulator saw nothing refused: {:?}",
        &after[before..]
    );
    p.stop();
}

#[test]
fn the_socket_file_is_gone_once_the_proxy_stops() {
    let w = World::new();
    w.connect();
    let path = w.work.path().join("amo.sock");
    let p = SocketProxy::start(&w, &path);
    assert!(socket_mode(&path).is_some());
    p.stop();
    assert_eq!(socket_mode(&path), None, "the socket file is removed");
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let w = World::new();
    w.connect();
    let path = w.work.path().join("amo.sock");
    // A socket file nothing listens on, as a killed proxy leaves it.
    drop(UnixListener::bind(&path).unwrap());
    assert_eq!(socket_mode(&path).map(|(socket, _)| socket), Some(true));
    let p = SocketProxy::start(&w, &path);
    assert_eq!(socket_mode(&path), Some((true, "600".into())));
    assert_eq!(p.curl("/api/v4/account").0, 200);
    p.stop();
    assert_eq!(socket_mode(&path), None);
}

#[test]
fn a_file_or_a_live_socket_at_the_path_is_refused_and_left_as_it_was() {
    let w = World::new();
    w.connect();
    let file = w.work.path().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let r = Child::spawn(amo_under_umask_000(&w, &file)).finish(Duration::from_secs(30));
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.is_empty(), "no address printed: {r}");
    assert!(r.stderr.contains("is not a socket"), "{r}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    // A socket some other program listens on.
    let busy = w.work.path().join("busy.sock");
    let other = UnixListener::bind(&busy).unwrap();
    let r = Child::spawn(amo_under_umask_000(&w, &busy)).finish(Duration::from_secs(30));
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("Another program is listening"), "{r}");
    assert_eq!(socket_mode(&busy).map(|(socket, _)| socket), Some(true));
    assert!(
        UnixStream::connect(&busy).is_ok(),
        "the other program still listens"
    );
    drop(other);
}
