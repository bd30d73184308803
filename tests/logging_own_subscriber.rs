//! A subscriber the program set itself always wins over `serve()`'s default one. A test
//! binary of its own: the global subscriber can be set once per process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("pillar listening on http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("no tools to serve"), "{text}");
}
