//! The vault against keychain doubles: layouts, each keychain's item limit, refusals.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{TimeZone, Utc};

use super::double::Double;
use super::*;

fn acc() -> AccountHost {
    AccountHost::parse("example.amocrm.ru").unwrap()
}

fn set_with(access: String, refresh: String) -> TokenSet {
    TokenSet {
        kind: TokenKind::Oauth,
        access_token: AccessToken::new(access),
        refresh_token: Some(RefreshToken::new(refresh)),
        expires_at: Utc.timestamp_opt(1_900_000_000, 0).single(),
    }
}

fn set(access_len: usize) -> TokenSet {
    set_with("a".repeat(access_len), "r".repeat(700))
}

/// A JWT shaped like amoCRM's: base64url header and claims, a 256-byte RS256 signature;
/// `extra` bytes of claims make it larger.
fn jwt(extra: usize) -> String {
    let jti = "9f".repeat(40);
    let header = format!(r#"{{"typ":"JWT","alg":"RS256","jti":"{jti}"}}"#);
    let claims = format!(
        r#"{{"aud":"0b9a5c47-2b1f-4c8e-9d3a-6f1e2d4c8b7a","jti":"{jti}","iat":1700000000,"nbf":1700000000,"exp":1700086400,"sub":"11223344","grant_type":"","account_id":31234567,"base_domain":"amocrm.ru","version":2,"scopes":["crm","files","files_delete","notifications","push_notifications"],"hash_uuid":"5d0c1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f","user_flags":0,"api_domain":"api-b.amocrm.ru","x":"{}"}}"#,
        "p".repeat(extra)
    );
    let signature: Vec<u8> = (0..=255u8).collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A refresh token shaped like amoCRM's: `def50200` and hex.
fn refresh_token(len: usize) -> String {
    let hex: String = (0..len)
        .map(|i| b"0123456789abcdef"[i % 16] as char)
        .collect();
    format!("def50200{}", &hex[8..])
}

/// The sets real accounts get: a ~1 KB JWT and a 700-character refresh token, and a larger
/// pair (a JWT of ~4 KB, a refresh token of 1,400).
fn realistic_sets() -> Vec<TokenSet> {
    let normal = set_with(jwt(0), refresh_token(700));
    let large = set_with(jwt(2_300), refresh_token(1_400));
    let n = normal.access_token.expose().len();
    assert!((950..=1_150).contains(&n), "a ~1 KB JWT, got {n}");
    assert!(large.access_token.expose().len() > 3_500);
    vec![normal, large]
}

/// The item the vault writes for `set`, before any splitting.
fn blob(set: &TokenSet) -> String {
    serde_json::to_string(&StoredSet {
        v: 1,
        kind: set.kind,
        access_token: set.access_token.expose().to_owned(),
        refresh_token: set.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        expires_at: set.expires_at.map(|t| t.timestamp_millis()),
    })
    .unwrap()
}

/// Whether Windows Credential Manager keeps `s`, by keyring 3.6's own rule: the password
/// goes in as UTF-16 with no terminator, at most `CRED_MAX_CREDENTIAL_BLOB_SIZE` = 2,560
/// bytes.
fn windows_keeps(s: &str) -> bool {
    s.encode_utf16().count() * 2 <= 2_560
}

fn same(a: &TokenSet, b: &TokenSet) -> bool {
    a.kind == b.kind
        && a.access_token.ct_eq(&b.access_token)
        && match (&a.refresh_token, &b.refresh_token) {
            (Some(x), Some(y)) => x.ct_eq(y),
            (None, None) => true,
            _ => false,
        }
        && a.expires_at == b.expires_at
}

#[test]
fn token_sets_round_trip_small_and_split() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    for len in [100, 5000, 300] {
        v.save_tokens(&acc(), &set(len)).unwrap();
        let got = v.load_tokens(&acc()).unwrap().unwrap();
        assert!(same(&got, &set(len)));
    }
    assert_eq!(d.items().len(), 1, "old parts are removed after a commit");
    assert!(v.delete_tokens(&acc()).unwrap());
    assert!(v.load_tokens(&acc()).unwrap().is_none());
    assert!(d.items().is_empty());
}

#[test]
fn realistic_token_sets_round_trip_on_every_keychain_within_its_own_limit() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    for s in realistic_sets() {
        v.save_tokens(&acc(), &s).unwrap();
        let got = v.load_tokens(&acc()).unwrap().unwrap();
        assert!(same(&got, &s));
        let items = d.items();
        assert!(items.len() > 2, "a head and parts: {:?}", items.keys());
        for (key, item) in items {
            assert!(windows_keeps(&item), "{key}: {} bytes", item.len());
            for limit in ITEM_LIMITS {
                let size = limit.unit.measure(&item);
                assert!(size <= limit.max, "{}: {key} holds {size}", limit.backend);
            }
        }
    }
}

