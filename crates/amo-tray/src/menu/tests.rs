//! The menu's lines for no, a few and many accounts, in both languages, and when what the
//! tray shows counts as changed.

use amo_core::TokenKind;

use super::*;

fn connection(account: &str, state: ConnState) -> ConnectionStatus {
    ConnectionStatus {
        account: account.into(),
        name: None,
        account_id: None,
        kind: TokenKind::Oauth,
        client_id: None,
        access_token_masked: None,
        expires_at: None,
        expired: state == ConnState::Expired,
        created_at: Default::default(),
        updated_at: Default::default(),
        last_refresh_at: None,
        last_error: None,
        reconnect_reason: None,
        state,
        usable: state != ConnState::ReconnectNeeded,
        storage: "storage.secret_service",
        api_base: None,
        moved_from: None,
    }
}

/// `n` connected accounts, `c001.amocrm.ru` on, given last first.
fn connected(n: usize) -> Vec<ConnectionStatus> {
    (1..=n)
        .rev()
        .map(|i| connection(&format!("c{i:03}.amocrm.ru"), ConnState::Connected))
        .collect()
}

fn lang(code: &str) -> Lang {
    Lang::from_code(code).unwrap()
}

/// The menu for `all` in `code`, a line a row: `id = text`, ` (off)` when disabled, `---` for
/// a separator, `[text]` for a submenu followed by its lines indented by two spaces.
fn lines(code: &str, all: &[ConnectionStatus]) -> Vec<String> {
    fn put(rows: Vec<Row>, indent: &str, out: &mut Vec<String>) {
        for row in rows {
            match row {
                Row::Item { id, text, enabled } => {
                    let off = if enabled { "" } else { " (off)" };
                    out.push(format!("{indent}{id} = {text}{off}"));
                }
                Row::Separator => out.push(format!("{indent}---")),
                Row::Submenu { text, rows } => {
                    out.push(format!("{indent}[{text}]"));
                    put(rows, &format!("{indent}  "), out);
                }
            }
        }
    }
    let mut out = Vec::new();
    put(Shown::of(lang(code), all).rows(), "", &mut out);
    out
}

const TAIL: [&str; 4] = [
    "---",
    "open = Open amo-connector",
    "refresh_all = Refresh all now",
    "quit = Quit",
];

fn with_tail(head: &[&str]) -> Vec<String> {
    head.iter().chain(&TAIL).map(|s| s.to_string()).collect()
}

#[test]
fn with_no_account_the_menu_says_so_and_has_nothing_to_refresh() {
    assert_eq!(
        lines("en", &[]),
        [
            "none = No connections (off)",
            "---",
            "open = Open amo-connector",
            "refresh_all = Refresh all now (off)",
            "quit = Quit",
        ]
    );
}

#[test]
fn each_account_is_a_line_that_opens_it_with_its_state() {
    let all = [
        connection("one.amocrm.ru", ConnState::Connected),
        connection("two.kommo.com", ConnState::ReconnectNeeded),
    ];
    assert_eq!(
        lines("en", &all),
        with_tail(&[
            "account:one.amocrm.ru = one.amocrm.ru: Connected",
            "account:two.kommo.com = two.kommo.com: Reconnect needed",
        ])
    );
}

#[test]
fn up_to_five_accounts_stay_lines_of_the_menu_itself_by_host() {
    let mut all = connected(4);
    all.insert(2, connection("b.amocrm.ru", ConnState::Expired));
    assert_eq!(FLAT_MAX, 5);
    assert_eq!(
        lines("en", &all),
        with_tail(&[
            "account:b.amocrm.ru = b.amocrm.ru: Expired",
            "account:c001.amocrm.ru = c001.amocrm.ru: Connected",
            "account:c002.amocrm.ru = c002.amocrm.ru: Connected",
            "account:c003.amocrm.ru = c003.amocrm.ru: Connected",
            "account:c004.amocrm.ru = c004.amocrm.ru: Connected",
        ])
    );
}

#[test]
fn past_five_accounts_those_needing_attention_are_on_top_and_all_are_in_a_submenu() {
    let mut all = connected(4);
    all.push(connection("z.kommo.com", ConnState::ReconnectNeeded));
    all.push(connection("b.amocrm.ru", ConnState::Expired));
    all.push(connection("a.amocrm.ru", ConnState::ExpiresSoon));
    assert_eq!(
        lines("en", &all),
        with_tail(&[
            "account:b.amocrm.ru = b.amocrm.ru: Expired",
            "account:z.kommo.com = z.kommo.com: Reconnect needed",
            "[All accounts (7)]",
            "  account:a.amocrm.ru = a.amocrm.ru: Expires soon",
            "  account:b.amocrm.ru = b.amocrm.ru: Expired",
            "  account:c001.amocrm.ru = c001.amocrm.ru: Connected",
            "  account:c002.amocrm.ru = c002.amocrm.ru: Connected",
            "  account:c003.amocrm.ru = c003.amocrm.ru: Connected",
            "  account:c004.amocrm.ru = c004.amocrm.ru: Connected",
            "  account:z.kommo.com = z.kommo.com: Reconnect needed",
        ])
    );
}

#[test]
fn many_accounts_all_connected_show_only_the_submenu() {
    let got = lines("en", &connected(6));
    assert_eq!(got[0], "[All accounts (6)]");
    assert_eq!(
        got[1],
        "  account:c001.amocrm.ru = c001.amocrm.ru: Connected"
    );
    assert_eq!(got.len(), 1 + 6 + TAIL.len());
    assert_eq!(got[7..], TAIL);
}

