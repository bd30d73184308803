//! Scenario 7: the body budget at the default limits (issue 23). Request bodies are read
//! before their signature can be checked; the budget (`ServerLimits::body_budget`, 64 MiB)
//! bounds the bytes buffered for all of them together. The attack:
//!
//! - 10 HTTP/2 connections x 100 streams, each sending 1 MB (no `Content-Length`, 16 KiB
//!   frames) and never finishing; then at once
//! - 300 HTTP/1 connections announcing `Content-Length: 1000000` and sending 900,000
//!   bytes of it, never the rest.
//!
//! Before it, the state of one HTTP/2 stream waiting for its body is measured on the same
//! server (1,000 streams whose body never yields a byte; RSS before and after), as
//! SECURITY.md's bound needs it. During it, the server's RSS is sampled every 100 ms from
//! `/proc`, and 8 callers make signed calls, each retrying a `503` after its
//! `Retry-After` (1 s), at most 3 times.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST, RETRY_AFTER};
use hyper_util::rt::{TokioExecutor, TokioIo};
use pillar::protocol::sign;
use pillar::signature::SIGNATURE_HEADER;
use pillar::testing::tool_call_body;
use pillar_loadtest::{BoxError, WEBHOOK_PATH, WORK_TOOL};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::client::{signed_calls, spread, stats, status_of, Signer, CALL_TIMEOUT};
use crate::procfs::{mib, peak, rss_kib, Sampler};
use crate::Outcome;

/// What each HTTP/2 stream sends before it stops, and each HTTP/1 request announces.
const BODY: usize = 1_000_000;
/// What each HTTP/1 request sends of its announced body.
const H1_SENT: usize = 900_000;
/// HTTP/2 frames of this size.
const FRAME: usize = 16 * 1024;
/// Signed callers during the attack, and the pause between one's calls.
const CALLERS: usize = 8;
const CALLER_PAUSE: Duration = Duration::from_millis(100);
/// Retries of a signed call answered 503 allowed.
const RETRIES: usize = 3;
/// What an HTTP/1 connection may hold besides the budget: its read buffer (hyper's
/// largest, SECURITY.md "Limits"). An HTTP/2 connection's window is as large.
const CONNECTION_BUFFER: u64 = 64;
/// Streams an HTTP/2 connection may have at once (the server announces it).
const MAX_STREAMS: u64 = 100;
/// The allocator's slack over the bytes in use: glibc keeps freed chunks in per-thread
/// arenas, and a peak measured this way came within 1 MiB of an 8 MiB slack.
const SLACK_KIB: u64 = 16 * 1024;

/// A request body: empty, one that never yields a frame, or `left` bytes in 16 KiB
/// frames and then nothing, never ending.
enum Body {
    Empty,
    Held,
    Sending { left: usize },
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        match &mut *self {
            Self::Empty => Poll::Ready(None),
            Self::Held | Self::Sending { left: 0 } => Poll::Pending,
            Self::Sending { left } => {
                let n = (*left).min(FRAME);
                *left -= n;
                Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(vec![b'{'; n])))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Empty)
    }
}

type H2Sender = hyper::client::conn::http2::SendRequest<Body>;

/// An HTTP/2 connection whose settings exchange is done (a `GET /healthz` answered), so
/// the client knows the server's stream limit before it opens its streams.
async fn h2_connect(addr: SocketAddr) -> Result<(H2Sender, JoinHandle<()>), BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.ready().await?;
    let probe = hyper::Request::get(format!("http://{addr}/healthz")).body(Body::Empty)?;
    let status = sender.send_request(probe).await?.status();
    if status != 200 {
        return Err(format!("GET /healthz over HTTP/2 answered {status}").into());
    }
    Ok((sender, connection))
}

/// Opens `connections` HTTP/2 connections with `streams` streams each carrying `body()`;
/// each stream's task gives its status (or error) and when.
async fn h2_streams(
    addr: SocketAddr,
    connections: usize,
    streams: usize,
    body: impl Fn() -> Body,
    errors: &mut Vec<String>,
) -> (
    Vec<JoinHandle<()>>,
    Vec<JoinHandle<Result<(u16, Instant), String>>>,
) {
    let mut conns = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (sender, connection) = match h2_connect(addr).await {
            Ok(opened) => opened,
            Err(err) => {
                errors.push(format!("an HTTP/2 connection failed: {err}"));
                continue;
            }
        };
        conns.push(connection);
        for _ in 0..streams {
            let mut sender = sender.clone();
            let request = hyper::Request::post(format!("http://{addr}{WEBHOOK_PATH}"))
                .header(CONTENT_TYPE, "application/json")
                .body(body());
            tasks.push(tokio::spawn(async move {
                let request = request.map_err(|e| e.to_string())?;
                sender.ready().await.map_err(|e| e.to_string())?;
                match sender.send_request(request).await {
                    Ok(response) => Ok((response.status().as_u16(), Instant::now())),
                    Err(err) => Err(err.to_string()),
                }
            }));
        }
    }
    (conns, tasks)
}

