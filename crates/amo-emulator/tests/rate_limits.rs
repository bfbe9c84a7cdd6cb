//! amoCRM's rate limits: 7 requests a second per integration, 50 per account, answered with
//! nginx's 429 page when on; the request log that shows how close a client came.

mod common;

use std::time::Duration;

use amo_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, Integration, RateLimits, RateSummary,
};
use common::{account_at, client, post_token_at};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// amoCRM's limits over a window of three seconds instead of one: each burst below must fall
/// in one window, and a slow machine (Wine) can take more than a second over one.
const WINDOW_MS: u64 = 3_000;
const LIMITS: RateLimits = RateLimits {
    window_ms: WINDOW_MS,
    ..RateLimits::AMOCRM
};

async fn start(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.unwrap()
}

fn grant(i: &Integration, kind: &str, value: &str) -> Value {
    let (grant_type, field) = match kind {
        "code" => ("authorization_code", "code"),
        _ => ("refresh_token", "refresh_token"),
    };
    json!({
        "client_id": i.client_id,
        "client_secret": i.client_secret,
        "grant_type": grant_type,
        field: value,
        "redirect_uri": i.redirect_uri,
    })
}

/// A refresh token of the first integration for each account, obtained at fewer than 7
/// requests a window, then a pause so none of that counts any more.
async fn refresh_tokens(emu: &EmulatorHandle) -> Vec<String> {
    let first = emu.integrations().remove(0);
    let mut tokens = Vec::new();
    for a in emu.accounts() {
        let code = emu.issue_code_for(a.number, &first.client_id).unwrap();
        let (status, _, pair) = post_token_at(&a.base_url(), &grant(&first, "code", &code)).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        tokens.push(pair["refresh_token"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(WINDOW_MS / 6)).await;
    }
    tokio::time::sleep(Duration::from_millis(WINDOW_MS + 100)).await;
    tokens
}

/// `GET /api/v4/account` on `base` with each token, all at once; the statuses.
async fn burst(base: &str, tokens: &[String]) -> Vec<StatusCode> {
    let calls = tokens.iter().map(|t| {
        let (base, t) = (base.to_owned(), t.clone());
        tokio::spawn(async move { account_at(&base, &t).await.0 })
    });
    let mut out = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        out.push(call.await.unwrap());
    }
    out
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == wanted).count()
}

/// The time from the first to the last of the log's counted requests since `from`.
fn span_ms(emu: &EmulatorHandle, from: usize) -> u64 {
    let log = emu.requests();
    let times: Vec<u64> = log[from..].iter().map(|r| r.at_ms).collect();
    times.iter().max().unwrap() - times.iter().min().unwrap()
}

