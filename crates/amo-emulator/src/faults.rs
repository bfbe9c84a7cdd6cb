//! Injected failures: which endpoint they hit, what they answer, how many requests they take.

use std::collections::VecDeque;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::problem::{self, Problem};

/// How long a `slow` fault waits when no `delay_ms` is given.
pub const DEFAULT_SLOW_DELAY_MS: u64 = 1_000;

/// Which requests a fault may hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// `POST /oauth2/access_token`.
    Token,
    /// Every `/api/v4/...` path.
    Api,
    /// Either of the above, whichever comes first.
    Any,
}

/// What a faulted request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// `"500"`: a 500 problem+json.
    #[serde(rename = "500")]
    ServerError,
    /// `"429"`: nginx's HTML "429 Too Many Requests" page.
    #[serde(rename = "429")]
    TooManyRequests,
    /// `"html403"`: nginx's HTML "403 Forbidden" page.
    #[serde(rename = "html403")]
    Html403,
    /// `"malformed"`: 200, JSON content type, a body cut short.
    #[serde(rename = "malformed")]
    Malformed,
    /// `"slow"`: waits `delay_ms`, then answers normally.
    #[serde(rename = "slow")]
    Slow,
    /// `"no_refresh_token"`: the grant goes through (a refresh token sent is spent), and
    /// the answer leaves out `refresh_token`. Token requests only; an API request that
    /// draws it answers normally.
    #[serde(rename = "no_refresh_token")]
    NoRefreshToken,
    /// `"no_expires_in"`: as `no_refresh_token`, leaving out `expires_in`.
    #[serde(rename = "no_expires_in")]
    NoExpiresIn,
}

/// One queued fault, as `POST /_emulator/fault` takes it:
/// `{"target","kind","times"?,"delay_ms"?}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Which requests it hits.
    pub target: FaultTarget,
    /// What they get.
    pub kind: FaultKind,
    /// How many requests it hits (default 1; 0 counts as 1).
    #[serde(default = "one")]
    pub times: u32,
    /// For `slow`: the wait in milliseconds (default 1000). Ignored by other kinds.
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// A fault hitting one request.
    pub fn new(target: FaultTarget, kind: FaultKind) -> Self {
        Self {
            target,
            kind,
            times: 1,
            delay_ms: None,
        }
    }

    /// The same fault hitting `n` requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// The same fault with a wait (for `slow`).
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.delay_ms = Some(ms);
        self
    }
}

/// What a request drew from the queue: its kind and, for `slow`, the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    /// What to answer.
    pub kind: FaultKind,
    /// How long to wait first.
    pub delay: Duration,
}

impl Drawn {
    /// The answer that replaces the real one; `None` for the kinds that let the request
    /// through (`slow` after its wait, and those that only trim the token answer).
    pub fn response(self) -> Option<Response> {
        match self.kind {
            FaultKind::ServerError => Some(Problem::internal().into_response()),
            FaultKind::TooManyRequests => Some(problem::nginx_page(StatusCode::TOO_MANY_REQUESTS)),
            FaultKind::Html403 => Some(problem::nginx_page(StatusCode::FORBIDDEN)),
            FaultKind::Malformed => Some(problem::malformed_json()),
            FaultKind::Slow | FaultKind::NoRefreshToken | FaultKind::NoExpiresIn => None,
        }
    }

    /// The field a successful token answer leaves out, if this fault trims one.
    pub fn omitted_field(self) -> Option<&'static str> {
        match self.kind {
            FaultKind::NoRefreshToken => Some("refresh_token"),
            FaultKind::NoExpiresIn => Some("expires_in"),
            _ => None,
        }
    }
}

/// Pending faults, oldest first. Kept inside the emulator's one lock, so each request
/// draws at most one fault and no two requests draw the same last use.
#[derive(Debug, Default)]
pub struct FaultQueue {
    pending: VecDeque<Fault>,
}

impl FaultQueue {
    /// Queues a fault behind the ones already waiting.
    pub fn push(&mut self, mut fault: Fault) {
        fault.times = fault.times.max(1);
        self.pending.push_back(fault);
    }

    /// Drops every pending fault.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// How many requests the pending faults will still hit.
    pub fn pending(&self) -> u64 {
        self.pending.iter().map(|f| u64::from(f.times)).sum()
    }

    /// Takes one use of the oldest fault that applies to a request of `target`
    /// (`Token` or `Api`).
    pub fn draw(&mut self, target: FaultTarget) -> Option<Drawn> {
        let i = self
            .pending
            .iter()
            .position(|f| f.target == target || f.target == FaultTarget::Any)?;
        let fault = &mut self.pending[i];
        let drawn = Drawn {
            kind: fault.kind,
            delay: match fault.kind {
                FaultKind::Slow => {
                    Duration::from_millis(fault.delay_ms.unwrap_or(DEFAULT_SLOW_DELAY_MS))
                }
                _ => Duration::ZERO,
            },
        };
        fault.times -= 1;
        if fault.times == 0 {
            self.pending.remove(i);
        }
        Some(drawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_takes_uses_in_order_and_skips_other_targets() {
        let mut q = FaultQueue::default();
        q.push(Fault::new(FaultTarget::Api, FaultKind::Html403));
        q.push(Fault::new(FaultTarget::Token, FaultKind::ServerError).times(2));
        assert_eq!(q.pending(), 3);
        assert_eq!(
            q.draw(FaultTarget::Token).unwrap().kind,
            FaultKind::ServerError
        );
        assert_eq!(
            q.draw(FaultTarget::Token).unwrap().kind,
            FaultKind::ServerError
        );
        assert!(q.draw(FaultTarget::Token).is_none());
        assert_eq!(q.draw(FaultTarget::Api).unwrap().kind, FaultKind::Html403);
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn fault_json_uses_the_contract_spelling() {
        let f: Fault = serde_json::from_str(r#"{"target":"any","kind":"429"}"#).unwrap();
        assert_eq!(f, Fault::new(FaultTarget::Any, FaultKind::TooManyRequests));
        let f: Fault =
            serde_json::from_str(r#"{"target":"token","kind":"slow","times":3,"delay_ms":50}"#)
                .unwrap();
        assert_eq!(
            f,
            Fault::new(FaultTarget::Token, FaultKind::Slow)
                .times(3)
                .delay_ms(50)
        );
    }

    #[test]
    fn trimming_faults_let_the_request_through_and_name_their_field() {
        let f: Fault =
            serde_json::from_str(r#"{"target":"token","kind":"no_refresh_token"}"#).unwrap();
        assert_eq!(f, Fault::new(FaultTarget::Token, FaultKind::NoRefreshToken));
        let mut q = FaultQueue::default();
        q.push(f);
        q.push(Fault::new(FaultTarget::Token, FaultKind::NoExpiresIn));
        let first = q.draw(FaultTarget::Token).unwrap();
        assert!(first.response().is_none());
        assert_eq!(first.omitted_field(), Some("refresh_token"));
        assert_eq!(
            q.draw(FaultTarget::Token).unwrap().omitted_field(),
            Some("expires_in")
        );
    }

    #[test]
    fn slow_defaults_to_one_second() {
        let mut q = FaultQueue::default();
        q.push(Fault::new(FaultTarget::Any, FaultKind::Slow));
        assert_eq!(
            q.draw(FaultTarget::Api).unwrap().delay,
            Duration::from_secs(1)
        );
    }
}
