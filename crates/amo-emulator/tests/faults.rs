//! Injected faults: each kind, its target, its count, and atomic use under concurrency.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use amo_emulator::{Fault, FaultKind, FaultTarget};
use common::{account, client, code_grant, control, post_token, refresh_grant, start_auto, tokens};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn server_error_fault_hits_the_token_endpoint_once() {
    let emu = start_auto().await;
    let answer = control(&emu, "fault", json!({ "target": "token", "kind": "500" })).await;
    assert_eq!(answer["pending_faults"], 1);
    let c = emu.issue_code();
    let (status, ctype, _) = post_token(&emu, &code_grant(&emu, &c)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(ctype, "application/problem+json");
    // The fault answered before the grant ran, so the code is still good.
    assert_eq!(
        post_token(&emu, &code_grant(&emu, &c)).await.0,
        StatusCode::OK
    );
    assert_eq!(emu.stats().faults_served, 1);
}

#[tokio::test]
async fn html_429_and_403_are_nginx_pages() {
    let emu = start_auto().await;
    emu.set_fault(Fault::new(FaultTarget::Api, FaultKind::TooManyRequests));
    emu.set_fault(Fault::new(FaultTarget::Api, FaultKind::Html403));
    let token = emu.issue_long_lived_token(1);
    let (status, ctype, body) = account(&emu, &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ctype, "text/html");
    assert!(body.as_str().unwrap().contains("429 Too Many Requests"));
    let (status, _, body) = account(&emu, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.as_str().unwrap().contains("<center>nginx</center>"));
    assert_eq!(account(&emu, &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn malformed_is_a_200_json_that_does_not_parse() {
    let emu = start_auto().await;
    emu.set_fault(Fault::new(FaultTarget::Token, FaultKind::Malformed));
    let c = emu.issue_code();
    let (status, ctype, body) = post_token(&emu, &code_grant(&emu, &c)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/json");
    assert!(matches!(body, Value::String(_)), "parsed: {body}");
}

#[tokio::test]
async fn a_trimmed_token_answer_lacks_its_field_and_the_grant_still_ran() {
    let emu = start_auto().await;
    let first = tokens(&emu).await;
    let spent = first["refresh_token"].as_str().unwrap();
    control(
        &emu,
        "fault",
        json!({ "target": "token", "kind": "no_refresh_token" }),
    )
    .await;
    let (status, _, body) = post_token(&emu, &refresh_grant(&emu, spent)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body["access_token"].is_string() && body["expires_in"].is_i64());
    // The refresh token it was given is spent, as with any refresh.
    let (status, _, _) = post_token(&emu, &refresh_grant(&emu, spent)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(emu.stats().revoked_refresh_used, 1);

    emu.set_fault(Fault::new(FaultTarget::Token, FaultKind::NoExpiresIn));
    let c = emu.issue_code();
    let (status, _, body) = post_token(&emu, &code_grant(&emu, &c)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("expires_in").is_none(), "{body}");
    assert!(body["refresh_token"].is_string());
    assert_eq!(emu.stats().faults_served, 2);
}

#[tokio::test]
async fn slow_waits_then_answers_normally() {
    let emu = start_auto().await;
    control(
        &emu,
        "fault",
        json!({ "target": "any", "kind": "slow", "delay_ms": 300 }),
    )
    .await;
    let token = emu.issue_long_lived_token(1);
    let t0 = Instant::now();
    assert_eq!(account(&emu, &token).await.0, StatusCode::OK);
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn times_counts_requests_and_targets_are_kept_apart() {
    let emu = start_auto().await;
    let pair = tokens(&emu).await;
    let access = pair["access_token"].as_str().unwrap();
    emu.set_fault(Fault::new(FaultTarget::Api, FaultKind::ServerError).times(2));
    let c = emu.issue_code();
    assert_eq!(
        post_token(&emu, &code_grant(&emu, &c)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        account(&emu, access).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        account(&emu, access).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(account(&emu, access).await.0, StatusCode::OK);
}

#[tokio::test]
async fn delete_clears_pending_faults() {
    let emu = start_auto().await;
    emu.set_fault(Fault::new(FaultTarget::Any, FaultKind::Html403).times(5));
    let resp = client()
        .delete(format!("{}/_emulator/fault", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let token = emu.issue_long_lived_token(1);
    assert_eq!(account(&emu, &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unknown_fault_kind_is_refused() {
    let emu = start_auto().await;
    let resp = client()
        .post(format!("{}/_emulator/fault", emu.base_url()))
        .json(&json!({ "target": "token", "kind": "502" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_consume_each_use_exactly_once() {
    let emu = Arc::new(start_auto().await);
    let token = Arc::new(emu.issue_long_lived_token(1));
    emu.set_fault(Fault::new(FaultTarget::Api, FaultKind::TooManyRequests).times(7));
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (emu, token) = (emu.clone(), token.clone());
            tokio::spawn(async move { account(&emu, &token).await.0 })
        })
        .collect();
    let mut limited = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert_eq!(limited, 7);
    assert_eq!(emu.stats().faults_served, 7);
    assert_eq!(emu.stats().account_requests, 30);
}
