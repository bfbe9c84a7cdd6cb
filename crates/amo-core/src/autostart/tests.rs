//! Start at login on each system, the app's binary and the other switches. The XDG entry's
//! `Exec` is checked against the Desktop Entry Specification's reading and
//! `desktop-file-validate`; the Run value is read back from the registry.

use super::*;
use crate::paths::DataDir;
use crate::vault::Vault;

/// An engine whose home is `home` and whose Run value (on Windows) is [`test_value`].
fn engine(home: &Path) -> Engine {
    let name = test_value(home);
    let home = home.to_owned();
    Engine::open_with(
        DataDir::at(home.join("data")),
        Vault::in_memory(),
        move |k| match k {
            "HOME" => Some(home.display().to_string()),
            "AMO_TEST_RUN_VALUE" => Some(name.clone()),
            _ => None,
        },
    )
    .unwrap()
}

/// The Run value a test's engine writes: named after its home, so tests running at once
/// never share one, and never the real value.
fn test_value(home: &Path) -> String {
    let folder = home.file_name().expect("a temporary folder has a name");
    format!("amo-connector-test-{}", folder.to_string_lossy())
}

#[test]
fn a_path_with_a_line_break_or_another_control_character_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    for path in [
        "/opt/a\nb/amo",
        "/opt/a\rb/amo",
        "/opt/a\tb/amo",
        "/opt/\u{1b}[0m/amo",
    ] {
        let err = e.set_autostart(true, Path::new(path)).unwrap_err();
        assert!(matches!(err, Error::AutostartPathUnfit { .. }), "{err:?}");
        let message = err.to_string();
        assert!(!message.contains(char::is_control), "{message}");
        assert!(!e.autostart(), "nothing is written for {path:?}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/opt/\xff/amo"));
        let err = e.set_autostart(true, path).unwrap_err();
        assert!(matches!(err, Error::AutostartPathUnfit { .. }), "{err:?}");
    }
}

#[test]
fn the_app_is_found_beside_amo_by_its_file_name_on_this_system() {
    let dir = tempfile::tempdir().unwrap();
    let amo = dir.path().join(format!("amo{EXE_SUFFIX}"));
    let name = format!("amo-connector{EXE_SUFFIX}");
    assert_eq!(
        app_binary(Some(&amo)),
        Path::new(&name),
        "not installed: the bare name"
    );
    let app = dir.path().join(&name);
    std::fs::write(&app, "").unwrap();
    assert_eq!(app_binary(Some(&amo)), app);
    assert_eq!(app_binary(None), Path::new(&name));
    assert_eq!(this_app(Some(&app)), app);
    assert_eq!(this_app(None), Path::new(&name));
}

// Only Linux renames a running program whose file an upgrade replaced.
#[cfg(target_os = "linux")]
#[test]
fn after_an_upgrade_the_entry_names_the_installed_binary_not_the_deleted_one() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join(APP_BINARY);
    std::fs::write(&app, "").unwrap();
    let deleted = dir.path().join(format!("{APP_BINARY}{DELETED}"));
    assert_eq!(this_app(Some(&deleted)), app);
    assert_eq!(this_app(Some(&app)), app);
    let gone = dir.path().join(format!("gone{DELETED}"));
    assert_eq!(this_app(Some(&gone)), Path::new(APP_BINARY));
    assert_eq!(this_app(None), Path::new(APP_BINARY));
}

#[test]
fn notifications_are_on_until_turned_off() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    assert!(e.notifications());
    e.set_notifications(false).unwrap();
    assert!(!e.notifications());
    assert!(parse_switch("autostart", "maybe").is_err());
    assert!(parse_switch("autostart", "ON").unwrap());
}

// The XDG autostart entry is how every system but Windows starts the app at login.
#[cfg(not(windows))]
mod xdg_entry {
    use super::*;
    use crate::autostart::xdg::RESERVED;

