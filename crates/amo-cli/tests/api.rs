//! `amo api`: pages merged into one document, 429 waited out, 204 empty, problem answers
//! as amoCRM's words, a 401 refreshed once, and every process under 7 requests a second.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use amo_emulator::{Fault, FaultKind, FaultTarget, Revoke};
use common::{Child, World};

fn leads_requests(w: &World) -> Vec<u64> {
    w.emu
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v4/"))
        .map(|r| r.at_ms)
        .collect()
}

#[test]
fn paginate_over_three_pages_returns_every_item_once() {
    let w = World::new();
    w.connect();
    w.emu.set_leads(7);
    let r = w.amo(&["api", "api/v4/leads?limit=3", "--paginate"]);
    assert!(r.ok(), "{r}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<u64> = doc["_embedded"]["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 7, "{ids:?}");
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 7, "each once: {ids:?}");
    assert!(doc["_links"].get("next").is_none(), "{doc}");
    let pages = w
        .emu
        .requests()
        .into_iter()
        .filter(|q| q.path.starts_with("/api/v4/leads"))
        .count();
    assert_eq!(pages, 3, "three pages, nothing past the last");

    // A list that ends on a full page: the next one is a 204, and that ends it too.
    w.emu.set_leads(6);
    let r = w.amo(&["api", "/api/v4/leads?limit=3", "--paginate"]);
    assert!(r.ok(), "{r}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["_embedded"]["leads"].as_array().unwrap().len(), 6);
}

#[test]
fn a_204_is_exit_0_and_empty() {
    let w = World::new();
    w.connect();
    let r = w.amo(&["api", "api/v4/leads"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.is_empty(), "{r}");
    let r = w.amo(&["api", "api/v4/leads", "--paginate"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.is_empty(), "{r}");
    let r = w.amo(&["api", "api/v4/leads", "--include"]);
    assert!(r.stdout.starts_with("HTTP/1.1 204"), "{r}");
}

#[test]
fn a_429_is_retried() {
    let w = World::new();
    w.connect();
    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::TooManyRequests));
    let r = w.amo(&["api", "api/v4/account"]);
    assert!(r.ok(), "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["id"].as_u64().is_some(), "{v}");
    assert_eq!(w.emu.stats().faults_served, 1);
    assert_eq!(
        w.emu.stats().account_requests,
        3,
        "connect's, the 429, the retry"
    );

    // nginx's HTML 403 for going over is waited out too; one that persists is a block.
    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::Html403));
    let r = w.amo(&["api", "api/v4/account"]);
    assert!(r.ok(), "{r}");
    w.emu
        .set_fault(Fault::new(FaultTarget::Api, FaultKind::Html403).times(3));
    let r = w.amo(&["api", "api/v4/account"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("blocked"), "{r}");
}

#[test]
fn a_problem_answer_is_shown_as_amocrms_words_with_exit_1() {
    let w = World::new();
    w.connect();
    let r = w.amo(&["api", "api/v4/nothing-here"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("Not Found"), "the title: {r}");
    assert!(
        r.stderr.contains("Запрашиваемый ресурс не найден"),
        "the detail: {r}"
    );
    let other = w.amo(&["api", "https://evil.example/api/v4/account"]);
    assert_eq!(
        other.code, 1,
        "an address on another host is refused: {other}"
    );
}

#[test]
fn a_401_refreshes_once_and_retries_once() {
    let w = World::new();
    w.connect();
    w.emu.revoke(Revoke::Access);
    let r = w.amo(&["api", "api/v4/account"]);
    assert!(r.ok(), "{r}");
    let stats = w.emu.stats();
    assert_eq!(stats.refresh_grants, 1, "{stats:?}");
    assert_eq!(stats.api_unauthorized, 1, "{stats:?}");
}

#[test]
fn three_processes_of_thirty_calls_never_exceed_seven_in_any_second() {
    let w = World::new();
    w.connect();
    let before = leads_requests(&w).len();
    // Each process pages through 30 one-lead pages as fast as it can: 30 calls in a row,
    // three processes at once.
    w.emu.set_leads(30);
    let children: Vec<Child> = (0..3)
        .map(|_| {
            let mut cmd = w.cmd();
            cmd.args(["api", "api/v4/leads?limit=1", "--paginate"]);
            Child::spawn(cmd)
        })
        .collect();
    for (i, mut c) in children.into_iter().enumerate() {
        let r = c.finish(Duration::from_secs(300));
        assert!(r.ok(), "process #{i}: {r}");
    }
    let mut times: Vec<u64> = leads_requests(&w).split_off(before);
    assert_eq!(times.len(), 90, "every call made once");
    times.sort_unstable();
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..].iter().take_while(|u| **u < t + 1_000).count();
        assert!(
            in_window <= 7,
            "{in_window} requests in the second from {t}: {times:?}"
        );
    }
}
