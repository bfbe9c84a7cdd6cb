//! The HTTP clients every call to amoCRM goes through, and what an answer means: its JSON, or
//! the error that explains it.

use reqwest::{header, redirect, Response, StatusCode};
use std::sync::OnceLock;
use url::Url;

use crate::error::{AmoProblem, Error, Result};

/// The one HTTP client, built on first use so start-up pays nothing for it.
pub(crate) struct Http {
    /// For HTTPS: verifies servers against the system's root certificates.
    tls: OnceLock<reqwest::Client>,
    /// For plain HTTP (the emulator on loopback): reads no certificates, as it needs none.
    plain: OnceLock<reqwest::Client>,
}

impl Http {
    pub(crate) fn new() -> Http {
        Http {
            tls: OnceLock::new(),
            plain: OnceLock::new(),
        }
    }

    /// Builds the client for `url` ahead of need (for HTTPS, reading the system's
    /// certificates), so a flow's callback does not wait for it.
    pub(crate) fn warm(&self, url: &Url) {
        self.client(url);
    }

    /// The client for `url`'s scheme. Neither follows redirects.
    pub(crate) fn client(&self, url: &Url) -> &reqwest::Client {
        let https = url.scheme() == "https";
        let cell = if https { &self.tls } else { &self.plain };
        cell.get_or_init(|| {
            reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .tls_built_in_root_certs(https)
                .timeout(std::time::Duration::from_secs(30))
                .connect_timeout(std::time::Duration::from_secs(10))
                .user_agent(concat!("amo-connector/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        })
    }
}

/// Turns an answer into JSON, or into the error that explains it.
pub(crate) async fn read(resp: Response) -> Result<serde_json::Value> {
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = resp.text().await?;
    interpret(status, &ctype, &text)
}

/// What an answer with `code`, content type `ctype` (lower case) and body `text` means: its
/// JSON object, or the error that explains it.
///
/// # Errors
/// [`Error::Amo`] for a problem+json refusal, else the status's own error.
pub(crate) fn interpret(code: u16, ctype: &str, text: &str) -> Result<serde_json::Value> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_redirection() {
        return Err(Error::UnexpectedResponse {
            status: code,
            what: "redirect",
        });
    }
    let json: Option<serde_json::Value> = serde_json::from_str(text).ok();
    if status.is_success() {
        return match json {
            Some(v) if v.is_object() => Ok(v),
            _ if ctype.contains("html") || text.trim_start().starts_with('<') => {
                Err(Error::UnexpectedResponse {
                    status: code,
                    what: "html",
                })
            }
            _ => Err(Error::UnexpectedResponse {
                status: code,
                what: "malformed_json",
            }),
        };
    }
    // A 5xx is amoCRM failing, not refusing: its problem+json body is no reason to reconnect.
    if status.is_server_error() {
        return Err(Error::ServerError { status: code });
    }
    if let Some(v) = json.filter(|v| v.get("title").is_some() || v.get("hint").is_some()) {
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        return Err(Error::Amo(AmoProblem {
            status: code,
            title: field("title"),
            detail: field("detail"),
            hint: field("hint"),
        }));
    }
    Err(match code {
        429 => Error::RateLimited,
        403 => Error::Blocked { status: code },
        _ if ctype.contains("html") || text.trim_start().starts_with('<') => {
            Error::UnexpectedResponse {
                status: code,
                what: "html",
            }
        }
        _ => Error::UnexpectedResponse {
            status: code,
            what: "status",
        },
    })
}