#[test]
fn realistic_token_sets_are_split_into_the_fewest_parts_windows_keeps() {
    for s in realistic_sets() {
        let blob = blob(&s);
        assert!(
            !windows_keeps(&blob),
            "a {}-byte set fits one item",
            blob.len()
        );
        let parts = split(&blob, &ITEM_LIMITS);
        assert_eq!(parts.concat(), blob);
        assert!(
            parts.iter().all(|p| windows_keeps(p)),
            "{:?}",
            sizes(&parts)
        );
        let units = blob.encode_utf16().count();
        assert_eq!(parts.len(), units.div_ceil(1_280), "{:?}", sizes(&parts));
    }
}

/// Each part's size in UTF-16 units.
fn sizes(parts: &[&str]) -> Vec<usize> {
    parts.iter().map(|p| p.encode_utf16().count()).collect()
}

#[test]
fn an_item_too_large_for_a_keychain_is_refused_before_the_keychain_is_asked() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    let secret = "s".repeat(1_281);
    assert!(!windows_keeps(&secret));
    let e = v
        .save_client_secret("one", &ClientSecret::new(secret))
        .unwrap_err();
    assert!(matches!(e, Error::KeychainUnavailable { .. }), "{e:?}");
    assert!(e.to_string().contains(WINDOWS_CREDENTIALS.backend), "{e}");
    assert_eq!(
        d.log(),
        Vec::<String>::new(),
        "nothing reached the keychain"
    );
    // One unit less is kept.
    let secret = "s".repeat(1_280);
    v.save_client_secret("one", &ClientSecret::new(secret))
        .unwrap();
    assert_eq!(d.log(), ["set client-secret:one"]);
}

#[test]
fn parts_are_measured_in_each_keychains_own_units() {
    // 'ж' is 2 UTF-8 bytes and 1 UTF-16 unit; '😀' is 4 bytes and 2 units.
    let s: String = "aж😀".repeat(700);
    let parts = split(&s, &ITEM_LIMITS);
    assert_eq!(parts.concat(), s);
    for part in &parts {
        for limit in ITEM_LIMITS {
            assert!(limit.admits(part), "{}: {}", limit.backend, part.len());
        }
    }
    assert!(
        parts[..parts.len() - 1]
            .iter()
            .all(|p| WINDOWS_CREDENTIALS.unit.measure(p) + 2 > WINDOWS_CREDENTIALS.max),
        "each part but the last is filled up to the Windows limit"
    );
}

#[test]
fn every_item_fits_the_smallest_keychain() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    v.save_tokens(&acc(), &set(9000)).unwrap();
    assert!(d.items().len() > 2);
    assert!(d
        .items()
        .values()
        .all(|s| ITEM_LIMITS.iter().all(|l| l.admits(s))));
}

#[test]
fn probe_fails_when_the_keychain_reads_but_refuses_writes() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    v.probe().unwrap();
    d.refuse_writes(true);
    assert!(v.load_tokens(&acc()).unwrap().is_none(), "reads still work");
    let e = v.probe().unwrap_err();
    assert!(matches!(e, Error::KeychainUnavailable { .. }), "{e:?}");
}

