//! The token endpoint: code grant checks, single use, expiry, refresh rotation and reuse.

mod common;

use common::{code_grant, post_token, post_token_form, refresh_grant, start, start_auto, tokens};
use reqwest::StatusCode;
use serde_json::Value;

fn hint(body: &Value) -> &str {
    body["hint"].as_str().unwrap_or("")
}

#[tokio::test]
async fn code_grant_answers_a_bearer_pair() {
    let emu = start_auto().await;
    let body = tokens(&emu).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3);
    assert!(access.len() > 900);
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 700);
    assert!(body["server_time"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(emu.stats().code_grants, 1);
}

#[tokio::test]
async fn an_issued_code_needs_no_authorize_page_and_works_once() {
    let emu = start().await;
    emu.set_deny(true);
    let c = emu.issue_code();
    let stats = emu.stats();
    assert_eq!((stats.codes_issued, stats.authorize_requests), (1, 0));
    assert!(emu.requests().is_empty());
    let grant = code_grant(&emu, &c);
    assert_eq!(post_token(&emu, &grant).await.0, StatusCode::OK);
    let (status, _, body) = post_token(&emu, &grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(hint(&body), "Authorization code has been revoked");
}

#[tokio::test]
async fn form_bodies_work_like_json() {
    let emu = start_auto().await;
    let c = emu.issue_code();
    let (status, ctype, body) = post_token_form(&emu, &code_grant(&emu, &c)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(ctype.starts_with("application/json"));
    let (status, _, body) = post_token_form(
        &emu,
        &refresh_grant(&emu, body["refresh_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_code_works_once_then_reads_as_revoked() {
    let emu = start_auto().await;
    let c = emu.issue_code();
    assert_eq!(
        post_token(&emu, &code_grant(&emu, &c)).await.0,
        StatusCode::OK
    );
    let (status, ctype, body) = post_token(&emu, &code_grant(&emu, &c)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(hint(&body), "Authorization code has been revoked");
    assert_eq!(body["title"], "Некорректный запрос");
    assert_eq!(body["status"], 400);
    assert!(body["type"].is_string() && body["detail"].is_string());
}

#[tokio::test]
async fn a_code_expires_after_twenty_minutes_of_emulator_time() {
    let emu = start_auto().await;
    let c = emu.issue_code();
    common::control(
        &emu,
        "clock",
        serde_json::json!({ "advance_secs": 20 * 60 + 1 }),
    )
    .await;
    let (status, _, body) = post_token(&emu, &code_grant(&emu, &c)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(hint(&body), "Authorization code has expired");

    let fresh = emu.issue_code();
    emu.advance_clock(19 * 60);
    assert_eq!(
        post_token(&emu, &code_grant(&emu, &fresh)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_code_cannot_be_decrypted() {
    let emu = start_auto().await;
    let (status, _, body) = post_token(&emu, &code_grant(&emu, "def50200nonsense")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(hint(&body), "Cannot decrypt the authorization code");
}

#[tokio::test]
async fn wrong_client_id_secret_or_redirect_are_refused_as_amocrm_does() {
    let emu = start_auto().await;
    let c = emu.issue_code();

    let mut body = code_grant(&emu, &c);
    body["client_id"] = "someone-else".into();
    let (status, _, answer) = post_token(&emu, &body).await;
    assert_eq!(
        (status, hint(&answer)),
        (StatusCode::BAD_REQUEST, "Check the `client_id` parameter")
    );

    let mut body = code_grant(&emu, &c);
    body["client_secret"] = "wrong".into();
    let (status, ctype, answer) = post_token(&emu, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ctype, "application/problem+json");
    assert!(answer.get("hint").is_none());
    assert_eq!(answer["title"], "Некорректный клиент");
    assert_eq!(answer["detail"], "Авторизация клиента не прошла");

    let mut body = code_grant(&emu, &c);
    body["redirect_uri"] = format!("{}/", emu.redirect_uri()).into();
    let (status, _, answer) = post_token(&emu, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(hint(&answer), "Redirect URI is not associated with client");

    // None of these spent the code.
    assert_eq!(
        post_token(&emu, &code_grant(&emu, &c)).await.0,
        StatusCode::OK
    );
    assert_eq!(emu.stats().token_errors, 3);
}

#[tokio::test]
async fn missing_or_unknown_grant_type_is_refused() {
    let emu = start_auto().await;
    let mut body = code_grant(&emu, "x");
    body["grant_type"] = "password".into();
    assert_eq!(post_token(&emu, &body).await.0, StatusCode::BAD_REQUEST);
    let resp = common::client()
        .post(format!("{}/oauth2/access_token", emu.base_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn refresh_rotates_and_a_spent_token_reads_as_revoked() {
    let emu = start_auto().await;
    let first = tokens(&emu).await;
    let old = first["refresh_token"].as_str().unwrap();
    let (status, _, second) = post_token(&emu, &refresh_grant(&emu, old)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);

    let (status, ctype, body) = post_token(&emu, &refresh_grant(&emu, old)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(hint(&body), "Token has been revoked");
    assert_eq!(emu.stats().revoked_refresh_used, 1);
    assert_eq!(emu.stats().refresh_grants, 1);

    let new = second["refresh_token"].as_str().unwrap();
    assert_eq!(
        post_token(&emu, &refresh_grant(&emu, new)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_refresh_token_is_a_401_but_not_a_reuse() {
    let emu = start_auto().await;
    let (status, _, body) = post_token(&emu, &refresh_grant(&emu, "def50200abc")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(hint(&body), "Token is not linked to client");
    assert_eq!(emu.stats().revoked_refresh_used, 0);
}

#[tokio::test]
async fn revoked_refresh_token_counts_as_reuse() {
    let emu = start_auto().await;
    let pair = tokens(&emu).await;
    let answer = common::control(&emu, "revoke", serde_json::json!({ "what": "refresh" })).await;
    assert_eq!(answer["revoked"], 1);
    let rt = pair["refresh_token"].as_str().unwrap();
    let (status, _, body) = post_token(&emu, &refresh_grant(&emu, rt)).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    assert_eq!(emu.stats().revoked_refresh_used, 1);
}

#[tokio::test]
async fn refresh_token_expires_after_three_months() {
    let emu = start_auto().await;
    let pair = tokens(&emu).await;
    emu.advance_clock(amo_emulator::REFRESH_TTL_SECS);
    let rt = pair["refresh_token"].as_str().unwrap();
    let (status, _, body) = post_token(&emu, &refresh_grant(&emu, rt)).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, "Token has expired")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_of_one_token_win_once() {
    let emu = start_auto().await;
    let pair = tokens(&emu).await;
    let body = refresh_grant(&emu, pair["refresh_token"].as_str().unwrap());
    let emu = std::sync::Arc::new(emu);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (emu, body) = (emu.clone(), body.clone());
            tokio::spawn(async move { post_token(&emu, &body).await.0 })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            s => assert_eq!(s, StatusCode::UNAUTHORIZED),
        }
    }
    assert_eq!(ok, 1);
    let stats = emu.stats();
    assert_eq!(stats.refresh_grants, 1);
    assert_eq!(stats.revoked_refresh_used, 19);
    assert_eq!(stats.token_requests, 21);
}

#[tokio::test]
async fn custom_access_ttl_is_reported() {
    let mut cfg = amo_emulator::EmulatorConfig::new().auto_approve();
    cfg.access_ttl_secs = 60;
    let emu = amo_emulator::Emulator::start(cfg).await.unwrap();
    assert_eq!(tokens(&emu).await["expires_in"], 60);
}