/// What one HTTP/1 attacker saw: the status of the answer (if any) and when.
struct H1 {
    answer: Option<(u16, Instant)>,
    /// Bytes of the body written before the answer or the close.
    written: usize,
}

/// An HTTP/1 request announcing `BODY` bytes and sending `H1_SENT` of them, then nothing;
/// reads the answer until the server closes or `patience` passes.
async fn h1_attacker(addr: SocketAddr, patience: Duration) -> Result<H1, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writing = {
        let written = Arc::clone(&written);
        tokio::spawn(async move {
            let head = format!(
                "POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: pillar\r\nContent-Type: application/json\r\n\
                 Content-Length: {BODY}\r\n\r\n"
            );
            if writer.write_all(head.as_bytes()).await.is_err() {
                return writer;
            }
            let chunk = [b'{'; FRAME];
            let mut sent = 0;
            while sent < H1_SENT {
                let n = (H1_SENT - sent).min(FRAME);
                if writer.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
                sent += n;
                written.store(sent, Ordering::Relaxed);
            }
            // Never the rest; the write half is kept open.
            writer
        })
    };
    let deadline = tokio::time::Instant::now() + patience;
    let mut seen = Vec::new();
    let mut answered = None;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, reader.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                seen.extend_from_slice(&buf[..n]);
                if answered.is_none() {
                    if let Some(status) = status_of(&seen) {
                        answered = Some((status, Instant::now()));
                    }
                }
            }
        }
    }
    writing.abort();
    Ok(H1 {
        answer: answered,
        written: written.load(Ordering::Relaxed),
    })
}

/// One signed call's fate: the 503s it got before its answer, and whether it succeeded.
struct Call {
    refused: usize,
    /// From the first attempt to the answer.
    took: Duration,
    ok: bool,
    /// Whether every 503 said `Retry-After: 1`.
    retry_after_1: bool,
    failure: Option<String>,
}

/// One attempt of a signed `work` call on a new connection: the status, the
/// `Retry-After` header and whether the answer is a success for this call id.
async fn attempt(
    addr: SocketAddr,
    signer: &Signer,
    call_id: &str,
) -> Result<(u16, Option<String>, bool), BoxError> {
    let exchange = async {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let body = tool_call_body(WORK_TOOL, call_id, json!({"n": 1}));
        let request = hyper::Request::post(WEBHOOK_PATH)
            .header(HOST, addr.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign(&signer.secret, &body))
            .body(Full::new(Bytes::from(body)))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.into_body().collect().await?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let ok = status == 200
            && value["success"] == json!(true)
            && value["result"]["call_id"] == json!(call_id);
        Ok::<_, BoxError>((status, retry_after, ok))
    };
    match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {CALL_TIMEOUT:?}").into()),
    }
}

