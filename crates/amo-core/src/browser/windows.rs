//! `$BROWSER` on Windows: commands separated by `;`, as `PATH`'s folders are (a path keeps
//! its drive's `:`), each split as a Windows program splits its command line; a browser
//! started in a process group of its own.

use std::os::windows::process::CommandExt as _;
use std::process::Command;

/// What separates the commands of `$BROWSER`: what separates the folders of `PATH`.
pub(super) const LIST_SEPARATOR: char = ';';

/// The process creation flag that puts a child in a process group of its own.
const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;

/// A process group of its own: Ctrl+C given to `amo` in a console leaves the browser be.
pub(super) fn own_group(cmd: &mut Command) {
    cmd.creation_flags(CREATE_NEW_PROCESS_GROUP);
}

/// Splits `s` as a Windows program splits its command line (the C runtime's rules, which
/// `CommandLineToArgvW` shares): spaces and tabs separate words, `"` opens and closes a
/// quoted run, and backslashes are literal but before a `"`, where 2n of them give n and the
/// quote opens or closes, 2n+1 give n and a literal `"`. `None` for an unclosed quote.
pub(super) fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' if !quoted => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\\' => {
                let mut run = 1;
                while chars.next_if_eq(&'\\').is_some() {
                    run += 1;
                }
                let w = word.get_or_insert_with(String::new);
                if chars.peek() == Some(&'"') {
                    w.extend(std::iter::repeat_n('\\', run / 2));
                    if run % 2 == 1 {
                        w.push('"');
                        chars.next();
                    }
                } else {
                    w.extend(std::iter::repeat_n('\\', run));
                }
            }
            '"' => {
                word.get_or_insert_with(String::new);
                quoted = !quoted;
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quoted {
        return None;
    }
    words.extend(word);
    Some(words)
}