#[test]
fn an_account_that_cannot_be_used_counts_as_needing_attention() {
    let mut all = connected(6);
    all[0].usable = false; // c006, connected by its state
    let got = lines("en", &all);
    assert_eq!(got[0], "account:c006.amocrm.ru = c006.amocrm.ru: Connected");
    assert_eq!(got[1], "[All accounts (6)]");
}

#[test]
fn past_five_needing_attention_the_rest_are_counted_in_a_line_that_opens_the_window() {
    let all: Vec<_> = (1..=12)
        .map(|i| connection(&format!("r{i:02}.amocrm.ru"), ConnState::ReconnectNeeded))
        .collect();
    let got = lines("en", &all);
    let top: Vec<&str> = got.iter().map(String::as_str).take(7).collect();
    assert_eq!(
        top,
        [
            "account:r01.amocrm.ru = r01.amocrm.ru: Reconnect needed",
            "account:r02.amocrm.ru = r02.amocrm.ru: Reconnect needed",
            "account:r03.amocrm.ru = r03.amocrm.ru: Reconnect needed",
            "account:r04.amocrm.ru = r04.amocrm.ru: Reconnect needed",
            "account:r05.amocrm.ru = r05.amocrm.ru: Reconnect needed",
            "more_attention = 7 more need attention",
            "[All accounts (12)]",
        ]
    );
    assert_eq!(got.len(), 7 + 12 + TAIL.len(), "{got:#?}");
}

#[test]
fn the_submenu_lists_at_most_a_hundred_then_a_line_to_see_all_in_the_window() {
    let got = lines("en", &connected(200));
    assert_eq!(got[0], "[All accounts (200)]");
    let inside: Vec<&String> = got.iter().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(inside.len(), ALL_MAX + 2);
    assert_eq!(
        inside[0],
        "  account:c001.amocrm.ru = c001.amocrm.ru: Connected"
    );
    assert_eq!(
        inside[ALL_MAX - 1],
        "  account:c100.amocrm.ru = c100.amocrm.ru: Connected"
    );
    assert_eq!(inside[ALL_MAX], "  ---");
    assert_eq!(
        inside[ALL_MAX + 1],
        "  more_accounts = Open amo-connector to see all 200"
    );
    assert_eq!(got.len(), 1 + ALL_MAX + 2 + TAIL.len());
}

#[test]
fn in_russian_the_lines_and_counts_speak_russian() {
    let mut all = connected(8);
    for (i, c) in all.iter_mut().take(7).enumerate() {
        c.state = if i % 2 == 0 {
            ConnState::ReconnectNeeded
        } else {
            ConnState::Expired
        };
        c.expired = c.state == ConnState::Expired;
        c.usable = false;
    }
    let got = lines("ru", &all);
    assert_eq!(
        got[0],
        "account:c002.amocrm.ru = c002.amocrm.ru: Нужно переподключить"
    );
    assert_eq!(got[5], "more_attention = Ещё 2 требуют внимания");
    assert_eq!(got[6], "[Все аккаунты (8)]");
    assert_eq!(
        got[got.len() - 3..],
        [
            "open = Открыть amo-connector",
            "refresh_all = Обновить все сейчас",
            "quit = Выйти"
        ]
    );
    let many = lines("ru", &connected(101));
    assert_eq!(
        many[many.len() - 5],
        "  more_accounts = Открыть amo-connector, чтобы увидеть все 101"
    );
    let one_more: Vec<_> = (1..=6)
        .map(|i| connection(&format!("r{i}.amocrm.ru"), ConnState::ReconnectNeeded))
        .collect();
    assert!(lines("ru", &one_more).contains(&"more_attention = Ещё 1 требует внимания".into()));
    assert!(lines("en", &one_more).contains(&"more_attention = 1 more needs attention".into()));
}

#[test]
fn the_worst_state_sets_the_look() {
    let fine = connection("one.amocrm.ru", ConnState::Connected);
    let soon = connection("two.amocrm.ru", ConnState::ExpiresSoon);
    let en = lang("en");
    assert!(!Shown::of(en, &[fine.clone(), soon]).attention());
    for state in [ConnState::Expired, ConnState::ReconnectNeeded] {
        let bad = connection("three.amocrm.ru", state);
        assert!(Shown::of(en, &[fine.clone(), bad]).attention(), "{state:?}");
    }
    let mut unusable = fine.clone();
    unusable.usable = false;
    assert!(Shown::of(en, &[unusable]).attention());
    assert!(Shown::of(en, &[]).is_empty());
}

#[test]
fn what_is_shown_changes_with_a_state_or_the_language_not_with_what_the_menu_omits() {
    let en = lang("en");
    let all = connected(40);
    let shown = Shown::of(en, &all);
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(Shown::of(en, &reversed), shown, "the order it came in");
    let mut refreshed = all.clone();
    refreshed[3].last_refresh_at = Some(Default::default());
    refreshed[3].access_token_masked = Some("eyJ…abcd".into());
    assert_eq!(
        Shown::of(en, &refreshed),
        shown,
        "a refresh that changed no state"
    );
    let mut soon = all.clone();
    soon[3].state = ConnState::ExpiresSoon;
    assert_ne!(Shown::of(en, &soon), shown);
    assert_ne!(Shown::of(lang("ru"), &all), shown);
    assert_ne!(Shown::of(en, &all[1..]), shown);
}
