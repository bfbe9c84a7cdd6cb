//! The browser side: `GET /oauth` (home page, consent page or redirect) and the consent choice.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use url::form_urlencoded;

use crate::problem::html_escape;
use crate::shared::Shared;

type Params = Query<HashMap<String, String>>;

/// `GET /oauth`: the home page for an unknown client, else a consent page, or with
/// auto-approve (or the deny switch) an immediate redirect.
pub async fn authorize(State(shared): State<Arc<Shared>>, Query(q): Params) -> Response {
    let deny = {
        let mut st = shared.lock();
        st.stats.authorize_requests += 1;
        st.deny
    };
    if q.get("client_id") != Some(&shared.settings.client_id) {
        return home_page();
    }
    let state = q.get("state").map(String::as_str);
    if deny {
        return redirect_denied(&shared, state);
    }
    if shared.settings.auto_approve {
        return redirect_granted(&shared, state);
    }
    consent_page(&shared, state)
}

/// `GET /oauth/decide?client_id&state&allow=1|0`: the consent page's two buttons.
pub async fn decide(State(shared): State<Arc<Shared>>, Query(q): Params) -> Response {
    if q.get("client_id") != Some(&shared.settings.client_id) {
        return home_page();
    }
    let state = q.get("state").map(String::as_str);
    let allow = q.get("allow").is_some_and(|a| a == "1" || a == "true");
    if allow && !shared.lock().deny {
        redirect_granted(&shared, state)
    } else {
        redirect_denied(&shared, state)
    }
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

fn consent_page(shared: &Shared, state: Option<&str>) -> Response {
    let link = |allow: &str| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", &shared.settings.client_id);
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("allow", allow);
        html_escape(&format!("/oauth/decide?{}", q.finish()))
    };
    let name = html_escape(&shared.settings.account_name);
    let host = html_escape(&shared.settings.account_host);
    Html(format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <title>Предоставить доступ</title></head><body>\
         <h1>Предоставить доступ</h1>\
         <p>Интеграция запрашивает доступ к аккаунту <strong id=\"account\">{name}</strong> \
         ({host}).</p>\
         <p><a id=\"allow\" href=\"{allow}\">Разрешить</a> \
         <a id=\"deny\" href=\"{deny}\">Отказать</a></p></body></html>",
        allow = link("1"),
        deny = link("0"),
    ))
    .into_response()
}

fn redirect_granted(shared: &Shared, state: Option<&str>) -> Response {
    let code = shared.lock().issue_code();
    let s = &shared.settings;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.extend([
        ("referer", s.account_host.as_str()),
        ("platform", "1"),
        ("client_id", s.client_id.as_str()),
    ]);
    redirect(&s.redirect_uri, &pairs)
}

fn redirect_denied(shared: &Shared, state: Option<&str>) -> Response {
    shared.lock().stats.authorize_denied += 1;
    let mut pairs = vec![("error", "access_denied")];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect(&shared.settings.redirect_uri, &pairs)
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
