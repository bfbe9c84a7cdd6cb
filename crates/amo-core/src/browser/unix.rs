//! `$BROWSER` on Unix: commands separated by `:`, as `PATH`'s folders are, each split as a
//! shell splits a word list; a browser started in a process group of its own.

use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// What separates the commands of `$BROWSER`: what separates the folders of `PATH`.
pub(super) const LIST_SEPARATOR: char = ':';

/// A process group of its own: an interrupt of `amo` in a terminal leaves the browser be.
pub(super) fn own_group(cmd: &mut Command) {
    cmd.process_group(0);
}

/// Splits `s` as a POSIX shell splits a word list, without any expansion: blanks separate
/// words, `'…'` is literal, `"…"` is literal but for `\` before `$`, `` ` ``, `"`, `\` or a
/// newline, and `\` outside quotes takes the next character as it is. `None` for an
/// unclosed quote or a trailing `\`.
pub(super) fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('$' | '`' | '"' | '\\') => w.push(c),
                            '\n' => {}
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                c => word.get_or_insert_with(String::new).push(c),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}
