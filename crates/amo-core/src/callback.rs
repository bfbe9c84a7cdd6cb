//! The parameters a browser brings back to the redirect URI, bounded and validated before
//! anything logs, shows or acts on them.

use crate::error::{Error, Result};

/// At most this many parameters in one callback (amoCRM sends five or six).
pub const MAX_PARAMS: usize = 32;

/// A known parameter: its name, its longest value, and the characters it may hold.
type Limit = (&'static str, usize, fn(char) -> bool);

/// The longest value each known parameter may have, and what it may contain.
const LIMITS: &[Limit] = &[
    ("state", 128, is_state_char),
    ("code", 4096, is_code_char),
    ("referer", 253 + 6, is_host_char),
    ("error", 64, is_error_char),
    ("client_id", 200, is_code_char),
];

/// A callback's parameters that matter to a flow; every other parameter is ignored.
///
/// A known parameter that is repeated, too long or holds unexpected characters makes the
/// whole callback invalid: nothing of it is kept beyond the parameter's name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub referer: Option<String>,
    pub error: Option<String>,
    pub client_id: Option<String>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("Callback")
            .field("state", &shown(&self.state))
            .field("code", &shown(&self.code))
            .field("referer", &self.referer)
            .field("error", &self.error)
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl Callback {
    /// Parses a query string (without the `?`).
    ///
    /// # Errors
    /// [`Error::CallbackInvalid`] naming the first parameter that breaks a limit.
    pub fn from_query(query: &str) -> Result<Callback> {
        let mut cb = Callback::default();
        for (n, (key, value)) in url::form_urlencoded::parse(query.as_bytes()).enumerate() {
            if n >= MAX_PARAMS {
                return Err(Error::CallbackInvalid { param: "count" });
            }
            let Some(&(name, max, allowed)) = LIMITS.iter().find(|(k, _, _)| *k == key) else {
                continue;
            };
            let invalid = Error::CallbackInvalid { param: name };
            if value.len() > max || !value.chars().all(allowed) {
                return Err(invalid);
            }
            let slot = match name {
                "state" => &mut cb.state,
                "code" => &mut cb.code,
                "referer" => &mut cb.referer,
                "error" => &mut cb.error,
                _ => &mut cb.client_id,
            };
            if slot.is_some() {
                return Err(invalid);
            }
            *slot = Some(value.into_owned());
        }
        Ok(cb)
    }
}

fn is_state_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')
}

fn is_code_char(c: char) -> bool {
    c.is_ascii_graphic()
}

/// A host with an optional port and scheme, as `AccountHost::parse` takes it; it checks more.
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '/')
}

fn is_error_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(e: Error) -> &'static str {
        match e {
            Error::CallbackInvalid { param } => param,
            other => panic!("not CallbackInvalid: {other:?}"),
        }
    }

    #[test]
    fn amocrm_callback_parses_and_unknown_params_are_ignored() {
        let cb = Callback::from_query(
            "code=def502&state=AbC-_1&referer=example.amocrm.ru&platform=1&client_id=0b1-2c",
        )
        .unwrap();
        assert_eq!(cb.code.as_deref(), Some("def502"));
        assert_eq!(cb.state.as_deref(), Some("AbC-_1"));
        assert_eq!(cb.referer.as_deref(), Some("example.amocrm.ru"));
        assert_eq!(cb.client_id.as_deref(), Some("0b1-2c"));
        assert_eq!(cb.error, None);
    }

    #[test]
    fn a_long_referer_is_refused_without_keeping_it() {
        let q = format!("state=s&referer={}.amocrm.ru", "x".repeat(7000));
        let e = Callback::from_query(&q).unwrap_err();
        assert!(!format!("{e:?}").contains("xxxx"));
        assert_eq!(param(e), "referer");
    }

    #[test]
    fn each_limit_holds() {
        for (q, p) in [
            ("state=a%20b", "state"),
            (&format!("state={}", "a".repeat(129)), "state"),
            ("code=a%0Ab", "code"),
            ("referer=ex.amocrm.ru%00", "referer"),
            ("referer=user@ex.amocrm.ru", "referer"),
            ("error=%3Cscript%3E", "error"),
            ("state=a&state=b", "state"),
            (&"x=1&".repeat(40), "count"),
        ] {
            assert_eq!(param(Callback::from_query(q).unwrap_err()), p, "{q:.60}");
        }
    }

    #[test]
    fn debug_hides_state_and_code() {
        let cb = Callback::from_query("code=secretcode&state=secretstate").unwrap();
        let shown = format!("{cb:?}");
        assert!(!shown.contains("secretcode") && !shown.contains("secretstate"));
    }
}
