//! Refresh against the emulator with a keychain double that refuses writes on demand:
//! nothing is rotated that could not be kept, and a rotated pair is fought for.

use std::collections::HashMap;
use std::sync::Arc;

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle, DEFAULT_REDIRECT_URI};
use tempfile::TempDir;

use crate::vault::double::Double;
use crate::{AccountHost, ConnState, DataDir, Engine, Error, Vault};

struct World {
    emu: EmulatorHandle,
    dir: TempDir,
    engine: Engine,
    keychain: Arc<Double>,
    account: AccountHost,
}

/// An emulator, an engine on a fresh data folder and a keychain double, and one connection
/// made through a real code exchange.
async fn connected() -> World {
    let emu = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("AMO_BASE_URL", emu.base_url()),
        ("AMO_CLIENT_ID", emu.client_id().to_owned()),
        ("AMO_CLIENT_SECRET", emu.client_secret().to_owned()),
        ("AMO_REDIRECT_URI", DEFAULT_REDIRECT_URI.to_owned()),
        ("AMO_LANG", "en".to_owned()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let keychain = Double::new();
    let engine = Engine::open_with(
        DataDir::at(dir.path()),
        Vault::with_double(keychain.clone()),
        move |k| env.get(k).cloned(),
    )
    .unwrap();
    engine
        .connect_with_code(&emu.issue_code(), &emu.account_host())
        .await
        .unwrap();
    let account = AccountHost::parse(&emu.account_host()).unwrap();
    World {
        emu,
        dir,
        engine,
        keychain,
        account,
    }
}

impl World {
    fn refresh_token(&self) -> String {
        let set = self.engine.vault().load_tokens(&self.account).unwrap();
        set.unwrap().refresh_token.unwrap().expose().to_owned()
    }

    /// The token items the keychain holds, by name.
    fn token_items(&self) -> Vec<(String, String)> {
        let items = self.keychain.items().into_iter();
        items.filter(|(k, _)| k.starts_with("tokens:")).collect()
    }

    /// Every file of the data folder, as text.
    fn data_text(&self) -> String {
        let mut all = String::new();
        let mut stack = vec![self.dir.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    let bytes = std::fs::read(e.path()).unwrap_or_default();
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        }
        all
    }
}

#[tokio::test]
async fn no_refresh_is_sent_while_the_keychain_refuses_writes() {
    let w = connected().await;
    let before = w.emu.stats();
    let items = w.token_items();
    w.keychain.refuse_writes(true);

    let e = w.engine.refresh(&w.account).await.unwrap_err();
    assert!(matches!(e, Error::KeychainUnavailable { .. }), "{e:?}");
    let after = w.emu.stats();
    assert_eq!(
        after.token_requests, before.token_requests,
        "nothing was rotated that could not be kept"
    );
    assert_eq!(w.token_items(), items);
    let status = w.engine.connection(&w.account).unwrap();
    assert_ne!(status.state, ConnState::ReconnectNeeded);
    assert!(status.last_error.is_some_and(|s| s.contains("keychain")));

    // Once the keychain takes writes again, the same refresh token still works.
    w.keychain.refuse_writes(false);
    w.engine.refresh(&w.account).await.unwrap();
    let stats = w.emu.stats();
    assert_eq!(stats.refresh_grants, before.refresh_grants + 1);
    assert_eq!(stats.revoked_refresh_used, 0);
}

#[tokio::test]
async fn a_rotated_pair_the_keychain_refuses_at_first_is_kept_on_a_later_try() {
    let w = connected().await;
    let old = w.refresh_token();
    let writes = w.keychain.token_writes();
    w.keychain.refuse_token_writes(2);

    let status = w.engine.refresh(&w.account).await.unwrap();
    assert_eq!(status.state, ConnState::Connected);
    assert!(w.keychain.token_writes() - writes > 2, "written again");
    assert_ne!(w.refresh_token(), old, "the new pair is stored");
    // Only the committed set is left: its head and the parts it names.
    let items = w.token_items();
    let head: serde_json::Value =
        serde_json::from_str(&w.keychain.items()[&format!("tokens:{}", w.account)]).unwrap();
    assert_eq!(items.len() as u64, 1 + head["parts"].as_u64().unwrap_or(0));

    // The kept refresh token is the live one.
    w.engine.refresh(&w.account).await.unwrap();
    let stats = w.emu.stats();
    assert_eq!(stats.refresh_grants, 2);
    assert_eq!(stats.revoked_refresh_used, 0);
}

#[tokio::test]
async fn a_rotated_pair_the_keychain_keeps_refusing_marks_the_connection_with_that_reason() {
    let w = connected().await;
    let old = w.engine.vault().load_tokens(&w.account).unwrap().unwrap();
    let items = w.token_items();
    let writes = w.keychain.token_writes();
    w.keychain.refuse_token_writes(u32::MAX);

    let e = w.engine.refresh(&w.account).await.unwrap_err();
    assert!(matches!(e, Error::KeychainRefusedNewTokens { .. }), "{e:?}");
    assert_eq!(e.kind(), "keychain_refused_new_tokens");
    let said = e.to_string();
    assert!(
        said.contains("issued new tokens") && said.contains("keychain refused them"),
        "{said}"
    );
    assert_eq!(w.emu.stats().refresh_grants, 1, "amoCRM did rotate");
    assert_eq!(w.keychain.token_writes() - writes, 3, "three tries");
    assert_eq!(w.token_items(), items, "nothing half-written is left");

    let status = w.engine.connection(&w.account).unwrap();
    assert_eq!(status.state, ConnState::ReconnectNeeded);
    let reason = status.reconnect_reason.unwrap();
    assert!(
        reason.contains("keychain refused them") && reason.contains("test keychain"),
        "the connection names this reason: {reason}"
    );
    let logged = w.engine.activity(5);
    assert!(
        logged.iter().any(|e| e.step == "new_tokens_unsaved"
            && !e.ok
            && e.detail.contains("keychain refused them")),
        "{logged:?}"
    );

    // The dead refresh token is not sent again, and no token reached a log or the database.
    let tokens = w.emu.stats().token_requests;
    let again = w.engine.refresh(&w.account).await.unwrap_err();
    assert!(again.needs_reconnect(), "{again:?}");
    assert_eq!(w.emu.stats().token_requests, tokens);
    let text = w.data_text();
    assert!(!text.contains(old.access_token.expose()));
    assert!(!text.contains(old.refresh_token.unwrap().expose()));
}
