//! `serve()`'s accept loop: hyper with the limits `axum::serve` does not set.
//!
//! - a cap on open connections ([`ServerLimits::max_connections`], lowered to fit the
//!   open-files limit): a connection over it is closed at once, so the server keeps
//!   answering the ones it holds, `/healthz` included, instead of hanging new ones;
//! - a header-read timeout (HTTP/1): a client trickling its headers is dropped;
//! - an idle timeout: a connection with no request in progress for
//!   [`ServerLimits::idle_timeout`] is closed (HTTP/2 with `GOAWAY`), whatever bytes
//!   trickle on it;
//! - a close timeout: a connection being closed (idle, or at the server's shutdown) is
//!   dropped once it has had no request in progress for [`ServerLimits::close_timeout`].
//!   hyper's graceful close waits without limit for the client: for an HTTP/2 client to
//!   acknowledge the closing `PING` or to open a zero window, for an HTTP/1 client that
//!   pipelines and never reads to take its answers. A request in progress is never cut;
//! - HTTP/2 keep-alive pings ([`H2_PING_INTERVAL`], dropped after [`H2_PING_TIMEOUT`]
//!   without an acknowledgement) and flow-control windows of [`H2_WINDOW`] bytes, HTTP/2's
//!   own default, so that an HTTP/2 connection buffers at most that much of bodies the
//!   server has not read (SECURITY.md, "Memory");
//! - HTTP/1 header size (64 KiB) set explicitly, the header count left at hyper's 100
//!   (setting it, even to 100, moves hyper's header array from the stack to the heap),
//!   HTTP/2 streams and header list size set explicitly;
//! - graceful shutdown: no new connections, each open one finishes its requests.
//!
//! The body deadline and the slot of a call are per request, in `adapters/mod.rs` and
//! `call/mod.rs`, so every adapter has them.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::call::Pillar;
use crate::config::ServerLimits;
use crate::rejections::Reason;

/// The largest HTTP/1 read buffer, which bounds a request's headers (hyper's default is
/// about 400 KiB; Pillar Cloud's headers take well under 4 KiB).
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Concurrent streams an HTTP/2 client may open on one connection.
const MAX_STREAMS: u32 = 100;
/// Open files kept for everything but connections (the listener, logs, Redis, the
/// registration client, ...).
const RESERVED_FILES: u64 = 64;
/// How often an HTTP/2 connection is pinged to check that its client is there.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
/// How long an HTTP/2 keep-alive ping may go unacknowledged before the connection is
/// dropped.
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// The HTTP/2 stream and connection flow-control windows: 64 KiB, HTTP/2's initial
/// window (hyper's default is 1 MiB each). A client may send this much before the server
/// reads, per connection; a body of [`body_limit`](crate::Settings::body_limit) still
/// arrives whole, as the server reads it and opens the window again.
const H2_WINDOW: u32 = 64 * 1024;
/// How long the accept loop waits after an accept error (too many open files, ...).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` and serves `app` on each until `shutdown`
/// completes; then closes each connection once its requests are answered, and returns
/// when all are closed.
pub(super) async fn run(
    pillar: &Pillar,
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send,
) {
    let limits = pillar.settings().limits;
    let cap = connection_cap(limits.max_connections);
    let builder = Arc::new(builder(&limits));
    let open = Arc::new(Semaphore::new(cap));
    let (stop, stopping) = watch::channel(false);
    // The refusals counted in a window are logged when it ends, even if none follows.
    let flusher = tokio::spawn({
        let pillar = pillar.clone();
        async move {
            let mut every = tokio::time::interval(crate::rejections::WINDOW);
            loop {
                every.tick().await;
                pillar.flush_rejections();
            }
        }
    });
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // No Nagle wait: an MCP answer (SSE) goes out in several writes, and
                    // the last would wait for the client's delayed ACK (~40 ms a call,
                    // bench/mcp_load.sh). A webhook answer is one write either way.
                    let _ = stream.set_nodelay(true);
                    stream
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot accept a connection; retrying in {} ms", ACCEPT_BACKOFF.as_millis());
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            pillar.reject(Reason::Connections, &format_args!("{cap} open"));
            drop(stream);
            continue;
        };
        let connection = serve_connection(
            Arc::clone(&builder),
            stream,
            app.clone(),
            limits.idle_timeout,
            limits.close_timeout,
            stopping.clone(),
            pillar.clone(),
        );
        tokio::spawn(async move {
            connection.await;
            drop(permit);
        });
    }
    drop(listener);
    flusher.abort();
    let _ = stop.send(true);
    // Every connection holds a permit until it closes.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _ = open.acquire_many(all).await;
}

/// hyper's builder with the limits set.
fn builder(limits: &ServerLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(Some(20))
        .max_local_error_reset_streams(Some(256))
        .initial_stream_window_size(H2_WINDOW)
        .initial_connection_window_size(H2_WINDOW)
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    builder
}

