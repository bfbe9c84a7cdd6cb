//! `/api/v4`: the account behind a Bearer token, expiry, revocation, long-lived tokens.

mod common;

use amo_emulator::Revoke;
use common::{account, client, control, start_auto, tokens};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn account_answers_with_a_valid_access_token() {
    let emu = start_auto().await;
    let pair = tokens(&emu).await;
    let (status, ctype, body) = account(&emu, pair["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("application/json"));
    assert_eq!(body["id"], amo_emulator::DEFAULT_ACCOUNT_ID);
    assert_eq!(body["name"], amo_emulator::DEFAULT_ACCOUNT_NAME);
    for field in [
        "subdomain",
        "created_at",
        "current_user_id",
        "country",
        "currency",
        "amojo_id",
    ] {
        assert!(!body[field].is_null(), "{field} missing");
    }
    assert!(body.get("uuid").is_none());
    assert_eq!(emu.stats().account_requests, 1);
}

#[tokio::test]
async fn account_gives_uuid_when_asked_with_it() {
    let emu = start_auto().await;
    let token = emu.issue_long_lived_token(1);
    let resp = client()
        .get(format!(
            "{}/api/v4/account?with=amojo_id,uuid",
            emu.base_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["uuid"].is_string());
}

#[tokio::test]
async fn account_refuses_missing_bad_and_expired_tokens_with_problem_json() {
    let emu = start_auto().await;
    let resp = client()
        .get(format!("{}/api/v4/account", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let (status, ctype, body) = account(&emu, "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(body["status"], 401);

    let pair = tokens(&emu).await;
    let access = pair["access_token"].as_str().unwrap();
    emu.advance_clock(86_400);
    assert_eq!(account(&emu, access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(emu.stats().api_unauthorized, 3);
}

#[tokio::test]
async fn the_old_access_token_still_works_after_a_refresh() {
    let emu = start_auto().await;
    let first = tokens(&emu).await;
    let rt = first["refresh_token"].as_str().unwrap();
    let (status, _, _) = common::post_token(&emu, &common::refresh_grant(&emu, rt)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        account(&emu, first["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_access_tokens_makes_them_fail() {
    let emu = start_auto().await;
    let pair = tokens(&emu).await;
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(emu.revoke(Revoke::Refresh), 1);
    assert_eq!(account(&emu, access).await.0, StatusCode::OK);
    let answer = control(&emu, "revoke", json!({ "what": "access" })).await;
    assert_eq!(answer["revoked"], 1);
    assert_eq!(account(&emu, access).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn long_lived_token_works_until_its_days_run_out_or_it_is_revoked() {
    let emu = start_auto().await;
    let answer = control(&emu, "long-lived-token", json!({ "days": 2 })).await;
    let token = answer["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    assert_eq!(account(&emu, token).await.0, StatusCode::OK);
    emu.advance_clock(86_400);
    assert_eq!(account(&emu, token).await.0, StatusCode::OK);
    emu.advance_clock(86_400);
    assert_eq!(account(&emu, token).await.0, StatusCode::UNAUTHORIZED);

    let other = emu.issue_long_lived_token(30);
    let short = tokens(&emu).await;
    assert_eq!(emu.revoke(Revoke::LongLived), 1);
    assert_eq!(account(&emu, &other).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        account(&emu, short["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn other_api_paths_are_404_problem_json_behind_the_token_check() {
    let emu = start_auto().await;
    let token = emu.issue_long_lived_token(1);
    let url = format!("{}/api/v4/catalogs", emu.base_url());
    let resp = client().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn stats_endpoint_mirrors_the_handle() {
    let emu = start_auto().await;
    tokens(&emu).await;
    let resp = client()
        .get(format!("{}/_emulator/stats", emu.base_url()))
        .send()
        .await
        .unwrap();
    let stats: amo_emulator::Stats = resp.json().await.unwrap();
    assert_eq!(stats, emu.stats());
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.code_grants, 1);
}

#[tokio::test]
async fn control_endpoints_refuse_bad_bodies() {
    let emu = start_auto().await;
    let resp = client()
        .post(format!("{}/_emulator/revoke", emu.base_url()))
        .body(r#"{"what":"everything"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let emu = start_auto().await;
    let base = emu.base_url();
    emu.shutdown().await;
    assert!(client()
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .is_err());
}
