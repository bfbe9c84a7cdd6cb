//! amoCRM's `application/problem+json` error answers, as the token endpoint and API give them.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The `type` amoCRM's OAuth server puts in its problems.
const OAUTH_PROBLEM_TYPE: &str = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson";
/// The detail amoCRM gives with most OAuth problems.
const BAD_REQUEST_DETAIL: &str = "В запросе отсутствует ряд параметров или параметры невалидны";

/// One problem+json answer: `{hint?, title, type, status, detail}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What exactly was wrong; absent on some 401s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A short title, in Russian like amoCRM's.
    pub title: String,
    /// A URL naming the problem's kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// A longer explanation.
    pub detail: String,
}

impl Problem {
    fn oauth(status: u16, hint: Option<&str>, title: &str, detail: &str) -> Self {
        Self {
            hint: hint.map(str::to_owned),
            title: title.to_owned(),
            kind: OAUTH_PROBLEM_TYPE.to_owned(),
            status,
            detail: detail.to_owned(),
        }
    }

    /// 400 "Некорректный запрос" with a hint, the token endpoint's usual refusal.
    pub fn bad_request(hint: &str) -> Self {
        Self::oauth(400, Some(hint), "Некорректный запрос", BAD_REQUEST_DETAIL)
    }

    /// 401 about a refresh token (`Token has been revoked`, `Token has expired`, ...).
    pub fn bad_token(hint: &str) -> Self {
        Self::oauth(401, Some(hint), "Некорректный запрос", BAD_REQUEST_DETAIL)
    }

    /// 401 "Некорректный клиент" without a hint: the client secret did not match.
    pub fn invalid_client() -> Self {
        Self::oauth(
            401,
            None,
            "Некорректный клиент",
            "Авторизация клиента не прошла",
        )
    }

    /// 400 for a missing or unknown `grant_type`.
    pub fn unsupported_grant() -> Self {
        Self::oauth(
            400,
            Some("Check that all required parameters have been provided"),
            "Неподдерживаемый тип авторизации",
            "Тип авторизации не поддерживается сервером авторизации",
        )
    }

    /// 401 from the API for a missing, unknown, expired or revoked access token.
    pub fn api_unauthorized() -> Self {
        Self {
            hint: None,
            title: "Unauthorized".to_owned(),
            kind: "https://httpstatus.es/401".to_owned(),
            status: 401,
            detail: "Неверный логин или пароль".to_owned(),
        }
    }

    /// 404 from the API for a path the emulator does not serve.
    pub fn api_not_found() -> Self {
        Self {
            hint: None,
            title: "Not Found".to_owned(),
            kind: "https://httpstatus.es/404".to_owned(),
            status: 404,
            detail: "Запрашиваемый ресурс не найден".to_owned(),
        }
    }

    /// 404 from the token endpoint of an address the account left (renamed).
    pub fn account_moved() -> Self {
        Self {
            hint: None,
            title: "Not Found".to_owned(),
            kind: "https://httpstatus.es/404".to_owned(),
            status: 404,
            detail: "Аккаунт не найден".to_owned(),
        }
    }

    /// 500 naming what failed inside the emulator.
    pub fn internal_because(reason: &str) -> Self {
        Self {
            detail: reason.to_owned(),
            ..Self::internal()
        }
    }

    /// 500, as a fault injects it.
    pub fn internal() -> Self {
        Self {
            hint: None,
            title: "Internal Server Error".to_owned(),
            kind: "https://httpstatus.es/500".to_owned(),
            status: 500,
            detail: "Внутренняя ошибка сервера".to_owned(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::to_string(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

/// An nginx-style HTML error page, as amoCRM's front servers send for 403 and 429.
pub fn nginx_page(status: StatusCode) -> Response {
    let line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let body = format!(
        "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1>\
         </center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

/// A 200 with a JSON content type and a body cut off mid-token.
pub fn malformed_json() -> Response {
    let body = r#"{"token_type":"Bearer","expires_in":86400,"access_token":"eyJ0eXAiOiJKV1Qi"#;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Escapes text for HTML bodies and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_client_has_no_hint_field() {
        let v = serde_json::to_value(Problem::invalid_client()).unwrap();
        assert!(v.get("hint").is_none());
        assert_eq!(v["status"], 401);
        assert_eq!(v["title"], "Некорректный клиент");
    }

    #[test]
    fn html_escape_escapes_markup() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
