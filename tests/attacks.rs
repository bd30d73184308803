//! `serve()` against slow and hostile clients, over real sockets, with small caps so each
//! test takes a second or two: requests that send headers and hold the body back (HTTP/1
//! and HTTP/2) take no call slot and get 408; idle and over-the-cap connections are
//! closed; a client trickling its headers is dropped; a flood of refusals is logged as a
//! summary, not line by line. The same at the default limits with 1,000 and more clients
//! is in `loadtest/` (figures in SECURITY.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pillar::testing::{self, TEST_SECRET};
use pillar::{Pillar, ServerLimits, Tool};
use pillar_integration_tests::{Captured, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far beyond what any step here should take on a busy machine.
const PATIENCE: Duration = Duration::from_secs(5);

fn echo() -> Tool {
    Tool::builder("echo")
        .description("Echo the arguments")
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(args) })
        .build()
        .unwrap()
}

fn pillar(limits: ServerLimits) -> Pillar {
    testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .max_in_flight(4)
        .limits(limits)
        .build()
        .unwrap()
}

/// A signed call answers 200 with the echo.
async fn signed_call_succeeds(server: &Server) {
    let (status, answer) = tokio::time::timeout(
        PATIENCE,
        server.webhook().call_tool("echo", json!({"n": 1})),
    )
    .await
    .expect("the signed call is answered in time")
    .unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
}

/// Headers announcing a body that never comes.
async fn hold_body_back(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /pillar HTTP/1.1\r\nHost: pillar\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"action\":",
        )
        .await
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection (or `PATIENCE` passes).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&seen).into_owned(),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the server kept the connection open for {PATIENCE:?}; it sent: {}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
}

#[tokio::test]
async fn requests_holding_their_body_back_take_no_slot_and_get_408() {
    let limits = ServerLimits::default()
        .body_timeout(Duration::from_millis(800))
        .max_connections(64);
    let server = Server::start(pillar(limits)).await;
    // Five times the call slots, all waiting for a body.
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(hold_body_back(&server).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    signed_call_succeeds(&server).await;
    for mut stream in held {
        let answer = read_until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            answer.contains("The request body did not arrive within 800 ms"),
            "{answer}"
        );
    }
    server.shutdown().await.unwrap();
}

/// A request body that never yields a byte.
struct NeverBody;

impl http_body::Body for NeverBody {
    type Data = axum::body::Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Pending
    }
}

#[tokio::test]
async fn http2_streams_holding_their_body_back_take_no_slot() {
    let limits = ServerLimits::default().body_timeout(Duration::from_millis(800));
    let server = Server::start(pillar(limits)).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let mut streams = Vec::new();
    for _ in 0..40 {
        let request = hyper::Request::post(server.url("/pillar"))
            .header("content-type", "application/json")
            .body(NeverBody)
            .unwrap();
        sender.ready().await.unwrap();
        streams.push(tokio::spawn(sender.send_request(request)));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    signed_call_succeeds(&server).await;
    for stream in streams {
        let response = tokio::time::timeout(PATIENCE, stream)
            .await
            .expect("each stream is answered in time")
            .unwrap()
            .unwrap();
        assert_eq!(response.status(), 408);
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once_and_idle_ones_expire() {
    let limits = ServerLimits::default()
        .max_connections(8)
        .idle_timeout(Duration::from_millis(600))
        .header_timeout(Duration::from_secs(30));
    let server = Server::start(pillar(limits)).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The ninth is closed at once, without an answer.
    let started = Instant::now();
    let mut ninth = TcpStream::connect(server.addr).await.unwrap();
    let _ = ninth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = read_until_closed(&mut ninth).await;
    assert_eq!(answer, "");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    // The idle ones are closed after the idle timeout, which frees room for new ones.
    for mut stream in idle {
        assert_eq!(read_until_closed(&mut stream).await, "");
    }
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_dropped() {
    let limits = ServerLimits::default()
        .header_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_secs(60));
    let server = Server::start(pillar(limits)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let request =
        b"POST /pillar HTTP/1.1\r\nHost: pillar\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed = false;
    for byte in request {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                closed = true; // an error answer, then the close
                break;
            }
            Err(_) => {}
        }
    }
    assert!(
        closed,
        "the trickling client was kept for {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let limits = ServerLimits::default()
        .idle_timeout(Duration::from_millis(500))
        .header_timeout(Duration::from_secs(30));
    let server = Server::start(pillar(limits)).await;
    // HTTP/1.1: one request, then nothing.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: pillar\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    // HTTP/2: the connection ends once idle.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    let request = hyper::Request::get(server.url("/healthz"))
        .body(http_body_empty())
        .unwrap();
    assert_eq!(sender.send_request(request).await.unwrap().status(), 200);
    tokio::time::timeout(PATIENCE, connection)
        .await
        .expect("the idle HTTP/2 connection is closed")
        .unwrap()
        .unwrap();
    server.shutdown().await.unwrap();
}

fn http_body_empty() -> axum::body::Body {
    axum::body::Body::empty()
}

#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_refusals_is_logged_as_a_summary() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let p = pillar(ServerLimits::default());
    let body = testing::tool_call_body("echo", "c_forged", json!({}));
    let forged = testing::signed_headers("plr_not_the_secret", &body);
    for _ in 0..2000 {
        assert_eq!(p.handle(&body, &forged).await.0, 401);
    }
    let good = testing::signed_headers(TEST_SECRET, &body);
    assert_eq!(p.handle(&body, &good).await.0, 200);
    let logs = captured.text();
    let lines = logs
        .lines()
        .filter(|l| l.contains("invalid signature"))
        .count();
    assert_eq!(lines, 1, "{logs}");
    assert!(logs.contains("further refusals are counted"), "{logs}");
}
