//! Scenario 1: HTTP/1 requests that send their headers (`Content-Length: 1000`) and
//! never the body, more of them than the server's call slots (`max_in_flight`, 1024).
//! While they are held, signed calls must all succeed; each held request gets 408 at the
//! body timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{signed_calls, spread, stats, status_of, Signer};
use crate::Outcome;

/// Headers announcing 1,000 bytes of body, and the body's first ten.
const HEADERS: &[u8] =
    b"POST /pillar HTTP/1.1\r\nHost: pillar\r\nContent-Type: application/json\r\n\
Content-Length: 1000\r\n\r\n{\"action\":";

/// What one held request saw.
struct Held {
    /// When its headers had been written.
    sent: Instant,
    /// When the first byte of an answer arrived.
    answered: Option<Instant>,
    /// Everything the server sent before closing (or before the client gave up).
    answer: Vec<u8>,
    /// Whether the server closed the connection.
    closed: bool,
}

async fn hold(stream: &mut TcpStream, patience: Duration) -> Held {
    let sent = Instant::now();
    let mut held = Held {
        sent,
        answered: None,
        answer: Vec::new(),
        closed: false,
    };
    let deadline = tokio::time::Instant::from_std(sent + patience);
    let mut buf = [0u8; 2048];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                held.closed = true;
                return held;
            }
            Ok(Ok(n)) => {
                held.answered.get_or_insert_with(Instant::now);
                held.answer.extend_from_slice(&buf[..n]);
            }
            Err(_) => return held,
        }
    }
}

pub(crate) async fn run(
    addr: SocketAddr,
    signer: &Signer,
    attackers: usize,
    calls: usize,
    connections: usize,
    body_timeout: Duration,
) -> Outcome {
    let mut out = Outcome::new(format!(
        "1. {attackers} HTTP/1 requests holding their body back (Content-Length: 1000, never sent)"
    ));
    let rss = |v: &serde_json::Value| v["rss_kib"].as_u64().unwrap_or(0) as f64 / 1024.0;
    let before_stats = stats(addr, signer).await.ok();

    let baseline = signed_calls(addr, signer, "s1-before", calls, connections).await;
    out.figure(format!(
        "signed calls, no attackers:    {}",
        baseline.line()
    ));

    // The attackers: each writes its headers and holds; a task per connection waits for
    // what the server does.
    let opening = Instant::now();
    let patience = body_timeout + Duration::from_secs(10);
    let mut tasks = Vec::with_capacity(attackers);
    let mut failed_to_open = 0usize;
    for _ in 0..attackers {
        let Ok(stream) = TcpStream::connect(addr).await else {
            failed_to_open += 1;
            continue;
        };
        tasks.push(tokio::spawn(async move {
            let mut stream = stream;
            if stream.write_all(HEADERS).await.is_err() {
                return None;
            }
            Some(hold(&mut stream, patience).await)
        }));
    }
    let opened = opening.elapsed();
    out.figure(format!(
        "attackers: {} connected and sent their headers in {:.2} s ({failed_to_open} could not connect)",
        tasks.len(),
        opened.as_secs_f64()
    ));
    // Let the server read every attacker's headers and start waiting for the bodies.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let during = signed_calls(addr, signer, "s1-during", calls, connections).await;
    let during_end = Instant::now();
    out.figure(format!("signed calls, while held:      {}", during.line()));
    let during_stats = stats(addr, signer).await.ok();
    if let (Some(before), Some(during)) = (&before_stats, &during_stats) {
        out.figure(format!(
            "server RSS: {:.1} MiB before, {:.1} MiB with the attackers held",
            rss(before),
            rss(during)
        ));
    }
    for sample in during.samples.iter().chain(&baseline.samples) {
        out.figure(format!("  failure: {sample}"));
    }

    let mut held = Vec::with_capacity(tasks.len());
    let mut write_failed = 0usize;
    for task in tasks {
        match task.await {
            Ok(Some(h)) => held.push(h),
            Ok(None) | Err(_) => write_failed += 1,
        }
    }
    let answered_early = held
        .iter()
        .filter(|h| h.answered.is_some_and(|at| at <= during_end))
        .count();
    let is_408 = |h: &Held| {
        status_of(&h.answer) == Some(408)
            && String::from_utf8_lossy(&h.answer).contains("did not arrive within")
    };
    let got_408 = held.iter().filter(|h| is_408(h)).count();
    let closed = held.iter().filter(|h| h.closed).count();
    let mut waits: Vec<Duration> = held
        .iter()
        .filter(|h| is_408(h))
        .filter_map(|h| h.answered.map(|at| at.duration_since(h.sent)))
        .collect();
    let slack = Duration::from_millis(50);
    let margin = Duration::from_secs(5);
    let in_window = waits
        .iter()
        .filter(|w| **w + slack >= body_timeout && **w <= body_timeout + margin)
        .count();
    out.figure(format!(
        "held requests: {got_408} of {} answered 408 \"The request body did not arrive within {} ms\", \
         {closed} closed by the server; time from headers to 408: {}",
        held.len(),
        body_timeout.as_millis(),
        spread(&mut waits)
    ));
    if let Some(other) = held.iter().find(|h| !is_408(h)) {
        let text: String = String::from_utf8_lossy(&other.answer)
            .chars()
            .take(120)
            .collect();
        out.figure(format!(
            "  e.g. a request not answered 408: {text:?} (closed: {})",
            other.closed
        ));
    }

    out.check(
        baseline.all_ok(),
        format!(
            "without attackers, every signed call succeeds: {} of {}",
            baseline.ok, baseline.sent
        ),
    );
    out.check(
        held.len() == attackers && write_failed == 0,
        format!(
            "{} of {attackers} attackers connected and sent their headers",
            held.len()
        ),
    );
    out.check(
        during.all_ok(),
        format!(
            "while {} requests are held (more than the 1024 call slots), every signed call \
             succeeds: {} of {}",
            held.len(),
            during.ok,
            during.sent
        ),
    );
    out.check(
        answered_early == 0,
        format!("the attackers were still held when the signed calls ended: {answered_early} answered before"),
    );
    out.check(
        got_408 == attackers && closed == attackers,
        format!("every held request gets 408 and is closed: {got_408} 408, {closed} closed, of {attackers}"),
    );
    out.check(
        in_window == attackers,
        format!(
            "each 408 comes at the body timeout ({} ms, up to {} s later on this busy machine): {in_window} of {attackers}",
            body_timeout.as_millis(),
            margin.as_secs()
        ),
    );
    out.summary = format!(
        "signed calls {:.0} -> {:.0} req/s, p99 {:.2} -> {:.2} ms; {got_408}/{attackers} got 408 after {}",
        baseline.rate(),
        during.rate(),
        baseline.p99_ms(),
        during.p99_ms(),
        spread(&mut waits),
    );
    out
}