    #[test]
    fn autostart_on_writes_an_entry_that_starts_hidden_and_off_removes_it() {
        let home = tempfile::tempdir().unwrap();
        let e = engine(home.path());
        assert!(!e.autostart());
        let exec = Path::new("/opt/my apps/amo-connector");
        let path = PathBuf::from(e.set_autostart(true, exec).unwrap());
        assert_eq!(
            path,
            home.path().join(".config/autostart/amo-connector.desktop")
        );
        assert_eq!(e.autostart_path().unwrap(), path);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .any(|l| l == "Exec=\"/opt/my apps/amo-connector\" --hidden"),
            "{text}"
        );
        assert!(e.autostart());
        e.set_autostart(false, exec).unwrap();
        assert!(!path.exists());
        e.set_autostart(false, exec).unwrap();
    }

    /// An `Exec` value read back as the Desktop Entry Specification says: the escapes of a
    /// string value, then the quoting of each argument, then `%%`. Panics on anything the
    /// specification does not allow (an unknown escape, a reserved character outside
    /// quotes, a field code).
    fn read_exec(value: &str) -> Vec<String> {
        let mut unescaped = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                unescaped.push(c);
                continue;
            }
            unescaped.push(match chars.next() {
                Some('s') => ' ',
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('\\') => '\\',
                other => panic!("invalid string escape \\{other:?} in {value}"),
            });
        }
        let mut words = Vec::new();
        let mut chars = unescaped.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c == ' ' {
                chars.next();
                continue;
            }
            let mut word = String::new();
            if c == '"' {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '`' | '$' | '\\')) => word.push(e),
                            other => panic!("invalid quoted escape {other:?} in {value}"),
                        },
                        Some(c) => word.push(c),
                        None => panic!("unclosed quote in {value}"),
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|&c| c != ' ') {
                    assert!(!RESERVED.contains(c), "{c:?} outside quotes in {value}");
                    word.push(c);
                }
            }
            assert!(
                !word.replace("%%", "").contains('%'),
                "a field code in {value}"
            );
            words.push(word.replace("%%", "%"));
        }
        words
    }

    /// The entry's `Exec` value.
    fn exec_of(text: &str) -> &str {
        text.lines()
            .find_map(|l| l.strip_prefix("Exec="))
            .expect("an Exec line")
    }

    #[test]
    fn exec_quotes_and_escapes_a_path_as_the_desktop_entry_spec_says() {
        // As the file holds them: inside quotes `"`, `` ` ``, `$` and `\` take a backslash,
        // and then every backslash is doubled (a string value's escape).
        for (path, exec) in [
            ("/usr/bin/amo-connector", "/usr/bin/amo-connector"),
            ("/opt/my apps/amo", r#""/opt/my apps/amo""#),
            ("/opt/100%/amo", "/opt/100%%/amo"),
            (r#"/opt/a "b"/amo"#, r#""/opt/a \\"b\\"/amo""#),
            ("/opt/it's/amo", r#""/opt/it's/amo""#),
            (r"/opt/a\b/amo", r#""/opt/a\\\\b/amo""#),
            ("/opt/$HOME/amo", r#""/opt/\\$HOME/amo""#),
            ("/opt/`x`/amo", r#""/opt/\\`x\\`/amo""#),
            ("/opt/a;b&c|d/amo", r#""/opt/a;b&c|d/amo""#),
            ("/opt/50% $off/amo", r#""/opt/50%% \\$off/amo""#),
        ] {
            let text = entry(Path::new(path)).unwrap();
            assert_eq!(exec_of(&text), format!("{exec} --hidden"), "{path}");
        }
    }

    #[test]
    fn every_path_reads_back_as_itself_followed_by_hidden() {
        let mut paths: Vec<String> = RESERVED
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| format!("/opt/a{c}b/amo-connector"))
            .collect();
        paths.extend(
            [
                "/opt/%u %f %%/amo",
                r#"/opt/\\"$`\/amo"#,
                "/opt/= é ☃/amo",
                r"/opt/\s\n/amo",
            ]
            .map(String::from),
        );
        for path in paths {
            let text = entry(Path::new(&path)).unwrap();
            assert_eq!(
                read_exec(exec_of(&text)),
                [path.as_str(), HIDDEN_ARG],
                "{text}"
            );
        }
    }

    #[test]
    fn entries_for_awkward_paths_pass_desktop_file_validate() {
        let home = tempfile::tempdir().unwrap();
        let e = engine(home.path());
        for path in [
            "/usr/bin/amo-connector",
            "/opt/my apps/amo-connector",
            "/opt/100%/amo-connector",
            "/opt/a \"b\" it's/amo-connector",
            "/opt/a\\b/amo-connector",
            "/opt/$HOME `x` ~ (1);&|<>*?#/amo-connector",
        ] {
            let written = e.set_autostart(true, Path::new(path)).unwrap();
            let out = std::process::Command::new("desktop-file-validate")
                .arg(&written)
                .output()
                .expect(
                    "desktop-file-validate runs (package desktop-file-utils, which \
                     scripts/setup installs)",
                );
            let said = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && said.is_empty(), "{path}: {said}");
        }
    }
}

// The Run key is how Windows starts the app at login.
#[cfg(windows)]
mod run_key {
    use super::*;
    use std::ffi::OsString;
    use std::os::windows::ffi::OsStringExt;
    use windows_registry::CURRENT_USER;

    /// The user's Run key, written out here rather than taken from the code under test.
    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

    /// The data of Run value `name`, read through the registry API alone.
    fn read(name: &str) -> Option<String> {
        CURRENT_USER.open(RUN).ok()?.get_string(name).ok()
    }

    /// Removes a test's Run value when the test ends, passed or failed.
    struct Remove(String);

    impl Drop for Remove {
        fn drop(&mut self) {
            if let Ok(key) = CURRENT_USER.options().read().write().open(RUN) {
                let _ = key.remove_value(&self.0);
            }
        }
    }

    #[test]
    fn autostart_on_writes_the_quoted_program_and_hidden_under_run_and_off_removes_it() {
        assert_eq!((RUN_KEY, VALUE_NAME), (RUN, "amo-connector"));
        let home = tempfile::tempdir().unwrap();
        let e = engine(home.path());
        let name = test_value(home.path());
        let _remove = Remove(name.clone());
        assert!(!e.autostart());
        let exec = Path::new(r"C:\Program Files\amo-connector\amo-connector.exe");
        let place = e.set_autostart(true, exec).unwrap();
        assert_eq!(place, format!(r"HKCU\{RUN}\{name}"));
        assert_eq!(
            read(&name).as_deref(),
            Some(r#""C:\Program Files\amo-connector\amo-connector.exe" --hidden"#)
        );
        assert!(e.autostart());
        // A path without a space is quoted too; turning on again replaces the data.
        e.set_autostart(true, Path::new(r"C:\amo\amo-connector.exe"))
            .unwrap();
        assert_eq!(
            read(&name).as_deref(),
            Some(r#""C:\amo\amo-connector.exe" --hidden"#)
        );
        assert_eq!(e.set_autostart(false, exec).unwrap(), place);
        assert_eq!(read(&name), None);
        assert!(!e.autostart());
        e.set_autostart(false, exec).unwrap();
    }

    #[test]
    fn a_path_with_a_double_quote_or_not_unicode_is_refused_and_nothing_is_written() {
        let home = tempfile::tempdir().unwrap();
        let e = engine(home.path());
        let name = test_value(home.path());
        let _remove = Remove(name.clone());
        // `C:\a\u{d800}b\amo-connector.exe`: a lone surrogate, which no UTF-8 can hold.
        let wide: Vec<u16> = r"C:\a".encode_utf16().chain([0xd800]).collect();
        let lone = PathBuf::from(OsString::from_wide(&wide));
        for path in [
            PathBuf::from(r#"C:\a"b\amo-connector.exe"#),
            PathBuf::from(r#""C:\amo\amo-connector.exe""#),
            lone,
        ] {
            let err = e.set_autostart(true, &path).unwrap_err();
            assert!(matches!(err, Error::AutostartPathUnfit { .. }), "{err:?}");
            assert_eq!(read(&name), None, "nothing is written for {path:?}");
            assert!(!e.autostart());
        }
        let Error::AutostartPathUnfit { path } = e
            .set_autostart(true, Path::new(r#"C:\a"b\x.exe"#))
            .unwrap_err()
        else {
            unreachable!()
        };
        assert_eq!(
            path, r#"C:\a"b\x.exe"#,
            "shown as it is, backslashes single"
        );
    }
}
