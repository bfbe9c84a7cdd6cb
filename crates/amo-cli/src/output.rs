//! What `amo` prints: every word from the catalogue, `--json` language-neutral.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use amo_core::{
    amo_said, rfc3339, AccountHost, AccountInfo, ConnectionStatus, Engine, Error, HostedState,
    Integration, Lang, PendingConnect,
};
use chrono::{DateTime, Local, Utc};

pub struct Out {
    lang: Lang,
}

impl Out {
    pub fn new(lang: Lang) -> Out {
        Out { lang }
    }

    pub fn tr(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.lang.tr(key, args)
    }

    pub fn line(&self, key: &str, args: &[(&str, &str)]) {
        println!("{}", self.tr(key, args));
    }

    /// A line on stderr, beside the output proper.
    pub fn note(&self, key: &str) {
        eprintln!("{}", self.tr(key, &[]));
    }

    pub fn prompt(&self, key: &str) {
        eprint!("{} ", self.tr(key, &[]));
        let _ = std::io::stderr().flush();
    }

    /// One clear line on stderr: what failed, what to do, where the log is.
    pub fn fail(&self, e: &Error, log: Option<&Path>) -> ExitCode {
        let mut line = format!("amo: {}", e.message(self.lang));
        if let Error::Amo(p) = e {
            line.push_str(&format!(" [amoCRM: {}]", amo_said(p)));
        }
        line.push(' ');
        line.push_str(&e.fix(self.lang));
        if let Some(log) = log {
            line.push(' ');
            line.push_str(&self.tr("cli.log_at", &[("path", &log.display().to_string())]));
        }
        eprintln!("{}", printable(&line));
        ExitCode::FAILURE
    }

    pub fn waiting(&self, p: &PendingConnect) {
        if let Some(e) = &p.browser_error {
            eprintln!("{}", self.tr("cli.browser_failed", &[("reason", e)]));
        }
        eprintln!("{}", self.tr("cli.open_this", &[]));
        println!("{}", p.authorize_url);
        let mins = ((p.expires_at - Utc::now()).num_seconds().max(0) + 59) / 60;
        eprintln!(
            "{}",
            self.tr(
                "cli.waiting",
                &[
                    ("addr", &p.listen_addr.to_string()),
                    ("mins", &mins.to_string())
                ]
            )
        );
    }

    pub fn connected(&self, s: &ConnectionStatus) {
        let name = printable(s.name.as_deref().unwrap_or("—"));
        let storage = self.tr(s.storage, &[]);
        println!(
            "{}",
            self.tr(
                "cli.connected",
                &[
                    ("name", &name),
                    ("account", &s.account),
                    ("storage", &storage)
                ]
            )
        );
    }

    pub fn refreshed(&self, s: &ConnectionStatus) {
        let until = s
            .expires_at
            .map(|t| self.when(t))
            .unwrap_or_else(|| "—".into());
        println!(
            "{}",
            self.tr(
                "cli.refreshed",
                &[("account", &s.account), ("until", &until)]
            )
        );
    }

    pub fn account(&self, host: &AccountHost, info: &AccountInfo, json: bool) {
        if json {
            println!("{}", serde_json::to_string_pretty(info).unwrap_or_default());
            return;
        }
        let rows = [
            ("cli.field.account", host.to_string()),
            ("cli.field.name", info.name.clone()),
            ("cli.field.id", info.id.to_string()),
            (
                "cli.field.subdomain",
                info.subdomain.clone().unwrap_or_default(),
            ),
            (
                "cli.field.country",
                info.country.clone().unwrap_or_default(),
            ),
            (
                "cli.field.currency",
                info.currency.clone().unwrap_or_default(),
            ),
        ];
        self.pairs(&rows);
    }

