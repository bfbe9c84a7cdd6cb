//! The user's browser: the commands in `$BROWSER` first, then the operating system's opener.
//!
//! `xdg-open` prefers the desktop's default browser to `$BROWSER` whenever a display is
//! set, so a user (or a test) who names a browser there would be ignored. As gh, git and
//! Python's `webbrowser` do, `$BROWSER` is read here: a list of commands separated as `PATH`
//! is (`:`, on Windows `;`), each split into words like a shell word list (quotes and
//! backslashes), on Windows as a Windows program splits its command line (where a backslash
//! is a path's separator); no shell runs, nothing is expanded. In a command `%s` becomes the
//! address, `%%` a `%` and `%c` a `:`; without `%s` the address is added as the last
//! argument. It is always one argument of its own, never part of a shell string. The first
//! command that starts wins; the browser is not waited for. When none starts (or `$BROWSER`
//! is empty), the `open` crate's opener runs.

use std::io;
use std::process::{Child, Command, Stdio};

// How `$BROWSER` is read and a browser started apart: one file per platform, the same items.
#[cfg(not(windows))]
mod unix;
#[cfg(not(windows))]
use unix::{own_group, split_words, LIST_SEPARATOR};
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows::{own_group, split_words, LIST_SEPARATOR};

/// Who took the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Opened {
    /// A `$BROWSER` command started: its program.
    Browser(String),
    /// The operating system's opener (`xdg-open`, `open`, `start`).
    System,
}

impl Opened {
    /// What the activity log notes: the started program's file name (a full path would
    /// read as a secret to the log's redaction), or nothing for the system's opener.
    pub(crate) fn log_detail(&self) -> String {
        match self {
            Opened::Browser(program) => std::path::Path::new(program)
                .file_name()
                .map_or_else(|| program.clone(), |n| n.to_string_lossy().into_owned()),
            Opened::System => String::new(),
        }
    }
}

/// Opens `url` in the user's browser, `$BROWSER` (given as `browser_var`) first.
///
/// # Errors
/// Why nothing could start, naming each command tried (never the address).
pub(crate) fn open(url: &str, browser_var: Option<&str>) -> Result<Opened, String> {
    let mut failures = Vec::new();
    if let Some(var) = browser_var {
        match start(var, url) {
            Ok((program, child)) => {
                reap(child);
                return Ok(Opened::Browser(program));
            }
            Err(tried) => failures = tried,
        }
    }
    match open::that_detached(url) {
        Ok(()) => Ok(Opened::System),
        Err(e) => {
            failures.push(format!("system opener: {e}"));
            Err(failures.join("; "))
        }
    }
}

/// Starts the first command of `browser_var` that can start, with `url` in its arguments;
/// returns its program and process.
///
/// # Errors
/// One line per command that did not start (no command at all gives an empty list).
fn start(browser_var: &str, url: &str) -> Result<(String, Child), Vec<String>> {
    let mut failures = Vec::new();
    for words in commands(browser_var) {
        let argv = argv(&words, url);
        let (program, args) = argv.split_first().expect("a command has a first word");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: an interrupt of `amo` in a terminal leaves the browser be.
        own_group(&mut cmd);
        match cmd.spawn() {
            Ok(child) => return Ok((program.clone(), child)),
            Err(e) => failures.push(format!("$BROWSER {program}: {}", reason(&e))),
        }
    }
    Err(failures)
}

fn reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "not found".to_owned(),
        io::ErrorKind::PermissionDenied => "not executable".to_owned(),
        _ => e.to_string(),
    }
}

/// Waits for a started browser on a thread of its own, so it leaves no zombie behind.
fn reap(mut child: Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

/// The commands of `$BROWSER`, each as words; empty entries and entries that do not split
/// (an unclosed quote) are skipped.
fn commands(browser_var: &str) -> Vec<Vec<String>> {
    browser_var
        .split(LIST_SEPARATOR)
        .filter_map(split_words)
        .filter(|w| !w.is_empty())
        .collect()
}

/// The arguments for `url`: `%s` becomes the address, `%%` a `%`, `%c` a `:`; when no word
/// had `%s`, the address is added at the end. The address is never scanned for `%`.
fn argv(words: &[String], url: &str) -> Vec<String> {
    let mut placed = false;
    let mut out: Vec<String> = words
        .iter()
        .map(|word| {
            let mut w = String::with_capacity(word.len());
            let mut chars = word.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, chars.peek()) {
                    ('%', Some('s')) => {
                        w.push_str(url);
                        placed = true;
                        chars.next();
                    }
                    ('%', Some('%')) => {
                        w.push('%');
                        chars.next();
                    }
                    ('%', Some('c')) => {
                        w.push(':');
                        chars.next();
                    }
                    (c, _) => w.push(c),
                }
            }
            w
        })
        .collect();
    if !placed {
        out.push(url.to_owned());
    }
    out
}

#[cfg(test)]
mod tests;
