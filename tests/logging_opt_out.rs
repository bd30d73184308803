//! `default_logging(false)`: `serve()` installs no subscriber. A test binary of its own:
//! the global subscriber can be set once per process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

#[tokio::test]
async fn serve_installs_no_subscriber_when_told_not_to() {
    let pillar = pillar::testing::pillar()
        .registered_tools(false)
        .addr(([127, 0, 0, 1], 0).into())
        .default_logging(false)
        .build()
        .unwrap();
    // serve() runs until it is dropped at the timeout; it has bound and logged by then.
    let served = tokio::time::timeout(Duration::from_millis(300), pillar.serve()).await;
    assert!(served.is_err(), "serve() returned early: {served:?}");
    assert!(!tracing::dispatcher::has_been_set());
}
