//! The activity log: each step of a flow or refresh as a JSON line, secrets redacted,
//! rotated by size.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::i18n::Lang;
use crate::paths::set_private;

const ROTATE_AT: u64 = 512 * 1024;
/// The longest detail or account kept in one entry; more is cut with a count of the rest.
const MAX_FIELD: usize = 1024;

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub ts: DateTime<Utc>,
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default)]
    pub ok: bool,
}

/// An entry as the window shows it: its time on the local clock and its detail in the
/// window's language. `verbatim` marks a detail that is a value (an address, a program, an
/// account's name) rather than words to translate.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    #[serde(flatten)]
    pub entry: Entry,
    pub clock: String,
    pub shown: String,
    pub verbatim: bool,
    /// amoCRM's own words inside the detail (`[amoCRM: …]`), to quote as they came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amo: Option<String>,
}

impl Entry {
    /// A step as of now, `detail` redacted and every field capped, to record.
    pub fn new(step: &str, account: Option<&str>, detail: &str, ok: bool) -> Entry {
        Entry {
            ts: Utc::now(),
            step: step.to_owned(),
            account: account.map(|a| cap(a, 260)),
            detail: cap(&redact(detail), MAX_FIELD),
            ok,
        }
    }

    /// This entry in `lang`, with times on the machine's clock.
    pub fn view(&self, lang: Lang) -> EntryView {
        let local = |t: DateTime<Utc>| t.with_timezone(&chrono::Local);
        let count = |key: &str| {
            self.detail
                .parse::<u64>()
                .map(|n| crate::when::plural(lang, key, n, &[]))
                .unwrap_or_else(|_| self.detail.clone())
        };
        let (shown, verbatim) = match self.step.as_str() {
            "state_created" => match DateTime::parse_from_rfc3339(&self.detail) {
                Ok(t) => {
                    let time = crate::when::clock_short(lang, &local(t.to_utc()));
                    (lang.tr("detail.valid_until", &[("time", &time)]), false)
                }
                Err(_) => (self.detail.clone(), true),
            },
            "callbacks_refused" => (count("detail.refused"), false),
            "cleanup" => (count("detail.cleanup"), false),
            "listening" | "ipv6_unavailable" | "browser_opened" | "api_account" => {
                (self.detail.clone(), true)
            }
            _ => (self.detail.clone(), false),
        };
        let (shown, amo) = match shown.split_once(" [amoCRM: ") {
            Some((before, rest)) => match rest.split_once(']') {
                Some((said, after)) => (format!("{before}{after}"), Some(said.to_owned())),
                None => (shown, None),
            },
            None => (shown, None),
        };
        EntryView {
            clock: crate::when::clock(lang, &local(self.ts)),
            entry: self.clone(),
            shown,
            verbatim,
            amo,
        }
    }
}

/// The log file of one data folder.
pub struct Journal {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Journal {
    pub fn new(path: PathBuf) -> Journal {
        Journal {
            path,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a step; `detail` is redacted first. Failing to log never fails the caller.
    pub fn record(&self, step: &str, account: Option<&str>, detail: &str, ok: bool) -> Entry {
        let entry = Entry::new(step, account, detail, ok);
        self.record_all(std::slice::from_ref(&entry));
        entry
    }

    /// Appends entries made with [`Entry::new`], under one lock. Failing to log never fails
    /// the caller.
    pub fn record_all(&self, entries: &[Entry]) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self.append(entries);
    }

    /// Appends under a lock file shared with every process on this data folder, so two
    /// that rotate at once cannot rename the fresh log over the rotated one.
    fn append(&self, entries: &[Entry]) -> std::io::Result<()> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.sibling(".lock"))?;
        set_private(&self.sibling(".lock"), 0o600)?;
        crate::lockfile::lock(&lock, &self.sibling(".lock"), crate::lockfile::Wait::Setup)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::TimedOut, e.to_string()))?;
        if fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0) > ROTATE_AT {
            fs::rename(&self.path, self.rotated())?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        set_private(&self.path, 0o600)?;
        let mut lines = String::new();
        for entry in entries {
            lines.push_str(&serde_json::to_string(entry).unwrap_or_default());
            lines.push('\n');
        }
        f.write_all(lines.as_bytes())
    }

    fn rotated(&self) -> PathBuf {
        self.sibling(".1")
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// The newest `limit` entries, newest first.
    pub fn recent(&self, limit: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        for path in [self.path.clone(), self.rotated()] {
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            for line in text.lines().rev() {
                if out.len() >= limit {
                    return out;
                }
                if let Ok(e) = serde_json::from_str::<Entry>(line) {
                    out.push(e);
                }
            }
        }
        out
    }
}

