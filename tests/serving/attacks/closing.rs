//! Connections that are being closed and whose client will not let them close: each is
//! dropped within idle timeout + close timeout + 1 s, and the one connection slot it held
//! (the cap is 1) answers a signed call right after.

use std::time::Duration;

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Pillar, ServerLimits, Tool};
use pillar_integration_tests::Server;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const IDLE: Duration = Duration::from_secs(1);
const CLOSE: Duration = Duration::from_secs(1);
/// What the issue allows: idle timeout + close timeout + 1 s.
const ALLOWED: Duration = Duration::from_secs(3);

/// One connection at most, so a held connection would refuse the signed call after it.
fn pillar() -> Pillar {
    let big = Tool::builder("big")
        .description("Answers 1 MiB")
        .handler(|_: Value, _ctx| async move { Ok::<_, String>("x".repeat(1 << 20)) })
        .build()
        .unwrap();
    testing::pillar()
        .registered_tools(false)
        .tool(super::echo())
        .tool(big)
        .limits(
            ServerLimits::default()
                .idle_timeout(IDLE)
                .close_timeout(CLOSE)
                .max_connections(1),
        )
        .build()
        .unwrap()
}

/// Reads (and drops) what the server sends until it closes the connection; how long
/// that took, or `None` if it was still open after `ALLOWED`.
async fn closed_within(stream: &mut TcpStream, started: tokio::time::Instant) -> Option<Duration> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(started + ALLOWED, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

/// After a held connection is gone, the one slot answers a signed call.
async fn slot_answers(server: &Server) {
    let (status, answer) = server
        .webhook()
        .call_tool("echo", json!({"after": "the held connection"}))
        .await
        .expect("the connection slot is free again");
    assert_eq!(status, 200, "{answer}");
}

/// An HTTP/2 frame header.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

#[tokio::test]
async fn an_http2_client_that_never_acknowledges_a_ping_is_dropped() {
    let server = Server::start(pillar()).await;
    let started = tokio::time::Instant::now();
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(frame(4, 0, 0, &[])); // SETTINGS, empty
    stream.write_all(&hello).await.unwrap();
    // From here on the client sends nothing: no SETTINGS or PING acknowledgement, so the
    // server's graceful close (GOAWAY, PING) never completes.
    let took = closed_within(&mut stream, started).await;
    assert!(
        took.is_some(),
        "the connection was still open after {ALLOWED:?}"
    );
    slot_answers(&server).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http2_client_that_keeps_a_zero_window_is_dropped() {
    let server = Server::start(pillar()).await;
    let started = tokio::time::Instant::now();
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(0)
            .adaptive_window(false)
            .handshake::<_, String>(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    // An unsigned call: answered 401 with a JSON body the zero window never lets through.
    let request = pillar::http::Request::post(format!("http://{}/pillar", server.addr))
        .body(r#"{"action":"tool_call"}"#.to_owned())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 401);
    // The response's body is kept, never read: the stream stays open on the server.
    let closed = tokio::time::timeout_at(started + ALLOWED, connection).await;
    assert!(
        closed.is_ok(),
        "the connection was still open after {ALLOWED:?}"
    );
    drop(response);
    slot_answers(&server).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http1_client_that_pipelines_and_never_reads_is_dropped() {
    let server = Server::start(pillar()).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    let mut requests = Vec::new();
    for n in 0..8 {
        let body = json!({
            "action": "tool_call",
            "tool_name": "big",
            "call_id": format!("big-{n}"),
            "arguments": {},
        })
        .to_string();
        let signature = protocol::sign(TEST_SECRET, body.as_bytes());
        requests.extend_from_slice(
            format!(
                "POST /pillar HTTP/1.1\r\nHost: pillar\r\nContent-Type: application/json\r\n\
                 X-Pillar-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
    stream.write_all(&requests).await.unwrap();
    let started = tokio::time::Instant::now();
    // Eight answers of 1 MiB fill the loopback buffers while this client reads nothing.
    tokio::time::sleep_until(started + ALLOWED).await;
    // Still unread: the server must have let go of the connection (and its slot) by now.
    slot_answers(&server).await;
    drop(stream);
    server.shutdown().await.unwrap();
}
