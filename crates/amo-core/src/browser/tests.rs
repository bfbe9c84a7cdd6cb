//! `$BROWSER`: how it is split on each system, how the address is placed, which command is
//! chosen.

use super::*;

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_address_is_one_argument_placed_at_percent_s_or_last() {
    let url = "http://127.0.0.1:9/oauth?a=%73&b=$(rm -rf ~);c='d' \"e\"";
    assert_eq!(argv(&words(&["firefox"]), url), words(&["firefox", url]));
    assert_eq!(
        argv(&words(&["chromium", "--app=%s", "--new-window"]), url),
        vec![
            "chromium".to_owned(),
            format!("--app={url}"),
            "--new-window".to_owned()
        ]
    );
    // %% is a percent sign and %c a colon; neither places the address.
    assert_eq!(
        argv(&words(&["run", "100%%", "a%cb", "%x"]), url),
        words(&["run", "100%", "a:b", "%x", url])
    );
    assert_eq!(
        argv(&words(&["run", "%%s"]), url),
        words(&["run", "%s", url])
    );
    // Every %s is filled; the address itself is not scanned for % again.
    assert_eq!(
        argv(&words(&["open", "%s", "%s"]), "http://x/%s%%"),
        words(&["open", "http://x/%s%%", "http://x/%s%%"])
    );
}

fn run(var: &str, url: &str) -> (String, std::process::ExitStatus) {
    let (program, mut child) = start(var, url).expect("a command starts");
    (program, child.wait().unwrap())
}

#[test]
fn when_no_command_starts_each_is_named_and_the_address_is_not() {
    let url = "http://127.0.0.1:1/oauth?state=SECRET-STATE";
    let s = LIST_SEPARATOR;
    let var = format!("/nonexistent/one{s}/nonexistent/two %s{s}{s}");
    let err = start(&var, url).unwrap_err();
    assert_eq!(
        err,
        vec![
            "$BROWSER /nonexistent/one: not found".to_owned(),
            "$BROWSER /nonexistent/two: not found".to_owned()
        ]
    );
    assert!(start("", url).unwrap_err().is_empty());
}

#[test]
fn the_log_notes_the_program_by_its_file_name() {
    let opened = Opened::Browser("/tmp/amo-e2e-ru-1a2b3c4d5e6f7g8h9i0j/browser".into());
    assert_eq!(opened.log_detail(), "browser");
    assert_eq!(Opened::Browser("firefox".into()).log_detail(), "firefox");
    assert_eq!(Opened::System.log_detail(), "");
    if cfg!(windows) {
        let opened = Opened::Browser(r"C:\Program Files\Mozilla Firefox\firefox.exe".into());
        assert_eq!(opened.log_detail(), "firefox.exe");
    }
}

// A POSIX shell's word lists with `:` between them are how every system but Windows reads
// `$BROWSER`, and the recorder is a shell script.
#[cfg(not(windows))]
mod posix {
    use super::*;
    use std::path::Path;

    #[test]
    fn browser_is_a_colon_separated_list_of_shell_word_lists() {
        assert_eq!(commands("firefox"), vec![words(&["firefox"])]);
        assert_eq!(
            commands("/usr/bin/chromium --incognito:firefox"),
            vec![
                words(&["/usr/bin/chromium", "--incognito"]),
                words(&["firefox"])
            ]
        );
        assert_eq!(
            commands(r#"'/opt/my browser/run' "--title=a \"b\"" c\ d %s"#),
            vec![words(&[
                "/opt/my browser/run",
                "--title=a \"b\"",
                "c d",
                "%s"
            ])]
        );
        // Nothing is expanded: no variables, no home, no globs, no command substitution.
        assert_eq!(
            commands("echo $HOME ~ * $(id) `id`"),
            vec![words(&["echo", "$HOME", "~", "*", "$(id)", "`id`"])]
        );
        // Empty entries and entries that do not split are skipped, the others kept.
        assert_eq!(commands(""), Vec::<Vec<String>>::new());
        assert_eq!(commands(" : :: "), Vec::<Vec<String>>::new());
        assert_eq!(
            commands("'unclosed:firefox:trailing\\"),
            vec![words(&["firefox"])]
        );
        assert_eq!(commands(r#"a"b"'c'd"#), vec![words(&["abcd"])]);
        assert_eq!(commands("''"), vec![words(&[""])]);
    }

    /// A `$BROWSER` command that writes how many arguments it got, then each on a line.
    fn recorder(out: &Path, extra: &str) -> String {
        format!(
            "sh -c 'echo \"$#\" > {out}; for a; do echo \"$a\" >> {out}; done' sh {extra}",
            out = out.display()
        )
    }

    #[test]
    fn the_first_command_that_starts_wins_and_gets_the_address_as_one_argument() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let url = "http://127.0.0.1:17563/cb?code=a b&x=$(touch pwned);y=`id`|z";
        let var = format!(
            "/nonexistent/browser --new-tab:{}:{}",
            dir.path().display(), // a folder: not executable
            recorder(&out, "")
        );
        let (program, status) = run(&var, url);
        assert_eq!(program, "sh");
        assert!(status.success());
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(got, format!("1\n{url}\n"));
        assert!(
            !dir.path().join("pwned").exists(),
            "no shell saw the address"
        );
    }

    #[test]
    fn percent_s_places_the_address_inside_an_argument() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let url = "http://127.0.0.1:1/oauth?state=x%2By";
        let (_, status) = run(&recorder(&out, "--url=%s --flag"), url);
        assert!(status.success());
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(got, format!("2\n--url={url}\n--flag\n"));
    }
}

// Windows command lines with `;` between them are how Windows reads `$BROWSER`, and the
// recorder is `reg.exe`.
#[cfg(windows)]
mod windows {
    use super::*;
    use rand::Rng;
    use windows_registry::CURRENT_USER;

