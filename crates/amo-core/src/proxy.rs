//! The local API: a loopback HTTP server that forwards calls to one account with its token,
//! so a local program holds a proxy key, valid while the proxy runs, instead of an amoCRM
//! token. `amo proxy` and `amo run --proxy` run it in the foreground.
//!
//! A request goes through the gate (`guard.rs`: the proxy's own `Host`, no `Origin`, the
//! key, the method, a plain path), then upstream (`upstream.rs`: the token, renewed once for
//! everyone when it runs out or is refused, the shared limiter, 429s waited out), and its
//! answer back (`answer.rs`, `body.rs`: hop-by-hop headers dropped, links on the account
//! pointed at the proxy, the token masked, bodies streamed). It listens on TCP or, on Unix,
//! a socket file (`listen.rs`).

mod answer;
mod body;
mod guard;
pub mod hosted;
mod key;
mod listen;
#[cfg(test)]
mod tests;
mod upstream;

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{header, HeaderMap, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::engine::Engine;
use crate::error::Result;
use crate::i18n::Lang;
use crate::types::AccountHost;
use answer::Answer;
use guard::{Gate, Refusal};
use listen::Listener;
use upstream::{Call, Failure, Upstream};

pub use key::ProxyKey;
pub use listen::Listen;

/// The largest request head (request line and headers) read; a larger one is answered 431.
pub(crate) const MAX_HEAD: usize = 8 * 1024;
/// The largest request body read; a larger one is answered 413 and nothing is sent.
pub(crate) const MAX_BODY: usize = 10 * 1024 * 1024;
/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 128;
/// How long a client has to send a request head (an idle kept-alive connection closes then).
const HEAD_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a client has to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long requests under way may take to finish once the proxy is told to stop.
const GRACE: Duration = Duration::from_secs(5);

/// Where a proxy listens and what it forwards.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Where to listen: a TCP address (port 0 takes a free one) or, on Unix, a socket
    /// file. Default `127.0.0.1:0`.
    pub listen: Listen,
    /// Forward GET and HEAD only; any other method is answered 405.
    pub read_only: bool,
    /// The key clients must send; `None` makes a new one for this proxy.
    pub key: Option<ProxyKey>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            listen: Listen::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            read_only: false,
            key: None,
        }
    }
}

/// A proxy bound to its address, with its key; [`Proxy::serve`] runs it.
pub struct Proxy {
    listener: Listener,
    shared: Arc<Shared>,
}

struct Shared {
    engine: Engine,
    gate: Gate,
    upstream: Upstream,
    lang: Lang,
    calls: hosted::CallLog,
}

impl Engine {
    /// A proxy for `account`: reads its token (refreshed first when it expires soon), makes
    /// a key and listens on `options.listen`. Nothing is served before [`Proxy::serve`].
    ///
    /// # Errors
    /// The token's errors ([`Error::NotConnected`], [`Error::ReconnectNeeded`], …) before
    /// anything listens; [`Error::Listen`] (with the system's reason) when the address
    /// cannot be bound; for a socket file [`Error::SocketInUse`], [`Error::NotASocket`], and
    /// on Windows [`Error::UnixSocketUnsupported`].
    pub async fn start_proxy(&self, account: &AccountHost, options: ProxyOptions) -> Result<Proxy> {
        let upstream = Upstream::open(self, account).await?;
        let (listener, bound) = Listener::bind(&options.listen).await?;
        let gate = Gate {
            at: bound.clone(),
            key: match options.key {
                Some(key) => key,
                None => ProxyKey::generate()?,
            },
            read_only: options.read_only,
        };
        let account = upstream.held().account.clone();
        let mode = if options.read_only {
            " (read-only)"
        } else {
            ""
        };
        self.log(
            "proxy_started",
            Some(account.as_str()),
            &format!("{bound}{mode}"),
            true,
        );
        Ok(Proxy {
            listener,
            shared: Arc::new(Shared {
                engine: self.clone(),
                gate,
                upstream,
                lang: self.lang(),
                calls: hosted::CallLog::new(self),
            }),
        })
    }
}

impl Proxy {
    /// Where it listens: the TCP address (with the port it took), or its socket file.
    pub fn listening(&self) -> &Listen {
        &self.shared.gate.at
    }

    /// Its address for clients: `http://127.0.0.1:PORT` (a loopback address in place of an
    /// unspecified one); through a socket file, `http://localhost`.
    pub fn url(&self) -> String {
        self.listening().url()
    }

