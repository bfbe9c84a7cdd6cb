//! The `amo-emulator` binary: flags, the one JSON line, serving, stopping on SIGTERM.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn binary_prints_its_line_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amo-emulator"))
        .args(["--port", "0", "--client-id", "cid-1", "--auto-approve"])
        .args(["--account-name", "Test Co", "--access-ttl", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let base = info["base_url"].as_str().unwrap();
    assert_eq!(info["client_id"], "cid-1");
    assert_eq!(info["client_secret"].as_str().unwrap().len(), 64);
    assert_eq!(info["redirect_uri"], amo_emulator::DEFAULT_REDIRECT_URI);
    assert_eq!(
        format!("http://{}", info["account_host"].as_str().unwrap()),
        base
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client
        .get(format!("{base}/oauth?client_id=cid-1&state=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::FOUND);
    let stats: Value = client
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["codes_issued"], 1);
    assert_eq!(stats["revoked_refresh_used"], 0);

    #[cfg(unix)]
    {
        let pid = child.id().unwrap().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait()).await;
        assert!(status.unwrap().unwrap().success());
    }
}
