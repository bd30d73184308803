//! The SDK's metrics, read through a recorder of the test's own (`metrics-util`'s
//! debugging recorder; the global recorder can be set once per process, hence a test
//! binary of its own with one test).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use metrics::Unit;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::CompositeKey;
use pillar::protocol;
use pillar::testing::{self, MockCloud, Mode, TEST_SECRET};
use pillar::Tool;
use serde_json::{json, Value};

fn tool(name: &str, run: fn(Value) -> Result<Value, String>) -> Tool {
    Tool::builder(name)
        .description("A test tool")
        .timeout_ms(200)
        .handler(move |args: Value, _| async move {
            if args.get("sleep").is_some() {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            if args.get("panic").is_some() {
                panic!("boom");
            }
            run(args)
        })
        .build()
        .unwrap()
}

/// One snapshot of the recorder (taking one drains it).
type Snapshot = Vec<(
    CompositeKey,
    Option<Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// Every value of the metric `name` whose labels include all of `labels`.
fn values<'s>(snapshot: &'s Snapshot, name: &str, labels: &[(&str, &str)]) -> Vec<&'s DebugValue> {
    snapshot
        .iter()
        .filter(|(key, ..)| {
            let key = key.key();
            key.name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(.., value)| value)
        .collect()
}

fn counter(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    values(snapshot, name, labels)
        .into_iter()
        .map(|v| match v {
            DebugValue::Counter(n) => *n,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

#[tokio::test]
async fn calls_rejections_and_gauges_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let cloud = MockCloud::start().await.unwrap();
    let p = testing::pillar()
        .registered_tools(false)
        .tool(tool("echo", Ok))
        .tool(tool("fails", |_| Err("the database is down".to_owned())))
        .endpoint_url("http://127.0.0.1:8787/pillar")
        .api_url(cloud.url())
        .build()
        .unwrap();
    // Registration attempts: one refused, one accepted.
    cloud.set_mode(Mode::Status(500));
    assert!(p.register().await.is_err());
    cloud.set_mode(Mode::Ok);
    p.register().await.unwrap();
    let send = |tool: &str, call_id: &str, args: Value| {
        let body = testing::tool_call_body(tool, call_id, args);
        let headers = protocol::signed_headers(TEST_SECRET, &body);
        let p = p.clone();
        async move { p.handle(&body, &headers).await.into_parts() }
    };

    assert_eq!(send("echo", "c1", json!({"n": 1})).await.0, 200);
    assert_eq!(send("echo", "c2", json!({"n": 2})).await.0, 200);
    // The same call again: answered from the record.
    assert_eq!(send("echo", "c2", json!({"n": 2})).await.0, 200);
    // The same call id for other arguments: a conflict.
    assert_eq!(send("echo", "c2", json!({"n": 3})).await.0, 409);
    send("fails", "c3", json!({})).await;
    send("echo", "c4", json!({"sleep": true})).await;
    send("echo", "c5", json!({"panic": true})).await;
    send("echo", "c6", json!([1])).await;
    // A tool we do not serve: counted as `unknown`, whatever its name.
    assert_eq!(send("no_such_tool_x", "c7", json!({})).await.0, 404);
    // Unsigned: refused before the tool name is read.
    let body = testing::tool_call_body("evil_label", "c8", json!({}));
    let forged = protocol::signed_headers("plr_wrong", &body);
    assert_eq!(p.handle(&body, &forged).await.status(), 401);

    let snapshot = snapshotter.snapshot().into_vec();
    let calls = |tool: &str, outcome: &str| {
        counter(
            &snapshot,
            "pillar_calls_total",
            &[("tool", tool), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("echo", "ok"), 2);
    assert_eq!(calls("echo", "from_record"), 1);
    assert_eq!(calls("echo", "conflict"), 1);
    assert_eq!(calls("fails", "tool_error"), 1);
    assert_eq!(calls("echo", "timeout"), 1);
    assert_eq!(calls("echo", "panic"), 1);
    assert_eq!(calls("echo", "invalid_arguments"), 1);
    assert_eq!(calls("unknown", "unknown_tool"), 1);
    for outcome in ["ok", "error"] {
        assert_eq!(
            counter(
                &snapshot,
                "pillar_registrations_total",
                &[("outcome", outcome)]
            ),
            1,
            "{outcome}"
        );
    }
    assert_eq!(
        counter(
            &snapshot,
            "pillar_rejections_total",
            &[("reason", "invalid_signature")]
        ),
        1
    );
    // No label value came from a request the server does not serve.
    for (key, ..) in &snapshot {
        for label in key.key().labels() {
            assert!(
                !["no_such_tool_x", "evil_label"].contains(&label.value()),
                "{key:?}"
            );
        }
    }
    // A duration for each call that ran the tool (not for bad arguments).
    let durations: usize = values(
        &snapshot,
        "pillar_call_duration_seconds",
        &[("tool", "echo")],
    )
    .into_iter()
    .map(|v| match v {
        DebugValue::Histogram(samples) => samples.len(),
        other => panic!("not a histogram: {other:?}"),
    })
    .sum();
    assert_eq!(durations, 4);
    // Nothing is in flight once every call is answered.
    let in_flight = values(&snapshot, "pillar_calls_in_flight", &[]);
    assert!(
        in_flight
            .iter()
            .all(|v| matches!(v, DebugValue::Gauge(g) if g.into_inner() == 0.0)),
        "{in_flight:?}"
    );
    assert!(!in_flight.is_empty());
    // The record's size was reported (on the first call).
    assert!(
        !values(&snapshot, "pillar_record_answers", &[]).is_empty(),
        "{snapshot:?}"
    );
}
