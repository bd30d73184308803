//! What the SDK reads from Pillar Cloud is bounded: an answer is read up to 1 MiB
//! (`pillar::protocol::MAX_CLOUD_ANSWER_BYTES`), all of it within one deadline
//! (`request_timeout`). Each test runs a misbehaving "Cloud" on a raw
//! `tokio::net::TcpListener` on 127.0.0.1: an endless body, a huge `Content-Length`, a
//! body trickled one byte at a time. So is what the webhook client (`pillar call`, the
//! console) reads from a server: up to its `max_answer_bytes`, through the same reader.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::cloud::{CloudError, LinkError};
use pillar::protocol::{WebhookClient, MAX_CLOUD_ANSWER_BYTES};
use pillar::testing::{self, TEST_SECRET};
use pillar::{Pillar, TransportErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How a fake Cloud answers every request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// `200`, no `Content-Length`, then bytes until the client goes away.
    Endless { status: u16 },
    /// `200`, `Transfer-Encoding: chunked`, then 64 KiB chunks until the client goes
    /// away.
    EndlessChunked,
    /// `200` with a `Content-Length` of 10 GiB, then bytes until the client goes away.
    HugeLength,
    /// `200` with a `Content-Length` of 100, then one byte every `every`.
    Trickle { every: Duration },
}

/// A fake Cloud: its URL, how many body bytes it managed to write in all, and its task.
struct FakeCloud {
    url: String,
    written: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fake_cloud(behaviour: Behaviour) -> FakeCloud {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&written);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(answer(stream, behaviour, counter));
        }
    });
    FakeCloud { url, written, task }
}

/// Reads the request's head, then answers as `behaviour` says until a write fails
/// (the client went away).
async fn answer(mut stream: TcpStream, behaviour: Behaviour, written: Arc<AtomicU64>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let (head, chunk, pause): (String, Vec<u8>, Option<Duration>) = match behaviour {
        Behaviour::Endless { status } => (
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"),
            vec![b' '; 64 * 1024],
            None,
        ),
        Behaviour::EndlessChunked => (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_owned(),
            [format!("{:x}\r\n", 64 * 1024).as_bytes(), &[b' '; 64 * 1024], b"\r\n"].concat(),
            None,
        ),
        Behaviour::HugeLength => (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n"
                .to_owned(),
            vec![b' '; 64 * 1024],
            None,
        ),
        Behaviour::Trickle { every } => (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                .to_owned(),
            vec![b' '],
            Some(every),
        ),
    };
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    loop {
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
        written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
    }
}

fn pillar_for(cloud: &FakeCloud, timeout: Duration) -> Pillar {
    testing::pillar()
        .registered_tools(false)
        .endpoint_url("https://api.myapp.com/pillar")
        .api_url(&cloud.url)
        .auto_register(false)
        .request_timeout(timeout)
        .build()
        .unwrap()
}

fn transport_kind(err: &CloudError) -> Option<TransportErrorKind> {
    match err {
        CloudError::Transport(err) => Some(err.kind()),
        _ => None,
    }
}

