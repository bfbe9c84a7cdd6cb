//! The loopback listener: one flow, one path, a deadline, bounded requests, short pages.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

const MAX_HEAD: usize = 8 * 1024;
const MAX_CONNECTIONS: usize = 32;
/// How long a connection has to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing an answer page may take; a browser reads a few KiB at once.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the flow makes of one callback.
pub(crate) enum Verdict<J> {
    /// Not this flow's (a stray or forged request): answer it and keep waiting.
    Refuse { status: u16, html: String },
    /// This callback ends the flow. `J` runs to its own end whatever happens to the
    /// connection, the listener's deadline or a cancel, and gives the flow its result.
    Accept(J),
}

/// The end of an accepted callback: the flow's result and the browser's page.
pub(crate) struct Finish<T> {
    pub result: T,
    pub status: u16,
    pub html: String,
}

/// How the listener stopped without a finished flow.
#[derive(Debug)]
pub(crate) enum Stop {
    Deadline,
    Cancelled,
    /// The accepted callback's work ended without a result (it panicked).
    Lost,
}

/// The handler and whether the listener still takes callbacks, behind one lock so that a
/// callback is either accepted before a cancel or refused after it, never lost between.
struct Gate<H> {
    handler: H,
    closed: bool,
    accepted: bool,
}

/// Serves `listeners` until an accepted callback's work ends, the deadline passes or
/// `cancel` fires.
///
/// Requests with another path get 404, another `Host` 400, garbage 400; none of them
/// ends the flow. `handler` sees each callback's query and decides at once; the work of
/// the callback it accepts runs in a task of its own, so a slow amoCRM or a browser tab
/// closed mid-way cannot drop the result. A cancel or the deadline that comes while that
/// work runs closes the port and waits for its result. At most [`MAX_CONNECTIONS`] are
/// served at once; when full, the one that has waited longest for its request is dropped,
/// so idle connections cannot lock the browser's callback out.
pub(crate) async fn serve<T, H, J>(
    listeners: Vec<TcpListener>,
    host: String,
    path: String,
    deadline: Duration,
    mut cancel: watch::Receiver<bool>,
    handler: H,
) -> Result<T, Stop>
where
    T: Send + 'static,
    H: Fn(&str) -> Verdict<J> + Send + 'static,
    J: Future<Output = Finish<T>> + Send + 'static,
{
    let gate = Arc::new(Mutex::new(Gate {
        handler,
        closed: false,
        accepted: false,
    }));
    let (done_tx, mut done_rx) = mpsc::channel::<Result<T, Stop>>(1);
    let (conn_tx, mut conn_rx) = mpsc::channel::<TcpStream>(MAX_CONNECTIONS);
    let mut acceptors: Vec<AbortOnDrop> = listeners
        .into_iter()
        .map(|l| AbortOnDrop(tokio::spawn(accept_loop(l, conn_tx.clone())).abort_handle()))
        .collect();
    drop(conn_tx);
    let mut open: VecDeque<(AbortHandle, Arc<AtomicBool>)> = VecDeque::new();
    let route = Arc::new((host, path));
    let sleep = tokio::time::sleep(deadline);
    tokio::pin!(sleep);
    let mut stop: Option<Stop> = None;
    let result = loop {
        tokio::select! {
            Some(result) = done_rx.recv() => break result,
            _ = &mut sleep, if stop.is_none() => stop = Some(Stop::Deadline),
            changed = cancel.changed(), if stop.is_none() => {
                if changed.is_err() || *cancel.borrow() {
                    stop = Some(Stop::Cancelled);
                }
            }
            Some(stream) = conn_rx.recv(), if stop.is_none() => {
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
                let (gate, route, done) = (gate.clone(), route.clone(), done_tx.clone());
                let flag = reading.clone();
                let task = tokio::spawn(async move {
                    let _ = handle(stream, &route.0, &route.1, &flag, gate, done).await;
                });
                open.push_back((task.abort_handle(), reading));
            }
        }
        if stop.is_some() {
            // Closing the gate decides, under its lock, whether a callback got in first.
            let mut g = gate.lock().unwrap_or_else(|p| p.into_inner());
            g.closed = true;
            let accepted = g.accepted;
            drop(g);
            acceptors.clear();
            if !accepted {
                break Err(stop.take().unwrap_or(Stop::Cancelled));
            }
        }
    };
    for (task, _) in open {
        task.abort();
    }
    result
}

/// Aborts a task when dropped: the accept loops end with the listener.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn accept_loop(listener: TcpListener, conns: mpsc::Sender<TcpStream>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                if conns.send(stream).await.is_err() {
                    return;
                }
            }
            // Out of file descriptors and the like: give the system a moment.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn handle<T, H, J>(
    mut stream: TcpStream,
    host: &str,
    path: &str,
    reading: &AtomicBool,
    gate: Arc<Mutex<Gate<H>>>,
    done: mpsc::Sender<Result<T, Stop>>,
) -> std::io::Result<()>
where
    T: Send + 'static,
    H: Fn(&str) -> Verdict<J>,
    J: Future<Output = Finish<T>> + Send + 'static,
{
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => return respond(&mut stream, 431, "Request too large").await,
        Ok(Err(e)) => return Err(e),
        Err(_) => return respond(&mut stream, 408, "Request timeout").await,
    };
    reading.store(false, Ordering::Relaxed);
    let query = match check_request(&head, host, path) {
        Ok(query) => query,
        Err((status, text)) => return respond(&mut stream, status, text).await,
    };
    let verdict = {
        let mut g = gate.lock().unwrap_or_else(|p| p.into_inner());
        if g.closed || g.accepted {
            None
        } else {
            let verdict = (g.handler)(&query);
            if matches!(verdict, Verdict::Accept(_)) {
                g.accepted = true;
            }
            Some(verdict)
        }
    };
    match verdict {
        None => respond(&mut stream, 410, "This sign-in has ended").await,
        Some(Verdict::Refuse { status, html }) => write_page(&mut stream, status, &html).await,
        Some(Verdict::Accept(job)) => {
            // The work outlives this connection task, which an eviction may abort.
            tokio::spawn(async move {
                let result = match tokio::spawn(job).await {
                    Ok(finish) => {
                        let _ = write_page(&mut stream, finish.status, &finish.html).await;
                        Ok(finish.result)
                    }
                    Err(_) => {
                        let _ = respond(&mut stream, 500, "Internal error").await;
                        Err(Stop::Lost)
                    }
                };
                let _ = done.send(result).await;
            });
            Ok(())
        }
    }
}

/// Checks the request line and `Host` of a request head; the callback's query when they
/// are right, else the status and text to answer.
pub(crate) fn check_request(
    head: &[u8],
    host: &str,
    path: &str,
) -> Result<String, (u16, &'static str)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let (method, target, req_host) = match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {
            let host_header = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("host"))
                .and_then(|h| std::str::from_utf8(h.value).ok());
            (
                req.method.unwrap_or(""),
                req.path.unwrap_or(""),
                host_header,
            )
        }
        _ => return Err((400, "Bad request")),
    };
    if method != "GET" {
        return Err((405, "Method not allowed"));
    }
    if !req_host.is_some_and(|h| h.eq_ignore_ascii_case(host)) {
        return Err((400, "Wrong host"));
    }
    let (req_path, query) = target.split_once('?').unwrap_or((target, ""));
    if req_path != path {
        return Err((404, "Not found"));
    }
    Ok(query.to_owned())
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
        410 => "Gone",
        500 => "Internal Server Error",
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
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or(Ok(()))
}