/// A signed call, retried after each `503` (waiting its `Retry-After`), at most
/// [`RETRIES`] times.
async fn call_with_retries(addr: SocketAddr, signer: &Signer, call_id: &str) -> Call {
    let started = Instant::now();
    let mut call = Call {
        took: Duration::ZERO,
        refused: 0,
        ok: false,
        retry_after_1: true,
        failure: None,
    };
    loop {
        match attempt(addr, signer, call_id).await {
            Ok((_, _, true)) => {
                call.ok = true;
                call.took = started.elapsed();
                return call;
            }
            Ok((503, retry_after, false)) => {
                call.refused += 1;
                call.retry_after_1 &= retry_after.as_deref() == Some("1");
                if call.refused > RETRIES {
                    call.failure = Some(format!("{call_id}: still 503 after {RETRIES} retries"));
                    return call;
                }
                let wait = retry_after
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(5);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok((status, _, false)) => {
                call.failure = Some(format!("{call_id}: answered {status}, not a success"));
                return call;
            }
            Err(err) => {
                call.failure = Some(format!("{call_id}: {err}"));
                return call;
            }
        }
    }
}

/// `CALLERS` callers making signed calls one after the other until `stop` is set.
fn callers(
    addr: SocketAddr,
    signer: &Signer,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Vec<Call>>> {
    (0..CALLERS)
        .map(|c| {
            let signer = signer.clone();
            let stop = Arc::clone(stop);
            tokio::spawn(async move {
                let mut calls = Vec::new();
                // Bounded: one call per pause at most, for at most 2 minutes.
                for n in 0..1200 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let call_id = format!("{}-s7-during-{c}-{n}", signer.run_id);
                    calls.push(call_with_retries(addr, &signer, &call_id).await);
                    tokio::time::sleep(CALLER_PAUSE).await;
                }
                calls
            })
        })
        .collect()
}

/// The median of a few RSS samples `gap` apart, in KiB.
async fn settled_rss(pid: u32, gap: Duration) -> u64 {
    let mut samples = Vec::new();
    for _ in 0..5 {
        samples.push(rss_kib(pid).unwrap_or(0));
        tokio::time::sleep(gap).await;
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Counts answers by status: `"503 x 700, 408 x 300"`.
fn by_status(statuses: impl Iterator<Item = Option<u16>>) -> String {
    let mut counts = BTreeMap::<Option<u16>, usize>::new();
    for status in statuses {
        *counts.entry(status).or_default() += 1;
    }
    counts
        .iter()
        .map(|(status, n)| match status {
            Some(status) => format!("{status} x {n}"),
            None => format!("no answer x {n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn run(
    addr: SocketAddr,
    signer: &Signer,
    h2_connections: usize,
    h2_per_connection: usize,
    h1_connections: usize,
) -> Outcome {
    let mut out = Outcome::new(format!(
        "7. body budget: {h2_connections} HTTP/2 connections x {h2_per_connection} streams \
         sending {BODY} bytes and never finishing, {h1_connections} HTTP/1 requests announcing \
         {BODY} and sending {H1_SENT}"
    ));
    let server = match stats(addr, signer).await {
        Ok(stats) => stats,
        Err(err) => {
            out.check(false, format!("the server's stats: {err}"));
            return out;
        }
    };
    let limits = &server["limits"];
    let budget_kib = limits["body_budget"].as_u64().unwrap_or(0) / 1024;
    let body_limit = limits["body_limit"].as_u64().unwrap_or(0);
    let body_timeout = Duration::from_millis(limits["body_timeout_ms"].as_u64().unwrap_or(0));
    let max_connections = limits["max_connections"].as_u64().unwrap_or(0);
    let Some(pid) = server["pid"].as_u64().and_then(|p| u32::try_from(p).ok()) else {
        out.check(false, "the server reports its pid (stats)".to_owned());
        return out;
    };
    if rss_kib(pid).is_none() {
        out.check(
            false,
            format!("the server's memory can be read in /proc/{pid}"),
        );
        return out;
    }
    let defaults = pillar::ServerLimits::default();
    out.figure(format!(
        "server: body budget {} MiB, body limit {} KiB, body timeout {} ms, max connections \
         {max_connections}{}",
        budget_kib / 1024,
        body_limit / 1024,
        body_timeout.as_millis(),
        if budget_kib * 1024 == defaults.body_budget as u64
            && body_timeout == defaults.body_timeout
            && body_limit == pillar::DEFAULT_BODY_LIMIT as u64
        {
            " (the defaults)"
        } else {
            " (NOT the defaults)"
        }
    ));

    // Warm up: signed calls and an HTTP/2 connection, then the baseline.
    let warm = signed_calls(addr, signer, "s7-warm", 200, CALLERS).await;
    let mut errors = Vec::new();
    if let Ok((sender, connection)) = h2_connect(addr).await {
        drop(sender);
        connection.abort();
    }
    let baseline = settled_rss(pid, Duration::from_millis(100)).await;

    // The state of a waiting stream: streams whose body never yields a byte.
    let (conns, tasks) = h2_streams(
        addr,
        h2_connections,
        h2_per_connection,
        || Body::Held,
        &mut errors,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let with_streams = settled_rss(pid, Duration::from_millis(100)).await;
    let waiting = tasks.len() as u64;
    // The connections first (closed, not thousands of streams reset), then the streams.
    for conn in &conns {
        conn.abort();
    }
    for task in &tasks {
        task.abort();
    }
    let stream_kib = with_streams.saturating_sub(baseline) as f64 / waiting.max(1) as f64;
    out.figure(format!(
        "server RSS after warming up (200 signed calls, one HTTP/2 connection): {:.1} MiB; \
         with {waiting} HTTP/2 streams waiting for a body that never comes ({h2_connections} \
         connections): {:.1} MiB, so S = {stream_kib:.1} KiB a waiting stream (its connection's \
         share included)",
        mib(baseline),
        mib(with_streams)
    ));
    // Let the server drop them.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let before_attack = rss_kib(pid).unwrap_or(0);

    // The attack.
    let sampler = Sampler::start(pid, Duration::from_millis(100));
    let started = Instant::now();
    let patience = body_timeout + Duration::from_secs(5);
    let (h2_conns, h2_tasks) = h2_streams(
        addr,
        h2_connections,
        h2_per_connection,
        || Body::Sending { left: BODY },
        &mut errors,
    )
    .await;
    let h1_tasks: Vec<_> = (0..h1_connections)
        .map(|_| tokio::spawn(h1_attacker(addr, patience)))
        .collect();
    let launched_in = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let callers = callers(addr, signer, &stop);

    let mut h2 = Vec::with_capacity(h2_tasks.len());
    for task in h2_tasks {
        let result =
            tokio::time::timeout_at(tokio::time::Instant::from_std(started + patience), task).await;
        h2.push(match result {
            Ok(Ok(result)) => result,
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("no answer within the body timeout + 5 s".to_owned()),
        });
    }
    let mut h1 = Vec::with_capacity(h1_tasks.len());
    for task in h1_tasks {
        h1.push(match task.await {
            Ok(result) => result,
            Err(err) => Err(err.to_string()),
        });
    }
    let attack_over = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut calls = Vec::new();
    for caller in callers {
        calls.extend(caller.await.unwrap_or_default());
    }
    for conn in &h2_conns {
        conn.abort();
    }
    let samples = sampler.finish().await;
    let (peak_at, peak_kib) = peak(&samples);
    let after = signed_calls(addr, signer, "s7-after", 500, CALLERS).await;
    let rss_after = rss_kib(pid).unwrap_or(0);

    // What the attackers got.
    let h2_status = by_status(h2.iter().map(|r| r.as_ref().ok().map(|(s, _)| *s)));
    let h2_errors: Vec<&String> = h2.iter().filter_map(|r| r.as_ref().err()).collect();
    let mut h2_408: Vec<Duration> = h2
        .iter()
        .filter_map(|r| match r {
            Ok((408, at)) => Some(at.duration_since(started)),
            _ => None,
        })
        .collect();
    let mut h2_503: Vec<Duration> = h2
        .iter()
        .filter_map(|r| match r {
            Ok((503, at)) => Some(at.duration_since(started)),
            _ => None,
        })
        .collect();
    out.figure(format!(
        "HTTP/2 streams: {} launched in {:.2} s; {h2_status}{}; 503 after {}; 408 after {}",
        h2.len(),
        launched_in.as_secs_f64(),
        if h2_errors.is_empty() {
            String::new()
        } else {
            format!(", {} errors (e.g. {})", h2_errors.len(), h2_errors[0])
        },
        spread(&mut h2_503),
        spread(&mut h2_408)
    ));
    let h1_ok: Vec<&H1> = h1.iter().filter_map(|r| r.as_ref().ok()).collect();
    let h1_status = by_status(h1_ok.iter().map(|h| h.answer.map(|(s, _)| s)));
    let mut h1_503: Vec<Duration> = h1_ok
        .iter()
        .filter_map(|h| match h.answer {
            Some((503, at)) => Some(at.duration_since(started)),
            _ => None,
        })
        .collect();
    let mut h1_408: Vec<Duration> = h1_ok
        .iter()
        .filter_map(|h| match h.answer {
            Some((408, at)) => Some(at.duration_since(started)),
            _ => None,
        })
        .collect();
    let fully_written = h1_ok.iter().filter(|h| h.written == H1_SENT).count();
    out.figure(format!(
        "HTTP/1 requests: {} connected ({} could not); {h1_status}; 503 after {}; 408 after {}; \
         {fully_written} wrote all {H1_SENT} bytes before their answer",
        h1_ok.len(),
        h1.len() - h1_ok.len(),
        spread(&mut h1_503),
        spread(&mut h1_408)
    ));
    for err in errors.iter().take(3) {
        out.figure(format!("  e.g. {err}"));
    }

    // The signed calls during the attack.
    let mut retries = BTreeMap::<usize, usize>::new();
    for call in calls.iter().filter(|c| c.ok) {
        *retries.entry(call.refused).or_default() += 1;
    }
    let succeeded = calls.iter().filter(|c| c.ok).count();
    let within = calls
        .iter()
        .filter(|c| c.ok && c.refused <= RETRIES)
        .count();
    let header_ok = calls.iter().all(|c| c.retry_after_1);
    let refusals: usize = calls.iter().map(|c| c.refused).sum();
    let retries_text = retries
        .iter()
        .map(|(n, calls)| format!("{calls} after {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut took: Vec<Duration> = calls.iter().filter(|c| c.ok).map(|c| c.took).collect();
    let slow = took
        .iter()
        .filter(|d| **d >= Duration::from_millis(100))
        .count();
    out.figure(format!(
        "signed calls during the attack ({CALLERS} callers, {:.1} s, a new connection per \
         attempt): {} made, {succeeded} succeeded (by retries needed: {retries_text}); {refusals} \
         answers 503, {} with Retry-After: 1; answered {} after the first attempt ({slow} took \
         100 ms or more)",
        attack_over.as_secs_f64(),
        calls.len(),
        if header_ok { "all" } else { "NOT all" },
        spread(&mut took)
    ));
    for failure in calls.iter().filter_map(|c| c.failure.as_ref()).take(3) {
        out.figure(format!("  failure: {failure}"));
    }
    out.figure(format!("signed calls after the attack: {}", after.line()));

    // Memory against the bound.
    let growth = peak_kib.saturating_sub(baseline);
    let per_h2 = CONNECTION_BUFFER as f64 + MAX_STREAMS as f64 * stream_kib;
    let per_h1 = CONNECTION_BUFFER as f64 + stream_kib;
    let attack_bound = budget_kib as f64
        + h2_connections as f64 * per_h2
        + h1_connections as f64 * per_h1
        + SLACK_KIB as f64;
    let default_bound = budget_kib as f64 + max_connections as f64 * per_h2;
    out.figure(format!(
        "server RSS: baseline {:.1} MiB, {:.1} MiB when the attack began, peak {:.1} MiB \
         ({:.1} s in), so {:.1} MiB over the baseline; {:.1} MiB after",
        mib(baseline),
        mib(before_attack),
        mib(peak_kib),
        peak_at.as_secs_f64(),
        mib(growth),
        mib(rss_after)
    ));
    let timeline = [1.0, 2.0, 4.0, 6.0, 8.0, 9.5, 10.5, 12.0]
        .iter()
        .filter_map(|&at| {
            samples
                .iter()
                .find(|(t, _)| t.as_secs_f64() >= at)
                .map(|(t, kib)| format!("{:.1} s {:.1}", t.as_secs_f64(), mib(*kib)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    out.figure(format!("server RSS over the attack (MiB): {timeline}"));
    out.figure(format!(
        "the bound, baseline + budget + connections x (64 KiB + streams x S), S = \
         {stream_kib:.1} KiB: for this attack's {h2_connections} HTTP/2 (x 100 streams) and \
         {h1_connections} HTTP/1 connections {:.1} MiB + baseline (16 MiB of allocator slack \
         included); at max_connections {max_connections} (all HTTP/2, 100 streams each) \
         {:.1} MiB + baseline = {:.2} GiB",
        attack_bound / 1024.0,
        default_bound / 1024.0,
        (default_bound + baseline as f64) / 1024.0 / 1024.0
    ));

    out.check(
        h2.len() == h2_connections * h2_per_connection && h1_ok.len() == h1_connections,
        format!(
            "every attacker connected: {} of {} streams, {} of {h1_connections} HTTP/1 requests",
            h2.len(),
            h2_connections * h2_per_connection,
            h1_ok.len()
        ),
    );
    out.check(
        !h2_503.is_empty() || !h1_503.is_empty(),
        format!(
            "the budget was spent (the attack is real): {} streams and {} HTTP/1 requests got 503",
            h2_503.len(),
            h1_503.len()
        ),
    );
    out.check(
        (growth as f64) <= attack_bound,
        format!(
            "the server grew by at most the bound for these connections: {:.1} MiB <= {:.1} MiB",
            mib(growth),
            attack_bound / 1024.0
        ),
    );
    out.check(
        !calls.is_empty() && within == calls.len() && header_ok,
        format!(
            "every signed call during the attack succeeded within {RETRIES} retries (503 with \
             Retry-After: 1): {within} of {}",
            calls.len()
        ),
    );
    out.check(
        warm.all_ok() && after.all_ok(),
        format!(
            "signed calls before and after the attack all succeed: {} of {}, {} of {}",
            warm.ok, warm.sent, after.ok, after.sent
        ),
    );
    out.summary = format!(
        "RSS +{:.1} MiB over the baseline {:.1} MiB (bound for these connections +{:.1} MiB; \
         S = {stream_kib:.1} KiB a stream); signed calls {succeeded}/{} during ({retries_text} \
         retries), {}/{} after",
        mib(growth),
        mib(baseline),
        attack_bound / 1024.0,
        calls.len(),
        after.ok,
        after.sent
    );
    out
}
