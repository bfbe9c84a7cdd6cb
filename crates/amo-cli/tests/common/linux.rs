//! The test world on Linux: the keychain is the Secret Service, read and written from
//! outside `amo` with `secret-tool`; processes end by signal; the browser is a shell script
//! (curl, or headless Chromium).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::World;

/// `amo connect` can start a browser script here, which plays the user's browser.
pub const BROWSER_SCRIPT: bool = true;

/// Writes the `$BROWSER` script at `path`: it follows the authorize page to the callback with
/// curl and logs the last address beside itself (`browser.log`).
pub fn write_browser(path: &Path) {
    fs::write(
        path,
        "#!/bin/sh\n# Plays the user's browser: follow the authorize page to the callback.\n\
         curl -sS -L --max-time 20 -o /dev/null -w '%{http_code} %{url_effective}\\n' \"$1\" \
         >> \"$(dirname \"$0\")/browser.log\" 2>&1\n",
    )
    .unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Sends signal `name` (`INT`, `TERM`...) to `pid`.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
}

/// Ends `pid` at once.
pub fn kill(pid: u32) {
    signal(pid, "KILL");
}

/// What `amo status --json` calls the keychain here: the Secret Service.
pub const STORAGE: &str = "secret_service";

/// Removes `user`'s item, if any.
pub fn clear_secret(user: &str) {
    let _ = Command::new("secret-tool")
        .args(["clear", "service", "amo-connector", "username", user])
        .status();
}

/// Replaces the secret of the world's token item with `value`, as a person could with
/// `secret-tool store`.
pub fn replace_tokens(w: &World, value: &str) {
    store_outside(&item_attributes(w), value);
}

/// The `/proc/keys` lines of keys named for the data folder at `home` (as earlier versions
/// named their copies of access tokens: a digest of the folder's path as spelled).
pub fn kernel_keys_of(home: &Path) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let spellings = [home.to_path_buf(), home.join(""), home.join(".")];
    let names: Vec<String> = spellings
        .iter()
        .map(|p| {
            let digest = Sha256::digest(p.as_os_str().as_encoded_bytes());
            let scope: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!(" amo-connector:{scope}:")
        })
        .collect();
    fs::read_to_string("/proc/keys")
        .unwrap_or_default()
        .lines()
        .filter(|l| names.iter().any(|n| l.contains(n.as_str())))
        .map(str::to_owned)
        .collect()
}

/// The attributes the keychain item `tokens:{account}` is filed under, as `secret-tool
/// search` lists them.
pub fn item_attributes(w: &World) -> Vec<(String, String)> {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", "amo-connector", "username"])
        .arg(format!("tokens:{}", w.account()))
        .output()
        .unwrap();
    // secret-tool prints the attributes on stderr or stdout depending on its version.
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.strip_prefix("attribute."))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Writes `value` as the item's secret with `secret-tool store`, as a person could.
pub fn store_outside(attributes: &[(String, String)], value: &str) {
    let mut cmd = Command::new("secret-tool");
    cmd.args(["store", "--label", "changed outside amo"]);
    for (k, v) in attributes {
        cmd.args([k, v]);
    }
    let mut child = cmd.stdin(std::process::Stdio::piped()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

pub fn secret_lookup(user: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "amo-connector", "username", user])
        .output()
        .expect("secret-tool runs");
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

// --- a real browser: Debian's Chromium, headless ----------------------------------------

/// Where Debian's Chromium is; a test that needs it fails (never skips) when it is missing.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is missing: this test drives the loopback flow with Debian's \
                 Chromium; scripts/setup installs it (apt-get install chromium)"
            )
        })
}

/// A `$BROWSER` script that plays the user's browser with headless Chromium: a fresh
/// profile each time, the address loaded and its redirects followed, the final page's DOM
/// written to `dom.html`, then Chromium's exit status to `exit`.
pub struct HeadlessChromium {
    pub script: PathBuf,
    dir: PathBuf,
}

impl HeadlessChromium {
    /// The DOM Chromium dumped, once it has exited (at most `limit`); panics past it.
    pub fn dom(&self, limit: Duration) -> String {
        let exit = self.dir.join("exit");
        let deadline = std::time::Instant::now() + limit;
        while !exit.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "chromium did not finish within {limit:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = fs::read_to_string(&exit).unwrap_or_default();
        assert_eq!(
            status.trim(),
            "0",
            "chromium failed; its log:\n{}",
            self.log()
        );
        fs::read_to_string(self.dir.join("dom.html")).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("chromium.log")).unwrap_or_default()
    }
}

impl World {
    /// A headless Chromium (`chromium`, from [`chromium`]) to set as `BROWSER`.
    pub fn headless_chromium(&self, chromium: &Path) -> HeadlessChromium {
        let dir = self.work.path().join("chromium");
        fs::create_dir_all(&dir).unwrap();
        let script = dir.join("browser");
        let text = format!(
            r#"#!/bin/sh
# Plays the user's browser with Debian's Chromium, headless, in a fresh profile.
dir='{dir}'
profile=$(mktemp -d "$dir/profile.XXXXXX") || exit 1
HOME="$profile" '{chromium}' --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --disable-quic --disable-dev-shm-usage --no-proxy-server --password-store=basic \
  --user-data-dir="$profile" --dump-dom "$1" > "$dir/dom.tmp" 2> "$dir/chromium.log"
status=$?
mv "$dir/dom.tmp" "$dir/dom.html"
rm -rf "$profile"
echo "$status" > "$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"
"#,
            dir = dir.display(),
            chromium = chromium.display(),
        );
        fs::write(&script, text).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        HeadlessChromium { script, dir }
    }
}

/// A keyring of a test's own: `scripts/with-keyring` (a session bus and a GNOME Keyring
/// daemon, in a home of their own) around a command that prints the bus's address and waits
/// for its standard input to close. What the test does there stays out of the daemon the
/// other tests share, no other test's calls are seen on its bus, and nothing needs removing
/// afterwards: the bus, the daemon and the home end with it.
pub struct OwnKeyring {
    child: Child,
    /// The session bus's address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub bus: String,
}

impl OwnKeyring {
    pub fn start() -> OwnKeyring {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
        let mut child = Command::new(script)
            .args([
                "sh",
                "-c",
                "echo \"$DBUS_SESSION_BUS_ADDRESS\"; exec cat >/dev/null",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("scripts/with-keyring starts");
        let mut bus = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut bus)
            .expect("the bus's address");
        let bus = bus.trim().to_owned();
        assert!(bus.starts_with("unix:"), "a session bus: {bus:?}");
        OwnKeyring { child, bus }
    }
}

impl Drop for OwnKeyring {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
