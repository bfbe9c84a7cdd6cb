//! Which hosts are amoCRM or Kommo accounts: the check a callback's `referer`, a pasted
//! `--account` and every token request go through before a secret leaves this machine.

use amo_core::{is_account_host, AccountHost};

/// What becomes of an input: accepted as this normalised host, or refused.
enum Want<'a> {
    Accept(&'a str),
    Reject,
}
use Want::{Accept, Reject};

/// Reads `input` as the engine does (parse, then the allow-list) and returns the host it
/// would send to, if any.
fn account_host(input: &str) -> Option<String> {
    let host = AccountHost::parse(input).ok()?;
    is_account_host(&host).then(|| host.to_string())
}

#[test]
fn account_hosts_are_normalised_and_everything_else_is_refused() {
    let long_label = "a".repeat(63);
    let too_long_label = "a".repeat(64);
    let long_ok = format!("{long_label}.amocrm.ru");
    let long_bad = format!("{too_long_label}.amocrm.ru");
    let table: Vec<(&str, Want<'_>)> = vec![
        // Accounts, as people and amoCRM write them.
        ("example.amocrm.ru", Accept("example.amocrm.ru")),
        ("ex-1.amocrm.com", Accept("ex-1.amocrm.com")),
        ("acme.kommo.com", Accept("acme.kommo.com")),
        ("12345.amocrm.ru", Accept("12345.amocrm.ru")),
        ("  Example.AmoCRM.ru  ", Accept("example.amocrm.ru")),
        ("HTTPS://Example.amocrm.ru/", Accept("example.amocrm.ru")),
        ("https://example.amocrm.ru", Accept("example.amocrm.ru")),
        ("Http://ACME.KOMMO.COM/", Accept("acme.kommo.com")),
        (&long_ok, Accept(long_ok.as_str())),
        // The platforms' own service hosts.
        ("www.amocrm.ru", Reject),
        ("WWW.kommo.com", Reject),
        ("id.amocrm.ru", Reject),
        ("id.kommo.com", Reject),
        ("help.amocrm.com", Reject),
        ("developers.amocrm.ru", Reject),
        ("api.kommo.com", Reject),
        ("api-a.amocrm.ru", Reject),
        ("api-b.amocrm.ru", Reject),
        ("api-c.kommo.com", Reject),
        ("oauth.amocrm.ru", Reject),
        ("auth.amocrm.ru", Reject),
        ("login.kommo.com", Reject),
        ("static.amocrm.ru", Reject),
        ("cdn.amocrm.ru", Reject),
        ("mail.amocrm.ru", Reject),
        ("support.kommo.com", Reject),
        ("status.amocrm.com", Reject),
        ("shop.kommo.com", Reject),
        ("blog.amocrm.ru", Reject),
        // Bare platform domains and look-alikes.
        ("amocrm.ru", Reject),
        ("kommo.com", Reject),
        (".amocrm.ru", Reject),
        ("exampleamocrm.ru", Reject),
        ("example.amocrm.org", Reject),
        ("example.amocrm.ru.evil.com", Reject),
        ("evil.com", Reject),
        ("example-amocrm.ru", Reject),
        // Hostile shapes.
        ("user@example.amocrm.ru", Reject),
        ("user:pass@example.amocrm.ru", Reject),
        ("https://user@example.amocrm.ru/", Reject),
        ("evil.com@example.amocrm.ru", Reject),
        ("example.amocrm.ru@evil.com", Reject),
        ("example.amocrm.ru:443", Reject),
        ("example.amocrm.ru:8080", Reject),
        ("example.amocrm.ru:", Reject),
        ("example.amocrm.ru:+443", Reject),
        ("example.amocrm.ru.", Reject),
        ("example.amocrm.ru..", Reject),
        ("example%2eamocrm.ru", Reject),
        ("example.amocrm.ru%00.evil.com", Reject),
        ("example.amocrm.ru%00", Reject),
        ("example.amocrm.ru\0", Reject),
        ("example.amocrm.ru\n.evil.com", Reject),
        ("xn--e1afmkfd.amocrm.ru", Reject),
        ("XN--80AK6AA92E.amocrm.ru", Reject),
        ("ab--cd.amocrm.ru", Reject),
        ("пример.amocrm.ru", Reject),
        ("example。amocrm.ru", Reject),
        ("127.0.0.1", Reject),
        ("127.0.0.1:8080", Reject),
        ("10.0.0.1", Reject),
        ("[::1]", Reject),
        ("[::1]:8080", Reject),
        ("::1", Reject),
        ("[2001:db8::1]", Reject),
        ("a..amocrm.ru", Reject),
        ("..amocrm.ru", Reject),
        ("", Reject),
        ("   ", Reject),
        (&long_bad, Reject),
        ("ex_ample.amocrm.ru", Reject),
        ("-example.amocrm.ru", Reject),
        ("example-.amocrm.ru", Reject),
        ("a.b.amocrm.ru", Reject),
        ("www.example.amocrm.ru", Reject),
        ("example.amocrm.ru/api/v4", Reject),
        ("example.amocrm.ru/", Accept("example.amocrm.ru")),
        ("example.amocrm.ru//", Reject),
        ("example.amocrm.ru?x=1", Reject),
        ("example.amocrm.ru#x", Reject),
        ("https://https://example.amocrm.ru", Reject),
        ("//example.amocrm.ru", Reject),
        ("ftp://example.amocrm.ru", Reject),
        ("example.amocrm.ru\\@evil.com", Reject),
        ("exa mple.amocrm.ru", Reject),
    ];
    assert!(table.len() >= 25);
    let mut wrong = Vec::new();
    for (input, want) in &table {
        let got = account_host(input);
        let ok = match want {
            Accept(norm) => got.as_deref() == Some(*norm),
            Reject => got.is_none(),
        };
        if !ok {
            let want = match want {
                Accept(norm) => format!("accept as {norm}"),
                Reject => "reject".to_owned(),
            };
            wrong.push(format!("{input:?}: want {want}, got {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} hosts judged wrongly:\n{}",
        wrong.len(),
        table.len(),
        wrong.join("\n")
    );
}
