//! `api_url`: which PATH forms reach the account, and that every other one is refused.

use url::Url;

use super::api_url;
use crate::error::Error;

const ROOTS: [&str; 2] = ["https://example.amocrm.ru/", "http://127.0.0.1:17564/"];

/// `{a}` is the account's own host and port in `form`, `{s}` its scheme.
fn fill(form: &str, root: &Url) -> String {
    let authority = &root[url::Position::BeforeHost..url::Position::AfterPort];
    form.replace("{a}", authority).replace("{s}", root.scheme())
}

#[test]
fn paths_and_the_accounts_own_addresses_reach_the_account() {
    let cases = [
        ("api/v4/account", "/api/v4/account"),
        ("/api/v4/account", "/api/v4/account"),
        ("api/v4/leads?limit=250", "/api/v4/leads?limit=250"),
        (
            "/api/v4/leads?page=2&limit=3#top",
            "/api/v4/leads?page=2&limit=3",
        ),
        (
            "api/v4/contacts?query=%D0%98%D0%B2%D0%B0%D0%BD",
            "/api/v4/contacts?query=%D0%98%D0%B2%D0%B0%D0%BD",
        ),
        (
            "api/v4/leads?filter[name]=a%2Fb",
            "/api/v4/leads?filter[name]=a%2Fb",
        ),
        ("api/v4/../v4/account", "/api/v4/account"),
        ("", "/"),
        ("{s}://{a}/api/v4/leads?page=2", "/api/v4/leads?page=2"),
        ("{s}://{a}/api/v4/account", "/api/v4/account"),
    ];
    for root in ROOTS {
        let root = Url::parse(root).unwrap();
        for (form, want) in cases {
            let path = fill(form, &root);
            let url = api_url(&root, &path, &[])
                .unwrap_or_else(|e| panic!("{path:?} on {root} was refused: {e}"));
            assert_eq!(url.origin(), root.origin(), "{path:?}");
            assert_eq!(&url[url::Position::BeforePath..], want, "{path:?}");
        }
    }
    // An upper-case scheme is the same address once parsed.
    let root = Url::parse(ROOTS[0]).unwrap();
    let url = api_url(&root, "HTTPS://Example.AmoCRM.ru/api/v4/account", &[]).unwrap();
    assert_eq!(url.as_str(), "https://example.amocrm.ru/api/v4/account");
}

#[test]
fn query_values_are_encoded_and_stay_on_the_account() {
    let root = Url::parse(ROOTS[0]).unwrap();
    let query = [
        ("query".to_owned(), "//evil.example/\\x y".to_owned()),
        ("@evil.example".to_owned(), "#".to_owned()),
    ];
    let url = api_url(&root, "api/v4/contacts", &query).unwrap();
    assert_eq!(url.origin(), root.origin());
    assert_eq!(url.path(), "/api/v4/contacts");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs, query);
}

#[test]
fn every_other_form_is_refused_before_anything_is_sent() {
    let forms = [
        // Backslashes, read as slashes.
        "\\\\evil.example/api/v4/account",
        "/\\evil.example/api/v4/account",
        "\\/evil.example/",
        "api\\v4\\account",
        "{s}:\\\\evil.example\\",
        "{s}://{a}\\@evil.example/",
        // Tabs and line breaks, dropped by the parser wherever they stand.
        "\t//evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r/evil.example/",
        "h\tttp://evil.example/",
        "{s}:/\t/evil.example/",
        "api/v4/account\n",
        "\u{0}api/v4/account",
        "api/v4/\u{7f}account",
        "api/v4/\u{85}account",
        // White space, stripped at either end by the parser.
        " //evil.example/",
        "api/v4/account ",
        "\u{a0}//evil.example/",
        "\u{3000}//evil.example/",
        // Scheme-relative.
        "//evil.example/api/v4/account",
        "///evil.example/",
        "//{a}/api/v4/account",
        // Percent-encoded separators and control characters.
        "%2F%2Fevil.example/x",
        "/%2f%2fevil.example/x",
        "/%09/evil.example/x",
        "/%5C%5Cevil.example/x",
        "api/v4/%00account",
        "{s}://{a}/%2F%2Fevil.example/",
        // Another host, in any spelling.
        "http://evil.example/api/v4/account",
        "https://evil.example/api/v4/account",
        "HTTP://evil.example/",
        "hTtPs://evil.example/",
        "http:evil.example/",
        "https:evil.example/",
        "http:/evil.example/",
        "{s}:{a}/api/v4/account",
        "{s}:/{a}/api/v4/account",
        "http://[::1]:17564/",
        "http://[::ffff:127.0.0.1]:17564/",
        "http://127.0.0.1.:17565/",
        "http://2130706433:17565/",
        "http://0x7f.1:17565/",
        "http://localhost:17565/",
        "https://example.amocrm.ru./",
        "https://example.amocrm.ru.evil.example/",
        "https://evil.example#@example.amocrm.ru/",
        "https://evil.example?@example.amocrm.ru/",
        // The account's host with user info, or its host with user info in front of another.
        "{s}://user@{a}/api/v4/account",
        "{s}://user:password@{a}/api/v4/account",
        "{s}://:@{a}/api/v4/account",
        "{s}://{a}@evil.example/api/v4/account",
        "http://127.0.0.1:17564@evil.example/",
        // The account's host on another scheme or port.
        "{s}://{a}:1/api/v4/account",
        "ws://{a}/",
        "ftp://{a}/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/plain,x",
        "mailto:x@{a}",
        "leads:1",
    ];
    for root in ROOTS {
        let root = Url::parse(root).unwrap();
        for form in forms {
            let path = fill(form, &root);
            match api_url(&root, &path, &[]) {
                Err(Error::ApiPathRefused {
                    path: shown,
                    account,
                }) => {
                    assert!(!shown.chars().any(char::is_control), "{shown:?}");
                    assert_eq!(
                        account,
                        &root[url::Position::BeforeHost..url::Position::AfterPort]
                    );
                }
                other => panic!("{path:?} on {root}: {other:?}"),
            }
        }
    }
}

#[test]
fn the_refusal_shows_the_path_with_control_characters_escaped() {
    let root = Url::parse(ROOTS[0]).unwrap();
    let e = api_url(&root, "/\t/evil.example/\u{1b}[2J", &[]).unwrap_err();
    let text = e.message(crate::i18n::Lang::default());
    assert!(text.contains("/\\u{9}/evil.example/\\u{1b}[2J"), "{text}");
    assert!(text.contains("example.amocrm.ru"), "{text}");
    assert!(!text.chars().any(char::is_control), "{text:?}");
}