/// Waits (generously) until the fake Cloud's writes stopped growing, and returns the
/// total: the client stopped reading and closed the connection.
async fn settled(written: &AtomicU64) -> u64 {
    let mut last = written.load(Ordering::SeqCst);
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = written.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the fake Cloud was still writing after 10 s: the client kept reading ({last} bytes)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_registration_answer_is_cut_off_at_the_cap() {
    let cloud = fake_cloud(Behaviour::Endless { status: 200 }).await;
    // A deadline far away: what ends the read must be the size cap, not the clock.
    let pillar = pillar_for(&cloud, Duration::from_secs(120));
    let started = Instant::now();
    let err = pillar.register().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::TooLarge),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(text.contains(&cloud.url), "{text}");
    assert!(text.contains("too large"), "{text}");
    assert!(
        text.contains(&format!("over the limit of {MAX_CLOUD_ANSWER_BYTES} bytes")),
        "{text}"
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    // The client read about the cap and stopped: what the server got out is the cap plus
    // the socket buffers, not what an unbounded read would take in a minute.
    let written = settled(&cloud.written).await;
    assert!(written > MAX_CLOUD_ANSWER_BYTES as u64, "{written}");
    assert!(written < 64 * 1024 * 1024, "{written} bytes were sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_error_answer_is_cut_off_too() {
    let cloud = fake_cloud(Behaviour::Endless { status: 502 }).await;
    let pillar = pillar_for(&cloud, Duration::from_secs(120));
    let err = pillar.register().await.unwrap_err();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::TooLarge),
        "{err:?}"
    );
    let written = settled(&cloud.written).await;
    assert!(written < 64 * 1024 * 1024, "{written} bytes were sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_content_length_is_refused_before_reading() {
    let cloud = fake_cloud(Behaviour::HugeLength).await;
    let pillar = pillar_for(&cloud, Duration::from_secs(120));
    let err = pillar.register().await.unwrap_err();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::TooLarge),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("its Content-Length is 10737418240 bytes"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_links_read_a_bounded_answer() {
    let cloud = fake_cloud(Behaviour::Endless { status: 200 }).await;
    let pillar = pillar_for(&cloud, Duration::from_secs(120));
    let err = pillar.confirm_link("ABC-123", "user_42").await.unwrap_err();
    match &err {
        LinkError::Transport(e) => assert_eq!(e.kind(), TransportErrorKind::TooLarge),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_answer_ends_at_the_one_overall_deadline() {
    // One byte every 200 ms: each read makes progress, so only a deadline over the whole
    // exchange (not one per read) ends it. 100 bytes would take 20 s; the deadline is 1 s.
    let cloud = fake_cloud(Behaviour::Trickle {
        every: Duration::from_millis(200),
    })
    .await;
    let timeout = Duration::from_secs(1);
    let pillar = pillar_for(&cloud, timeout);
    let started = Instant::now();
    let err = pillar.register().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        transport_kind(&err),
        Some(TransportErrorKind::Timeout),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("did not answer within 1s"),
        "{err}"
    );
    // Not before the deadline, and well before the 20 s the whole body would take (a
    // generous margin for a busy machine is still below it).
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert!(cloud.written.load(Ordering::SeqCst) >= 1);
}

/// `pillar call` and the console read answers with `WebhookClient`: an endless chunked
/// answer from a server is cut off at the client's `max_answer_bytes`, with an error
/// that gives the limit and the setting, not read until memory runs out or the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_to_the_webhook_client_is_cut_off_at_its_cap() {
    let server = fake_cloud(Behaviour::EndlessChunked).await;
    let cap = 256 * 1024;
    // A deadline far away: what ends the read must be the size cap, not the clock.
    let client = WebhookClient::new(&server.url, TEST_SECRET)
        .timeout(Duration::from_secs(120))
        .max_answer_bytes(cap);
    let started = Instant::now();
    let err = client
        .call_tool("lookup_customer", serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::TooLarge, "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&server.url), "{text}");
    assert!(
        text.contains(&format!("over the limit of {cap} bytes")),
        "{text}"
    );
    assert!(
        text.ends_with("raise the limit with WebhookClient::max_answer_bytes"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let written = settled(&server.written).await;
    assert!(written > cap as u64, "{written}");
    assert!(written < 64 * 1024 * 1024, "{written} bytes were sent");
}

/// Without a setting the client reads at most 16 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_client_reads_16_mib_by_default() {
    assert_eq!(WebhookClient::DEFAULT_MAX_ANSWER_BYTES, 16 * 1024 * 1024);
    let server = fake_cloud(Behaviour::EndlessChunked).await;
    let client = WebhookClient::new(&server.url, TEST_SECRET).timeout(Duration::from_secs(120));
    let err = client.ping().await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::TooLarge, "{err:?}");
    assert!(
        err.to_string().contains("over the limit of 16777216 bytes"),
        "{err}"
    );
    let written = settled(&server.written).await;
    assert!(written < 128 * 1024 * 1024, "{written} bytes were sent");
}
