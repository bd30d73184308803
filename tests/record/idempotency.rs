//! At-most-once execution per `(action, call_id)`: repeats get the first answer, a
//! repeat during the run waits for it, a different request under the same key is
//! refused, a caller that goes away does not cancel the run, and a store that cannot be
//! reached refuses the call with a retryable status.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pillar::http::StatusCode;
use pillar::idempotency::{CallStore, Claim, MemoryStore, StoreError, StoreFuture};
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::Pillar;
use pillar::WebhookResponse;
use pillar_integration_tests::pillar_with;
use serde_json::{json, Value};

async fn deliver(p: &Pillar, body: &[u8]) -> (StatusCode, Value) {
    let (status, answer) = p
        .handle(body, &protocol::signed_headers(TEST_SECRET, body))
        .await
        .into_parts();
    (status, answer.to_value())
}

#[tokio::test]
async fn a_repeat_delivery_gets_the_first_answer() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 0);
    let body = testing::tool_call_body("refund", "tc_1", json!({"order": "o_1"}));
    let first = deliver(&p, &body).await;
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(first.1["result"], json!({"refunded": "o_1", "run": 1}));
    // A retry carries a fresh signature (another timestamp): same key all the same.
    let second = deliver(&p, &body).await;
    assert_eq!(second, first);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn concurrent_repeats_wait_for_the_running_delivery() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 150);
    let body = testing::tool_call_body("refund", "tc_2", json!({"order": "o_2"}));
    let answers = futures_join_all((0..10).map(|_| {
        let p = p.clone();
        let body = body.clone();
        tokio::spawn(async move { deliver(&p, &body).await })
    }))
    .await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
        assert_eq!(answer.1["result"]["run"], 1);
    }
}

async fn futures_join_all<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_different_request_under_the_same_key_is_refused_not_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 0);
    deliver(
        &p,
        &testing::tool_call_body("refund", "tc_3", json!({"order": "o_3"})),
    )
    .await;
    let (status, answer) = deliver(
        &p,
        &testing::tool_call_body("refund", "tc_3", json!({"order": "o_999"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(answer["success"], false);
    assert_eq!(answer["call_id"], "tc_3");
    assert!(
        answer["error"].as_str().unwrap().contains("was not run"),
        "{answer}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn call_and_confirm_are_separate_keys_and_an_empty_call_id_is_keyed_on_the_body() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 0);
    deliver(
        &p,
        &testing::tool_call_body("refund", "tc_4", json!({"order": "o"})),
    )
    .await;
    let confirm = testing::tool_confirm_body("refund", "tc_4", json!({"order": "o"}));
    deliver(&p, &confirm).await;
    deliver(&p, &confirm).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "one call and one confirmation"
    );
    // Without a call id the exact body is the key (replays.rs): the same body runs
    // once, another body runs.
    let anonymous = testing::tool_call_body("refund", "", json!({"order": "o"}));
    deliver(&p, &anonymous).await;
    deliver(&p, &anonymous).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let other = testing::tool_call_body("refund", "", json!({"order": "p"}));
    deliver(&p, &other).await;
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn idempotency_can_be_turned_off() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar().idempotency(false), &runs, 0);
    let body = testing::tool_call_body("refund", "tc_5", json!({"order": "o"}));
    deliver(&p, &body).await;
    deliver(&p, &body).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_caller_that_goes_away_does_not_cancel_the_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar(), &runs, 200);
    let body = testing::tool_call_body("refund", "tc_6", json!({"order": "o_6"}));
    // The first delivery's caller disconnects after 20 ms: its future is dropped.
    let gone = tokio::time::timeout(Duration::from_millis(20), deliver(&p, &body)).await;
    assert!(gone.is_err());
    // The retry waits for the run that went on, and gets its answer.
    let (status, answer) = deliver(&p, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["result"], json!({"refunded": "o_6", "run": 1}));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A store whose writes take 50 ms, as a store across the network.
#[derive(Debug, Default)]
struct SlowWrites(MemoryStore);

impl CallStore for SlowWrites {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        self.0.claim(key, fingerprint, claim_ttl)
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        recorded: &'a WebhookResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.0.complete(key, fingerprint, recorded, ttl).await
        })
    }

    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.0.changed(key)
    }
}

