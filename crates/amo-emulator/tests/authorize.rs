//! The browser side: home page for strangers, consent page, grant and denial redirects.

mod common;

use common::{authorize, client, query, start, start_auto};
use reqwest::StatusCode;
use url::Url;

#[tokio::test]
async fn auto_approve_redirects_with_code_state_referer_and_extras() {
    let emu = start_auto().await;
    let to = authorize(&emu, Some("xyz 1/2")).await;
    assert!(to.as_str().starts_with(emu.redirect_uri()));
    let q = query(&to);
    assert!(q["code"].len() > 500);
    assert_eq!(q["state"], "xyz 1/2");
    assert_eq!(q["referer"], emu.account_host());
    assert_eq!(q["client_id"], emu.client_id());
    assert_eq!(q["platform"], "1");
    assert_eq!(emu.stats().codes_issued, 1);
}

#[tokio::test]
async fn redirect_has_no_state_when_none_was_given() {
    let emu = start_auto().await;
    let q = query(&authorize(&emu, None).await);
    assert!(!q.contains_key("state"));
    assert!(q.contains_key("code"));
}

#[tokio::test]
async fn redirect_keeps_the_registered_uri_query() {
    let cfg = amo_emulator::EmulatorConfig::new()
        .auto_approve()
        .with_redirect_uri("https://example.com/cb/?x=1");
    let emu = amo_emulator::Emulator::start(cfg).await.unwrap();
    let to = authorize(&emu, Some("s")).await;
    assert!(
        to.as_str().starts_with("https://example.com/cb/?x=1&code="),
        "{to}"
    );
}

#[tokio::test]
async fn unknown_client_gets_the_home_page_without_redirect() {
    let emu = start_auto().await;
    let resp = client()
        .get(format!(
            "{}/oauth?client_id=someone-else&state=s",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("amoCRM"));
    assert_eq!(emu.stats().codes_issued, 0);
}

#[tokio::test]
async fn consent_page_names_the_account_and_its_links_grant_or_deny() {
    let emu = start().await;
    let url = format!(
        "{}/oauth?client_id={}&state=st8&mode=post_message&response_type=code",
        emu.base_url(),
        emu.client_id()
    );
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains(amo_emulator::DEFAULT_ACCOUNT_NAME));
    let href = |id: &str| {
        let marker = format!("id=\"{id}\" href=\"");
        let start = page.find(&marker).unwrap() + marker.len();
        let end = start + page[start..].find('"').unwrap();
        page[start..end].replace("&amp;", "&")
    };
    let allow = client()
        .get(format!("{}{}", emu.base_url(), href("allow")))
        .send()
        .await
        .unwrap();
    assert_eq!(allow.status(), StatusCode::FOUND);
    let q = query(&Url::parse(allow.headers()["location"].to_str().unwrap()).unwrap());
    assert_eq!(q["state"], "st8");
    assert!(q.contains_key("code"));

    let deny = client()
        .get(format!("{}{}", emu.base_url(), href("deny")))
        .send()
        .await
        .unwrap();
    assert_eq!(deny.status(), StatusCode::FOUND);
    let q = query(&Url::parse(deny.headers()["location"].to_str().unwrap()).unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st8");
    assert!(!q.contains_key("code"));
    assert_eq!(emu.stats().authorize_denied, 1);
}

#[tokio::test]
async fn deny_switch_answers_access_denied_until_switched_off() {
    let emu = start_auto().await;
    let answer = common::control(&emu, "deny", serde_json::json!({ "deny": true })).await;
    assert_eq!(answer["deny"], true);
    let q = query(&authorize(&emu, Some("s1")).await);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s1");
    assert!(!q.contains_key("code"));

    emu.set_deny(false);
    let q = query(&authorize(&emu, Some("s2")).await);
    assert!(q.contains_key("code"));
    assert_eq!(emu.stats().authorize_requests, 2);
}

#[tokio::test]
async fn deny_switch_overrides_the_allow_button() {
    let emu = start().await;
    emu.set_deny(true);
    let url = format!(
        "{}/oauth/decide?client_id={}&allow=1",
        emu.base_url(),
        emu.client_id()
    );
    let resp = client().get(url).send().await.unwrap();
    let q = query(&Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap());
    assert_eq!(q["error"], "access_denied");
    assert!(!q.contains_key("state"));
}
