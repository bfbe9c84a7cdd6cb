//! The small self-contained page the browser shows after the callback.

use crate::error::Error;
use crate::i18n::Lang;

pub(crate) fn success(lang: Lang, account: &str) -> String {
    render(
        lang,
        true,
        &lang.tr("page.success.title", &[("account", account)]),
        &lang.tr("page.success.body", &[]),
    )
}

pub(crate) fn failure(lang: Lang, e: &Error) -> String {
    let mut body = e.message(lang);
    if let Error::Amo(p) = e {
        body.push_str(&format!(" ({})", crate::error::amo_said(p)));
    }
    body.push(' ');
    body.push_str(&e.fix(lang));
    render(lang, false, &lang.tr("page.failure.title", &[]), &body)
}

fn render(lang: Lang, ok: bool, title: &str, body: &str) -> String {
    let (mark, color) = if ok {
        ("✓", "#1a7f37")
    } else {
        ("!", "#b42318")
    };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title><style>\
body{{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;\
min-height:100vh;background:#f6f7f9;color:#1d2127}}\
main{{max-width:28rem;padding:2rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px #0002;text-align:center}}\
b{{display:inline-block;width:3rem;height:3rem;line-height:3rem;border-radius:50%;\
color:#fff;background:{color};font-size:1.5rem}}\
@media (prefers-color-scheme:dark){{body{{background:#16181c;color:#e6e8eb}}\
main{{background:#22252a}}}}</style></head><body><main><b>{mark}</b><h1>{title}</h1>\
<p>{body}</p><p>{app}</p></main></body></html>",
        lang = lang.code(),
        title = escape(title),
        body = escape(body),
        app = escape(&lang.tr("page.return", &[])),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
