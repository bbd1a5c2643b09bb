//! Serving HTTP/1.1 with limits, so that slow or idle clients cannot exhaust the API
//! (docs/operations.md, "Connections"):
//!
//! - a request head must arrive within [`Limits::header_timeout`] of the moment the server starts
//!   waiting for it, which also closes keep-alive connections idle that long;
//! - a request body must keep arriving: within [`Limits::body_timeout`] of the request's start,
//!   plus the time its bytes so far take at [`Limits::body_min_rate`]; a body that stalls is
//!   answered 408 `request_timeout` and its connection closed (a `Content-Length` promised and
//!   never sent held a connection for ever before issue 30);
//! - at most [`Limits::max_connections`] connections are served at once, and at most
//!   [`Limits::max_connections_per_address`] from one client address (trusted proxies, which
//!   carry many clients, are exempt); one more is answered 503 `unavailable` (problem+json,
//!   `Retry-After`) and closed at once, so file descriptors stay bounded, one client cannot take
//!   every connection, and `/healthz` keeps answering;
//! - a failed `accept` (out of file descriptors) is logged, at most once a second, and retried.
//!
//! hyper answers a request it cannot parse (bad request line, headers too large) itself, with an
//! empty body and no hook to change it; [`ProblemIo`] rewrites those answers into problem+json.

use std::collections::HashMap;
use std::future::Future as _;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum::Router;
use hyper::body::{Bytes, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections one client address may hold at once.
    pub max_connections_per_address: usize,
    /// Addresses exempt from the per-address limit (`[http] trusted_proxies`).
    pub exempt: Vec<IpAddr>,
    pub header_timeout: Duration,
    /// The grace a request body has before it must keep up with `body_min_rate`.
    pub body_timeout: Duration,
    /// The slowest average rate (bytes per second) a body may arrive at after its grace.
    pub body_min_rate: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            max_connections_per_address: 256,
            exempt: Vec::new(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            body_min_rate: 16 * 1024,
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    /// Count one more connection from `ip`, unless it holds `max` already.
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot(self.clone(), ip))
    }
}

/// One connection counted against its address until dropped.
struct AddressSlot(Arc<PerAddress>, IpAddr);

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// Serve `app` on `listener` until `shutdown` resolves, then let open requests finish (at most
/// 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let app = app.layer(axum::middleware::from_fn_with_state(
        BodyDeadline {
            grace: limits.body_timeout,
            min_rate: limits.body_min_rate.max(1),
        },
        body_deadline,
    ));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut logged_accept_error: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if logged_accept_error.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                        tracing::error!(error = %e, "cannot accept connections (out of file descriptors?); retrying");
                        logged_accept_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(turn_away(stream));
            continue;
        };
        let slot = if limits.exempt.contains(&peer.ip()) {
            None
        } else {
            match per_address.enter(peer.ip(), limits.max_connections_per_address) {
                Some(slot) => Some(slot),
                None => {
                    tokio::spawn(turn_away(stream));
                    continue;
                }
            }
        };
        // The peer's address, for what is limited per client (`status`).
        let app = tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(app);
        let conn =
            graceful.watch(http.serve_connection(TokioIo::new(ProblemIo::new(stream)), service));
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out); hyper has answered what it could.
            let _ = conn.await;
            drop((permit, slot));
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 10 s; closing them");
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct BodyDeadline {
    grace: Duration,
    min_rate: u32,
}