/// At most `max` bytes of `s` (on a character boundary), and how many were cut.
fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (+{} bytes)", &s[..end], s.len() - end)
}

/// Formats a time as the log and `--json` do.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

const SECRET_NAMES: &[&str] = &[
    "code",
    "state",
    "access_token",
    "refresh_token",
    "client_secret",
    "token",
    "authorization",
];

/// Hides anything that may be a secret: values of secret-named parameters or JSON fields,
/// and any long run of token characters.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && is_token_char(chars[i]) {
            i += 1;
        }
        if i > start {
            let word: String = chars[start..i].iter().collect();
            if word.len() >= 24 && word.chars().any(|c| c.is_ascii_digit()) {
                out.push_str("[redacted]");
            } else {
                out.push_str(&word);
            }
            // name=value, "name":"value", name: value
            if SECRET_NAMES.contains(&word.to_ascii_lowercase().as_str()) {
                let mut j = i;
                let mut assigned = false;
                while j < chars.len() && matches!(chars[j], '"' | '\'' | ':' | '=' | ' ') {
                    assigned |= matches!(chars[j], ':' | '=');
                    out.push(chars[j]);
                    j += 1;
                }
                if assigned && j < chars.len() && is_token_char(chars[j]) {
                    while j < chars.len() && (is_token_char(chars[j]) || chars[j] == ' ') {
                        if chars[j] == ' ' && !word.eq_ignore_ascii_case("authorization") {
                            break;
                        }
                        j += 1;
                    }
                    out.push_str("[redacted]");
                }
                i = j;
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '%' | '~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_log() {
        let s = redact(
            "GET /amocrm/callback?code=def502001a2b&state=Zx9 referer=ex.amocrm.ru \
             {\"refresh_token\":\"abc\"} Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJ9",
        );
        for secret in ["def502001a2b", "Zx9", "abc", "eyJ0eXAi", "Bearer"] {
            assert!(!s.contains(secret), "{secret} leaked in {s}");
        }
        assert!(s.contains("referer=ex.amocrm.ru"), "{s}");
    }

    #[test]
    fn plain_words_stay() {
        assert_eq!(
            redact("exchange failed: HTTP 401"),
            "exchange failed: HTTP 401"
        );
        assert_eq!(
            redact("state created, code exchanged"),
            "state created, code exchanged"
        );
    }

    #[test]
    fn entries_come_back_newest_first_across_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path().join("activity.log"));
        j.record("state_created", None, "", true);
        j.record("browser_opened", None, "", true);
        let recent = j.recent(10);
        assert_eq!(recent[0].step, "browser_opened");
        assert_eq!(recent.len(), 2);
        fs::write(j.path(), "x".repeat(ROTATE_AT as usize + 1)).unwrap();
        j.record("after_rotation", None, "", true);
        assert_eq!(j.recent(1)[0].step, "after_rotation");
        assert!(j.rotated().exists());
    }

    #[test]
    fn long_fields_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path().join("activity.log"));
        let e = j.record("x", Some(&"a".repeat(5000)), &"b ".repeat(5000), false);
        assert!(e.account.unwrap().len() < 300);
        assert!(e.detail.len() < MAX_FIELD + 40 && e.detail.ends_with("bytes)"));
    }

    /// Processes rotating at once lose nothing: every line written is in the log or in
    /// its one rotated file, with writers racing across the rotation threshold.
    #[test]
    fn concurrent_writers_rotate_without_losing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("activity.log");
        let detail = "d".repeat(900);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                // A journal each: what two processes on one data folder have.
                let (path, detail) = (path.clone(), detail.clone());
                std::thread::spawn(move || {
                    let j = Journal::new(path);
                    for i in 0..150 {
                        j.record(&format!("w{t}_{i}"), None, &detail, true);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // 600 lines of about 1 KB: just over one rotation, none of them lost.
        let kept = Journal::new(path).recent(10_000).len();
        assert_eq!(kept, 600);
    }
}