    /// A registry key of the test's own, removed when the test ends, where `reg.exe` (a
    /// `$BROWSER` command every Windows has) records the argument it was given.
    struct Recorder(String);

    impl Recorder {
        fn new() -> Recorder {
            let id = rand::rng().random::<u64>();
            Recorder(format!(r"Software\amo-connector-test-browser-{id:016x}"))
        }

        /// The command: `reg add` with `args` after the value's name (`/d` names the data).
        fn command(&self, args: &str) -> String {
            format!(r"reg add HKCU\{} /v arg {args}", self.0)
        }

        /// The data `reg` wrote, read back through the registry API.
        fn recorded(&self) -> Option<String> {
            CURRENT_USER.open(&self.0).ok()?.get_string("arg").ok()
        }
    }

    impl Drop for Recorder {
        fn drop(&mut self) {
            let _ = CURRENT_USER.remove_tree(&self.0);
        }
    }

    #[test]
    fn browser_is_a_semicolon_separated_list_of_windows_command_lines() {
        assert_eq!(
            commands(r#""C:\Program Files\Mozilla Firefox\firefox.exe" -new-tab;msedge"#),
            vec![
                words(&[r"C:\Program Files\Mozilla Firefox\firefox.exe", "-new-tab"]),
                words(&["msedge"])
            ]
        );
        // A backslash is a path's: literal, but before a `"`, where 2n give n and quote,
        // 2n+1 give n and a literal `"`.
        assert_eq!(
            commands(r#"C:\a\b.exe "C:\c d\\" e\\\"f g\\\\"h i" %s"#),
            vec![words(&[
                r"C:\a\b.exe",
                r"C:\c d\",
                r#"e\"f"#,
                r"g\\h i",
                "%s"
            ])]
        );
        // Nothing is expanded: no variables, no shell.
        assert_eq!(
            commands("cmd %PATH% & echo $HOME | x"),
            vec![words(&["cmd", "%PATH%", "&", "echo", "$HOME", "|", "x"])]
        );
        // Empty entries and entries that do not split are skipped, the others kept.
        assert_eq!(commands(" ; ;; "), Vec::<Vec<String>>::new());
        assert_eq!(
            commands(r#""C:\unclosed;firefox"#),
            vec![words(&["firefox"])]
        );
        assert_eq!(commands(r#"a"b c"d"#), vec![words(&["ab cd"])]);
        assert_eq!(commands(r#""""#), vec![words(&[""])]);
    }

    #[test]
    fn the_first_command_that_starts_wins_and_gets_the_address_as_one_argument() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Recorder::new();
        let url = r#"http://127.0.0.1:17563/cb?code=a b&x=%PATH%;y=$(id)|z^"q\"#;
        let var = format!(
            r#"C:\nonexistent\browser.exe --new-tab;"{}";{}"#,
            dir.path().display(), // a folder: not executable
            recorder.command("/f /d")
        );
        let (program, status) = run(&var, url);
        assert_eq!(program, "reg");
        assert!(status.success());
        assert_eq!(recorder.recorded().as_deref(), Some(url));
    }

    #[test]
    fn percent_s_places_the_address_inside_an_argument() {
        let recorder = Recorder::new();
        let url = "http://127.0.0.1:1/oauth?state=x%2By";
        // Were the address added at the end too, `reg` would refuse the extra argument.
        let (_, status) = run(&recorder.command("/d --url=%s /f"), url);
        assert!(status.success());
        assert_eq!(recorder.recorded(), Some(format!("--url={url}")));
    }
}
