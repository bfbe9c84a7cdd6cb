//! The test world on Windows (run under Wine here): the keychain is the Credential Manager,
//! read and written from outside `amo` through its own API (`CredReadW`, `CredWriteW`);
//! processes end by `taskkill`; there is no shell to write a browser script in, so the
//! tests play the browser themselves (`amo connect --no-browser`).

use std::path::Path;
use std::process::Command;

use windows_sys::Win32::Foundation::FILETIME;
use windows_sys::Win32::Security::Credentials::{
    CredDeleteW, CredFree, CredReadW, CredWriteW, CREDENTIALW, CRED_PERSIST_LOCAL_MACHINE,
    CRED_TYPE_GENERIC,
};

use super::World;

/// No browser script: `World::connect` plays the browser itself.
pub const BROWSER_SCRIPT: bool = false;

/// The service every credential of amo-connector is filed under.
const SERVICE: &str = "amo-connector";
/// The most a generic credential's secret may hold on Windows, in bytes. Wine does not
/// enforce it, so the tests do.
pub const CRED_MAX_BLOB: usize = 2_560;

/// Nothing to write: see [`BROWSER_SCRIPT`].
pub fn write_browser(_path: &Path) {}

/// Ends `pid` at once.
pub fn kill(pid: u32) {
    let _ = Command::new("taskkill")
        .args(["/F", "/PID", &pid.to_string()])
        .output();
}

/// The kernel keyring is Linux's; nothing can be left in one here.
pub fn kernel_keys_of(_home: &Path) -> Vec<String> {
    Vec::new()
}

/// The credential's target for `user`: `USER.SERVICE`, as the keyring crate files it.
fn target(user: &str) -> Vec<u16> {
    format!("{user}.{SERVICE}")
        .encode_utf16()
        .chain([0])
        .collect()
}

/// The secret of the generic credential for `user` as stored: its blob's bytes.
pub fn credential_blob(user: &str) -> Option<Vec<u8>> {
    let name = target(user);
    let mut found: *mut CREDENTIALW = std::ptr::null_mut();
    // SAFETY: `name` is NUL-terminated; on success `found` points at a credential the
    // system allocated, read here and released with CredFree.
    unsafe {
        if CredReadW(name.as_ptr(), CRED_TYPE_GENERIC, 0, &mut found) == 0 {
            return None;
        }
        let cred = &*found;
        let blob = if cred.CredentialBlob.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(cred.CredentialBlob, cred.CredentialBlobSize as usize)
                .to_vec()
        };
        CredFree(found.cast());
        Some(blob)
    }
}

/// The secret of `user`'s credential as text: UTF-16, as Windows' own tools show it.
pub fn secret_lookup(user: &str) -> Option<String> {
    let blob = credential_blob(user)?;
    let units: Vec<u16> = blob
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok().filter(|s| !s.is_empty())
}

/// Writes `value` as the secret of `user`'s credential, as another program could.
pub fn store_secret(user: &str, value: &str) {
    let mut name = target(user);
    let mut who: Vec<u16> = user.encode_utf16().chain([0]).collect();
    let mut blob: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let cred = CREDENTIALW {
        Flags: 0,
        Type: CRED_TYPE_GENERIC,
        TargetName: name.as_mut_ptr(),
        Comment: std::ptr::null_mut(),
        LastWritten: FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        },
        CredentialBlobSize: u32::try_from(blob.len()).unwrap(),
        CredentialBlob: blob.as_mut_ptr(),
        Persist: CRED_PERSIST_LOCAL_MACHINE,
        AttributeCount: 0,
        Attributes: std::ptr::null_mut(),
        TargetAlias: std::ptr::null_mut(),
        UserName: who.as_mut_ptr(),
    };
    // SAFETY: every pointer in `cred` points at a live buffer of this frame.
    let written = unsafe { CredWriteW(&cred, 0) };
    assert_ne!(written, 0, "CredWriteW failed for {user}");
}

/// What `amo status --json` calls the keychain here: Windows' Credential Manager.
pub const STORAGE: &str = "windows_credentials";

/// Removes `user`'s credential, if any.
pub fn clear_secret(user: &str) {
    let name = target(user);
    // SAFETY: `name` is NUL-terminated and lives through the call.
    unsafe { CredDeleteW(name.as_ptr(), CRED_TYPE_GENERIC, 0) };
}

/// Replaces the secret of the world's token item with `value`.
pub fn replace_tokens(w: &World, value: &str) {
    store_secret(&format!("tokens:{}", w.account()), value);
}
