//! Windows, end to end (run under Wine on Linux): the loopback flow leaves the tokens in the
//! Credential Manager, split into items real Windows accepts and read back through its own
//! API; `amo run` passes its command's exit status and hands it the token but not the client
//! secret; start at login writes and removes the `Run` value. (Twenty `amo token` processes
//! refreshing at once are in tests/token.rs, which runs here too.)
#![cfg(windows)]

mod common;

use common::{credential_blob, secret_lookup, World, CRED_MAX_BLOB};

#[test]
fn the_loopback_flow_stores_the_tokens_in_credential_manager_items_windows_accepts() {
    let w = World::new();
    let r = w.connect();
    assert!(r.stdout.contains("Connected to Emulated account"), "{r}");

    // The set is larger than one credential may hold: a head item names its parts.
    let key = format!("tokens:{}", w.account());
    let head_blob = credential_blob(&key).expect("the head item is in the Credential Manager");
    assert!(
        head_blob.len() <= CRED_MAX_BLOB,
        "head: {} bytes",
        head_blob.len()
    );
    let head: serde_json::Value =
        serde_json::from_str(&secret_lookup(&key).unwrap()).expect("the head item is JSON");
    let gen = head["gen"].as_str().expect("the head names a generation");
    let parts = head["parts"].as_u64().expect("the head counts its parts");
    assert!(parts >= 2, "a kilobyte access token and a 700-character refresh token do not fit one credential: {head}");
    for i in 0..parts {
        let part = credential_blob(&format!("{key}#{gen}.{i}"))
            .unwrap_or_else(|| panic!("part {i} of {parts} is missing"));
        assert!(
            part.len() <= CRED_MAX_BLOB,
            "part {i}: {} bytes, more than Windows keeps",
            part.len()
        );
    }

    // The joined parts are the set `amo` serves.
    let tokens = w.keychain_token_values();
    let served = w.amo(&["token"]);
    assert!(served.ok(), "{served}");
    assert_eq!(served.stdout.trim(), tokens[0]);
    assert_eq!(w.status_json()[0]["storage"], "windows_credentials");
    let mut secrets = tokens;
    secrets.push(w.emu.client_secret().to_owned());
    w.assert_no_secret_in_data(&secrets);

    // Disconnecting removes the head and every part.
    let gone = w.amo(&["disconnect"]);
    assert!(gone.ok(), "{gone}");
    assert_eq!(credential_blob(&key), None, "the head item is gone");
    for i in 0..parts {
        assert_eq!(
            credential_blob(&format!("{key}#{gen}.{i}")),
            None,
            "part {i} is gone"
        );
    }
}

#[test]
fn amo_run_passes_the_exit_status_and_the_token_but_not_the_secret() {
    let w = World::new();
    w.connect();
    for code in [0, 3, 42] {
        let r = w.amo(&["run", "--", "cmd", "/c", &format!("exit {code}")]);
        assert_eq!(r.code, code, "{r}");
    }

    let r = w.amo(&["run", "--", "cmd", "/c", "set"]);
    assert!(r.ok(), "{r}");
    let access = &w.keychain_token_values()[0];
    assert!(
        r.stdout
            .lines()
            .any(|l| l.trim_end() == format!("AMO_ACCESS_TOKEN={access}")),
        "the child gets the stored access token"
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("AMO_API_BASE=")),
        "the child gets the API's address"
    );
    assert!(
        !r.stdout.contains("AMO_CLIENT_SECRET") && !r.stdout.contains(w.emu.client_secret()),
        "the child never sees the client secret"
    );
}

#[test]
fn start_at_login_writes_and_removes_the_run_value() {
    let w = World::new();
    let on = w.amo(&["config", "set", "autostart", "on"]);
    assert!(on.ok(), "{on}");
    let value = run_value().expect("the Run value is written");
    // The program first, always quoted: the app beside `amo` (scripts/test-windows builds
    // every binary before the tests).
    let program = value
        .strip_prefix('"')
        .and_then(|v| v.split_once('"'))
        .map(|(p, _)| p)
        .unwrap_or_else(|| panic!("the program comes first, quoted: {value}"));
    assert!(
        program.ends_with(r"\amo-connector.exe") && std::path::Path::new(program).is_file(),
        "the Run value names the installed app: {value}"
    );
    assert!(value.ends_with(" --hidden"), "it starts hidden: {value}");
    let shown = w.amo(&["config", "show"]);
    assert!(
        shown
            .stdout
            .lines()
            .any(|l| l.starts_with("Start at login") && l.ends_with(" on")),
        "{shown}"
    );

    let off = w.amo(&["config", "set", "autostart", "off"]);
    assert!(off.ok(), "{off}");
    assert_eq!(run_value(), None, "the Run value is removed");
    let again = w.amo(&["config", "set", "autostart", "off"]);
    assert!(again.ok(), "turning it off twice is fine: {again}");
}

/// `amo-connector` under `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, read through
/// the registry's own API.
fn run_value() -> Option<String> {
    use windows_sys::Win32::System::Registry::{RegGetValueW, HKEY_CURRENT_USER, RRF_RT_REG_SZ};
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let key = wide(r"Software\Microsoft\Windows\CurrentVersion\Run");
    let name = wide("amo-connector");
    let mut buf = vec![0u16; 4096];
    let mut size = u32::try_from(buf.len() * 2).unwrap();
    // SAFETY: the names are NUL-terminated and `buf` holds `size` bytes.
    let status = unsafe {
        RegGetValueW(
            HKEY_CURRENT_USER,
            key.as_ptr(),
            name.as_ptr(),
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
            &mut size,
        )
    };
    if status != 0 {
        return None;
    }
    let units = (size as usize / 2).saturating_sub(1);
    Some(String::from_utf16_lossy(&buf[..units]))
}
