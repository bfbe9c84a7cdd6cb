//! The notifications the host builds from the schedule's notices, and the host itself on a
//! real engine (a temporary data folder, the system keychain) against the in-process
//! emulator, with a shell that records what it is handed instead of showing it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use amo_core::{ConnState, DataDir, HostedState, NoticeKind, Vault};
use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Revoke};
use chrono::{TimeZone, Utc};
use tempfile::TempDir;

use super::*;

/// How long a hosted test may take: Wine and a busy machine are slow, a stuck host is not.
const LIMIT: Duration = Duration::from_secs(90);

fn lang(code: &str) -> Lang {
    Lang::from_code(code).expect("the catalogue is embedded")
}

fn notice(kind: NoticeKind, account: Option<&str>) -> Notice {
    Notice {
        kind,
        account: account.map(str::to_owned),
        reason: None,
        expires_at: None,
    }
}

#[test]
fn a_note_tells_each_notice_in_the_language_asked() {
    let ending = Utc.with_ymd_and_hms(2030, 5, 17, 9, 30, 0).unwrap();
    let cases = [
        (
            notice(NoticeKind::ReconnectNeeded, Some("shop.amocrm.ru")),
            "Reconnect",
            "заново",
        ),
        (
            Notice {
                reason: Some("amoCRM did not answer.".into()),
                ..notice(NoticeKind::RefreshFailing, Some("shop.amocrm.ru"))
            },
            "Cannot refresh",
            "Не удаётся обновить",
        ),
        (
            Notice {
                expires_at: Some(ending),
                ..notice(NoticeKind::LongLivedExpiring, Some("shop.amocrm.ru"))
            },
            "ends soon",
            "скоро истечёт",
        ),
    ];
    for (n, en, ru) in &cases {
        for (code, word, open) in [("en", en, "Open"), ("ru", ru, "Открыть")] {
            let note = note(lang(code), n);
            assert_eq!((note.title.clone(), note.body.clone()), n.text(lang(code)));
            assert!(note.title.contains(word), "{code}: {}", note.title);
            assert!(
                note.title.contains("shop.amocrm.ru"),
                "{code}: {}",
                note.title
            );
            assert_eq!(note.open_label, open, "{code}");
            assert_eq!(note.account.as_deref(), Some("shop.amocrm.ru"), "{code}");
        }
    }
    let failing = note(lang("en"), &cases[1].0);
    assert!(
        failing.body.contains("amoCRM did not answer."),
        "{}",
        failing.body
    );
    let expiring = note(lang("ru"), &cases[2].0);
    assert!(
        expiring.body.contains("2030-05-17 09:30"),
        "{}",
        expiring.body
    );
}

#[test]
fn a_note_about_no_account_opens_the_window_as_it_is() {
    let n = Notice {
        reason: Some("locked".into()),
        ..notice(NoticeKind::KeychainUnavailable, None)
    };
    let note = note(lang("en"), &n);
    assert!(note.title.contains("keychain"), "{}", note.title);
    assert!(note.account.is_none());
}

/// An emulator, an engine on a fresh data folder with the system keychain, and one
/// connection made through a real code exchange. Each emulator has an account host (its
/// address) of its own, so tests running side by side never share a keychain item.
struct World {
    emu: EmulatorHandle,
    engine: Engine,
    account: AccountHost,
    _dir: TempDir,
}

