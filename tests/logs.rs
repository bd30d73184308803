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
