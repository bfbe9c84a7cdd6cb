//! The browser side: `GET /oauth` (home page, consent page or redirect) and the consent choice.
//!
//! The user picks the account on the consent page, as on amoCRM's: its links carry the
//! account's number in an `account` parameter, which a test's browser may also add to the
//! authorize address itself. Without one, the account chosen with
//! `POST /_emulator/select-account` is granted, else the account of the listener reached.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use url::form_urlencoded;

use crate::account_domain::Here;
use crate::problem::html_escape;
use crate::shared::Shared;
use crate::state::Grantee;

type Params = Query<HashMap<String, String>>;

/// `GET /oauth`: the home page for an unknown client, else a consent page, or with
/// auto-approve (or the deny switch) an immediate redirect.
pub async fn authorize(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    Query(q): Params,
) -> Response {
    let deny = {
        let mut st = shared.lock();
        st.stats.authorize_requests += 1;
        st.deny
    };
    let Some(integration) = shared
        .settings
        .integration(q.get("client_id").map(String::as_str))
    else {
        return home_page();
    };
    let Some(to) = grantee(&shared, &here, &q, integration) else {
        return no_such_account();
    };
    let state = q.get("state").map(String::as_str);
    if deny {
        return redirect_denied(&shared, integration, state);
    }
    if shared.settings.auto_approve {
        return redirect_granted(&shared, to, state);
    }
    consent_page(&shared, to, state)
}

/// `GET /oauth/decide?client_id&state&account&allow=1|0`: the consent page's two buttons.
pub async fn decide(
    State(shared): State<Arc<Shared>>,
    Extension(here): Extension<Here>,
    Query(q): Params,
) -> Response {
    let Some(integration) = shared
        .settings
        .integration(q.get("client_id").map(String::as_str))
    else {
        return home_page();
    };
    let Some(to) = grantee(&shared, &here, &q, integration) else {
        return no_such_account();
    };
    let state = q.get("state").map(String::as_str);
    let allow = q.get("allow").is_some_and(|a| a == "1" || a == "true");
    if allow && !shared.lock().deny {
        redirect_granted(&shared, to, state)
    } else {
        redirect_denied(&shared, integration, state)
    }
}

/// The account the request picks (its `account` number), else the selected one, else the
/// listener's; `None` for a number no account has.
fn grantee(
    shared: &Shared,
    here: &Here,
    q: &HashMap<String, String>,
    integration: usize,
) -> Option<Grantee> {
    let account = match q.get("account") {
        Some(n) => shared.settings.account_number(n.trim().parse().ok()?)?,
        None => shared.lock().selected_account.unwrap_or(here.account),
    };
    Some(Grantee {
        account,
        integration,
    })
}

/// `GET /`: what www.amocrm.ru shows a visitor, and what `/oauth` shows an unknown client.
pub async fn home() -> Response {
    home_page()
}

fn home_page() -> Response {
    Html(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <title>amoCRM — CRM-система</title></head><body><h1>amoCRM</h1>\
         <p>Продавайте больше с amoCRM. (Local emulator home page.)</p></body></html>",
    )
    .into_response()
}

/// A 404 page for an `account` number no account has.
fn no_such_account() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
             <title>Аккаунт не найден</title></head><body><h1>Аккаунт не найден</h1>\
             </body></html>",
        ),
    )
        .into_response()
}

fn consent_page(shared: &Shared, to: Grantee, state: Option<&str>) -> Response {
    let query = |path: &str, account: usize, allow: Option<&str>| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair(
            "client_id",
            &shared.settings.integrations[to.integration].client_id,
        );
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("account", &(account + 1).to_string());
        if let Some(allow) = allow {
            q.append_pair("allow", allow);
        }
        html_escape(&format!("{path}?{}", q.finish()))
    };
    let accounts = &shared.settings.accounts;
    let info = &accounts[to.account].info;
    let (name, host) = (html_escape(&info.name), html_escape(&info.host));
    // With several accounts, the user may pick another one, as amoCRM's page lets them.
    let others: String = if accounts.len() > 1 {
        let items: String = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    query("/oauth", i, None),
                    html_escape(&a.info.name)
                )
            })
            .collect();
        format!("<p>Другой аккаунт:</p><ul id=\"accounts\">{items}</ul>")
    } else {
        String::new()
    };
    Html(format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <title>Предоставить доступ</title></head><body>\
         <h1>Предоставить доступ</h1>\
         <p>Интеграция запрашивает доступ к аккаунту <strong id=\"account\">{name}</strong> \
         ({host}).</p>\
         <p><a id=\"allow\" href=\"{allow}\">Разрешить</a> \
         <a id=\"deny\" href=\"{deny}\">Отказать</a></p>{others}</body></html>",
        allow = query("/oauth/decide", to.account, Some("1")),
        deny = query("/oauth/decide", to.account, Some("0")),
    ))
    .into_response()
}

fn redirect_granted(shared: &Shared, to: Grantee, state: Option<&str>) -> Response {
    let code = shared.lock().issue_code(to);
    let s = &shared.settings;
    let integration = &s.integrations[to.integration];
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.extend([
        ("referer", s.accounts[to.account].info.host.as_str()),
        ("platform", "1"),
        ("client_id", integration.client_id.as_str()),
    ]);
    redirect(&integration.redirect_uri, &pairs)
}

fn redirect_denied(shared: &Shared, integration: usize, state: Option<&str>) -> Response {
    shared.lock().stats.authorize_denied += 1;
    let mut pairs = vec![("error", "access_denied")];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect(
        &shared.settings.integrations[integration].redirect_uri,
        &pairs,
    )
}

fn redirect(base: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(base) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "bad registered redirect URI",
        )
            .into_response();
    };
    url.query_pairs_mut().extend_pairs(pairs);
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}
