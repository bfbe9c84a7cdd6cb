//! Many accounts in one emulator, and several integrations: distinct hosts, ids and names,
//! the account a connect picks, and tokens that work only where they were issued.

mod common;

use std::process::Stdio;

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Integration};
use common::{account_at, client, post_token_at, query};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use url::Url;

async fn start(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.unwrap()
}

fn code_grant(i: &Integration, code: &str) -> Value {
    json!({
        "client_id": i.client_id,
        "client_secret": i.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": i.redirect_uri,
    })
}

fn refresh_grant(i: &Integration, refresh_token: &str) -> Value {
    json!({
        "client_id": i.client_id,
        "client_secret": i.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "redirect_uri": i.redirect_uri,
    })
}

/// `GET /oauth` on `base` with the first integration's client id and `extra` parameters;
/// where it redirected.
async fn authorize_at(emu: &EmulatorHandle, base: &str, extra: &[(&str, &str)]) -> Url {
    let mut url = Url::parse(&format!("{base}/oauth")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", emu.client_id())
        .append_pair("state", "st")
        .extend_pairs(extra);
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn n_accounts_answer_on_distinct_hosts_with_their_own_ids_and_names() {
    let emu = start(EmulatorConfig::new().auto_approve().accounts(5)).await;
    let accounts = emu.accounts();
    let hosts = emu.account_hosts();
    assert_eq!(accounts.len(), 5);
    assert_eq!(hosts[0], emu.account_host());
    let mut unique = hosts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{hosts:?}");
    let first = emu.integrations().remove(0);
    for (k, a) in accounts.iter().enumerate() {
        assert_eq!(a.number, k + 1);
        assert_eq!(a.host, hosts[k]);
        assert_eq!(a.name, format!("Account {}", k + 1));
        assert_eq!(a.id, amo_emulator::DEFAULT_ACCOUNT_ID + k as u64);
        // The connect picks the account on the (first account's) authorize page.
        let number = a.number.to_string();
        let to = authorize_at(&emu, &emu.base_url(), &[("account", &number)]).await;
        let q = query(&to);
        assert_eq!(q["referer"], a.host);
        let (status, _, pair) = post_token_at(&a.base_url(), &code_grant(&first, &q["code"])).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        let (status, _, me) =
            account_at(&a.base_url(), pair["access_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["id"], a.id);
        assert_eq!(me["name"], a.name.as_str());
    }
}

#[tokio::test]
async fn a_token_of_one_account_is_refused_on_another() {
    let emu = start(EmulatorConfig::new().accounts(2)).await;
    let [a, b] = <[_; 2]>::try_from(emu.accounts()).unwrap();
    let first = emu.integrations().remove(0);
    let code = emu.issue_code_for(1, emu.client_id()).unwrap();
    // A's code cannot be read at B's host, and is not used up by trying.
    let (status, _, body) = post_token_at(&b.base_url(), &code_grant(&first, &code)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["hint"], "Cannot decrypt the authorization code");
    let (status, _, pair) = post_token_at(&a.base_url(), &code_grant(&first, &code)).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let access = pair["access_token"].as_str().unwrap();
    let refresh = pair["refresh_token"].as_str().unwrap();

    let (status, ctype, body) = account_at(&b.base_url(), access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(account_at(&a.base_url(), access).await.0, StatusCode::OK);

    // A's refresh token is not B's either, and survives being tried there.
    let (status, _, body) = post_token_at(&b.base_url(), &refresh_grant(&first, refresh)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["hint"], "Token is not linked to client");
    let (status, _, body) = post_token_at(&a.base_url(), &refresh_grant(&first, refresh)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(emu.stats().revoked_refresh_used, 0);

    // A long-lived token is one account's too.
    let long = emu
        .issue_long_lived_token_for(2, emu.client_id(), 1)
        .unwrap();
    assert_eq!(
        account_at(&a.base_url(), &long).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(account_at(&b.base_url(), &long).await.0, StatusCode::OK);
}

#[tokio::test]
async fn authorize_grants_the_named_account_else_the_selected_one_else_the_listeners() {
    let emu = start(EmulatorConfig::new().auto_approve().accounts(3)).await;
    let hosts = emu.account_hosts();
    let base3 = format!("http://{}", hosts[2]);
    let referer = |u: Url| query(&u)["referer"].clone();
    assert_eq!(
        referer(authorize_at(&emu, &emu.base_url(), &[]).await),
        hosts[0]
    );
    assert_eq!(referer(authorize_at(&emu, &base3, &[]).await), hosts[2]);

    let answer = common::control(&emu, "select-account", json!({ "account": 2 })).await;
    assert_eq!(answer["account_host"], hosts[1].as_str());
    assert_eq!(
        referer(authorize_at(&emu, &emu.base_url(), &[]).await),
        hosts[1]
    );
    assert_eq!(referer(authorize_at(&emu, &base3, &[]).await), hosts[1]);
    let named = authorize_at(&emu, &emu.base_url(), &[("account", "3")]).await;
    assert_eq!(referer(named), hosts[2], "the request's own choice wins");
    assert!(emu.select_account(None));
    assert_eq!(
        referer(authorize_at(&emu, &emu.base_url(), &[]).await),
        hosts[0]
    );

    assert!(!emu.select_account(Some(4)));
    assert!(!emu.select_account(Some(0)));
    let resp = client()
        .post(format!("{}/_emulator/select-account", emu.base_url()))
        .json(&json!({ "account": 9 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let url = format!(
        "{}/oauth?client_id={}&account=4",
        emu.base_url(),
        emu.client_id()
    );
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(emu.stats().codes_issued, 6);
}

#[tokio::test]
async fn consent_page_lists_every_account_and_grants_the_one_picked() {
    let emu = start(EmulatorConfig::new().accounts(3)).await;
    let page_of = |url: String| async move {
        let resp = client().get(url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.text().await.unwrap().replace("&amp;", "&")
    };
    let authorize = format!(
        "{}/oauth?client_id={}&state=s",
        emu.base_url(),
        emu.client_id()
    );
    let page = page_of(authorize).await;
    for name in ["Account 1", "Account 2", "Account 3"] {
        assert!(page.contains(name), "{page}");
    }
    // Pick account 2 from the list, then allow.
    let pick = page
        .split("href=\"")
        .map(|h| &h[..h.find('"').unwrap()])
        .find(|h| h.starts_with("/oauth?") && h.contains("account=2"))
        .unwrap()
        .to_owned();
    let page = page_of(format!("{}{pick}", emu.base_url())).await;
    assert!(
        page.contains("<strong id=\"account\">Account 2</strong>"),
        "{page}"
    );
    let marker = "id=\"allow\" href=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let allow = &page[start..start + page[start..].find('"').unwrap()];
    let resp = client()
        .get(format!("{}{allow}", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let to = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(query(&to)["referer"], emu.account_hosts()[1]);
}

#[tokio::test]
async fn each_integration_has_its_own_credentials_codes_and_tokens() {
    let emu = start(EmulatorConfig::new().auto_approve().integrations(2)).await;
    let [one, two] = <[_; 2]>::try_from(emu.integrations()).unwrap();
    assert_eq!(one.client_id, emu.client_id());
    assert_ne!(one.client_id, two.client_id);

    // The authorize page knows the second integration and redirects with its client id.
    let url = format!(
        "{}/oauth?client_id={}&state=s",
        emu.base_url(),
        two.client_id
    );
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let q = query(&Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap());
    assert_eq!(q["client_id"], two.client_id);

    let base = emu.base_url();
    let (status, _, body) = post_token_at(&base, &code_grant(&one, &q["code"])).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "another integration's code: {body}"
    );
    let mut wrong_secret = code_grant(&two, &q["code"]);
    wrong_secret["client_secret"] = json!(one.client_secret);
    assert_eq!(
        post_token_at(&base, &wrong_secret).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, pair) = post_token_at(&base, &code_grant(&two, &q["code"])).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let refresh = pair["refresh_token"].as_str().unwrap();
    let (status, _, body) = post_token_at(&base, &refresh_grant(&one, refresh)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["hint"], "Token is not linked to client");
    let (status, _, body) = post_token_at(&base, &refresh_grant(&two, refresh)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn binary_serves_many_accounts_and_prints_them() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amo-emulator"))
        .args(["--accounts", "3", "--integrations", "2", "--rate-limits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let info: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    let hosts = info["account_hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    assert_eq!(hosts[0], info["account_host"]);
    assert_eq!(info["accounts"][2]["name"], "Account 3");
    assert_eq!(info["accounts"][2]["host"], hosts[2]);
    assert_eq!(info["integrations"].as_array().unwrap().len(), 2);
    assert_eq!(info["integrations"][0]["client_id"], info["client_id"]);
    assert_eq!(info["rate_limits"]["per_integration"], 7);
    assert_eq!(info["rate_limits"]["per_account"], 50);
    let resp = client()
        .get(format!(
            "http://{}/api/v4/account",
            hosts[2].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let refused = Command::new(env!("CARGO_BIN_EXE_amo-emulator"))
        .args(["--accounts", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(!refused.success());
}

#[tokio::test]
async fn two_hundred_accounts_each_answer_on_their_own_host() {
    let emu = start(EmulatorConfig::new().accounts(200)).await;
    let accounts = emu.accounts();
    let mut hosts = emu.account_hosts();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 200);
    for a in [&accounts[0], &accounts[16], &accounts[199]] {
        let token = emu
            .issue_long_lived_token_for(a.number, emu.client_id(), 1)
            .unwrap();
        let (status, _, me) = account_at(&a.base_url(), &token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["name"], a.name.as_str());
        assert_eq!(me["id"], a.id);
    }
    assert_eq!(accounts[16].name, "Account 17");
    emu.shutdown().await;
}
