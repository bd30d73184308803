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

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Pillar, ServerLimits, Tool};
use pillar_integration_tests::{Captured, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod budget;
mod closing;

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
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::INFO);
    let p = pillar(ServerLimits::default());
    let body = testing::tool_call_body("echo", "c_forged", json!({}));
    let forged = protocol::signed_headers("plr_not_the_secret", &body);
    for _ in 0..2000 {
        assert_eq!(p.handle(&body, &forged).await.status(), 401);
    }
    let good = protocol::signed_headers(TEST_SECRET, &body);
    assert_eq!(p.handle(&body, &good).await.status(), 200);
    let logs = captured.text();
    let lines = logs
        .lines()
        .filter(|l| l.contains("invalid signature"))
        .count();
    assert_eq!(lines, 1, "{logs}");
    assert!(logs.contains("further refusals are counted"), "{logs}");
}

/// Appends one HTTP/2 frame to `out`.
fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    out.extend_from_slice(&length[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// A rapid-reset burst on one HTTP/2 connection (prior knowledge): `streams` requests,
/// each reset (`RST_STREAM CANCEL`) right after its `HEADERS`, in one write, so the
/// server sees them reset before it accepts them. Returns what the server sent until it
/// closed the connection.
async fn rapid_reset(addr: std::net::SocketAddr, streams: u32) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    frame(&mut out, 0x4, 0, 0, &[]); // SETTINGS
    for n in 0..streams {
        let id = 2 * n + 1;
        // HEADERS (END_STREAM | END_HEADERS): GET, http, / from HPACK's static table.
        frame(&mut out, 0x1, 0x5, id, &[0x82, 0x86, 0x84]);
        frame(&mut out, 0x3, 0, id, &8u32.to_be_bytes()); // RST_STREAM CANCEL
    }
    stream.write_all(&out).await.unwrap();
    let mut received = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received)).await;
    received
}

/// Whether `received` holds a `GOAWAY` frame with `ENHANCE_YOUR_CALM` (after the
/// server's SETTINGS and its ACK; frames are walked by their lengths).
fn goaway_enhance_your_calm(received: &[u8]) -> bool {
    let mut at = 0;
    while at + 9 <= received.len() {
        let length = usize::from(received[at]) << 16
            | usize::from(received[at + 1]) << 8
            | usize::from(received[at + 2]);
        let kind = received[at + 3];
        let payload =
            &received[(at + 9).min(received.len())..(at + 9 + length).min(received.len())];
        if kind == 0x7 && payload.len() >= 8 && payload[4..8] == 0xb_u32.to_be_bytes() {
            return true;
        }
        at += 9 + length;
    }
    false
}

/// A client breaking HTTP/2 (a rapid-reset flood: h2 closes the connection with
/// `GOAWAY ENHANCE_YOUR_CALM`) is a refusal: the first is logged in full, the others
/// are counted (`http2_protocol_error` in the summary and in `pillar_rejections_total`),
/// and h2's own WARN line per connection is off with the directive SECURITY.md gives
/// programs with their own subscriber (`h2=error`).
#[tokio::test(flavor = "current_thread")]
async fn http2_protocol_errors_are_counted_in_the_refusal_summary() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing::Level::INFO)
                .with_target("h2", tracing::Level::ERROR),
        );
    let _guard = tracing::subscriber::set_default(subscriber);
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _metrics = metrics::set_default_local_recorder(&recorder);

    let server = Server::start(pillar(ServerLimits::default())).await;
    const FLOODS: usize = 10;
    for _ in 0..FLOODS {
        let received = rapid_reset(server.addr, 50).await;
        assert!(goaway_enhance_your_calm(&received), "{received:?}");
    }
    signed_call_succeeds(&server).await;

    let logs = captured.text();
    let full = logs
        .lines()
        .filter(|l| l.contains("reason=\"http2_protocol_error\""))
        .count();
    assert_eq!(full, 1, "{logs}");
    assert!(logs.contains("the client broke the protocol"), "{logs}");
    assert!(!logs.contains(" h2::"), "{logs}");
    let counted = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .find(|(key, ..)| {
            key.key().name() == "pillar_rejections_total"
                && key
                    .key()
                    .labels()
                    .any(|l| l.key() == "reason" && l.value() == "http2_protocol_error")
        })
        .map(|(.., value)| value);
    assert_eq!(
        counted,
        Some(metrics_util::debugging::DebugValue::Counter(FLOODS as u64))
    );
    server.shutdown().await.unwrap();
}

