//! A subscriber the program set itself always wins over `serve()`'s default one. A test
//! binary of its own: the global subscriber can be set once per process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pillar_integration_tests::Captured;

#[tokio::test]
async fn the_programs_own_subscriber_receives_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let pillar = pillar::testing::pillar()
        .registered_tools(false)
        .addr(([127, 0, 0, 1], 0).into())
        .build()
        .unwrap();
    let served = tokio::time::timeout(Duration::from_millis(300), pillar.serve()).await;
    assert!(served.is_err(), "serve() returned early: {served:?}");
    let text = captured.text();
    assert!(
        text.contains("pillar listening on http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("no tools to serve"), "{text}");
}
