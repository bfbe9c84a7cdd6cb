//! The emulator override: with `AMO_BASE_URL` set, every amoCRM call goes to a local
//! emulator, so the client secret comes only from `AMO_CLIENT_SECRET`. The one kept in the
//! keychain (the real integration's) is never sent there, nor replaced by the emulator's.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{secret_lookup, Run, World};

/// The emulator's counters, as its control endpoint `GET /_emulator/stats` tells them.
fn stats(w: &World) -> serde_json::Value {
    let url = format!("{}/_emulator/stats", w.emu.base_url().trim_end_matches('/'));
    w.rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = client.get(url).send().await.expect("the emulator answers");
        resp.json().await.expect("stats are JSON")
    })
}

fn count(stats: &serde_json::Value, key: &str) -> u64 {
    stats[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {stats}"))
}

/// `amo` with the world's environment but no `AMO_CLIENT_SECRET`.
fn without_env_secret(w: &World) -> Command {
    let mut cmd = w.cmd();
    cmd.env_remove("AMO_CLIENT_SECRET");
    cmd
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Run {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("amo starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Asserts `amo` refused for want of `AMO_CLIENT_SECRET`, in one line, naming no secret.
fn refused_for_the_emulator(what: &str, r: &Run, secret: &str) {
    assert_eq!(r.code, 1, "{what}: {r}");
    assert!(
        r.stderr.contains("AMO_CLIENT_SECRET") && r.stderr.contains("emulator"),
        "{what}: says to set AMO_CLIENT_SECRET for the emulator: {r}"
    );
    assert!(
        !r.stdout.contains(secret) && !r.stderr.contains(secret),
        "{what}: the secret is not shown: {r}"
    );
}

/// Removes the client secret the test put in the keychain.
struct ClearSecret(String);

impl Drop for ClearSecret {
    fn drop(&mut self) {
        common::clear_secret(&self.0);
    }
}

#[test]
fn with_an_emulator_the_keychain_secret_is_never_sent_and_amo_says_to_set_amo_client_secret() {
    let w = World::new();
    let item = format!("client-secret:{}", w.emu.client_id());
    let _clear = ClearSecret(item.clone());
    // The secret in the keychain is the very one the emulator expects: were it sent, the
    // emulator would accept it, so only a refusal before sending passes this test.
    let secret = w.emu.client_secret().to_owned();
    let mut save = without_env_secret(&w);
    save.env_remove("AMO_BASE_URL")
        .args(["config", "set", "client_secret"]);
    let saved = run(save, Some(&secret));
    assert!(saved.ok(), "saved with no emulator in force: {saved}");
    assert_eq!(secret_lookup(&item).as_deref(), Some(secret.as_str()));

    // The loopback flow does not even start: no authorize page, no token request.
    let mut connect = without_env_secret(&w);
    connect.args(["connect", "--timeout", "30"]);
    let r = run(connect, None);
    refused_for_the_emulator("connect", &r, &secret);
    assert!(!r.stdout.contains("/oauth?"), "no authorize address: {r}");

    // A pasted code is not exchanged either.
    let code = w.emu.issue_code();
    let mut pasted = without_env_secret(&w);
    pasted.args(["connect", "--code", &code, "--account", &w.account()]);
    refused_for_the_emulator("connect --code", &run(pasted, None), &secret);

    let s = stats(&w);
    assert_eq!(count(&s, "token_requests"), 0, "no token request: {s}");
    assert_eq!(count(&s, "authorize_requests"), 0, "no authorize page: {s}");
    assert!(w.browser_log().is_empty(), "no browser was opened");
    assert_eq!(w.amo(&["status", "--json"]).stdout.trim(), "[]");

    // A connection made with the emulator's secret from the environment is not refreshed
    // with the keychain's once that variable is gone.
    w.connect();
    let before = stats(&w);
    let mut refresh = without_env_secret(&w);
    refresh.arg("refresh");
    refused_for_the_emulator("refresh", &run(refresh, None), &secret);
    let after = stats(&w);
    assert_eq!(
        count(&after, "token_requests"),
        count(&before, "token_requests"),
        "no refresh request: {after}"
    );

    // Nor does an emulator's secret replace the integration's in the keychain.
    let mut overwrite = without_env_secret(&w);
    overwrite.args(["config", "set", "client_secret"]);
    refused_for_the_emulator(
        "config set client_secret",
        &run(overwrite, Some("an-emulator-secret-xyz")),
        &secret,
    );
    assert_eq!(secret_lookup(&item).as_deref(), Some(secret.as_str()));
    assert!(w.amo(&["disconnect"]).ok());
}