#[test]
fn probe_fails_when_the_keychain_is_locked() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    v.probe().unwrap();
    d.set_locked(true);
    let e = v.probe().unwrap_err();
    assert!(matches!(e, Error::KeychainUnavailable { .. }), "{e:?}");
    d.set_locked(false);
    v.probe().unwrap();
}

#[test]
fn probes_rewrite_one_item_and_never_add_or_remove_another() {
    // Items added and removed at each connect and refresh cost GNOME Keyring locked memory
    // it does not give back: the probe keeps one item and rewrites it.
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    for _ in 0..5 {
        v.probe().unwrap();
    }
    let names: Vec<String> = d.items().into_keys().collect();
    assert_eq!(names, [PROBE_KEY], "one probe item, kept");
    assert!(
        d.log().iter().all(|op| *op == format!("set {PROBE_KEY}")),
        "{:?}",
        d.log()
    );
    v.check_reachable().unwrap();
    assert_eq!(d.log().len(), 5, "checking reachability writes nothing");
}

#[test]
fn a_committed_save_succeeds_even_when_old_parts_cannot_be_removed() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    v.save_tokens(&acc(), &set(5000)).unwrap();
    d.refuse_deletes(true);
    v.save_tokens(&acc(), &set(6000))
        .expect("the new set is committed; leftovers are not a failure");
    assert!(same(&v.load_tokens(&acc()).unwrap().unwrap(), &set(6000)));
    v.save_tokens(&acc(), &set(100)).unwrap();
    assert!(same(&v.load_tokens(&acc()).unwrap().unwrap(), &set(100)));
}

#[test]
fn a_new_pair_is_committed_before_anything_of_the_old_one_is_removed() {
    // amoCRM has already spent the old refresh token when a rotated pair is saved: the new
    // pair must be in the keychain before anything of the old one goes.
    for (old, new) in [(5000, 6000), (100, 6000), (5000, 100), (100, 200)] {
        let d = Double::new();
        let v = Vault::with_double(d.clone());
        v.save_tokens(&acc(), &set(old)).unwrap();
        let before = d.log().len();
        v.save_tokens(&acc(), &set(new)).unwrap();
        let log = d.log().split_off(before);
        let head = format!("set tokens:{}", acc());
        let commit = log
            .iter()
            .position(|op| *op == head)
            .expect("the head is written");
        let first_removal = log.iter().position(|op| op.starts_with("delete "));
        assert!(
            first_removal.is_none_or(|r| r > commit),
            "{old} -> {new}: {log:?}"
        );
        assert!(same(&v.load_tokens(&acc()).unwrap().unwrap(), &set(new)));
    }
}

#[test]
fn a_refused_save_keeps_the_old_set_and_leaves_no_parts() {
    let d = Double::new();
    let v = Vault::with_double(d.clone());
    v.save_tokens(&acc(), &set(5000)).unwrap();
    let before = d.items();
    // Let the new parts through and refuse the commit of the head that names them.
    let parts = u32::try_from(split(&blob(&set(6000)), &ITEM_LIMITS).len()).unwrap();
    assert!(parts > 1);
    d.refuse_token_writes_after(parts, 1);
    assert!(v.save_tokens(&acc(), &set(6000)).is_err());
    assert_eq!(d.items(), before, "nothing of the new set is left");
    assert!(same(&v.load_tokens(&acc()).unwrap().unwrap(), &set(5000)));
}

#[test]
fn client_secrets_are_filed_per_client() {
    let v = Vault::in_memory();
    v.save_client_secret("one", &ClientSecret::new("s1"))
        .unwrap();
    assert_eq!(v.load_client_secret("one").unwrap().unwrap().expose(), "s1");
    assert!(v.load_client_secret("two").unwrap().is_none());
}
