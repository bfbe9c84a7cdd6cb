//! Secret strings: redacted `Debug`, no `Display`, compared in constant time.

use subtle::ConstantTimeEq;

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself, for the one place that must send or store it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Constant-time comparison.
            pub fn ct_eq(&self, other: &Self) -> bool {
                $crate::secret::ct_eq(&self.0, &other.0)
            }

            /// A masked form safe to show: the first 6 and last 4 characters at most.
            pub fn masked(&self) -> String {
                $crate::secret::mask(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_string!(
    /// The integration's client secret.
    ClientSecret
);
secret_string!(
    /// An OAuth access token or a long-lived token.
    AccessToken
);
secret_string!(
    /// A single-use OAuth refresh token.
    RefreshToken
);
secret_string!(
    /// A single-use authorization code.
    AuthCode
);

/// 32 bytes from the OS's random source, base64url without padding: an OAuth state, a
/// proxy key.
///
/// # Errors
/// [`crate::Error::Listen`] when the OS gives no random bytes.
pub(crate) fn random_token() -> crate::Result<String> {
    use base64::Engine as _;
    use rand::TryRngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| crate::Error::Listen {
            addr: "OS random source".into(),
            reason: e.to_string(),
        })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The first 8 bytes of `text`'s SHA-256, in hex: a plain, fixed-length name for any key
/// (a file name, a keychain item's name).
pub(crate) fn short_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub(crate) fn mask(s: &str) -> String {
    let n = s.chars().count();
    if n < 16 {
        return "•".repeat(n.min(8));
    }
    let head: String = s.chars().take(6).collect();
    let tail: String = s.chars().skip(n - 4).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let t = RefreshToken::new("def50200abcdef");
        assert_eq!(format!("{t:?}"), "RefreshToken([redacted])");
    }

    #[test]
    fn masking_keeps_only_the_edges() {
        let t = AccessToken::new("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signatureXYZ9");
        assert_eq!(t.masked(), "eyJ0eX…XYZ9");
        assert_eq!(AccessToken::new("short").masked(), "•••••");
    }

    #[test]
    fn comparison_is_by_value() {
        assert!(AuthCode::new("abc").ct_eq(&AuthCode::new("abc")));
        assert!(!AuthCode::new("abc").ct_eq(&AuthCode::new("abd")));
        assert!(!AuthCode::new("abc").ct_eq(&AuthCode::new("abcd")));
    }
}
