//! `amo status` for many accounts: `--state` and `--account` choose what the table, `--short`
//! and `--json` list, `--json` keeps its shape, a mistyped state is exit 2 naming the states,
//! filters that match nothing say so in one line, and `--short` is one aligned line per
//! account under a header, in English and in Russian.

mod common;

use std::time::Duration;

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Revoke};
use common::World;

const LIMIT: Duration = Duration::from_secs(30);

/// The name the second account answers with: Cyrillic, so that `--short` is seen to align
/// by characters, not bytes.
const OTHER_NAME: &str = "Рога и копыта";

/// One data folder with two connections: the world's own, which amoCRM revoked (it must be
/// made again), and one to a second emulator, connected and usable.
struct TwoAccounts {
    /// Declared first so it stops before the world's runtime does.
    other: EmulatorHandle,
    w: World,
}

impl TwoAccounts {
    fn new() -> TwoAccounts {
        let w = World::new();
        w.connect();
        let other =
            w.rt.block_on(Emulator::start({
                let mut c = EmulatorConfig::new()
                    .auto_approve()
                    .with_redirect_uri(&w.redirect_uri);
                c.account_name = OTHER_NAME.to_owned();
                c
            }))
            .expect("the second emulator starts");
        // The second account is connected with a pasted code, through its own emulator.
        let code = other.issue_code();
        let r = common::Run::from(
            w.cmd()
                .env("AMO_BASE_URL", other.base_url())
                .env("AMO_CLIENT_ID", other.client_id())
                .env("AMO_CLIENT_SECRET", other.client_secret())
                .args([
                    "connect",
                    "--code",
                    &code,
                    "--account",
                    &other.account_host(),
                ])
                .output()
                .expect("amo runs"),
        );
        assert!(r.ok(), "the second connection: {r}");

        assert!(w.emu.revoke(Revoke::Refresh) >= 1);
        let refresh = w.amo(&["refresh", "--account", &w.account()]);
        assert_eq!(refresh.code, 1, "the revoked refresh fails: {refresh}");
        let two = TwoAccounts { other, w };
        let rows = two.rows(&[]);
        assert_eq!(rows.len(), 2, "{rows:?}");
        let state = |host: String| {
            let row = rows.iter().find(|r| r["account"] == host.as_str());
            row.map(|r| r["state"].clone())
        };
        assert_eq!(state(two.broken()), Some("reconnect_needed".into()));
        assert_eq!(state(two.fine()), Some("connected".into()));
        two
    }

    /// The account that must be connected again.
    fn broken(&self) -> String {
        self.w.account()
    }

    /// The account that is connected and usable.
    fn fine(&self) -> String {
        self.other.account_host()
    }

