//! The secret never appears in a log line, even when a tool's error or panic quotes it,
//! and the log says why a signature was refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::testing::{self, TEST_SECRET};
use pillar::Tool;
use pillar_integration_tests::Captured;
use serde_json::{json, Value};

#[tokio::test]
async fn no_log_line_holds_the_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(
            Tool::builder("leaky")
                .description("Fails quoting the secret")
                .handler(|_: Value, _| async move {
                    Err::<Value, _>(format!("upstream said: bad key {TEST_SECRET}"))
                })
                .build()
                .unwrap(),
        )
        .tool(
            Tool::builder("panicky")
                .description("Panics quoting the secret")
                .handler(|_: Value, _| async move {
                    if true {
                        panic!("key was {TEST_SECRET}");
                    }
                    Ok::<Value, String>(json!(null))
                })
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();

    for (tool, id) in [("leaky", "c1"), ("panicky", "c2")] {
        let body = testing::tool_call_body(tool, id, json!({}));
        let (status, answer) = pillar
            .handle(&body, &testing::signed_headers(TEST_SECRET, &body))
            .await;
        assert_eq!(status, 200);
        assert!(!answer.to_value().to_string().contains(TEST_SECRET));
    }
    // A refused signature: the log says why.
    let body = testing::tool_call_body("leaky", "c3", json!({}));
    let stale = testing::sign_at(TEST_SECRET, &body, 1_000_000_000);
    let mut headers = pillar::http::HeaderMap::new();
    headers.insert("x-pillar-signature", stale.parse().unwrap());
    assert_eq!(pillar.handle(&body, &headers).await.0, 401);

    let logs = captured.text();
    assert!(logs.contains("tool panicked"), "{logs}");
    assert!(logs.contains("[redacted]"), "{logs}");
    assert!(logs.contains("invalid signature"), "{logs}");
    assert!(!logs.contains(TEST_SECRET), "{logs}");
}

/// At INFO (`serve()`'s default) the `pillar.webhook` and `pillar.call` spans are off
/// (they are DEBUG), and the SDK's own lines about a call still say which call: a panic
/// and a reused `call_id` carry `pillar.tool` and `pillar.call_id`.
#[tokio::test]
async fn call_lines_name_the_call_without_the_spans() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(
            Tool::builder("panicky")
                .description("Panics")
                .handler(|_: Value, _| async move {
                    if true {
                        panic!("boom");
                    }
                    Ok::<Value, String>(json!(null))
                })
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let call = |id: &str, arguments: Value| {
        let body = testing::tool_call_body("panicky", id, arguments);
        let headers = testing::signed_headers(TEST_SECRET, &body);
        let pillar = pillar.clone();
        async move { pillar.handle(&body, &headers).await.0 }
    };
    assert_eq!(call("call_panics_1", json!({})).await, 200);
    // The same call id with other arguments: refused as a conflict.
    assert_eq!(call("call_panics_1", json!({"other": 1})).await, 409);

    let logs = captured.text();
    let line = |needle: &str| {
        logs.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{logs}"))
    };
    for needle in ["tool panicked", "call_id reused"] {
        let line = line(needle);
        assert!(line.contains("pillar.tool=\"panicky\""), "{line}");
        assert!(line.contains("pillar.call_id=\"call_panics_1\""), "{line}");
    }
    // No span context at INFO: the spans are DEBUG.
    assert!(!logs.contains("pillar.webhook{"), "{logs}");
    assert!(!logs.contains("pillar.call{"), "{logs}");
}

/// At DEBUG (`RUST_LOG=info,pillar=debug`) the `pillar.call` span is on, and the lines
/// logged inside it carry its fields.
#[tokio::test]
async fn the_call_span_is_debug() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(
            Tool::builder("echo")
                .description("Echoes")
                .handler(|input: Value, _| async move { Ok::<Value, String>(input) })
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let body = testing::tool_call_body("echo", "call_echo_1", json!({}));
    let headers = testing::signed_headers(TEST_SECRET, &body);
    assert_eq!(pillar.handle(&body, &headers).await.0, 200);

    let logs = captured.text();
    let answered = logs
        .lines()
        .find(|line| line.contains("tool call answered"))
        .unwrap_or_else(|| panic!("no `tool call answered` line in:\n{logs}"));
    assert!(answered.contains("pillar.call{"), "{answered}");
    assert!(answered.contains("pillar.tool=\"echo\""), "{answered}");
    assert!(
        answered.contains("pillar.call_id=\"call_echo_1\""),
        "{answered}"
    );
    assert!(
        answered.contains("pillar.action=\"tool_call\""),
        "{answered}"
    );
}
