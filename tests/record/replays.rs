//! A signed call without `call_id` (or with `""`) is at most once per identical signed
//! body: the record of calls keys it on the SHA-256 digest of the exact body. A replay
//! of a captured request, or a retry of the same body with a fresh signature, runs the
//! tool once and gets the first answer; different bodies are different calls; a single
//! delivery is answered exactly as before (as the reference SDK answers it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pillar::http::StatusCode;
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::Pillar;
use pillar_integration_tests::{pillar_with, Server};
use serde_json::{json, Value};

/// A `tool_call` body; `call_id`: `None` leaves the field out.
fn body(call_id: Option<&str>, order: &str) -> Vec<u8> {
    let mut call = json!({
        "action": "tool_call",
        "tool_name": "refund",
        "arguments": {"order": order},
        "conversation_id": "conv_1",
    });
    if let Some(id) = call_id {
        call["call_id"] = json!(id);
    }
    call.to_string().into_bytes()
}

/// Delivers `body` signed now (a fresh signature each time, as a retry has).
async fn deliver(p: &Pillar, body: &[u8]) -> (StatusCode, Vec<u8>) {
    let (status, answer) = p
        .handle(body, &protocol::signed_headers(TEST_SECRET, body))
        .await
        .into_parts();
    (status, answer.to_bytes())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn the_same_body_without_call_id_runs_once_and_answers_alike() {
    for call_id in [None, Some("")] {
        let runs = Arc::new(AtomicUsize::new(0));
        let p = pillar_with(testing::pillar(), &runs, 0);
        let body = body(call_id, "o_1");
        let first = deliver(&p, &body).await;
        assert_eq!(first.0, StatusCode::OK);
        assert_eq!(
            json_of(&first.1),
            json!({"call_id": "", "success": true, "result": {"refunded": "o_1", "run": 1}}),
            "{call_id:?}"
        );
        for _ in 0..3 {
            let again = deliver(&p, &body).await;
            assert_eq!(again, first, "{call_id:?}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{call_id:?}");
    }
}

#[tokio::test]
async fn different_bodies_without_call_id_both_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 0);
    let one = deliver(&p, &body(None, "o_1")).await;
    let two = deliver(&p, &body(None, "o_2")).await;
    assert_eq!(
        json_of(&one.1)["result"],
        json!({"refunded": "o_1", "run": 1})
    );
    assert_eq!(
        json_of(&two.1)["result"],
        json!({"refunded": "o_2", "run": 2})
    );
    // The same arguments in a body that differs by one byte elsewhere is another call.
    let mut other = body(None, "o_1");
    let at = other.len() - 1;
    other.insert(at, b' ');
    let three = deliver(&p, &other).await;
    assert_eq!(
        json_of(&three.1)["result"],
        json!({"refunded": "o_1", "run": 3})
    );
    // A body with a call id is keyed on the call id, not on the body.
    let four = deliver(&p, &body(Some("tc_1"), "o_1")).await;
    assert_eq!(json_of(&four.1)["call_id"], "tc_1");
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_single_delivery_is_answered_as_without_a_record() {
    // With the record of calls off, a call is answered as the reference SDK answers it
    // (tests/protocol/cross_check.rs); with it on, the first delivery's answer is the
    // same bytes.
    let runs = Arc::new(AtomicUsize::new(0));
    let plain = pillar_with(testing::pillar().idempotency(false), &runs, 0);
    let recorded = pillar_with(testing::pillar(), &runs, 0);
    for call_id in [None, Some("")] {
        let body = body(call_id, "o_9");
        runs.store(0, Ordering::SeqCst);
        let expected = deliver(&plain, &body).await;
        runs.store(0, Ordering::SeqCst);
        assert_eq!(deliver(&recorded, &body).await, expected, "{call_id:?}");
    }
    // Unknown tools and bad arguments answer as before too (they are never recorded
    // differently): a 404 is not a run.
    let missing = br#"{"action":"tool_call","tool_name":"nope","arguments":{}}"#;
    assert_eq!(
        deliver(&recorded, missing).await,
        deliver(&plain, missing).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replays_wait_for_the_first_and_run_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 200);
    let body = body(None, "o_5");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (p, body) = (p.clone(), body.clone());
            tokio::spawn(async move { deliver(&p, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(answers[0].0, StatusCode::OK);
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
}

#[tokio::test]
async fn idempotency_off_runs_every_delivery() {
    // The documented opt-out: every tool idempotent by itself.
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar().idempotency(false), &runs, 0);
    let body = body(None, "o_1");
    deliver(&p, &body).await;
    deliver(&p, &body).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_http_request_replayed_runs_once() {
    // The attack of issue 14: one captured request (headers and body) sent again and
    // again within the signature window, over HTTP to `serve`.
    let runs = Arc::new(AtomicUsize::new(0));
    let server = Server::start(pillar_with(testing::pillar(), &runs, 0)).await;
    let body = body(None, "o_7");
    let signature = protocol::sign(TEST_SECRET, &body);
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for _ in 0..20 {
        let response = client
            .post(server.url("/pillar"))
            .header("content-type", "application/json")
            .header("x-pillar-signature", &signature)
            .body(body.clone())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        answers.push((status, response.bytes().await.unwrap()));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(answers[0].0, 200);
    assert_eq!(
        json_of(&answers[0].1),
        json!({"call_id": "", "success": true, "result": {"refunded": "o_7", "run": 1}})
    );
    assert!(answers.iter().all(|a| a == &answers[0]));
    server.shutdown().await.unwrap();
}
