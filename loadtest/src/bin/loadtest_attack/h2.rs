//! Scenario 2: HTTP/2 connections, each opening streams whose request body never yields
//! a byte. The server allows 100 concurrent streams per connection, so hyper's client
//! keeps the rest queued until streams end: the first 100 of each connection are held at
//! the server at once, the others follow as the first get their 408. Signed calls must
//! succeed meanwhile.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pillar_loadtest::{BoxError, WEBHOOK_PATH};
use tokio::net::TcpStream;

use crate::client::{signed_calls, spread, stats, Signer};
use crate::Outcome;

/// A request body: empty, or one that never yields a frame and never ends.
struct Body {
    held: bool,
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.held {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.held
    }
}

/// What one stream got: its status (or error) and when, after it was handed to hyper.
struct Stream {
    launched: Instant,
    result: Result<(u16, Instant), String>,
}

/// An HTTP/2 connection whose settings exchange is done (one `GET /healthz` answered),
/// so the client knows the server's stream limit before it opens the held streams.
async fn connect(
    addr: SocketAddr,
) -> Result<hyper::client::conn::http2::SendRequest<Body>, BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.ready().await?;
    let probe = hyper::Request::get(format!("http://{addr}/healthz")).body(Body { held: false })?;
    let status = sender.send_request(probe).await?.status();
    if status != 200 {
        return Err(format!("GET /healthz over HTTP/2 answered {status}").into());
    }
    Ok(sender)
}

pub(crate) async fn run(
    addr: SocketAddr,
    signer: &Signer,
    connections: usize,
    streams: usize,
    calls: usize,
    signed_connections: usize,
    body_timeout: Duration,
) -> Outcome {
    let mut out = Outcome::new(format!(
        "2. HTTP/2: {connections} connections x {streams} streams whose body never comes"
    ));
    let mut senders = Vec::new();
    for _ in 0..connections {
        match connect(addr).await {
            Ok(sender) => senders.push(sender),
            Err(err) => out.figure(format!("an HTTP/2 connection failed: {err}")),
        }
    }
    let launched_at = Instant::now();
    let mut tasks = Vec::new();
    for sender in &senders {
        for _ in 0..streams {
            let mut sender = sender.clone();
            tasks.push(tokio::spawn(async move {
                let launched = Instant::now();
                let request = hyper::Request::post(format!("http://{addr}{WEBHOOK_PATH}"))
                    .header("content-type", "application/json")
                    .body(Body { held: true });
                let result = match request {
                    Ok(request) => match sender.send_request(request).await {
                        Ok(response) => Ok((response.status().as_u16(), Instant::now())),
                        Err(err) => Err(err.to_string()),
                    },
                    Err(err) => Err(err.to_string()),
                };
                Stream { launched, result }
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = signed_calls(addr, signer, "s2-during", calls, signed_connections).await;
    let during_end = Instant::now();
    let rss = stats(addr, signer).await.ok().map(|v| {
        format!(
            "server RSS with the streams held: {:.1} MiB",
            v["rss_kib"].as_u64().unwrap_or(0) as f64 / 1024.0
        )
    });
    out.figure(format!("signed calls, while held:      {}", during.line()));
    for sample in &during.samples {
        out.figure(format!("  failure: {sample}"));
    }

    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(stream) = task.await {
            results.push(stream);
        }
    }
    let sent = senders.len() * streams;
    let answered_early = results
        .iter()
        .filter(|s| matches!(s.result, Ok((_, at)) if at <= during_end))
        .count();
    let got_408 = results
        .iter()
        .filter(|s| matches!(s.result, Ok((408, _))))
        .count();
    let errors: Vec<&String> = results
        .iter()
        .filter_map(|s| s.result.as_ref().err())
        .collect();
    // Time from the launch of the batch to each 408, split in waves of the body timeout.
    let mut waits: Vec<Duration> = results
        .iter()
        .filter_map(|s| match s.result {
            Ok((408, at)) => Some(at.duration_since(launched_at)),
            _ => None,
        })
        .collect();
    let wave = |w: &Duration| (w.as_secs_f64() / body_timeout.as_secs_f64()).floor() as usize;
    let mut waves = std::collections::BTreeMap::<usize, usize>::new();
    for w in &waits {
        *waves.entry(wave(w)).or_default() += 1;
    }
    let waves_text = waves
        .iter()
        .map(|(k, n)| {
            format!(
                "{n} between {} and {} s",
                k * body_timeout.as_secs() as usize,
                (k + 1) * body_timeout.as_secs() as usize
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let last_launch = results.iter().map(|s| s.launched).max();
    out.figure(format!(
        "streams: {} connections opened, {sent} streams sent; {got_408} answered 408, {} \
         errors; time from launch to 408: {} ({waves_text})",
        senders.len(),
        errors.len(),
        spread(&mut waits)
    ));
    if let Some(err) = errors.first() {
        out.figure(format!("  e.g. a stream error: {err}"));
    }
    if let Some(last) = last_launch {
        out.figure(format!(
            "all {sent} streams were handed to hyper's client within {:.2} s; the server \
             announces 100 concurrent streams a connection (SETTINGS_MAX_CONCURRENT_STREAMS), \
             so hyper sends at most {} at once and queues the rest until streams end",
            last.duration_since(launched_at).as_secs_f64(),
            senders.len() * 100.min(streams)
        ));
    }
    if let Some(rss) = rss {
        out.figure(rss);
    }
    out.check(
        senders.len() == connections,
        format!(
            "{} of {connections} HTTP/2 connections opened",
            senders.len()
        ),
    );
    out.check(
        during.all_ok(),
        format!(
            "while the streams are held, every signed call succeeds: {} of {}",
            during.ok, during.sent
        ),
    );
    out.check(
        answered_early == 0,
        format!("no held stream was answered before the signed calls ended: {answered_early}"),
    );
    out.check(
        got_408 == connections * streams,
        format!(
            "every stream gets 408 at the body timeout: {got_408} of {}",
            connections * streams
        ),
    );
    out.summary = format!(
        "signed calls {:.0} req/s, p99 {:.2} ms while held; {got_408}/{} streams got 408 ({waves_text})",
        during.rate(),
        during.p99_ms(),
        connections * streams
    );
    out
}
