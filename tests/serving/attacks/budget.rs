//! The budget of buffered body bytes: a request that finds it spent waits at most 1 s,
//! then gets 503 with `Retry-After: 1`; the bytes come back when the holder's request
//! ends; a body of exactly the body limit still arrives whole over HTTP/2's small windows.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::Full;
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::ServerLimits;
use pillar_integration_tests::Server;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn a_spent_budget_answers_503_with_retry_after_then_frees() {
    let limits = ServerLimits::default()
        .body_budget(2_000)
        .body_timeout(Duration::from_millis(2_500));
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(super::echo())
        .body_limit(2_000)
        .limits(limits)
        .build()
        .unwrap();
    let server = Server::start(pillar).await;
    // Announces 2,000 bytes, the whole budget, and sends none.
    let mut holder = TcpStream::connect(server.addr).await.unwrap();
    holder
        .write_all(b"POST /pillar HTTP/1.1\r\nHost: pillar\r\nContent-Length: 2000\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let body = json!({"action": "tool_call", "tool_name": "echo", "arguments": {}}).to_string();
    let refused = reqwest::Client::new()
        .post(server.url("/pillar"))
        .header(
            "x-pillar-signature",
            protocol::sign(TEST_SECRET, body.as_bytes()),
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let text = refused.text().await.unwrap();
    assert!(text.contains("retry after 1 s"), "{text}");
    assert!(
        waited >= Duration::from_millis(900),
        "refused after {waited:?}, not after waiting 1 s"
    );
    // The holder's body timeout gives its bytes back.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let (status, answer) = server
        .webhook()
        .call_tool("echo", json!({"n": 2}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    drop(holder);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_body_of_the_limit_arrives_whole_over_http2() {
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(super::echo())
        .build()
        .unwrap();
    let limit = pillar.settings().body_limit;
    let server = Server::start(pillar).await;
    let head = r#"{"action":"tool_call","tool_name":"echo","arguments":{"pad":""#;
    let tail = r#""}}"#;
    let pad = "x".repeat(limit - head.len() - tail.len());
    let body = format!("{head}{pad}{tail}");
    assert_eq!(body.len(), limit);
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let request = pillar::http::Request::post(format!("http://{}/pillar", server.addr))
        .header(
            "x-pillar-signature",
            protocol::sign(TEST_SECRET, body.as_bytes()),
        )
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .expect("answered within 10 s")
        .unwrap();
    assert_eq!(response.status(), 200);
    server.shutdown().await.unwrap();
}
