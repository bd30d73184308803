//! The secret never appears in a log line, even when a tool's error or panic quotes it,
//! and the log says why a signature was refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::protocol;
use pillar::signature;
use pillar::testing::{self, TEST_SECRET};
use pillar::Tool;
use pillar_integration_tests::Captured;
use serde_json::{json, Value};

#[tokio::test]
async fn no_log_line_holds_the_secret() {
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::TRACE);

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
            .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
            .await
            .into_parts();
        assert_eq!(status, 200);
        assert!(!answer.to_value().to_string().contains(TEST_SECRET));
    }
    // A refused signature: the log says why.
    let body = testing::tool_call_body("leaky", "c3", json!({}));
    let stale = signature::sign(TEST_SECRET, &body, 1_000_000_000);
    let mut headers = pillar::http::HeaderMap::new();
    headers.insert("x-pillar-signature", stale.parse().unwrap());
    assert_eq!(pillar.handle(&body, &headers).await.status(), 401);

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
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::INFO);

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
        let headers = protocol::signed_headers(TEST_SECRET, &body);
        let pillar = pillar.clone();
        async move { pillar.handle(&body, &headers).await.status() }
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
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::DEBUG);

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
    let headers = protocol::signed_headers(TEST_SECRET, &body);
    assert_eq!(pillar.handle(&body, &headers).await.status(), 200);

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

/// Text from outside holding every character that could forge or garble a log line:
/// CR, LF (then a forged line), ESC (a terminal sequence), BEL, NEL and LINE SEPARATOR.
const EVIL: &str = "x\r\nFORGED  INFO pillar: all good\u{1b}[2J\u{7}\u{85}\u{2028}y";
/// What must never reach the log raw.
const RAW: [char; 6] = ['\r', '\n', '\u{1b}', '\u{7}', '\u{85}', '\u{2028}'];

/// A store whose every claim fails with an error quoting the key (the `call_id`).
#[derive(Debug)]
struct QuotingStore;

impl pillar::idempotency::CallStore for QuotingStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        _fingerprint: u64,
        _claim_ttl: std::time::Duration,
    ) -> pillar::idempotency::StoreFuture<
        'a,
        Result<pillar::idempotency::Claim, pillar::idempotency::StoreError>,
    > {
        Box::pin(async move {
            Err(pillar::idempotency::StoreError::Unavailable(format!(
                "cannot claim {key}"
            )))
        })
    }

    fn complete<'a>(
        &'a self,
        _key: &'a str,
        _fingerprint: u64,
        _recorded: &'a pillar::WebhookResponse,
        _ttl: std::time::Duration,
    ) -> pillar::idempotency::StoreFuture<'a, Result<(), pillar::idempotency::StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Every line a subscriber at `level` writes, captured, for the current thread.
fn capture(level: tracing::Level) -> (Captured, tracing::subscriber::DefaultGuard) {
    Captured::install(level)
}

