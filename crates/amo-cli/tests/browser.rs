//! A real browser in the loop: Debian's Chromium, headless, plays the user's browser for
//! `amo connect`. It follows the emulator's redirect to the loopback callback and renders
//! the page that names the account. Without Chromium this fails: scripts/setup installs it.
// Linux only: it drives Debian's Chromium through a shell script.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use common::{chromium, Child, World};

#[test]
fn headless_chromium_follows_the_redirect_and_renders_the_page_naming_the_account() {
    let chromium = chromium();
    let w = World::new();
    let browser = w.headless_chromium(&chromium);
    let mut cmd = w.cmd();
    cmd.env("BROWSER", &browser.script)
        .args(["connect", "--timeout", "90"]);
    let run = Child::spawn(cmd).finish(Duration::from_secs(120));
    assert!(
        run.ok(),
        "amo connect: {run}\n--- chromium\n{}",
        browser.log()
    );
    assert!(
        run.stdout.contains("Connected to Emulated account"),
        "{run}"
    );

    let dom = browser.dom(Duration::from_secs(60));
    assert!(
        dom.contains("<h1>Connected to Emulated account</h1>"),
        "the callback page names the account: {dom}"
    );
    assert!(w.browser_log().is_empty(), "the curl browser was not used");

    let stats = w.emu.stats();
    assert_eq!(stats.code_grants, 1, "{stats:?}");
    let status = w.status_json();
    assert_eq!(status[0]["account"], w.account());
    assert_eq!(status[0]["state"], "connected");
    assert!(w.amo(&["disconnect"]).ok());
}
