//! The loopback listener: one flow, one path, a deadline, bounded requests, short pages.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::AbortHandle;

const MAX_HEAD: usize = 8 * 1024;
const MAX_CONNECTIONS: usize = 32;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The listener's answer to one callback, and whether the flow ends with it.
pub(crate) struct Reply<T> {
    pub status: u16,
    pub html: String,
    pub finish: Option<T>,
}

/// How the listener stopped without a finished flow.
#[derive(Debug)]
pub(crate) enum Stop {
    Deadline,
    Cancelled,
}

/// Serves `listener` until `handler` finishes the flow, the deadline passes or `cancel` fires.
///
/// Requests with another path get 404, another `Host` 400, garbage 400; none of them
/// ends the flow. Callbacks reach `handler` one at a time. At most [`MAX_CONNECTIONS`] are
/// served at once; when full, the one that has waited longest for its request is dropped,
/// so idle connections cannot lock the browser's callback out.
pub(crate) async fn serve<T, H, F>(
    listener: TcpListener,
    host: String,
    path: String,
    deadline: Duration,
    mut cancel: watch::Receiver<bool>,
    handler: H,
) -> Result<T, Stop>
where
    T: Send + 'static,
    H: Fn(HashMap<String, String>) -> F + Send + Sync + 'static,
    F: Future<Output = Reply<T>> + Send,
{
    let handler = Arc::new(Mutex::new(handler));
    let (done_tx, mut done_rx) = mpsc::channel::<T>(1);
    let mut open: VecDeque<(AbortHandle, Arc<AtomicBool>)> = VecDeque::new();
    let route = Arc::new((host, path));
    let sleep = tokio::time::sleep(deadline);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            Some(result) = done_rx.recv() => return Ok(result),
            _ = &mut sleep => return Err(Stop::Deadline),
            changed = cancel.changed() => {
                if changed.is_err() || *cancel.borrow() {
                    return Err(Stop::Cancelled);
                }
            }
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                open.retain(|(task, _)| !task.is_finished());
                if open.len() >= MAX_CONNECTIONS {
                    let idle = open.iter().position(|(_, reading)| reading.load(Ordering::Relaxed));
                    match idle.and_then(|i| open.remove(i)) {
                        Some((task, _)) => task.abort(),
                        None => {
                            drop(stream);
                            continue;
                        }
                    }
                }
                let reading = Arc::new(AtomicBool::new(true));
                let (handler, route, done) = (handler.clone(), route.clone(), done_tx.clone());
                let flag = reading.clone();
                let task = tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        READ_TIMEOUT * 2,
                        handle(stream, &route.0, &route.1, &flag, handler, done),
                    )
                    .await;
                });
                open.push_back((task.abort_handle(), reading));
            }
        }
    }
}

async fn handle<T, H, F>(
    mut stream: TcpStream,
    host: &str,
    path: &str,
    reading: &AtomicBool,
    handler: Arc<Mutex<H>>,
    done: mpsc::Sender<T>,
) -> std::io::Result<()>
where
    H: Fn(HashMap<String, String>) -> F,
    F: Future<Output = Reply<T>>,
{
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => return respond(&mut stream, 431, "Request too large").await,
        Ok(Err(e)) => return Err(e),
        Err(_) => return respond(&mut stream, 408, "Request timeout").await,
    };
    reading.store(false, Ordering::Relaxed);
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let (method, target, req_host) = match req.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {
            let host_header = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("host"))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .map(str::to_owned);
            (
                req.method.unwrap_or(""),
                req.path.unwrap_or(""),
                host_header,
            )
        }
        _ => return respond(&mut stream, 400, "Bad request").await,
    };
    if method != "GET" {
        return respond(&mut stream, 405, "Method not allowed").await;
    }
    if !req_host.is_some_and(|h| h.eq_ignore_ascii_case(host)) {
        return respond(&mut stream, 400, "Wrong host").await;
    }
    let (req_path, query) = target.split_once('?').unwrap_or((target, ""));
    if req_path != path {
        return respond(&mut stream, 404, "Not found").await;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let reply = {
        let handler = handler.lock().await;
        (*handler)(params).await
    };
    write_page(&mut stream, reply.status, &reply.html).await?;
    if let Some(result) = reply.finish {
        let _ = done.send(result).await;
    }
    Ok(())
}

/// Reads up to the blank line after the headers; `None` when it passes [`MAX_HEAD`].
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Some(buf));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(Some(buf));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

async fn respond(stream: &mut TcpStream, status: u16, text: &str) -> std::io::Result<()> {
    write(stream, status, "text/plain; charset=utf-8", text).await
}

async fn write_page(stream: &mut TcpStream, status: u16, html: &str) -> std::io::Result<()> {
    write(stream, status, "text/html; charset=utf-8", html).await
}

async fn write(
    stream: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Connection: close\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    tokio::time::timeout(READ_TIMEOUT, write)
        .await
        .unwrap_or(Ok(()))
}
