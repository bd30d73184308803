//! `Pillar::serve` in this process: it binds `settings().addr`, answers, and stops
//! gracefully on SIGTERM. Here, not in the `serving` binary, because `serve()` sets up
//! the whole process: a global subscriber, the redacting panic hook (which would take
//! over the panic messages of every other test in the binary) and signal handlers, and
//! the test sends SIGTERM to its own process.

use std::time::{Duration, Instant};

use pillar::protocol::signed_headers;
use pillar::testing::{self, tool_call_body, TEST_SECRET};
use pillar::{PillarBuilder, Tool};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

fn echo() -> Tool {
    Tool::builder("echo")
        .description("Echo the arguments")
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(json!({ "echo": args })) })
        .build()
        .unwrap()
}

fn builder() -> PillarBuilder {
    testing::pillar()
        .registered_tools(false)
        .auto_register(false)
        .tool(echo())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A signed call of `echo` POSTed to `url`: the status and the JSON body, once its
/// content type is checked.
async fn signed_call(client: &reqwest::Client, url: &str, call_id: &str) -> (u16, Value) {
    let body = tool_call_body("echo", call_id, json!({"n": 1}));
    let mut request = client.post(url).body(body.clone());
    for (name, value) in &signed_headers(TEST_SECRET, &body) {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/json");
    let body = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, json)
}

/// `Pillar::serve` binds `settings().addr` and stops gracefully on SIGTERM.
#[tokio::test]
async fn serve_binds_the_configured_address_and_stops_on_sigterm() {
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let pillar = builder().addr(addr).build().unwrap();
    let mut server = tokio::spawn(pillar.serve());

    let client = client();
    let url = format!("http://{addr}/healthz");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.get(&url).send().await {
            Ok(response) if response.status() == 200 => break,
            _ if Instant::now() < deadline && !server.is_finished() => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("the server does not answer on {addr}: {other:?}"),
        }
    }
    let (status, json) = signed_call(&client, &format!("http://{addr}/pillar"), "tc_s").await;
    assert_eq!((status, json["success"].clone()), (200, json!(true)));

    // The handlers were installed before binding, so the signal cannot kill the process.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let result = tokio::time::timeout(Duration::from_secs(5), &mut server)
        .await
        .expect("the server stops on SIGTERM");
    result.unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}
