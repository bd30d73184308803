//! What the at-most-once promise needs from Redis (SECURITY.md, "Redis: which
//! configuration keeps the promise"), shown on a real `redis-server` killed with SIGKILL
//! and restarted on the same port and data directory:
//!
//! - without persistence, the restarted server is empty: the claim is forgotten and the
//!   retry runs the tool a second time (the documented failure);
//! - with `appendonly yes` and `appendfsync always`, the claim and the answer survive: the
//!   retry gets the first answer and nothing runs twice.
//!
//! Each test starts its own `redis-server` (the harness's `RedisServer`, with a data
//! directory of its own; it is killed, so `PILLAR_TEST_REDIS_URL` is not used). Without
//! `redis-server` on the PATH each test prints `SKIPPED` and passes, except under CI
//! (`CI` set), where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::http::StatusCode;
use pillar::idempotency::{CallStore, Claim, RedisStore};
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::Pillar;
use pillar_integration_tests::{
    counted_at_start, counted_at_start_within, Persistence, RedisOptions, RedisServer,
};
use serde_json::{json, Value};

/// A server with `appendonly yes` and `appendfsync always`.
fn aof_always() -> Option<RedisServer> {
    RedisServer::start_with(RedisOptions::default().persistence(Persistence::AofAlways))
}

fn store(server: &RedisServer) -> RedisStore {
    RedisStore::open(&server.url())
        .unwrap()
        .key_prefix("pillar-durability:")
}

/// Claims `key` again until the store answers (the client reconnects after the
/// restart; a claim may fail meanwhile, which `handle` would answer 503).
async fn claim(store: &RedisStore, key: &str) -> Claim {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match store.claim(key, 7, Duration::from_secs(60)).await {
            Ok(claim) => return claim,
            Err(err) if Instant::now() < deadline => {
                println!("claim failed, retrying: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("the store did not come back within 20 s: {err}"),
        }
    }
}

/// An instance with `refund` (counted as it starts, answering on its first poll) on
/// the server's store.
fn instance(server: &RedisServer, runs: &Arc<AtomicUsize>) -> Pillar {
    testing::pillar()
        .registered_tools(false)
        .tool(counted_at_start(runs, 0))
        .call_store(store(server))
        .build()
        .unwrap()
}

/// Delivers until the answer is not a 503 (the store reconnecting after the restart).
async fn deliver(p: &Pillar, body: &[u8]) -> (StatusCode, Value) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, answer) = p
            .handle(body, &protocol::signed_headers(TEST_SECRET, body))
            .await
            .into_parts();
        if status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() >= deadline {
            return (status, answer.to_value());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_persistence_a_restarted_redis_forgets_the_claim_and_the_retry_runs_again() {
    let Some(mut server) =
        RedisServer::start_with(RedisOptions::default().persistence(Persistence::None))
    else {
        return;
    };
    // A claim (a call running) is forgotten: the retry may claim and run it.
    let claims = store(&server);
    assert!(matches!(claim(&claims, "running").await, Claim::Run));
    assert!(matches!(claim(&claims, "running").await, Claim::InProgress));
    // A finished call too: its retry runs the tool a second time.
    let runs = Arc::new(AtomicUsize::new(0));
    let p = instance(&server, &runs);
    let body = testing::tool_call_body("refund", "tc_1", json!({"order": "o_1"}));
    let first = deliver(&p, &body).await;
    assert_eq!(first.0, StatusCode::OK, "{first:?}");
    assert_eq!(deliver(&p, &body).await, first);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    server.restart();

    assert!(
        matches!(claim(&claims, "running").await, Claim::Run),
        "the claim survived a restart without persistence: the documented failure mode \
         no longer shows"
    );
    let again = deliver(&p, &body).await;
    assert_eq!(again.0, StatusCode::OK, "{again:?}");
    assert_eq!(again.1["result"]["run"], 2, "{again:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the tool ran a second time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_aof_and_fsync_always_the_claim_and_the_answer_survive_a_crash() {
    let Some(mut server) = aof_always() else {
        return;
    };
    let claims = store(&server);
    assert!(matches!(claim(&claims, "running").await, Claim::Run));
    let runs = Arc::new(AtomicUsize::new(0));
    let p = instance(&server, &runs);
    let body = testing::tool_call_body("refund", "tc_1", json!({"order": "o_1"}));
    let first = deliver(&p, &body).await;
    assert_eq!(first.0, StatusCode::OK, "{first:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    server.restart();

    // The claim of the call still running is still held: a retry waits, never runs.
    assert!(matches!(claim(&claims, "running").await, Claim::InProgress));
    // The finished call's retry gets the first answer.
    assert_eq!(deliver(&p, &body).await, first);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the tool ran again after a crash"
    );
}

/// The crash of issue 23, item 7: with `appendfsync always`, Redis is killed while a call
/// runs, after its claim and before its answer is recorded. The claim survives on disk,
/// and the answer could not be written when the tool finished: the answer is sent, kept,
/// and recorded as soon as Redis is back, so the retry gets the first answer and the tool
/// does not run a second time (before, the retry waited for the surviving claim to expire,
/// the tool's timeout plus the claim margin, and ran the tool again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_aof_a_crash_between_claim_and_record_keeps_the_answer_for_the_retry() {
    let Some(mut server) = aof_always() else {
        return;
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let p = testing::pillar()
        .registered_tools(false)
        .tool(counted_at_start_within(&runs, 300, 2_000))
        .call_store(store(&server).timeout(Duration::from_millis(300)))
        .claim_margin(Duration::from_secs(3))
        .build()
        .unwrap();
    let body = testing::tool_call_body("refund", "tc_crash", json!({"order": "o_c"}));
    let running = tokio::spawn({
        let p = p.clone();
        let body = body.clone();
        async move {
            let (status, answer) = p
                .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
                .await
                .into_parts();
            (status, answer.to_value())
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while runs.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the tool never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The claim is on disk; Redis crashes while the tool runs.
    server.kill();
    let first = running.await.unwrap();
    assert_eq!(first.0, StatusCode::OK, "{first:?}");
    assert_eq!(first.1["result"]["run"], 1, "{first:?}");

    server.restart();
    let started = Instant::now();
    let again = deliver(&p, &body).await;
    assert_eq!(again, first, "the retry did not get the first answer");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the tool ran a second time");
    // Well within the claim (2 s + 3 s): the retry did not wait for it to expire.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the retry waited {:?}",
        started.elapsed()
    );
}