    /// Where API calls go through it: `http://127.0.0.1:PORT/api/v4` (`http://localhost/api/v4`
    /// through a socket file).
    pub fn api_base(&self) -> String {
        format!("{}/api/v4", self.url())
    }

    /// The key clients send as `Authorization: Bearer KEY`.
    pub fn key(&self) -> &ProxyKey {
        &self.shared.gate.key
    }

    /// The account it forwards to (a moved account's new host).
    pub fn account(&self) -> AccountHost {
        self.shared.upstream.held().account.clone()
    }

    /// Serves until `stop` resolves, then stops taking connections and gives requests under
    /// way a few seconds to finish.
    ///
    /// # Errors
    /// None today: a connection that fails ends alone. The signature leaves room for one.
    pub async fn serve(self, stop: impl Future<Output = ()>) -> Result<()> {
        let Proxy { listener, shared } = self;
        let (closing, closed) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut connections = JoinSet::new();
        let calls = {
            let shared = shared.clone();
            tokio::spawn(async move { shared.calls.write_batches().await })
        };
        tokio::pin!(stop);
        loop {
            let permit = tokio::select! {
                () = &mut stop => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let stream = tokio::select! {
                () = &mut stop => break,
                accepted = listener.accept() => match accepted {
                    Ok(stream) => stream,
                    // Out of file descriptors and the like: give the system a moment.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let (shared, mut closed) = (shared.clone(), closed.clone());
            connections.spawn(async move {
                let _permit = permit;
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                });
                let mut http = hyper::server::conn::http1::Builder::new();
                // A client that shuts its side once the request is sent still gets the
                // answer.
                http.half_close(true)
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .max_header_size(MAX_HEAD)
                    .max_headers(64);
                let conn = http.serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = closed.changed() => {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(GRACE, conn).await;
                    }
                }
            });
            while connections.try_join_next().is_some() {}
        }
        // No more connections; a socket file goes with the listener.
        drop(listener);
        let _ = closing.send(true);
        let _ = tokio::time::timeout(GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        connections.abort_all();
        calls.abort();
        shared.calls.flush();
        let account = shared.upstream.held().account.clone();
        shared
            .engine
            .log("proxy_stopped", Some(account.as_str()), "", true);
        Ok(())
    }
}

/// One request, answered and kept for the calls' log.
async fn handle(req: Request<Incoming>, shared: &Shared) -> Answer {
    let started = Instant::now();
    let (method, target) = (req.method().to_string(), req.uri().to_string());
    let answer = answer(req, shared).await;
    let line = hosted::call_line(
        &method,
        &target,
        answer.status().as_u16(),
        started.elapsed(),
    );
    shared.calls.add(&shared.upstream.held().account, &line);
    answer
}

/// One request: the gate, the body, amoCRM, the answer.
async fn answer(req: Request<Incoming>, shared: &Shared) -> Answer {
    let lang = shared.lang;
    let (parts, body) = req.into_parts();
    let admitted = match shared.gate.check(&parts.method, &parts.uri, &parts.headers) {
        Ok(admitted) => admitted,
        Err(r) => return answer::refusal(r, lang),
    };
    let body = match read_body(body, &parts.headers).await {
        Ok(body) => body,
        Err(r) => return answer::refusal(r, lang),
    };
    let call = Call {
        method: parts.method.clone(),
        target: admitted.target,
        headers: answer::request_headers(&parts.headers),
        body,
    };
    let sent = match shared.upstream.forward(&call).await {
        Ok(sent) => sent,
        Err(Failure::Refused) => return answer::refusal(Refusal::Target, lang),
        Err(Failure::Busy) => return answer::busy(lang),
        Err(Failure::Engine(e)) => return answer::failure(&e, lang),
    };
    let links = answer::Links {
        account: sent.held.root.clone(),
        proxy: format!("http://{}", admitted.host),
    };
    let head = parts.method == hyper::Method::HEAD;
    answer::relay(sent, &links, head, lang).await
}

/// The whole request body, at most [`MAX_BODY`], within [`BODY_TIMEOUT`]: it is kept to be
/// sent again after a refresh.
async fn read_body(body: Incoming, headers: &HeaderMap) -> std::result::Result<Bytes, Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(Refusal::TooLarge);
    }
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Refusal::TooLarge),
        Ok(Err(_)) | Err(_) => Err(Refusal::Body),
    }
}
