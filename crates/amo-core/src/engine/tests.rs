//! Several integrations: each added one keeps its redirect URI and platform, whether its
//! secret is stored is known from the database, and choosing one changes what new
//! connections are made with.

use tempfile::TempDir;

use super::*;
use crate::config::NewSettings;
use crate::error::Error;

/// An engine on a fresh data folder and an in-memory keychain, with no environment.
fn engine() -> (TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open_with(DataDir::at(dir.path()), Vault::in_memory(), |k| {
        (k == "AMO_LANG").then(|| "en".to_owned())
    })
    .unwrap();
    (dir, engine)
}

fn add(engine: &Engine, id: &str, redirect: &str, platform: &str) {
    engine
        .save_settings(NewSettings {
            client_id: Some(id.into()),
            client_secret: Some(ClientSecret::new(format!("secret-of-{id}"))),
            redirect_uri: Some(redirect.into()),
            platform: Some(platform.into()),
            ..NewSettings::default()
        })
        .unwrap();
}

#[test]
fn each_integration_keeps_its_own_redirect_uri_and_platform() {
    let (_dir, engine) = engine();
    add(
        &engine,
        "first",
        "http://127.0.0.1:17563/amocrm/callback",
        "kommo",
    );
    add(&engine, "second", "http://127.0.0.1:18000/cb", "amocrm");

    let all = engine.integrations().unwrap();
    let ids: Vec<(&str, bool)> = all
        .iter()
        .map(|i| (i.client_id.as_str(), i.current))
        .collect();
    assert_eq!(ids, [("first", false), ("second", true)]);
    assert_eq!(all[0].platform, "kommo");
    assert_eq!(
        all[0].redirect_uri,
        "http://127.0.0.1:17563/amocrm/callback"
    );
    assert!(all.iter().all(|i| i.secret_stored));

    engine.choose_integration("first").unwrap();
    let s = engine.settings().unwrap();
    assert_eq!(s.client_id.as_deref(), Some("first"));
    assert_eq!(s.platform, Platform::Kommo);
    assert_eq!(
        s.redirect_uri.as_str(),
        "http://127.0.0.1:17563/amocrm/callback"
    );
    assert_eq!(
        engine.redirect_uri_of("second").unwrap().as_str(),
        "http://127.0.0.1:18000/cb"
    );
    assert_eq!(
        engine.client_secret("second").unwrap().expose(),
        "secret-of-second"
    );
}

#[test]
fn choosing_an_integration_never_added_names_those_that_were() {
    let (_dir, engine) = engine();
    add(
        &engine,
        "first",
        "http://127.0.0.1:17563/amocrm/callback",
        "amocrm",
    );
    match engine.choose_integration("typo") {
        Err(Error::UnknownIntegration { client_id, known }) => {
            assert_eq!((client_id.as_str(), known.as_str()), ("typo", "first"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        engine.settings().unwrap().client_id.as_deref(),
        Some("first")
    );
}

#[test]
fn whether_a_secret_is_stored_is_read_from_the_database() {
    let (_dir, engine) = engine();
    add(
        &engine,
        "first",
        "http://127.0.0.1:17563/amocrm/callback",
        "amocrm",
    );
    // Removed outside the connector: the form still says stored (nothing read the keychain)
    // until the secret is needed; then the form asks for it again.
    assert!(engine.vault().delete_client_secret("first").unwrap());
    assert!(engine.has_client_secret().unwrap());
    assert!(matches!(
        engine.client_secret("first"),
        Err(Error::NotConfigured {
            what: "client_secret"
        })
    ));
    assert!(!engine.has_client_secret().unwrap());
}