async fn connected(config: EmulatorConfig) -> World {
    let emu = Emulator::start(config).await.unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("AMO_BASE_URL", emu.base_url()),
        ("AMO_CLIENT_ID", emu.client_id().to_owned()),
        ("AMO_CLIENT_SECRET", emu.client_secret().to_owned()),
        ("AMO_REDIRECT_URI", emu.redirect_uri().to_owned()),
        ("AMO_LANG", "en".to_owned()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open_with(DataDir::at(dir.path()), Vault::system(), move |k| {
        env.get(k).cloned()
    })
    .unwrap();
    engine
        .connect_with_code(&emu.issue_code(), &emu.account_host())
        .await
        .unwrap();
    let account = AccountHost::parse(&emu.account_host()).unwrap();
    World {
        emu,
        engine,
        account,
        _dir: dir,
    }
}

/// The keychain outlives the data folder: what the test stored leaves with it.
impl Drop for World {
    fn drop(&mut self) {
        let gone = self.engine.disconnect(&self.account);
        if std::thread::panicking() {
            return;
        }
        gone.unwrap();
        let left = self.engine.vault().load_tokens(&self.account).unwrap();
        assert!(left.is_none(), "the keychain still holds the tokens");
    }
}

impl World {
    /// Runs `test` while `host` runs the checks on this world's engine for `shell`.
    async fn hosted<T>(&self, host: &Host, shell: &Recorder, test: impl Future<Output = T>) -> T {
        tokio::select! {
            () = host.run(&self.engine, shell) => unreachable!("the host runs until dropped"),
            done = tokio::time::timeout(LIMIT, test) => done.expect("the host kept up"),
        }
    }
}

/// A shell that keeps what it is handed: the connections of each check, and the notices.
#[derive(Default)]
struct Recorder {
    checks: Mutex<Vec<Vec<ConnectionStatus>>>,
    notes: Mutex<Vec<Note>>,
    checked: Notify,
}

impl Shell for Recorder {
    fn checked(&self, _lang: Lang, all: Vec<ConnectionStatus>) {
        self.checks.lock().unwrap().push(all);
        self.checked.notify_one();
    }

    fn on_click(&self) -> OnClick {
        Box::new(|_| {})
    }

    fn show(&self, note: Note) {
        self.notes.lock().unwrap().push(note);
    }
}

impl Recorder {
    /// The connections of the `n`th check (from 1), once it has ended.
    async fn check(&self, n: usize) -> Vec<ConnectionStatus> {
        loop {
            if let Some(all) = self.checks.lock().unwrap().get(n - 1) {
                return all.clone();
            }
            self.checked.notified().await;
        }
    }

    /// The titles and accounts of the notices shown so far.
    fn shown(&self) -> Vec<(String, Option<String>)> {
        let notes = self.notes.lock().unwrap();
        notes
            .iter()
            .map(|n| (n.title.clone(), n.account.clone()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_check_hands_the_shell_the_connection() {
    let w = connected(EmulatorConfig::new()).await;
    let (host, shell) = (Host::default(), Recorder::default());

    let first = w.hosted(&host, &shell, shell.check(1)).await;

    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].account, w.account.as_str());
    assert_eq!(first[0].kind, TokenKind::Oauth);
    assert_eq!(first[0].state, ConnState::Connected);
    assert_eq!(w.emu.stats().refresh_grants, 0, "nothing was due");
    assert!(shell.shown().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_whose_access_token_is_due_is_refreshed() {
    // A token this short-lived falls due a few seconds after it is issued.
    let w = connected(EmulatorConfig {
        access_ttl_secs: 10,
        ..EmulatorConfig::new()
    })
    .await;
    let (host, shell) = (Host::default(), Recorder::default());

    let (due, second) = w
        .hosted(&host, &shell, async {
            let first = shell.check(1).await;
            assert_eq!(w.emu.stats().refresh_grants, 0, "not due yet");
            let due = host.due(&first)[w.account.as_str()];
            let wait = (due.at - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait + Duration::from_millis(200)).await;
            host.wake();
            (due, shell.check(2).await)
        })
        .await;

    assert_eq!(due.reason, DueReason::Expiry);
    let stats = w.emu.stats();
    assert_eq!(stats.refresh_grants, 1);
    assert_eq!(stats.revoked_refresh_used, 0);
    assert!(second[0].last_refresh_at.is_some(), "{second:?}");
    assert!(shell.shown().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_makes_the_host_ask_for_a_reconnect() {
    let w = connected(EmulatorConfig::new()).await;
    w.emu.revoke(Revoke::Refresh);
    let (host, shell) = (Host::default(), Recorder::default());

    let second = w
        .hosted(&host, &shell, async {
            shell.check(1).await;
            host.refresh_all();
            shell.check(2).await
        })
        .await;

    assert_eq!(
        w.emu.stats().revoked_refresh_used,
        1,
        "the refresh was tried"
    );
    assert_eq!(second[0].state, ConnState::ReconnectNeeded);
    let account = w.account.to_string();
    let expected = note(
        lang("en"),
        &notice(NoticeKind::ReconnectNeeded, Some(&account)),
    );
    assert_eq!(shell.shown(), [(expected.title, Some(account))]);
}

/// Many connections due at once (a week asleep) against emulators that enforce amoCRM's
/// limits. Linux only: the scale is the Secret Service's to carry; under Wine the same host
/// is proven on one connection above.
/// The status line's code a GET of `/api/v4/account` through a proxy on `port` gets with
/// `key`; 0 when nothing listens.
async fn proxied(port: u16, key: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return 0;
    };
    let head = format!(
        "GET /api/v4/account HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_always_on_proxy_waits_for_its_port_and_follows_its_setting() {
    let w = connected(EmulatorConfig::new()).await;
    let mut holder = Some(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let port = holder.as_ref().unwrap().local_addr().unwrap().port();
    w.engine.set_hosted_proxy_port(&port.to_string()).unwrap();
    w.engine.set_hosted_proxy(true).unwrap();
    let (host, shell) = (Host::default(), Recorder::default());
    let key = w.engine.hosted_proxy_key().unwrap();

    w.hosted(&host, &shell, async {
        shell.check(1).await;
        match w.engine.hosted_proxy_state() {
            HostedState::Failed { reason, .. } => assert!(
                reason.contains(&format!("port {port}")) && reason.contains("proxy_port"),
                "{reason}"
            ),
            other => panic!("another program holds the port: {other:?}"),
        }
        holder.take();
        host.wake();
        shell.check(2).await;
        assert_eq!(
            w.engine.hosted_proxy_state(),
            HostedState::Serving {
                url: format!("http://127.0.0.1:{port}"),
                account: w.account.to_string(),
                since: match w.engine.hosted_proxy_state() {
                    HostedState::Serving { since, .. } => since,
                    _ => String::new(),
                },
                key_version: 0,
            }
        );
        assert_eq!(proxied(port, key.expose()).await, 200);
        assert_eq!(proxied(port, "not-the-key").await, 401);
        w.engine.set_hosted_proxy(false).unwrap();
        host.wake();
        shell.check(3).await;
        assert_eq!(w.engine.hosted_proxy_state(), HostedState::Off);
        assert_eq!(proxied(port, key.expose()).await, 0, "still listening");
    })
    .await;
    assert!(w.engine.forget_hosted_proxy_key().unwrap());
}

#[cfg(not(windows))]
mod many {
    use std::time::Instant;

    use amo_core::NewSettings;
    use amo_emulator::RateSummary;

    use super::*;

    /// The scale tests take turns: each times a host whose refreshes go one keychain call
    /// at a time, and two side by side would time each other's keychain waits.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// One data folder with every account of `emus` connected, each through its emulator's
    /// integration, their access tokens already due.
    struct Many {
        emus: Vec<EmulatorHandle>,
        engine: Engine,
        accounts: Vec<AccountHost>,
        _dir: TempDir,
    }

    impl Drop for Many {
        fn drop(&mut self) {
            // The keychain outlives the data folder.
            for a in &self.accounts {
                let _ = self.engine.disconnect(a);
            }
        }
    }

    /// Emulators of `accounts` accounts each, one integration each, all with the first's
    /// secret and redirect URI (an emulator's secret comes from the environment).
    async fn emulators(n: usize, accounts: usize) -> Vec<EmulatorHandle> {
        let mut emus: Vec<EmulatorHandle> = Vec::new();
        for _ in 0..n {
            let mut c = EmulatorConfig::new().accounts(accounts).rate_limits(true);
            if let Some(first) = emus.first() {
                c.client_secret = first.client_secret().to_owned();
                c.redirect_uri = first.redirect_uri().to_owned();
            }
            let emu = Emulator::start(c).await.unwrap();
            // Set up at full speed, measured with the limits on; tokens that live a second
            // are due a few seconds after they are issued.
            emu.suspend_rate_limits(true);
            emu.set_access_ttl(1);
            emus.push(emu);
        }
        emus
    }

    async fn connect_all(emus: Vec<EmulatorHandle>) -> Many {
        let first = &emus[0];
        let others: Vec<String> = emus
            .iter()
            .flat_map(EmulatorHandle::account_hosts)
            .filter(|h| *h != first.account_host())
            .collect();
        let env: HashMap<&str, String> = HashMap::from([
            ("AMO_BASE_URL", first.base_url()),
            ("AMO_EMULATOR_ACCOUNTS", others.join(",")),
            ("AMO_CLIENT_SECRET", first.client_secret().to_owned()),
            ("AMO_REDIRECT_URI", first.redirect_uri().to_owned()),
            ("AMO_LANG", "en".to_owned()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open_with(DataDir::at(dir.path()), Vault::system(), move |k| {
            env.get(k).cloned()
        })
        .unwrap();
        let mut accounts = Vec::new();
        for emu in &emus {
            engine
                .save_settings(NewSettings {
                    client_id: Some(emu.client_id().to_owned()),
                    ..NewSettings::default()
                })
                .unwrap();
            for a in emu.accounts() {
                let code = emu.issue_code_for(a.number, emu.client_id()).unwrap();
                engine.connect_with_code(&code, &a.host).await.unwrap();
                accounts.push(AccountHost::parse(&a.host).unwrap());
            }
        }
        Many {
            emus,
            engine,
            accounts,
            _dir: dir,
        }
    }

    impl Many {
        /// Waits until every connection is due, then has the emulators issue day-long
        /// tokens and enforce their limits; answers where each emulator's log stands.
        async fn all_due(&self) -> Vec<usize> {
            let all = self.engine.connections().unwrap();
            assert_eq!(all.len(), self.accounts.len());
            let due = Host::default().due(&all);
            assert_eq!(due.len(), all.len(), "every connection has a due time");
            let last = due.values().map(|d| d.at).max().unwrap();
            let wait = (last - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait + Duration::from_millis(100)).await;
            self.emus
                .iter()
                .map(|emu| {
                    emu.set_access_ttl(86_400);
                    emu.suspend_rate_limits(false);
                    emu.requests().len()
                })
                .collect()
        }

        /// Runs the host's first check: every connection refreshed, how long it took.
        async fn first_check(&self) -> (Vec<ConnectionStatus>, Duration) {
            let (host, shell) = (Host::default(), Recorder::default());
            let started = Instant::now();
            let checked = tokio::select! {
                () = host.run(&self.engine, &shell) => unreachable!("the host runs until dropped"),
                done = tokio::time::timeout(Duration::from_secs(180), shell.check(1)) => {
                    done.expect("the host kept up")
                }
            };
            (checked, started.elapsed())
        }

        /// The requests each emulator logged since `marks`.
        fn summaries(&self, marks: &[usize]) -> Vec<RateSummary> {
            self.emus
                .iter()
                .zip(marks)
                .map(|(emu, mark)| RateSummary::of(&emu.requests()[*mark..]))
                .collect()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hundred_due_at_once_are_refreshed_at_amocrms_rate_without_a_429() {
        let _turn = ONE_AT_A_TIME.lock().await;
        let w = connect_all(emulators(1, 200).await).await;
        let marks = w.all_due().await;

        let (checked, took) = w.first_check().await;

        assert_eq!(w.emus[0].stats().refresh_grants, 200);
        assert!(
            checked.iter().all(|c| c.last_refresh_at.is_some()),
            "every one refreshed"
        );
        let [s] = w.summaries(&marks)[..] else {
            unreachable!()
        };
        assert_eq!(s.counted, 200, "one request each: {s:?}");
        assert!(s.max_per_integration <= 7, "{s:?}");
        assert_eq!(s.too_many_requests, 0, "{s:?}");
        let goal = Duration::from_secs_f64(200.0 / 7.0 * 1.2);
        assert!(took <= goal, "{took:?} for 200, goal {goal:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_integrations_refresh_side_by_side_each_at_its_own_rate() {
        let _turn = ONE_AT_A_TIME.lock().await;
        let w = connect_all(emulators(2, 20).await).await;
        let marks = w.all_due().await;

        let (checked, took) = w.first_check().await;

        assert!(checked.iter().all(|c| c.last_refresh_at.is_some()));
        for (emu, s) in w.emus.iter().zip(w.summaries(&marks)) {
            assert_eq!(emu.stats().refresh_grants, 20);
            assert_eq!(s.counted, 20, "{s:?}");
            assert!(s.max_per_integration <= 7, "{s:?}");
            assert_eq!(s.too_many_requests, 0, "{s:?}");
        }
        // One budget of 7 a second (in windows of 1.01 s) needs at least five windows past
        // the first for 40 requests: two budgets side by side need two.
        let shared = amo_core::WINDOW * 5;
        assert!(took < shared, "{took:?}: not faster than one shared budget");
    }
}