/// Set in the child process of [`serve_s_default_logging_quiets_h2`].
const CHILD: &str = "PILLAR_ATTACKS_CHILD";

/// The child's side: `serve()` with its default logging (no `RUST_LOG`).
#[test]
fn child_serving_with_default_logging() {
    if std::env::var_os(CHILD).is_none() {
        return; // run as a plain test: nothing to do
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .addr(([127, 0, 0, 1], 0).into())
        .auto_register(false)
        .build()
        .unwrap();
    runtime.block_on(pillar.serve()).unwrap();
}

/// `serve()`'s default subscriber (no `RUST_LOG`) leaves out h2's WARN line per
/// connection: a rapid-reset flood writes one line in full, then a summary counting the
/// protocol errors; before, each connection wrote h2's WARN and nothing was counted.
#[tokio::test]
async fn serve_s_default_logging_quiets_h2() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "attacks::child_serving_with_default_logging",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (send, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut printed = Vec::new();
    let addr: std::net::SocketAddr = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("the child did not say where it listens: {printed:?}"));
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on http://".len()..];
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        printed.push(line);
    };
    const FLOODS: usize = 20;
    let started = Instant::now();
    for _ in 0..FLOODS {
        assert!(goaway_enhance_your_calm(&rapid_reset(addr, 50).await));
    }
    // The next refusal after the 10 s window logs the window's counts first.
    tokio::time::sleep(
        (started + Duration::from_millis(10_300)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert!(goaway_enhance_your_calm(&rapid_reset(addr, 50).await));
    let summary = loop {
        let Ok(Some(line)) = tokio::time::timeout(PATIENCE, lines.recv()).await else {
            break None;
        };
        printed.push(line.clone());
        if line.contains("more requests refused") {
            break Some(line);
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let logs = printed.join("\n");
    let summary = summary.unwrap_or_else(|| panic!("no summary line in:\n{logs}"));
    assert!(
        summary.contains(&format!("http2_protocol_error={}", FLOODS - 1)),
        "{summary}"
    );
    assert!(!logs.contains("h2::"), "{logs}");
    let full = printed
        .iter()
        .filter(|l| l.contains("the client broke the protocol"))
        .count();
    assert_eq!(full, 1, "{logs}");
}

#[tokio::test]
async fn a_keep_alive_connection_ending_at_the_header_timeout_logs_nothing() {
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::DEBUG);
    let limits = ServerLimits::default().header_timeout(Duration::from_millis(300));
    let server = Server::start(pillar(limits)).await;
    // A keep-alive connection: one request answered, then nothing until the server
    // closes it at the header timeout.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: pillar\r\n\r\n")
        .await
        .unwrap();
    let answered = read_until_closed(&mut kept).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    let quiet = captured.text();
    assert!(!quiet.contains("connection ended with an error"), "{quiet}");
    assert!(!quiet.contains("header"), "{quiet}");
    // A client that never finishes its first request's headers is a refusal, logged.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"POST /pillar HTTP/1.1\r\nHost: pil")
        .await
        .unwrap();
    let _ = read_until_closed(&mut slow).await;
    let logs = captured.text();
    assert!(
        logs.contains("its request's headers did not arrive within the header timeout"),
        "{logs}"
    );
    server.shutdown().await.unwrap();
}