    /// `amo status --json` with `filters`: its exit status and its rows (failing when stdout
    /// is not a JSON list).
    fn json(&self, filters: &[&str]) -> (i32, Vec<serde_json::Value>) {
        let mut args = vec!["status", "--json"];
        args.extend(filters);
        let r = self.w.amo(&args);
        let rows = serde_json::from_str::<Vec<serde_json::Value>>(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {r}"));
        (r.code, rows)
    }

    fn rows(&self, filters: &[&str]) -> Vec<serde_json::Value> {
        self.json(filters).1
    }

    /// The accounts `--json` lists with `filters`.
    fn listed(&self, filters: &[&str]) -> Vec<String> {
        let rows = self.rows(filters);
        rows.iter()
            .map(|r| r["account"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The last part of a host: its port, which tells the two emulators apart.
fn port(host: &str) -> &str {
    host.rsplit_once(':').unwrap().1
}

/// Whether `text` names `host`, and not merely a host whose port begins with its port.
fn mentions(text: &str, host: &str) -> bool {
    text.match_indices(host)
        .any(|(i, _)| !text[i + host.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

#[test]
fn state_and_account_filter_the_table_the_short_form_and_json() {
    let t = TwoAccounts::new();
    let (broken, fine) = (t.broken(), t.fine());
    let glob_fine = format!("*:{}", port(&fine));

    assert_eq!(
        t.listed(&["--state", "reconnect_needed"]),
        [broken.as_str()]
    );
    assert_eq!(t.listed(&["--state", "connected"]), [fine.as_str()]);
    assert_eq!(t.listed(&["--state", "expired,expires_soon"]).len(), 0);
    for both in [
        &["--state", "connected,reconnect_needed"][..],
        &["--state", "connected", "--state", "reconnect_needed"],
        &["--account", "127.0.0.?:*"],
    ] {
        assert_eq!(t.listed(both).len(), 2, "{both:?}");
    }
    assert_eq!(t.listed(&["--account", &glob_fine]), [fine.as_str()]);
    assert_eq!(t.listed(&["--account", &broken]), [broken.as_str()]);
    let both_filters = ["--state", "reconnect_needed", "--account", &glob_fine];
    let none =
        t.w.amo(&[&["status", "--json"][..], &both_filters].concat());
    assert_eq!(none.code, 1, "both filters apply at once: {none}");

    // Exit 0 only when a listed connection is usable.
    assert_eq!(t.json(&["--state", "connected"]).0, 0);
    assert_eq!(t.json(&["--state", "reconnect_needed"]).0, 1);

    for (filters, shown, hidden) in [
        (["--state", "reconnect_needed"], &broken, &fine),
        (["--account", glob_fine.as_str()], &fine, &broken),
    ] {
        for form in [&["status"][..], &["status", "--short"]] {
            let r = t.w.amo(&[form, &filters].concat());
            assert!(mentions(&r.stdout, shown), "{filters:?}: {r}");
            assert!(!mentions(&r.stdout, hidden), "{filters:?}: {r}");
            assert!(r.stderr.is_empty(), "{r}");
        }
    }
    let table = t.w.amo(&["status", "--state", "connected"]);
    assert_eq!(table.code, 0, "{table}");
    assert!(table.stdout.contains(OTHER_NAME), "{table}");
}

#[test]
fn filtered_json_rows_are_the_unfiltered_rows_unchanged() {
    let t = TwoAccounts::new();
    // The shape scripts read: these keys, no more, no fewer.
    let keys = [
        "account",
        "name",
        "account_id",
        "kind",
        "access_token",
        "expires_at",
        "expired",
        "created_at",
        "updated_at",
        "last_refresh_at",
        "state",
        "usable",
        "reconnect_reason",
        "last_error",
        "storage",
        "api_base",
        "moved_from",
    ];
    let all = t.rows(&[]);
    for row in &all {
        let mut have: Vec<_> = row.as_object().unwrap().keys().cloned().collect();
        let mut want: Vec<_> = keys.iter().map(|k| (*k).to_owned()).collect();
        have.sort();
        want.sort();
        assert_eq!(have, want, "{row}");
    }
    for (filters, account) in [
        (["--state", "reconnect_needed"], t.broken()),
        (["--account", &t.fine()], t.fine()),
    ] {
        let rows = t.rows(&filters);
        assert_eq!(rows.len(), 1, "{filters:?}: {rows:?}");
        let whole = all.iter().find(|r| r["account"] == account.as_str());
        assert_eq!(Some(&rows[0]), whole, "{filters:?}");
    }
}

#[test]
fn an_unknown_state_is_exit_2_naming_the_allowed_states() {
    let w = World::new();
    w.connect();
    for args in [
        &["status", "--state", "sleeping"][..],
        &["status", "--short", "--state", "connected,sleeping"],
        &[
            "status",
            "--json",
            "--state",
            "connected",
            "--state",
            "sleeping",
        ],
    ] {
        let r = w.amo(args);
        assert_eq!(r.code, 2, "{args:?}: {r}");
        assert!(r.stdout.is_empty(), "{r}");
        assert_eq!(r.stderr.lines().count(), 1, "one line: {r}");
        assert!(r.stderr.contains("“sleeping”"), "names the value: {r}");
        for state in ["connected", "expires_soon", "expired", "reconnect_needed"] {
            assert!(r.stderr.contains(state), "names {state}: {r}");
        }
    }
    let glob = w.amo(&["status", "--account", "[acme"]);
    assert_eq!(glob.code, 2, "a pattern the glob crate cannot read: {glob}");
    assert!(glob.stderr.contains("“[acme”"), "{glob}");
}

#[test]
fn filters_that_match_nothing_say_so_in_one_line_and_exit_1() {
    let w = World::new();
    w.connect();
    let everything = w.amo(&["status"]);
    assert!(everything.ok(), "{everything}");
    for (filters, told) in [
        (&["--account", "*.kommo.com"][..], "--account *.kommo.com"),
        (&["--state", "expired"], "--state expired"),
        (
            &["--state", "expired", "--account", "*.KOMMO.com"],
            "--state expired --account *.KOMMO.com",
        ),
    ] {
        for form in [&["status"][..], &["status", "--short"]] {
            let r = w.amo(&[form, filters].concat());
            assert_eq!(r.code, 1, "{r}");
            assert!(r.stdout.is_empty(), "nothing listed: {r}");
            assert_eq!(r.stderr.lines().count(), 1, "one line: {r}");
            assert!(r.stderr.contains(told), "what matched nothing: {r}");
            assert!(
                r.stderr.contains("`amo status` without filters"),
                "what to do: {r}"
            );
        }
        let json = w.amo(&[&["status", "--json"][..], filters].concat());
        assert_eq!(json.code, 1, "{json}");
        assert_eq!(json.stdout.trim(), "[]", "still a list to parse: {json}");
        assert_eq!(json.stderr.lines().count(), 1, "{json}");
    }
    let ru = w.amo_env(
        &["status", "--state", "expired"],
        &[("AMO_LANG", "ru")],
        LIMIT,
    );
    assert_eq!(ru.code, 1, "{ru}");
    assert!(ru.stderr.contains("без фильтров"), "{ru}");

    // With no connection at all, filters change nothing: the usual line says to make one.
    let empty = World::new();
    let r = empty.amo(&["status", "--account", "*.kommo.com"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("No account is connected"), "{r}");
}

/// The column each line of `--short` starts `word` at, in characters; `None` where absent.
fn column_of(line: &str, word: &str) -> Option<usize> {
    line.find(word).map(|i| line[..i].chars().count())
}

#[test]
fn short_is_one_aligned_line_per_account_under_a_header_in_english_and_russian() {
    let t = TwoAccounts::new();
    let (broken, fine) = (t.broken(), t.fine());
    for (lang, header, connected, reconnect) in [
        (
            "en",
            ["Account", "Name", "State", "Expires", "Last refresh"],
            "Connected",
            "Reconnect needed",
        ),
        (
            "ru",
            ["Аккаунт", "Название", "Состояние", "Истекает", "Обновлено"],
            "Подключено",
            "Нужно переподключить",
        ),
    ] {
        let r =
            t.w.amo_env(&["status", "--short"], &[("AMO_LANG", lang)], LIMIT);
        assert_eq!(r.code, 0, "one connection is usable: {r}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 3, "a header and two accounts: {r}");
        let mut at = 0;
        for word in header {
            let col = column_of(lines[0], word).unwrap_or_else(|| panic!("{word}: {r}"));
            assert!(col >= at, "{word} comes in order: {r}");
            at = col;
        }
        let state_col = column_of(lines[0], header[2]).unwrap();
        let name_col = column_of(lines[0], header[1]).unwrap();
        let row = |host: &str| {
            let line = lines.iter().find(|l| l.starts_with(&format!("{host} ")));
            *line.unwrap_or_else(|| panic!("no line for {host}: {r}"))
        };
        assert_eq!(column_of(row(&broken), reconnect), Some(state_col), "{r}");
        assert_eq!(column_of(row(&fine), connected), Some(state_col), "{r}");
        assert_eq!(column_of(row(&fine), OTHER_NAME), Some(name_col), "{r}");
        assert!(lines.iter().all(|l| !l.ends_with(' ')), "{r}");
    }
}

/// Listing reads the database alone: with the session bus out of reach (so the Secret
/// Service cannot be asked anything), `amo status` in every form lists what it lists with it.
#[cfg(target_os = "linux")]
#[test]
fn listing_reads_no_secret_and_needs_no_keychain() {
    let t = TwoAccounts::new();
    let no_bus = |args: &[&str]| {
        let mut cmd = t.w.cmd();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(args);
        common::Run::from(cmd.output().expect("amo runs"))
    };
    for form in [
        &["status", "--json"][..],
        &["status", "--short"],
        &["status"],
    ] {
        let with = t.w.amo(form);
        let without = no_bus(form);
        assert!(with.ok() && without.ok(), "{form:?}: {with}\n{without}");
        assert_eq!(with.stdout, without.stdout, "{form:?}");
    }
    let rows = t.rows(&[]);
    let fine = rows.iter().find(|r| r["account"] == t.fine().as_str());
    let masked = fine.and_then(|r| r["access_token"].as_str());
    assert!(masked.is_some_and(|m| m.contains('…')), "{rows:?}");
    // A token is still read from the keychain, and only there.
    let token = no_bus(&["token", "--account", &t.fine()]);
    assert!(!token.ok() && token.stdout.is_empty(), "{token}");
}
