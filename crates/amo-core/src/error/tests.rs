//! Every error has words and a fix in every language, and says what the user should do.

use super::*;

/// Pairs each pattern with a sample of it. The patterns make up the arms of
/// `pattern_of`, a match with no wildcard: a variant added to `Error` does not compile
/// here until it has a pattern, and with it a sample.
macro_rules! samples {
    ($($pattern:pat => $sample:expr,)+) => {
        /// The pattern (as written) that `e` matches.
        #[deny(unreachable_patterns)]
        fn pattern_of(e: &Error) -> &'static str {
            match e {
                $($pattern => stringify!($pattern),)+
            }
        }

        /// One sample per pattern, each with the pattern it stands for.
        fn samples() -> Vec<(&'static str, Error)> {
            vec![$((stringify!($pattern), $sample)),+]
        }
    };
}

samples! {
    Error::NotConfigured { .. } => Error::NotConfigured { what: "client_id" },
    Error::InvalidInput { .. } => Error::InvalidInput {
        field: "redirect_uri",
        value: "ftp://x".into(),
    },
    Error::InvalidRedirectUri { .. } => Error::InvalidRedirectUri {
        value: "http://example.com/cb".into(),
        reason: "not_loopback",
    },
    Error::BaseUrlNotLoopback { .. } => Error::BaseUrlNotLoopback {
        value: "http://example.com".into(),
    },
    Error::KeychainUnavailable { .. } => Error::KeychainUnavailable {
        reason: "no Secret Service".into(),
    },
    Error::KeychainRefusedNewTokens { .. } => Error::KeychainRefusedNewTokens {
        account: "example.amocrm.ru".into(),
        reason: "locked".into(),
    },
    Error::Database { .. } => Error::Database {
        reason: "disk I/O error".into(),
    },
    Error::DataFolder { .. } => Error::DataFolder {
        path: PathBuf::from("/home/u/.local/share/amo-connector"),
        reason: "permission denied".into(),
    },
    Error::Autostart { .. } => Error::Autostart {
        path: "/home/u/.config/autostart/amo-connector.desktop".into(),
        reason: "read-only file system".into(),
    },
    Error::AutostartPathUnfit { .. } => Error::AutostartPathUnfit {
        path: "/opt/a\\nb/amo-connector".into(),
    },
    Error::PortInUse { .. } => Error::PortInUse {
        addr: "127.0.0.1:17563".into(),
    },
    Error::Listen { .. } => Error::Listen {
        addr: "127.0.0.1:17563".into(),
        reason: "permission denied".into(),
    },
    Error::SocketInUse { .. } => Error::SocketInUse {
        path: PathBuf::from("/run/user/1000/amo.sock"),
    },
    Error::NotASocket { .. } => Error::NotASocket {
        path: PathBuf::from("/home/u/notes.txt"),
    },
    Error::UnixSocketUnsupported => Error::UnixSocketUnsupported,
    Error::StateMissing => Error::StateMissing,
    Error::StateUnknown => Error::StateUnknown,
    Error::StateExpired => Error::StateExpired,
    Error::StateReused => Error::StateReused,
    Error::AccessDenied { .. } => Error::AccessDenied {
        error: "access_denied".into(),
    },
    Error::RefererMissing => Error::RefererMissing,
    Error::RefererNotAllowed { .. } => Error::RefererNotAllowed {
        host: "evil.example.com".into(),
    },
    Error::ApiPathRefused { .. } => Error::ApiPathRefused {
        path: "//example.com/".into(),
        account: "example.amocrm.ru".into(),
    },
    Error::CallbackIncomplete { .. } => Error::CallbackIncomplete { missing: "code" },
    Error::CallbackInvalid { .. } => Error::CallbackInvalid { param: "state" },
    Error::StateStale => Error::StateStale,
    Error::ClientMismatch { .. } => Error::ClientMismatch {
        client_id: "someone-else".into(),
    },
    Error::TimedOut { .. } => Error::TimedOut { secs: 300 },
    Error::Cancelled => Error::Cancelled,
    Error::Amo(_) => Error::Amo(AmoProblem {
        status: 401,
        title: "Некорректный клиент".into(),
        ..Default::default()
    }),
    Error::RateLimited => Error::RateLimited,
    Error::Blocked { .. } => Error::Blocked { status: 403 },
    Error::ServerError { .. } => Error::ServerError { status: 502 },
    Error::UnexpectedResponse { .. } => Error::UnexpectedResponse {
        status: 200,
        what: "token_fields",
    },
    Error::TokenAnswerIncomplete { .. } => Error::TokenAnswerIncomplete {
        account: "example.amocrm.ru".into(),
        missing: "refresh_token",
    },
    Error::Network { .. } => Error::Network {
        reason: "could not connect".into(),
    },
    Error::NotConnected { .. } => Error::NotConnected {
        account: "example.amocrm.ru".into(),
    },
    Error::NoConnections => Error::NoConnections,
    Error::ChooseAccount { .. } => Error::ChooseAccount {
        accounts: "a.amocrm.ru, b.kommo.com".into(),
    },
    Error::UnknownIntegration { .. } => Error::UnknownIntegration {
        client_id: "0000-typo".into(),
        known: "1111-first, 2222-second".into(),
    },
    Error::ReconnectNeeded { .. } => Error::ReconnectNeeded {
        account: "example.amocrm.ru".into(),
        reason: "Token has been revoked".into(),
    },
    Error::CannotRefresh { .. } => Error::CannotRefresh {
        account: "example.amocrm.ru".into(),
    },
    Error::TokenExpiresTooSoon { .. } => Error::TokenExpiresTooSoon {
        account: "example.amocrm.ru".into(),
        expires_at: "2030-01-01T00:00:00.000Z".into(),
    },
    Error::MinValidTooLong { .. } => Error::MinValidTooLong {
        account: "example.amocrm.ru".into(),
        asked_secs: 172_800,
        lifetime_secs: 86_400,
    },
    Error::LockTimeout { holder: Some(_), .. } => Error::LockTimeout {
        path: PathBuf::from("/tmp/locks/example.amocrm.ru.lock"),
        holder: Some(4242),
        waited_secs: 60,
    },
    Error::LockTimeout { holder: None, .. } => Error::LockTimeout {
        path: PathBuf::from("/tmp/locks/rate-window"),
        holder: None,
        waited_secs: 10,
    },
    Error::EmulatorConnection { .. } => Error::EmulatorConnection {
        account: "127.0.0.1:17564".into(),
    },
    Error::EmulatorSecret => Error::EmulatorSecret,
}