#[tokio::test]
async fn seven_refreshes_of_one_integration_in_a_second_pass_and_the_eighth_gets_429() {
    let emu = start(EmulatorConfig::new().accounts(8).with_rate_limits(LIMITS)).await;
    let tokens = refresh_tokens(&emu).await;
    let first = emu.integrations().remove(0);
    let accounts = emu.accounts();
    let from = emu.requests().len();

    // Seven at once, one per account: all pass.
    let calls: Vec<_> = (0..7)
        .map(|k| {
            let (base, body) = (accounts[k].base_url(), grant(&first, "refresh", &tokens[k]));
            tokio::spawn(async move { post_token_at(&base, &body).await.0 })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), StatusCode::OK);
    }
    // The eighth, in the same second, on an account of its own: refused as nginx does.
    let resp = client()
        .post(format!("{}/oauth2/access_token", accounts[7].base_url()))
        .json(&grant(&first, "refresh", &tokens[7]))
        .send()
        .await
        .unwrap();
    let in_window = span_ms(&emu, from);
    assert!(
        in_window < WINDOW_MS,
        "the machine was too slow: {in_window} ms"
    );
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("429 Too Many Requests"));

    let summary = RateSummary::over(&emu.requests(), WINDOW_MS);
    assert_eq!(summary.max_per_integration, 8);
    assert_eq!(summary.max_per_account, 1);
    assert_eq!(summary.too_many_requests, 1);
    assert_eq!(emu.stats().rate_limited, 1);
    assert_eq!(
        emu.stats().refresh_grants,
        7,
        "the refused one never reached the endpoint"
    );

    // Once the second has passed, the refused refresh token still works.
    tokio::time::sleep(Duration::from_millis(WINDOW_MS + 100)).await;
    let body = grant(&first, "refresh", &tokens[7]);
    let (status, _, answer) = post_token_at(&accounts[7].base_url(), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn two_integrations_each_get_their_own_seven() {
    let emu = start(
        EmulatorConfig::new()
            .integrations(2)
            .with_rate_limits(LIMITS),
    )
    .await;
    let [one, two] = <[_; 2]>::try_from(emu.integrations()).unwrap();
    let token = |i: &Integration| emu.issue_long_lived_token_for(1, &i.client_id, 1).unwrap();
    let tokens: Vec<String> = [&one, &two]
        .iter()
        .flat_map(|i| vec![token(i); 7])
        .collect();
    let from = emu.requests().len();
    let statuses = burst(&emu.base_url(), &tokens).await;
    assert_eq!(count(&statuses, StatusCode::OK), 14, "{statuses:?}");
    // One more of each in the same second: each integration is over its own limit.
    let statuses = burst(&emu.base_url(), &[token(&one), token(&two)]).await;
    let in_window = span_ms(&emu, from);
    assert!(
        in_window < WINDOW_MS,
        "the machine was too slow: {in_window} ms"
    );
    assert_eq!(statuses, [StatusCode::TOO_MANY_REQUESTS; 2]);

    let log = emu.requests();
    let of = |i: &Integration| {
        let mine: Vec<_> = log
            .iter()
            .filter(|r| r.client_id.as_deref() == Some(i.client_id.as_str()))
            .cloned()
            .collect();
        RateSummary::over(&mine, WINDOW_MS)
    };
    for i in [&one, &two] {
        assert_eq!(of(i).max_per_integration, 8);
        assert_eq!(of(i).too_many_requests, 1);
    }
    assert_eq!(
        RateSummary::over(&emu.requests(), WINDOW_MS).max_per_account,
        16
    );

    // The window slides: a second later each may call again.
    tokio::time::sleep(Duration::from_millis(WINDOW_MS + 100)).await;
    let statuses = burst(&emu.base_url(), &[token(&one), token(&two)]).await;
    assert_eq!(statuses, [StatusCode::OK; 2]);
}

#[tokio::test]
async fn an_account_takes_fifty_requests_a_second_whatever_the_integrations() {
    let config = EmulatorConfig::new().integrations(9).accounts(2);
    let emu = start(config.with_rate_limits(LIMITS)).await;
    let mut integrations = emu.integrations();
    let spare = integrations.pop().unwrap();
    // Eight integrations at seven each: none over its own limit, the account over its 50.
    let tokens: Vec<String> = integrations
        .iter()
        .flat_map(|i| vec![emu.issue_long_lived_token_for(1, &i.client_id, 1).unwrap(); 7])
        .collect();
    let from = emu.requests().len();
    let statuses = burst(&emu.base_url(), &tokens).await;
    assert_eq!(count(&statuses, StatusCode::OK), 50, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 6);

    // In the same second, a ninth integration is refused by that account only.
    let other = emu.accounts().remove(1);
    let here = emu
        .issue_long_lived_token_for(1, &spare.client_id, 1)
        .unwrap();
    let there = emu
        .issue_long_lived_token_for(2, &spare.client_id, 1)
        .unwrap();
    let (status, _, _) = account_at(&emu.base_url(), &here).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, body) = account_at(&other.base_url(), &there).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let in_window = span_ms(&emu, from);
    assert!(
        in_window < WINDOW_MS,
        "the machine was too slow: {in_window} ms"
    );

    let summary = RateSummary::over(&emu.requests(), WINDOW_MS);
    assert_eq!(summary.max_per_account, 57);
    assert_eq!(summary.max_per_integration, 7);
    assert_eq!(summary.too_many_requests, 7);
}

#[tokio::test]
async fn limits_are_off_by_default_and_the_log_still_shows_the_busiest_second() {
    let emu = start(EmulatorConfig::new()).await;
    assert_eq!(emu.config().rate_limits, None);
    let token = emu.issue_long_lived_token(1);
    let statuses = burst(&emu.base_url(), &vec![token; 10]).await;
    assert_eq!(statuses, [StatusCode::OK; 10]);
    let _ = client()
        .get(format!("{}/oauth?client_id=x", emu.base_url()))
        .send()
        .await
        .unwrap();

    let summary = emu.rate_summary();
    assert_eq!(summary.counted, 10, "the authorize page does not count");
    assert_eq!(summary.max_per_integration, 10);
    assert_eq!(summary.too_many_requests, 0);
    let log = emu.requests();
    let api = &log[0];
    assert_eq!(api.account_host, emu.account_host());
    assert_eq!(api.account_id, amo_emulator::DEFAULT_ACCOUNT_ID);
    assert_eq!(api.client_id.as_deref(), Some(emu.client_id()));
    assert_eq!(api.status, Some(200));
    assert_eq!(log[10].client_id, None);

    let answer: Value = client()
        .get(format!("{}/_emulator/requests", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["summary"]["max_per_integration"], 10);
    assert_eq!(answer["summary"]["too_many_requests"], 0);
    assert_eq!(answer["requests"][0]["status"], 200);
    assert_eq!(answer["requests"][0]["client_id"], emu.client_id());
}