#[tokio::test]
async fn a_caller_that_goes_away_while_the_answer_is_written_does_not_lose_it() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(
        testing::pillar().call_store(SlowWrites::default()),
        &runs,
        0,
    );
    let body = testing::tool_call_body("refund", "tc_8", json!({"order": "o_8"}));
    // The tool answers at once; the caller goes away while its answer is being written.
    let gone = tokio::time::timeout(Duration::from_millis(10), deliver(&p, &body)).await;
    assert!(gone.is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Had the write been dropped, the retry would wait for the claim to expire.
    let (status, answer) = tokio::time::timeout(Duration::from_secs(5), deliver(&p, &body))
        .await
        .expect("the retry finds the first answer");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["result"], json!({"refunded": "o_8", "run": 1}));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A store that cannot be reached.
#[derive(Debug)]
struct DownStore;

impl CallStore for DownStore {
    fn claim<'a>(
        &'a self,
        _key: &'a str,
        _fingerprint: u64,
        _claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
    }

    fn complete<'a>(
        &'a self,
        _key: &'a str,
        _fingerprint: u64,
        _recorded: &'a WebhookResponse,
        _ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
    }
}

#[tokio::test]
async fn an_unreachable_store_refuses_with_a_retryable_status_and_runs_nothing() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar().call_store(DownStore), &runs, 0);
    let body = testing::tool_call_body("refund", "tc_7", json!({"order": "o"}));
    let response = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await;
    assert_eq!(response.retry_after(), Some(1));
    let (status, answer) = response.into_parts();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.to_value()["success"], false);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[test]
fn records_must_outlive_twice_the_signature_window() {
    let err = testing::pillar()
        .registered_tools(false)
        .record_ttl(Duration::from_secs(599))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("record_ttl") && err.contains("twice the signature window"),
        "{err}"
    );
}

#[tokio::test]
async fn the_server_sheds_load_above_max_in_flight() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar().max_in_flight(1), &runs, 300);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(p.serve_on(listener, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let send = |call_id: &str| {
        let body = testing::tool_call_body("refund", call_id, json!({"order": "o"}));
        client
            .post(&url)
            .header("x-pillar-signature", protocol::sign(TEST_SECRET, &body))
            .body(body)
            .send()
    };
    let slow = tokio::spawn(send("tc_slow"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shed = send("tc_shed").await.unwrap();
    assert_eq!(shed.status(), 503);
    assert_eq!(shed.headers()["retry-after"], "1");
    let body: Value = shed.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(slow.await.unwrap().unwrap().status(), 200);
    // Once the slow call is done, calls are taken again.
    assert_eq!(send("tc_after").await.unwrap().status(), 200);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_full_record_refuses_new_calls_without_forgetting_old_ones() {
    let runs = Arc::new(AtomicUsize::new(0));
    let store = pillar::idempotency::MemoryStore::with_capacity(1)
        .when_full(pillar::idempotency::WhenFull::Refuse);
    let p = pillar_with(testing::pillar().call_store(store), &runs, 0);
    let first = testing::tool_call_body("refund", "tc_a", json!({"order": "a"}));
    assert_eq!(deliver(&p, &first).await.0, StatusCode::OK);
    let second = testing::tool_call_body("refund", "tc_b", json!({"order": "b"}));
    let response = p
        .handle(&second, &protocol::signed_headers(TEST_SECRET, &second))
        .await;
    assert_eq!(response.retry_after(), Some(30));
    let (status, answer) = response.into_parts();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.error().unwrap().contains("record window"));
    // The recorded call is still answered from its record.
    assert_eq!(deliver(&p, &first).await.1["result"]["run"], 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_full_record_by_default_forgets_the_oldest_finished_call() {
    let runs = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(pillar::idempotency::MemoryStore::with_capacity(1));
    let p = pillar_with(testing::pillar().call_store(Arc::clone(&store)), &runs, 0);
    let first = testing::tool_call_body("refund", "tc_a", json!({"order": "a"}));
    assert_eq!(deliver(&p, &first).await.0, StatusCode::OK);
    let second = testing::tool_call_body("refund", "tc_b", json!({"order": "b"}));
    assert_eq!(deliver(&p, &second).await.0, StatusCode::OK);
    assert_eq!(store.evicted(), 1);
    // The second call is still recorded; the first was forgotten and runs again.
    assert_eq!(deliver(&p, &second).await.1["result"]["run"], 2);
    assert_eq!(deliver(&p, &first).await.1["result"]["run"], 3);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}