/// Serves one connection until it closes: by the client, after the idle timeout, or
/// after the server's shutdown once its requests are answered; a closing connection that
/// has had no request in progress for `close` is dropped.
async fn serve_connection(
    builder: Arc<auto::Builder<TokioExecutor>>,
    stream: TcpStream,
    app: Router,
    idle: Duration,
    close: Duration,
    mut stopping: watch::Receiver<bool>,
    pillar: Pillar,
) {
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = activity.begin();
            let app = app.clone();
            async move {
                let response: Result<_, Infallible> = app.oneshot(request.map(Body::new)).await;
                drop(busy);
                response
            }
        })
    };
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    // When the graceful close began; from then on `close` is the limit, not `idle`.
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        let limit = if closing.is_some() { close } else { idle };
        let quiet = activity.quiet_for(closing);
        let check = async move {
            match quiet {
                Some(elapsed) => tokio::time::sleep(limit.saturating_sub(elapsed)).await,
                // A request in progress: look again after a full period.
                None => tokio::time::sleep(limit).await,
            }
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    // An HTTP/2 protocol error is counted in the refusal summary.
                    connection_error(&pillar, &*err, &activity);
                }
                return;
            }
            changed = stopping.changed(), if closing.is_none() => {
                if changed.is_err() || *stopping.borrow() {
                    closing = Some(tokio::time::Instant::now());
                    connection.as_mut().graceful_shutdown();
                }
            }
            () = check => {
                if activity.quiet_for(closing).is_none_or(|elapsed| elapsed < limit) {
                    continue;
                }
                if closing.is_some() {
                    tracing::debug!(
                        close_ms = close.as_millis() as u64,
                        "dropping a connection that did not finish closing"
                    );
                    return;
                }
                tracing::debug!(idle_ms = idle.as_millis() as u64, "closing an idle connection");
                closing = Some(tokio::time::Instant::now());
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Notes how a connection ended with an error. hyper's header timer also closes an
/// HTTP/1 keep-alive connection waiting for its next request: for a connection that has
/// answered a request and has none in progress that is the normal end of keep-alive, and
/// says nothing; before any request (a client trickling its headers) it is a refusal,
/// counted in the summary. An HTTP/2 protocol error of the client's is a refusal too
/// (h2's own WARN line being off under `serve()`'s default logging); any other error is a
/// DEBUG line.
fn connection_error(pillar: &Pillar, err: &(dyn std::error::Error + 'static), activity: &Activity) {
    let header_timeout = err
        .downcast_ref::<hyper::Error>()
        .is_some_and(hyper::Error::is_timeout);
    if header_timeout {
        if !activity.kept_alive() {
            let ms = pillar.settings().limits.header_timeout.as_millis();
            pillar.reject(Reason::SlowHeaders, &format_args!("header timeout {ms} ms"));
        }
    } else if let Some(h2) = crate::rejections::http2_protocol_error(err) {
        pillar.reject(Reason::Http2Protocol, h2);
    } else {
        tracing::debug!(
            error = %crate::observe::Untrusted::text(err),
            "connection ended with an error"
        );
    }
}

/// Whether a connection has a request in progress, and since when it has had none.
struct Activity {
    in_progress: AtomicUsize,
    /// Whether a request has been answered on the connection.
    answered: AtomicBool,
    /// When the last request ended (or the connection opened), in ms of
    /// [`tokio::time::Instant`] since [`origin`].
    since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_progress: AtomicUsize::new(0),
            answered: AtomicBool::new(false),
            since: AtomicU64::new(millis()),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_progress.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    /// How long the connection has had no request in progress; `None` while one is.
    fn idle_for(&self) -> Option<Duration> {
        if self.in_progress.load(Ordering::Acquire) > 0 {
            return None;
        }
        let now = millis();
        let since = self.since.load(Ordering::Acquire);
        Some(Duration::from_millis(now.saturating_sub(since)))
    }

    /// Whether the connection is a keep-alive one between requests: it has answered one
    /// and has none in progress.
    fn kept_alive(&self) -> bool {
        self.answered.load(Ordering::Acquire) && self.in_progress.load(Ordering::Acquire) == 0
    }

    /// How long the connection has had no request in progress, counted from `closing`
    /// (when its close began) if that is later; `None` while one is.
    fn quiet_for(&self, closing: Option<tokio::time::Instant>) -> Option<Duration> {
        let idle = self.idle_for()?;
        Some(closing.map_or(idle, |at| idle.min(at.elapsed())))
    }
}

/// A request in progress on a connection.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.since.store(millis(), Ordering::Release);
        self.0.answered.store(true, Ordering::Release);
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Milliseconds of tokio's clock since the first call (tokio's, so paused-time tests
/// move it too).
fn millis() -> u64 {
    static ORIGIN: std::sync::OnceLock<tokio::time::Instant> = std::sync::OnceLock::new();
    let origin = *ORIGIN.get_or_init(tokio::time::Instant::now);
    u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The connection cap in force: the configured one, lowered to fit the open-files limit
/// once that is raised as far as allowed. Logs the limits.
fn connection_cap(configured: usize) -> usize {
    let files = raise_open_files_limit();
    let cap = match files {
        Some(soft) => {
            let fit = usize::try_from(soft.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
            configured.min(fit.max(1))
        }
        None => configured,
    };
    match files {
        Some(soft) if cap < configured => tracing::warn!(
            open_files = soft,
            max_connections = cap,
            "the open-files limit ({soft}) allows {cap} connections, fewer than the {configured} configured; raise the hard limit (ulimit -Hn) to allow more"
        ),
        Some(soft) => tracing::info!(open_files = soft, max_connections = cap, "connection limits"),
        None => tracing::info!(max_connections = cap, "connection limits"),
    }
    cap.max(1)
}

/// Raises the soft open-files limit to the hard one; the soft limit in force after.
#[cfg(unix)]
fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => Some(soft),
        Err(err) => {
            tracing::warn!(error = %err, "cannot read or raise the open-files limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

#[cfg(not(unix))]
fn raise_open_files_limit() -> Option<u64> {
    None
}
