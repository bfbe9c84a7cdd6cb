//! Answer bodies: a whole one, or amoCRM's streamed on as it comes, with the account's tokens
//! masked wherever they would appear.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::sync::mpsc;

/// The body of an answer the proxy gives.
pub(crate) enum Body {
    Full(Option<Bytes>),
    /// Chunks as a task reads them from amoCRM; an error cuts the answer short, so the
    /// client sees it broken rather than complete.
    Stream(mpsc::Receiver<std::io::Result<Bytes>>),
}

impl Body {
    pub(crate) fn empty() -> Body {
        Body::Full(None)
    }

    pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
        let bytes = bytes.into();
        Body::Full((!bytes.is_empty()).then_some(bytes))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(chunks) => chunks
                .poll_recv(cx)
                .map(|chunk| chunk.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

/// Streams the rest of `answer`'s body (after `prefix`, already read) through `redactor`.
/// The task ends when the body does, or when the client goes away.
pub(crate) fn stream(
    mut answer: reqwest::Response,
    prefix: Vec<u8>,
    mut redactor: Redactor,
) -> Body {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        let first = redactor.push(&prefix);
        if !first.is_empty() && tx.send(Ok(first)).await.is_err() {
            return;
        }
        loop {
            let out = match answer.chunk().await {
                Ok(Some(chunk)) => Ok(redactor.push(&chunk)),
                Ok(None) => {
                    let last = redactor.finish();
                    if !last.is_empty() {
                        let _ = tx.send(Ok(last)).await;
                    }
                    return;
                }
                Err(e) => Err(std::io::Error::other(e.without_url())),
            };
            let failed = out.is_err();
            if matches!(&out, Ok(b) if b.is_empty()) {
                continue;
            }
            if tx.send(out).await.is_err() || failed {
                return;
            }
        }
    });
    Body::Stream(rx)
}

/// Masks secrets in a stream of bytes: each occurrence becomes as many `*`, so a length
/// amoCRM announced stays true. A secret split across chunks is caught too: the bytes at a
/// chunk's end that could begin one are held back until the next chunk comes.
pub(crate) struct Redactor {
    secrets: Vec<Vec<u8>>,
    held: Vec<u8>,
    keep: usize,
}

impl Redactor {
    pub(crate) fn new(secrets: &[&str]) -> Redactor {
        let secrets: Vec<Vec<u8>> = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let keep = secrets.iter().map(|s| s.len() - 1).max().unwrap_or(0);
        Redactor {
            secrets,
            held: Vec::new(),
            keep,
        }
    }

    /// What of `chunk` (and of what was held back) can go out now.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Bytes {
        self.held.extend_from_slice(chunk);
        mask(&mut self.held, &self.secrets);
        let cut = self.held.len().saturating_sub(self.keep);
        Bytes::from(self.held.drain(..cut).collect::<Vec<u8>>())
    }

    /// What was held back, at the end of the stream.
    pub(crate) fn finish(&mut self) -> Bytes {
        mask(&mut self.held, &self.secrets);
        Bytes::from(std::mem::take(&mut self.held))
    }

    /// `bytes` whole, masked.
    pub(crate) fn all(mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = self.push(bytes).to_vec();
        out.extend_from_slice(&self.finish());
        out
    }
}

/// Whether any of `secrets` occurs in `bytes`.
pub(crate) fn contains_any(bytes: &[u8], secrets: &[&str]) -> bool {
    secrets
        .iter()
        .any(|s| !s.is_empty() && bytes.windows(s.len()).any(|w| w == s.as_bytes()))
}

fn mask(buf: &mut [u8], secrets: &[Vec<u8>]) {
    for secret in secrets {
        let n = secret.len();
        let mut i = 0;
        while i + n <= buf.len() {
            if buf[i..i + n] == secret[..] {
                buf[i..i + n].fill(b'*');
                i += n;
            } else {
                i += 1;
            }
        }
    }
}
