//! `Pillar::serve_on` end to end over real HTTP on 127.0.0.1: signed calls, ping, bad
//! signatures, body limits, health check, both webhook paths, HTTP/1.1 keep-alive and
//! HTTP/2, graceful shutdown with a call in flight. `Pillar::serve`, which sets up the
//! whole process (subscriber, panic hook, signals), is in the `process` binary
//! (`process/serve.rs`).

// Test code: a failed unwrap is a failed test (helpers are not `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::protocol::signed_headers;
use pillar::testing::{self, tool_call_body, TEST_SECRET};
use pillar::Tool;
use pillar_integration_tests::{echo_builder, http_client, post, signed_echo_call, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[tokio::test]
async fn answers_calls_pings_and_bad_signatures_on_both_paths() {
    let server = Server::start(echo_builder().build().unwrap()).await;
    let client = http_client();

    for path in ["/", "/pillar"] {
        let (status, json) = signed_echo_call(&client, &server.url(path), "tc_1").await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            json,
            json!({"call_id": "tc_1", "success": true, "result": {"n": 1}}),
            "{path}"
        );

        let ping = br#"{"action":"ping"}"#.to_vec();
        let (status, _, json) = post(&client, &server.url(path), ping, Default::default()).await;
        assert_eq!((status, json), (200, json!({"status": "ok"})), "{path}");

        let body = tool_call_body("echo", "tc_2", json!({}));
        let headers = signed_headers("plr_some_other_secret", &body);
        let (status, _, json) = post(&client, &server.url(path), body.clone(), headers).await;
        assert_eq!(
            (status, json),
            (401, json!({"success": false, "error": "Invalid signature"})),
            "{path}"
        );
        let (status, _, _) = post(&client, &server.url(path), body, Default::default()).await;
        assert_eq!(status, 401, "{path}: unsigned");

        let (status, _, json) = post(
            &client,
            &server.url(path),
            b"not json".to_vec(),
            Default::default(),
        )
        .await;
        assert_eq!(
            (status, json),
            (400, json!({"success": false, "error": "Invalid JSON"}))
        );
    }

    let unknown = tool_call_body("nope", "tc_3", json!({}));
    let headers = signed_headers(TEST_SECRET, &unknown);
    let (status, _, json) = post(&client, &server.url("/"), unknown, headers).await;
    assert_eq!(status, 404);
    assert_eq!(json["error"], "Tool 'nope' not found");

    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn healthz_and_other_routes() {
    let server = Server::start(echo_builder().build().unwrap()).await;
    let client = http_client();

    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );

    let response = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 405, "the webhook is POST only");
    let response = client.post(server.url("/elsewhere")).send().await.unwrap();
    assert_eq!(response.status(), 404);

    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_configured_path_is_served() {
    let server = Server::start(echo_builder().path("/hooks/pillar").build().unwrap()).await;
    let client = http_client();
    for path in ["/", "/hooks/pillar"] {
        let (status, json) = signed_echo_call(&client, &server.url(path), "tc_p").await;
        assert_eq!(
            (status, json["success"].clone()),
            (200, json!(true)),
            "{path}"
        );
    }
    let response = client.post(server.url("/pillar")).send().await.unwrap();
    assert_eq!(
        response.status(),
        404,
        "the default path is not served any more"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unusable_path_is_a_config_error() {
    let pillar = echo_builder().path("/{id}").build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = pillar
        .serve_on(listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        matches!(err, pillar::Error::Config { name: "path", .. }),
        "{err}"
    );
}

/// A tool call whose body is exactly `len` bytes long.
fn call_of_len(len: usize) -> Vec<u8> {
    let empty = tool_call_body("echo", "tc_big", json!({"pad": ""}));
    let pad = "x".repeat(len - empty.len());
    let body = tool_call_body("echo", "tc_big", json!({ "pad": pad }));
    assert_eq!(body.len(), len);
    body
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused_with_413() {
    let server = Server::start(echo_builder().build().unwrap()).await;
    let client = http_client();
    let limit = pillar::DEFAULT_BODY_LIMIT;

    let body = call_of_len(limit);
    let headers = signed_headers(TEST_SECRET, &body);
    let (status, _, json) = post(&client, &server.url("/"), body, headers).await;
    assert_eq!(
        (status, json["success"].clone()),
        (200, json!(true)),
        "exactly the limit"
    );

    let body = call_of_len(limit + 1);
    let headers = signed_headers(TEST_SECRET, &body);
    let (status, content_type, json) = post(&client, &server.url("/pillar"), body, headers).await;
    assert_eq!(status, 413);
    assert_eq!(content_type, "application/json");
    assert_eq!(
        json,
        json!({"success": false, "error": "Request body is larger than 1048576 bytes"})
    );

    server.shutdown().await.unwrap();
}

/// Writes `request` on a fresh connection, leaves it open, and reads the answer until
/// its JSON body ends (or the server closes), within 2 s.
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&answer).contains("\"}") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_huge_announced_length_is_refused_before_reading() {
    let server = Server::start(echo_builder().build().unwrap()).await;
    let started = Instant::now();
    // 10 GiB announced, one byte sent: the server must answer without waiting for more.
    let answer = raw_exchange(
        server.addr,
        b"POST /pillar HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
          content-length: 10737418240\r\n\r\n{",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains(r#"{"success":false,"error":"Request body is larger than 1048576 bytes"}"#),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_chunked_body_is_refused_once_past_the_limit() {
    let server = Server::start(echo_builder().body_limit(1000).build().unwrap()).await;
    // No length announced: 1500 bytes in one chunk, and the body never ends. The server
    // answers as soon as it has read past the limit.
    let mut request =
        b"POST / HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    request.extend_from_slice(b"5dc\r\n");
    request.extend_from_slice(&[b' '; 1500]);
    request.extend_from_slice(b"\r\n");
    let answer = raw_exchange(server.addr, &request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("Request body is larger than 1000 bytes"),
        "{answer}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn http1_keep_alive_serves_several_requests_on_one_connection() {
    let server = Server::start(echo_builder().build().unwrap()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(
                b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 17\r\n\r\n{\"action\":\"ping\"}",
            )
            .await
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&answer).ends_with(r#"{"status":"ok"}"#) {
            let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "the connection was closed");
            answer.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    }
    drop(stream);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn http2_with_prior_knowledge() {
    let server = Server::start(echo_builder().build().unwrap()).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let body = tool_call_body("echo", "tc_h2", json!({"n": 2}));
    let mut request = client.post(server.url("/pillar")).body(body.clone());
    for (name, value) in &signed_headers(TEST_SECRET, &body) {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"call_id": "tc_h2", "success": true, "result": {"n": 2}})
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_lets_a_call_in_flight_finish() {
    let started = Arc::new(Notify::new());
    let slow = Tool::builder("slow")
        .description("Take half a second")
        .handler({
            let started = Arc::clone(&started);
            move |_args: Value, _ctx| {
                let started = Arc::clone(&started);
                async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    Ok::<_, String>(json!({"slept_ms": 500}))
                }
            }
        })
        .build()
        .unwrap();
    let server = Server::start(echo_builder().tool(slow).build().unwrap()).await;
    let addr = server.addr;

    let in_flight = tokio::spawn({
        let url = server.url("/pillar");
        async move {
            let body = tool_call_body("slow", "tc_slow", json!({}));
            let headers = signed_headers(TEST_SECRET, &body);
            post(&http_client(), &url, body, headers).await
        }
    });
    tokio::time::timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the slow tool starts");

    let shutdown_started = Instant::now();
    let stopped = tokio::spawn(server.shutdown());

    let (status, _, json) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        json,
        json!({"call_id": "tc_slow", "success": true, "result": {"slept_ms": 500}})
    );
    stopped.await.unwrap().unwrap();
    assert!(
        shutdown_started.elapsed() >= Duration::from_millis(300),
        "the server waited for the call"
    );

    // Stopped: new connections are refused.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_stalled_upload_does_not_hold_the_shutdown_forever() {
    let quick = Tool::builder("quick")
        .description("Answers fast")
        .timeout_ms(100)
        .handler(|_args: Value, _ctx| async move { Ok::<_, String>(json!({})) })
        .build()
        .unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .auto_register(false)
        .tool(quick)
        .build()
        .unwrap();
    let server = Server::start(pillar).await;
    // A request whose body never finishes arriving.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\n{\"act")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    server.shutdown().await.unwrap();
    let waited = started.elapsed();
    // The longest tool timeout (100 ms) plus the 2 s margin, then the server gives up.
    assert!(waited >= Duration::from_millis(2000), "{waited:?}");
    assert!(waited < Duration::from_millis(4000), "{waited:?}");
    drop(stalled);
}

#[tokio::test]
async fn calls_are_answered_while_registration_keeps_failing() {
    // Nothing listens on the API address: registration fails and retries in the
    // background; the server answers all the while and still stops promptly.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let pillar = echo_builder()
        .auto_register(true)
        .endpoint_url("https://example.com/pillar")
        .api_url(api)
        .registration_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .build()
        .unwrap();
    let server = Server::start(pillar).await;
    let client = http_client();
    for i in 0..3 {
        let (status, json) = signed_echo_call(&client, &server.url("/"), &format!("tc_{i}")).await;
        assert_eq!((status, json["success"].clone()), (200, json!(true)));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await.unwrap();
}