    pub fn status_json(&self, all: &[ConnectionStatus]) {
        let rows: Vec<_> = all
            .iter()
            .map(|c| {
                serde_json::json!({
                    "account": c.account,
                    "name": c.name,
                    "account_id": c.account_id,
                    "kind": c.kind,
                    "access_token": c.access_token_masked,
                    "expires_at": c.expires_at.map(rfc3339),
                    "expired": c.expired,
                    "created_at": rfc3339(c.created_at),
                    "updated_at": rfc3339(c.updated_at),
                    "last_refresh_at": c.last_refresh_at.map(rfc3339),
                    "state": c.state,
                    "usable": c.usable,
                    "reconnect_reason": c.reconnect_reason,
                    "last_error": c.last_error,
                    // Language-neutral, like every other field: `secret_service`, ….
                    "storage": c.storage.strip_prefix("storage.").unwrap_or(c.storage),
                    "api_base": c.api_base,
                    "moved_from": c.moved_from,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }

    pub fn status_table(&self, all: &[ConnectionStatus]) {
        if all.is_empty() {
            self.no_connections();
            return;
        }
        for (i, c) in all.iter().enumerate() {
            if i > 0 {
                println!();
            }
            let yes_no = |b: bool| self.tr(if b { "cli.yes" } else { "cli.no" }, &[]);
            let mut state = self.tr(&format!("state.{}", c.state.as_str()), &[]);
            if let Some(r) = &c.reconnect_reason {
                state.push_str(&format!(" ({r})"));
            }
            let rows = [
                ("cli.field.account", c.account.clone()),
                (
                    "cli.field.name",
                    c.name.clone().unwrap_or_else(|| "—".into()),
                ),
                ("cli.field.state", state),
                (
                    "cli.field.kind",
                    self.tr(&format!("kind.{}", c.kind.as_str()), &[]),
                ),
                (
                    "cli.field.token",
                    c.access_token_masked.clone().unwrap_or_else(|| "—".into()),
                ),
                (
                    "cli.field.expires",
                    c.expires_at
                        .map(|t| self.when(t))
                        .unwrap_or_else(|| "—".into()),
                ),
                ("cli.field.expired", yes_no(c.expired)),
                ("cli.field.created", self.when(c.created_at)),
                ("cli.field.updated", self.when(c.updated_at)),
                (
                    "cli.field.refreshed",
                    c.last_refresh_at
                        .map(|t| self.when(t))
                        .unwrap_or_else(|| "—".into()),
                ),
                ("cli.field.storage", self.tr(c.storage, &[])),
            ];
            self.pairs(&rows);
            if let Some(e) = c
                .last_error
                .as_ref()
                .filter(|_| c.reconnect_reason.is_none())
            {
                let label = self.tr("cli.field.last_error", &[]);
                println!("  {label}: {}", printable(e));
            }
        }
    }

    /// `--short`: a header, then one line per connection, the columns aligned.
    pub fn status_short(&self, all: &[ConnectionStatus]) {
        if all.is_empty() {
            self.no_connections();
            return;
        }
        // The local time alone: the state already says whether expiry is near, and the line
        // stays short enough for a terminal.
        let day = |t: Option<DateTime<Utc>>| {
            t.map_or_else(
                || "—".to_owned(),
                |t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
            )
        };
        let header = [
            "cli.field.account",
            "cli.field.name",
            "cli.field.state",
            "cli.field.expires",
            "cli.field.refreshed",
        ]
        .map(|k| self.tr(k, &[]));
        let mut lines = vec![header];
        for c in all {
            lines.push([
                c.account.clone(),
                printable(c.name.as_deref().unwrap_or("—")).into_owned(),
                self.tr(&format!("state.{}", c.state.as_str()), &[]),
                day(c.expires_at),
                day(c.last_refresh_at),
            ]);
        }
        aligned(&lines);
    }

    /// `amo integrations`: one aligned line each under a header, or a JSON list.
    pub fn integrations(&self, all: &[Integration], json: bool) {
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(all).expect("integrations serialise")
            );
            return;
        }
        if all.is_empty() {
            eprintln!("{}", self.tr("cli.no_integrations", &[]));
            return;
        }
        let header = [
            "cli.field.current",
            "cli.field.client_id",
            "cli.field.platform",
            "cli.field.client_secret_short",
            "cli.field.connections",
            "cli.field.redirect_uri",
        ]
        .map(|k| self.tr(k, &[]));
        let mut lines = vec![header];
        for i in all {
            lines.push([
                if i.current { "*" } else { "" }.to_owned(),
                printable(&i.client_id).into_owned(),
                i.platform.to_owned(),
                self.tr(
                    if i.secret_stored {
                        "cli.secret_set"
                    } else {
                        "cli.not_set"
                    },
                    &[],
                ),
                i.connections.to_string(),
                printable(&i.redirect_uri).into_owned(),
            ]);
        }
        aligned(&lines);
    }

    fn no_connections(&self) {
        eprintln!(
            "{} {}",
            self.tr("error.no_connections", &[]),
            self.tr("fix.no_connections", &[])
        );
    }

    pub fn config(&self, engine: &Engine) -> Result<(), Error> {
        let s = engine.settings()?;
        let env = |k: &str| {
            if s.overridden.contains(&k) {
                format!(" ({})", self.tr("cli.from_env", &[("var", k)]))
            } else {
                String::new()
            }
        };
        let secret = match engine.has_client_secret() {
            Ok(true) if s.overridden.contains(&"AMO_CLIENT_SECRET") => {
                self.tr("cli.secret_set", &[])
            }
            Ok(true) => format!(
                "{} — {}",
                self.tr("cli.secret_set", &[]),
                self.tr(engine.vault().storage_key(), &[])
            ),
            Ok(false) => self.tr("cli.not_set", &[]),
            Err(e) => e.message(self.lang),
        };
        let rows = [
            (
                "cli.field.client_id",
                format!(
                    "{}{}",
                    s.client_id
                        .clone()
                        .unwrap_or_else(|| self.tr("cli.not_set", &[])),
                    env("AMO_CLIENT_ID")
                ),
            ),
            (
                "cli.field.client_secret",
                format!("{secret}{}", env("AMO_CLIENT_SECRET")),
            ),
            (
                "cli.field.redirect_uri",
                format!("{}{}", s.redirect_uri.as_str(), env("AMO_REDIRECT_URI")),
            ),
            (
                "cli.field.platform",
                format!("{}{}", s.platform.as_str(), env("AMO_PLATFORM")),
            ),
            (
                "cli.field.base_url",
                s.base_url
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |u| format!("{u}{}", env("AMO_BASE_URL"))),
            ),
            ("cli.field.lang", self.lang.code().to_owned()),
            ("cli.field.autostart", self.switch(engine.autostart())),
            (
                "cli.field.notifications",
                self.switch(engine.notifications()),
            ),
            ("cli.field.proxy", self.hosted_proxy(engine)?),
            (
                "cli.field.data",
                engine.data_dir().root().display().to_string(),
            ),
            ("cli.field.log", engine.log_path().display().to_string()),
        ];
        self.pairs(&rows);
        Ok(())
    }

    /// The always-on proxy: off, or on with its address and what the host made of it.
    fn hosted_proxy(&self, engine: &Engine) -> Result<String, Error> {
        let settings = engine.hosted_proxy()?;
        if !settings.on {
            return Ok(self.switch(false));
        }
        let state = match engine.hosted_proxy_state() {
            HostedState::Serving { account, .. } => {
                self.tr("cli.proxy_serving", &[("account", &account)])
            }
            HostedState::Failed { reason, .. } => reason,
            HostedState::Off => self.tr("cli.proxy_waiting", &[]),
        };
        Ok(format!(
            "{} — {} ({state})",
            self.switch(true),
            settings.url()
        ))
    }

    fn switch(&self, on: bool) -> String {
        self.tr(if on { "cli.on" } else { "cli.off" }, &[])
    }

    fn pairs(&self, rows: &[(&str, String)]) {
        let labels: Vec<String> = rows.iter().map(|(k, _)| self.tr(k, &[])).collect();
        let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        for (label, (_, value)) in labels.iter().zip(rows) {
            let pad = " ".repeat(width - label.chars().count());
            println!("{label}{pad}  {}", printable(value));
        }
    }

    /// Local time and a relative phrase: `2026-11-27 20:15 (через 23 часа)`.
    fn when(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&Local).format("%Y-%m-%d %H:%M");
        format!("{local} ({})", self.relative(t))
    }

    fn relative(&self, t: DateTime<Utc>) -> String {
        amo_core::when::relative(self.lang, t, Utc::now())
    }
}

/// `s` with every control character, and every character that reorders text on screen,
/// shown as an escape: amoCRM chooses account names and error texts, and a terminal must
/// not take them for commands.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if unsafe_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// Prints `lines` as columns two spaces apart, each as wide as its widest cell.
fn aligned<const N: usize>(lines: &[[String; N]]) {
    let mut widths = [0; N];
    for line in lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for line in lines {
        let mut text = String::new();
        for (w, cell) in widths.iter().zip(line) {
            text.push_str(cell);
            text.push_str(&" ".repeat(w - cell.chars().count() + 2));
        }
        println!("{}", text.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(printable("Acme\u{1b}[2J\n"), "Acme\\u{1b}[2J\\u{a}");
        assert_eq!(printable("a\u{202e}b\u{9b}c"), "a\\u{202e}b\\u{9b}c");
        assert_eq!(printable("Рога и копыта — «ООО»"), "Рога и копыта — «ООО»");
    }
}
