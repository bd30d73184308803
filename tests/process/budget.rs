//! The body budget against a flood of HTTP/2 streams that send their body and never
//! finish it, in a child process whose memory is measured: it stays under the bound
//! SECURITY.md gives (baseline + budget + max_connections x per-connection buffers), and
//! a signed call made during the flood is answered within 3 retries.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use pillar::ServerLimits;
use serde_json::json;

use super::Served;

const STREAMS: usize = 100;
/// The child's caps: small, so the flood is over in seconds.
const BUDGET: usize = 4 << 20;
const MAX_CONNECTIONS: usize = 12;
/// What one connection may hold besides the budget: its HTTP/2 connection window
/// (64 KiB; an HTTP/1 connection's read buffer is as large) and the state of each of its
/// streams (request, headers, the webhook's future), measured at about 17 KiB a stream in
/// this unoptimised build (SECURITY.md, "Memory").
const PER_CONNECTION: usize = (64 << 10) + STREAMS * (24 << 10);
/// The allocator's slack over the bytes in use.
const SLACK: usize = 8 << 20;

pub(super) fn limits() -> ServerLimits {
    ServerLimits::default()
        .body_budget(BUDGET)
        .body_timeout(Duration::from_secs(2))
        .max_connections(MAX_CONNECTIONS)
}

/// A body that sends `left` bytes in 16 KiB frames, then waits forever.
struct Endless {
    left: usize,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Pending;
        }
        let n = self.left.min(16 << 10);
        self.left -= n;
        Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(vec![b'{'; n])))))
    }
}

/// The child's resident memory, in bytes.
fn rss(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

/// 10 connections x 100 streams, each sending 1 MB and never finishing.
async fn flood(addr: &str) {
    for _ in 0..10 {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let Ok((sender, connection)) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        else {
            continue;
        };
        tokio::spawn(connection);
        for _ in 0..STREAMS {
            let mut sender = sender.clone();
            let request = pillar::http::Request::post(format!("http://{addr}/pillar"))
                .body(Endless { left: 1_000_000 })
                .unwrap();
            tokio::spawn(async move {
                let _ = sender.ready().await;
                let _ = sender.send_request(request).await;
            });
        }
    }
}

#[tokio::test]
async fn a_flood_of_unfinished_http2_bodies_stays_under_the_memory_bound() {
    let served = Served::start("budget");
    let client = served.client();
    let (status, _) = client
        .call_tool("echo", json!({"warm": true}))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let pid = served.child.id();
    let baseline = rss(pid);
    let addr = served
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let attack = tokio::spawn(async move { flood(&addr).await });
    let peak = tokio::spawn(async move {
        let mut peak = 0;
        for _ in 0..40 {
            peak = peak.max(rss(pid));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A signed call during the flood: answered, at worst after 3 retries.
    let mut tries = Vec::new();
    loop {
        let (status, answer) = client
            .call_tool("echo", json!({"during": "flood"}))
            .await
            .unwrap();
        tries.push(status);
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{answer}");
        assert!(tries.len() <= 3, "still refused after 3 retries: {tries:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let peak = peak.await.unwrap();
    attack.abort();
    let bound = BUDGET + MAX_CONNECTIONS * PER_CONNECTION + SLACK;
    eprintln!(
        "baseline {} KiB, peak {} KiB (+{} KiB; bound +{} KiB); signed call: {tries:?}",
        baseline >> 10,
        peak >> 10,
        peak.saturating_sub(baseline) >> 10,
        bound >> 10
    );
    assert!(
        peak.saturating_sub(baseline) <= bound,
        "the server grew by {} KiB, over the bound of {} KiB",
        peak.saturating_sub(baseline) >> 10,
        bound >> 10
    );
    served.signal("TERM");
    let _ = served.wait_exit(Duration::from_secs(20));
}
