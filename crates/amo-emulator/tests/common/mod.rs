//! Helpers the emulator's integration tests share: a client, the authorize redirect, a token
//! exchange.
#![allow(dead_code)]

use std::collections::HashMap;

use amo_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use reqwest::{redirect, Client, StatusCode};
use serde_json::{json, Value};
use url::Url;

/// A client that never follows redirects, so tests see the 302 itself.
pub fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// An emulator with generated credentials, showing the consent page.
pub async fn start() -> EmulatorHandle {
    Emulator::start(EmulatorConfig::new()).await.unwrap()
}

/// An emulator that grants on `GET /oauth` at once.
pub async fn start_auto() -> EmulatorHandle {
    Emulator::start(EmulatorConfig::new().auto_approve())
        .await
        .unwrap()
}

/// Query parameters of a URL as a map.
pub fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// Follows `GET /oauth` on an auto-approving emulator and returns where it redirected.
pub async fn authorize(emu: &EmulatorHandle, state: Option<&str>) -> Url {
    let mut url = Url::parse(&format!("{}/oauth", emu.base_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", emu.client_id())
        .append_pair("mode", "popup");
    if let Some(s) = state {
        url.query_pairs_mut().append_pair("state", s);
    }
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap();
    Url::parse(location).unwrap()
}

/// A code grant body with the emulator's own credentials.
pub fn code_grant(emu: &EmulatorHandle, code: &str) -> Value {
    json!({
        "client_id": emu.client_id(),
        "client_secret": emu.client_secret(),
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": emu.redirect_uri(),
    })
}

/// A refresh grant body with the emulator's own credentials.
pub fn refresh_grant(emu: &EmulatorHandle, refresh_token: &str) -> Value {
    json!({
        "client_id": emu.client_id(),
        "client_secret": emu.client_secret(),
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "redirect_uri": emu.redirect_uri(),
    })
}

/// Posts a JSON body to the token endpoint; returns status, content type and body.
pub async fn post_token(emu: &EmulatorHandle, body: &Value) -> (StatusCode, String, Value) {
    post_token_at(&emu.base_url(), body).await
}

/// Posts a JSON body to the token endpoint of `base` (`http://HOST` of an account).
pub async fn post_token_at(base: &str, body: &Value) -> (StatusCode, String, Value) {
    let resp = client()
        .post(format!("{base}/oauth2/access_token"))
        .json(body)
        .send()
        .await
        .unwrap();
    split(resp).await
}

/// Posts a form body to the token endpoint; returns status, content type and body.
pub async fn post_token_form(emu: &EmulatorHandle, body: &Value) -> (StatusCode, String, Value) {
    let pairs: Vec<(String, String)> = body
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let resp = client()
        .post(format!("{}/oauth2/access_token", emu.base_url()))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    split(resp).await
}

async fn split(resp: reqwest::Response) -> (StatusCode, String, Value) {
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    (
        status,
        ctype,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Exchanges a fresh code and returns the successful token answer.
pub async fn tokens(emu: &EmulatorHandle) -> Value {
    let code = emu.issue_code();
    let (status, _, body) = post_token(emu, &code_grant(emu, &code)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `GET /api/v4/account` with a Bearer token.
pub async fn account(emu: &EmulatorHandle, token: &str) -> (StatusCode, String, Value) {
    account_at(&emu.base_url(), token).await
}

/// `GET /api/v4/account` on `base` (`http://HOST` of an account) with a Bearer token.
pub async fn account_at(base: &str, token: &str) -> (StatusCode, String, Value) {
    let resp = client()
        .get(format!("{base}/api/v4/account"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    split(resp).await
}

/// Posts JSON to a control endpoint and returns the JSON answer.
pub async fn control(emu: &EmulatorHandle, path: &str, body: Value) -> Value {
    let resp = client()
        .post(format!("{}/_emulator/{path}", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}