/// Control characters from outside are escaped in every log line, whatever brought
/// them: Pillar Cloud's answer, a `call_id`, a tool name, the detail of a `Busy`
/// refusal, a store's error quoting its key, a panic's message, a tool's error. Before,
/// Cloud's answer and a panic's message were written raw, and a forged line appeared.
#[tokio::test(flavor = "current_thread")]
async fn control_characters_from_outside_are_escaped_in_every_line() {
    use pillar::testing::{MockCloud, Mode};
    use std::time::Duration;

    let (captured, _guard) = capture(tracing::Level::DEBUG);

    // Pillar Cloud's answer to a registration.
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Text(500, EVIL.to_owned()));
    let registering = testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .endpoint_url("https://example.com/pillar")
        .api_url(cloud.url())
        .registration_backoff(Duration::from_secs(30), Duration::from_secs(30))
        .build()
        .unwrap();
    let handle = registering.spawn_registration();
    cloud
        .wait_for_registrations(1, Duration::from_secs(5))
        .await;
    while !matches!(
        handle.state(),
        pillar::cloud::RegistrationState::Retrying { .. }
    ) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    handle.abort();

    // A call id, a panic's message, a tool's error, a tool name, a Busy refusal.
    let pillar = testing::pillar()
        .registered_tools(false)
        .max_in_flight(1)
        .tool(echo())
        .tool(
            Tool::builder("panicky")
                .description("Panics quoting its input")
                .handler(|_: Value, _| async move {
                    if true {
                        panic!("bad input: {EVIL}");
                    }
                    Ok::<Value, String>(json!(null))
                })
                .build()
                .unwrap(),
        )
        .tool(
            Tool::builder("failing")
                .description("Fails quoting its input")
                .handler(|_: Value, _| async move { Err::<Value, _>(format!("bad: {EVIL}")) })
                .build()
                .unwrap(),
        )
        .tool(
            Tool::builder("slow")
                .description("Takes a while")
                .handler(|_: Value, _| async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<Value, String>(json!(null))
                })
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let call = |tool: &str, id: &str, arguments: Value| {
        let body = testing::tool_call_body(tool, id, arguments);
        let headers = protocol::signed_headers(TEST_SECRET, &body);
        let pillar = pillar.clone();
        async move { pillar.handle(&body, &headers).await.status() }
    };
    assert_eq!(call("panicky", EVIL, json!({})).await, 200);
    // A repeat, then a conflict, of that call id.
    assert_eq!(call("panicky", EVIL, json!({})).await, 200);
    assert_eq!(call("panicky", EVIL, json!({"other": 1})).await, 409);
    assert_eq!(call("failing", "c_failing", json!({})).await, 200);
    call(EVIL, "c_unknown", json!({})).await;
    let (slow, busy) = tokio::join!(
        call("slow", "c_slow", json!({})),
        call("echo", &format!("busy{EVIL}"), json!({}))
    );
    assert_eq!((slow.as_u16(), busy.as_u16()), (200, 503));

    // A store's error quoting its key.
    let stored = testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .call_store(QuotingStore)
        .build()
        .unwrap();
    let body = testing::tool_call_body("echo", EVIL, json!({}));
    let headers = protocol::signed_headers(TEST_SECRET, &body);
    assert_eq!(stored.handle(&body, &headers).await.status(), 503);

    let logs = captured.text();
    for needle in [
        "registration with Pillar Cloud failed",
        "tool panicked",
        "repeat delivery",
        "call_id reused",
        "call for an unknown tool",
        "too many calls in flight",
        "cannot claim",
    ] {
        let line = logs
            .lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{logs}"));
        assert!(
            line.contains("FORGED"),
            "{needle}: the text is not in {line}"
        );
    }
    for raw in RAW.iter().filter(|c| **c != '\n') {
        assert!(!logs.contains(*raw), "{raw:?} written raw in:\n{logs}");
    }
    // Every line is one the subscriber began: none starts with the forged text.
    for line in logs.lines() {
        assert!(
            line.starts_with(|c: char| c.is_ascii_digit()),
            "a line not begun by the subscriber: {line:?}"
        );
    }
}

fn echo() -> Tool {
    Tool::builder("echo")
        .description("Echoes")
        .handler(|input: Value, _| async move { Ok::<Value, String>(input) })
        .build()
        .unwrap()
}

/// Replays of one signed request write one line per 10 s, not one each; a huge
/// `call_id` is cut to 128 characters in a line. Before, 1,000 replays wrote 1,000 INFO
/// lines, and a 1 MB `call_id` a 1 MB line per repeat or conflict.
#[tokio::test(flavor = "current_thread")]
async fn replays_are_summarised_and_long_ids_cut() {
    let (captured, _guard) = capture(tracing::Level::INFO);
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .build()
        .unwrap();
    let body = testing::tool_call_body("echo", "c_replayed", json!({"n": 1}));
    let headers = protocol::signed_headers(TEST_SECRET, &body);
    for _ in 0..1000 {
        assert_eq!(pillar.handle(&body, &headers).await.status(), 200);
    }
    let huge = "i".repeat(1_000_000);
    for arguments in [json!({"n": 1}), json!({"n": 1}), json!({"n": 2})] {
        let body = testing::tool_call_body("echo", &huge, arguments);
        let headers = protocol::signed_headers(TEST_SECRET, &body);
        pillar.handle(&body, &headers).await.into_parts();
    }

    let logs = captured.text();
    let repeats = logs
        .lines()
        .filter(|line| line.contains("repeat delivery"))
        .count();
    assert_eq!(repeats, 1, "{logs}");
    assert!(logs.contains("further repeats are counted"), "{logs}");
    let conflict = logs
        .lines()
        .find(|line| line.contains("call_id reused"))
        .unwrap_or_else(|| panic!("no conflict line in:\n{logs}"));
    assert!(
        conflict.contains(&format!(
            "\"{}…(+{} bytes)\"",
            "i".repeat(128),
            1_000_000 - 128
        )),
        "{conflict}"
    );
    assert!(logs.len() < 4_000, "{} bytes of log", logs.len());
}
