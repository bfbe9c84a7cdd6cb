//! Random protocol strings shaped like amoCRM's: ids, secrets, codes, refresh tokens, JWTs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::distr::Alphanumeric;
use rand::{Rng, RngCore};
use serde_json::json;

/// Scopes a fresh amoCRM integration token carries.
const SCOPES: [&str; 5] = [
    "crm",
    "files",
    "files_delete",
    "notifications",
    "push_notifications",
];

/// `n` random ASCII letters and digits (amoCRM's secrets are 64 of them).
pub fn alphanumeric(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// `n` random bytes as lowercase hex.
pub fn hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random version-4 UUID in its usual 8-4-4-4-12 spelling.
pub fn uuid_like() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An authorization code: `def50200` and hex, about 600 characters, like amoCRM's.
pub fn authorization_code() -> String {
    format!("def50200{}", hex(296))
}

/// A refresh token: `def50200` and hex, 700 characters, like amoCRM's.
pub fn refresh_token() -> String {
    format!("def50200{}", hex(346))
}

/// What goes into an access token's claims besides its times.
pub struct Claims<'a> {
    /// The integration's client id (`aud`).
    pub client_id: &'a str,
    /// The user who granted access (`sub`).
    pub user_id: u64,
    /// The account (`account_id`).
    pub account_id: u64,
    /// Where API calls go (`api_domain`): the emulator's own host.
    pub api_domain: &'a str,
    /// Issue time, unix seconds, on the emulator's clock.
    pub issued_at: i64,
    /// Expiry, unix seconds, on the emulator's clock.
    pub expires_at: i64,
}

/// A JWT-shaped access token of about 1 KB: base64url header, payload and a random
/// 256-byte "RS256 signature". Nobody verifies the signature; the emulator looks tokens up.
pub fn access_token(c: &Claims<'_>) -> String {
    let jti = hex(40);
    let header = json!({ "typ": "JWT", "alg": "RS256", "jti": jti });
    let payload = json!({
        "aud": c.client_id,
        "jti": jti,
        "iat": c.issued_at,
        "nbf": c.issued_at,
        "exp": c.expires_at,
        "sub": c.user_id.to_string(),
        "grant_type": "",
        "account_id": c.account_id,
        "base_domain": "amocrm.ru",
        "version": 2,
        "scopes": SCOPES,
        "hash_uuid": uuid_like(),
        "user_flags": 0,
        "api_domain": c.api_domain,
    });
    let mut signature = [0u8; 256];
    rand::rng().fill_bytes(&mut signature);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// Compares two secrets without stopping at the first differing byte.
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_is_a_kilobyte_jwt_with_the_claims() {
        let t = access_token(&Claims {
            client_id: "cid",
            user_id: 7,
            account_id: 42,
            api_domain: "127.0.0.1:9",
            issued_at: 1_000,
            expires_at: 2_000,
        });
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!((900..1400).contains(&t.len()), "length {}", t.len());
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload["aud"], "cid");
        assert_eq!(payload["account_id"], 42);
        assert_eq!(payload["exp"], 2_000);
        assert_eq!(payload["api_domain"], "127.0.0.1:9");
    }

    #[test]
    fn refresh_token_is_700_chars_and_unique() {
        let a = refresh_token();
        assert_eq!(a.len(), 700);
        assert_ne!(a, refresh_token());
    }

    #[test]
    fn uuid_like_has_the_usual_shape() {
        let u = uuid_like();
        let groups: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
    }

    #[test]
    fn ct_eq_compares_contents_and_length() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
    }
}
