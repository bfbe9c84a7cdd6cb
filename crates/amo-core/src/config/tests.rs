//! Settings: the redirect URI, the account hosts secrets may go to, the emulator address.

use super::test_settings as settings;
use super::*;

#[test]
fn only_account_hosts_of_amocrm_and_kommo_are_trusted() {
    let s = settings(None);
    for ok in ["example.amocrm.ru", "ex-1.amocrm.com", "acme.kommo.com"] {
        assert!(
            s.check_account_host(&AccountHost::parse(ok).unwrap())
                .is_ok(),
            "{ok}"
        );
    }
    for bad in [
        "evil.com",
        "amocrm.ru",
        "a.b.amocrm.ru",
        "exampleamocrm.ru",
        "x.amocrm.ru.evil.com",
        "127.0.0.1:9",
    ] {
        assert!(
            s.check_account_host(&AccountHost::parse(bad).unwrap())
                .is_err(),
            "{bad}"
        );
    }
}

#[test]
fn with_an_emulator_only_its_address_its_accounts_and_its_moves_are_trusted() {
    let s = settings(Some("http://127.0.0.1:4567"));
    assert!(s
        .check_account_host(&AccountHost::parse("127.0.0.1:4567").unwrap())
        .is_ok());
    assert!(s
        .check_account_host(&AccountHost::parse("example.amocrm.ru").unwrap())
        .is_err());
    let other_port = AccountHost::parse("127.0.0.1:4568").unwrap();
    assert!(s.check_account_host(&other_port).is_err());
    assert!(s.may_move_to(&other_port));
    let moved = Settings {
        moved_hosts: vec!["127.0.0.1:4568".into()],
        ..s.clone()
    };
    assert!(moved.check_account_host(&other_port).is_ok());
    let serving = Settings {
        emulator_accounts: vec![other_port.clone()],
        ..s.clone()
    };
    assert!(serving.check_account_host(&other_port).is_ok());
    assert!(serving
        .check_account_host(&AccountHost::parse("127.0.0.1:4569").unwrap())
        .is_err());
    assert!(s
        .check_account_host(&AccountHost::parse("localhost:4567").unwrap())
        .is_err());
    assert!(s
        .check_account_host(&AccountHost::parse("127.0.0.1").unwrap())
        .is_err());
    let url = s.account_url(
        &AccountHost::parse("127.0.0.1:4567").unwrap(),
        "/api/v4/account",
    );
    assert_eq!(
        url.unwrap().as_str(),
        "http://127.0.0.1:4567/api/v4/account"
    );
}

#[test]
fn the_emulator_must_be_on_loopback() {
    let db = Db::open_in_memory().unwrap();
    let r = Settings::resolve(&db, |k| {
        (k == "AMO_BASE_URL").then(|| "http://10.0.0.5".into())
    });
    assert!(matches!(r, Err(Error::BaseUrlNotLoopback { .. })));
}

#[test]
fn redirect_uris_are_checked_and_give_their_listen_address() {
    let r = RedirectUri::parse(DEFAULT_REDIRECT_URI).unwrap();
    assert_eq!(r.loopback_addr().unwrap().to_string(), "127.0.0.1:17563");
    assert_eq!(r.authority(), "127.0.0.1:17563");
    assert!(RedirectUri::parse("https://example.com/cb")
        .unwrap()
        .loopback_addr()
        .is_none());
    assert!(RedirectUri::parse("http://example.com/cb").is_err());
    assert!(RedirectUri::parse("ftp://127.0.0.1/cb").is_err());
    assert!(RedirectUri::parse("not a url").is_err());
}

#[test]
fn authorize_url_carries_client_and_state() {
    let s = settings(None);
    let u = s.authorize_url("cid", "st");
    assert_eq!(
        u.as_str(),
        "https://www.amocrm.ru/oauth?client_id=cid&state=st&mode=post_message"
    );
}

#[test]
fn the_emulators_other_accounts_must_be_ports_of_its_own_address() {
    let db = Db::open_in_memory().unwrap();
    let with = |list: &'static str| {
        Settings::resolve(&db, move |k| match k {
            "AMO_BASE_URL" => Some("http://127.0.0.1:4567".to_owned()),
            "AMO_EMULATOR_ACCOUNTS" => Some(list.to_owned()),
            _ => None,
        })
    };
    let s = with(" 127.0.0.1:4568, 127.0.0.1:4569 ,").unwrap();
    assert_eq!(s.emulator_accounts.len(), 2);
    for bad in ["127.0.0.2:4568", "example.amocrm.ru", "127.0.0.1", "a b"] {
        assert!(
            matches!(with(bad), Err(Error::BaseUrlNotLoopback { .. })),
            "{bad}"
        );
    }
    // Without an emulator the list means nothing.
    let none = Settings::resolve(&db, |k| {
        (k == "AMO_EMULATOR_ACCOUNTS").then(|| "127.0.0.1:4568".to_owned())
    })
    .unwrap();
    assert!(none.emulator_accounts.is_empty());
}
