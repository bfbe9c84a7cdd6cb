//! Language: people read Russian or English after the locale; `--json` reads the same in both.

mod common;

use std::time::Duration;

use amo_emulator::{Fault, FaultKind, FaultTarget, Revoke};
use common::World;

/// The locale, as a session sets it. Windows takes it from the user's settings, not the
/// environment: there the test can only choose with `AMO_LANG`.
#[cfg(unix)]
const RU: (&str, &str) = ("LANG", "ru_RU.UTF-8");
#[cfg(unix)]
const EN: (&str, &str) = ("LANG", "en_US.UTF-8");
#[cfg(windows)]
const RU: (&str, &str) = ("AMO_LANG", "ru");
#[cfg(windows)]
const EN: (&str, &str) = ("AMO_LANG", "en");
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn status_speaks_the_locale_and_json_does_not() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();

    let ru = w.amo_env(&["status"], &[RU], LIMIT);
    assert!(ru.ok(), "{ru}");
    for word in ["Подключено", "Хранится", "Системное хранилище паролей"]
    {
        assert!(ru.stdout.contains(word), "{word}: {ru}");
    }
    assert!(!ru.stdout.contains("Connected"), "{ru}");

    let en = w.amo_env(&["status"], &[EN], LIMIT);
    assert!(en.ok(), "{en}");
    for word in ["Connected", "Stored in", "System keychain"] {
        assert!(en.stdout.contains(word), "{word}: {en}");
    }
    assert!(!en.stdout.contains("Подключено"), "{en}");

    // AMO_LANG wins over the locale.
    let forced = w.amo_env(&["status"], &[EN, ("AMO_LANG", "ru")], LIMIT);
    assert!(forced.stdout.contains("Подключено"), "{forced}");

    for args in [&["status", "--json"][..], &["account", "--json"]] {
        let ru = w.amo_env(args, &[RU], LIMIT);
        let en = w.amo_env(args, &[EN], LIMIT);
        assert!(ru.ok() && en.ok(), "{ru}\n{en}");
        assert_eq!(ru.stdout, en.stdout, "{args:?} is language-neutral");
        assert!(
            !ru.stdout
                .chars()
                .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
            "{args:?}: no Russian words in JSON: {ru}"
        );
    }
    let status = w.status_json();
    assert_eq!(status[0]["storage"], common::STORAGE, "{status}");
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}

#[test]
fn a_failing_refresh_speaks_the_locale() {
    let w = World::new();
    let mut secrets = w.connect_and_collect();

    w.emu
        .set_fault(Fault::new(FaultTarget::Token, FaultKind::ServerError).times(2));
    let ru = w.amo_env(&["refresh"], &[RU], LIMIT);
    let en = w.amo_env(&["refresh"], &[EN], LIMIT);
    assert_eq!((ru.code, en.code), (1, 1), "{ru}\n{en}");
    assert!(ru.stderr.contains("Журнал:"), "{ru}");
    assert!(ru.stderr.contains("(500)"), "{ru}");
    assert!(
        en.stderr.contains("server error (500)") && en.stderr.contains("Log:"),
        "{en}"
    );
    assert_ne!(ru.stderr, en.stderr);

    w.emu.revoke(Revoke::Refresh);
    let ru = w.amo_env(&["refresh"], &[RU], LIMIT);
    assert_eq!(ru.code, 1, "{ru}");
    assert!(ru.stderr.contains("нужно выполнить заново"), "{ru}");
    let status = w.amo_env(&["status"], &[RU], LIMIT);
    assert!(status.stdout.contains("Нужно переподключить"), "{status}");
    let ru_json = w.amo_env(&["status", "--json"], &[RU], LIMIT);
    let en_json = w.amo_env(&["status", "--json"], &[EN], LIMIT);
    assert_eq!(
        ru_json.stdout, en_json.stdout,
        "reasons are stored language-neutral"
    );
    secrets.extend(w.keychain_token_values());
    w.assert_no_secret_in_data(&secrets);
}