/// One answer of every cause [`AmoProblem::cause`] gives: one per hint it knows, an
/// empty 401, and anything else.
fn amo_samples() -> Vec<(&'static str, AmoProblem)> {
    let mut all: Vec<_> = HINT_CAUSES
        .iter()
        .map(|(words, cause)| {
            let problem = AmoProblem {
                status: 400,
                title: "Bad request".into(),
                detail: "amoCRM said no".into(),
                hint: format!("The {} now", words.to_uppercase()),
            };
            (*cause, problem)
        })
        .collect();
    let no_hint = |status| AmoProblem {
        status,
        title: "Некорректный клиент".into(),
        ..Default::default()
    };
    all.push(("client_secret", no_hint(401)));
    all.push(("other", no_hint(400)));
    all
}

/// The `{name}` placeholders of a catalogue text.
fn placeholders(text: &str) -> Vec<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name))
        .collect()
}

/// `e`'s message and fix have entries of their own in `lang`'s catalogue, and every
/// placeholder in them is given a value, none of them a word the catalogue lacks.
fn assert_told_in(e: &Error, lang: Lang) {
    let args = e.args(lang);
    for part in ["error", "fix"] {
        let key = e.catalogue_key(part);
        let text = lang
            .messages()
            .get(&key)
            .unwrap_or_else(|| panic!("{}: no {key} for {e:?}", lang.code()));
        assert!(!text.trim().is_empty(), "{}: {key} is empty", lang.code());
        for name in placeholders(text) {
            let value = args.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
            let value = value.unwrap_or_else(|| {
                panic!("{}: {key} has {{{name}}}, {e:?} gives none", lang.code())
            });
            // A word looked up in a group the catalogue lacks comes back as its key.
            let raw_key = ["field.", "reason."].iter().any(|g| value.starts_with(g));
            assert!(
                !value.is_empty() && !raw_key,
                "{}: {key}: {{{name}}} = {value:?}",
                lang.code()
            );
        }
    }
    let (message, fix) = (e.message(lang), e.fix(lang));
    assert!(
        !message.starts_with("error.") && !fix.starts_with("fix."),
        "{}: {message} / {fix}",
        lang.code()
    );
}

#[test]
fn every_error_has_a_message_and_a_fix_in_every_language() {
    let samples = samples();
    for (pattern, e) in &samples {
        assert_eq!(pattern_of(e), *pattern, "the sample of {pattern}: {e:?}");
    }
    let amo = amo_samples();
    for (cause, p) in &amo {
        assert_eq!(p.cause(), *cause, "{p:?}");
    }
    let amo = amo.into_iter().map(|(_, p)| Error::Amo(p));
    let all: Vec<Error> = samples.into_iter().map(|(_, e)| e).chain(amo).collect();
    for lang in Lang::all() {
        for e in &all {
            assert_told_in(e, lang);
        }
        // Every entry of the catalogue is one an error can reach.
        for key in lang.messages().keys() {
            if let Some(name) = key.strip_prefix("error.") {
                assert!(
                    all.iter().any(|e| e.catalogue_key("error") == *key),
                    "{}: no error is told with {key}",
                    lang.code()
                );
                let fix = format!("fix.{name}");
                assert!(lang.messages().contains_key(&fix), "{}: {fix}", lang.code());
            }
        }
    }
}

#[test]
fn amo_answers_are_read_by_their_hint() {
    let p = |status, hint: &str| AmoProblem {
        status,
        hint: hint.into(),
        ..Default::default()
    };
    assert_eq!(
        p(400, "Authorization code has expired").cause(),
        "code_expired"
    );
    assert_eq!(p(401, "Token has been revoked").cause(), "token_revoked");
    assert_eq!(p(401, "").cause(), "client_secret");
    assert_eq!(
        p(400, "Redirect URI is not associated with client").cause(),
        "redirect_uri"
    );
    assert!(Error::Amo(p(401, "Token has been revoked")).needs_reconnect());
}

#[test]
fn display_names_the_port() {
    let e = Error::PortInUse {
        addr: "127.0.0.1:17563".into(),
    };
    assert!(e.to_string().contains("127.0.0.1:17563"), "{e}");
}
