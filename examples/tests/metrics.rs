//! The metrics example serves the SDK's metrics for Prometheus: after a signed call,
//! `/metrics` shows it counted by tool and outcome, with its duration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pillar::protocol::WebhookClient;
use support::{command, Running};

#[tokio::test]
async fn metrics_are_served_for_prometheus() {
    let mut server = command("metrics");
    server
        .env("PILLAR_SECRET", "plr_local")
        .env("PILLAR_ADDR", "127.0.0.1:0");
    let mut running = Running::start(server);
    let url = running.webhook_url();
    let client = WebhookClient::new(url.clone(), "plr_local");
    let (status, answer) = client
        .call_tool("greet", serde_json::json!({"name": "Ada"}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "Hello, Ada!");
    let metrics = raw_get(&format!("{url}metrics")).await;
    assert!(
        metrics.contains(r#"pillar_calls_total{tool="greet",outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("pillar_call_duration_seconds"),
        "{metrics}"
    );
    assert!(metrics.contains("# HELP pillar_calls_total"), "{metrics}");
}

/// A plain HTTP/1.1 GET over a TCP stream (the examples crate has no HTTP client of its
/// own besides the SDK's signing one).
async fn raw_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(
            format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    body
}