/// Every request's body under its deadline; a request whose body stalled is answered 408 and its
/// connection closed, whatever the handler made of the broken body.
async fn body_deadline(
    axum::extract::State(deadline): axum::extract::State<BodyDeadline>,
    req: Request,
    next: Next,
) -> Response {
    let stalled = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        Body::new(TimedBody {
            inner: body,
            deadline,
            started: tokio::time::Instant::now(),
            received: 0,
            sleep: Box::pin(tokio::time::sleep(deadline.grace)),
            stalled: stalled.clone(),
        })
    });
    let response = next.run(req).await;
    if !stalled.load(Ordering::Relaxed) {
        return response;
    }
    let body = problem_body(
        408,
        "the request body did not arrive in time; send it at once, or more quickly",
    );
    (
        axum::http::StatusCode::REQUEST_TIMEOUT,
        [
            (axum::http::header::CONTENT_TYPE, "application/problem+json"),
            (axum::http::header::CONNECTION, "close"),
        ],
        body,
    )
        .into_response()
}

/// A request body that fails once it is later than its grace plus the time its bytes so far
/// take at the minimum rate.
struct TimedBody {
    inner: Body,
    deadline: BodyDeadline,
    started: tokio::time::Instant,
    received: u64,
    sleep: Pin<Box<tokio::time::Sleep>>,
    stalled: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                this.received += data.map_or(0, |d| d.len() as u64);
                let earned = Duration::from_secs_f64(
                    this.received as f64 / f64::from(this.deadline.min_rate),
                );
                this.sleep
                    .as_mut()
                    .reset(this.started + this.deadline.grace + earned);
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(this.sleep.as_mut().poll(cx));
        this.stalled.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(BodyTimedOut.into())))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One connection over the limit: a 503 problem and the connection closed.
async fn turn_away(mut stream: TcpStream) {
    let body = problem_body(
        503,
        "the API serves its maximum number of connections; retry shortly",
    );
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

fn problem_body(status: u16, detail: &str) -> Vec<u8> {
    serde_json::to_vec(&commands::problem::for_status(status, detail)).unwrap_or_default()
}

/// The statuses hyper answers by itself, with an empty body, for a request it cannot parse.
const HYPER_ANSWERS: [(&[u8], u16, &str); 3] = [
    (
        b"HTTP/1.1 400 ",
        400,
        "the request line or a header is malformed",
    ),
    (b"HTTP/1.1 414 ", 414, "the request target is too long"),
    (b"HTTP/1.1 431 ", 431, "the request's headers are too large"),
];

/// A connection whose bodiless 400/414/431 answers (written by hyper for unparseable requests)
/// become problem+json. Every answer of the router has a body, so an empty 4xx can only be
/// hyper's own. Writes are not vectored, so a response head arrives in one buffer.
pub struct ProblemIo<S> {
    inner: S,
    /// Bytes still to write in place of an answer that was rewritten.
    pending: Vec<u8>,
    written: usize,
}

impl<S> ProblemIo<S> {
    pub fn new(inner: S) -> Self {
        ProblemIo {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let (_, status, detail) = HYPER_ANSWERS.iter().find(|(p, ..)| buf.starts_with(p))?;
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let lower = head.to_ascii_lowercase();
    if head_end != buf.len() || !lower.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let body = problem_body(*status, detail);
    let mut out = head[..head.len() - 2]
        .replace("content-length: 0\r\n", "")
        .into_bytes();
    out.extend_from_slice(
        format!(
            "content-type: application/problem+json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&body);
    Some(out)
}

impl<S: AsyncWrite + Unpin> ProblemIo<S> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ProblemIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ProblemIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = rewrite(buf) {
            this.pending = answer;
            // The whole of hyper's buffer is taken; what replaces it is flushed from `pending`.
            let _ = this.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_answers_become_problems_and_others_pass() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 10:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).expect("rewritten")).expect("utf8");
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
        assert!(
            out.contains("content-type: application/problem+json"),
            "{out}"
        );
        let body = &out[out.find("\r\n\r\n").expect("head") + 4..];
        let p: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(p["status"], 431);
        assert!(
            out.contains(&format!("content-length: {}\r\n", body.len())),
            "{out}"
        );
        // A router answer (with a body) and a success pass untouched.
        assert!(
            rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 10\r\n\r\n{\"a\":1234}")
                .is_none()
        );
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
