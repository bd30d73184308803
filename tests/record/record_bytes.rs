//! The record of calls is bounded in bytes as well as in count: with a small byte bound,
//! large answers evict the oldest finished records (`WhenFull::EvictOldest`) or are not
//! kept and new calls refused (`WhenFull::Refuse`), and the bytes of answers kept never
//! exceed the bound. A call whose answer was not kept still never runs twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use pillar::http::StatusCode;
use pillar::idempotency::{MemoryStore, WhenFull, DEFAULT_MAX_BYTES};
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Error, Pillar, PillarBuilder, Tool};
use serde_json::{json, Value};

/// A tool answering `{"blob": "<size x's>"}`, counting its runs.
fn blob_tool(runs: &Arc<AtomicUsize>) -> Tool {
    let runs = Arc::clone(runs);
    Tool::builder("blob")
        .description("Answers a blob of the size asked")
        .handler(move |args: Value, _ctx| {
            let runs = Arc::clone(&runs);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let size = args["size"].as_u64().unwrap_or(0) as usize;
                Ok::<_, String>(json!({"blob": "x".repeat(size)}))
            }
        })
        .build()
        .unwrap()
}

fn pillar_with(builder: PillarBuilder, runs: &Arc<AtomicUsize>) -> Pillar {
    builder
        .registered_tools(false)
        .tool(blob_tool(runs))
        .build()
        .unwrap()
}

async fn call(p: &Pillar, call_id: &str, size: usize) -> (StatusCode, Value) {
    let body = testing::tool_call_body("blob", call_id, json!({"size": size}));
    let (status, answer) = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    (status, answer.to_value())
}

const KIB: usize = 1024;

#[tokio::test]
async fn large_answers_evict_the_oldest_and_the_bytes_stay_under_the_bound() {
    // The attack of issue 14, scaled down: answers of 512 KiB into a 4 MiB bound.
    let runs = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(MemoryStore::with_capacity(10_000).max_bytes(4 * KIB * KIB));
    let p = pillar_with(testing::pillar().call_store(Arc::clone(&store)), &runs);
    for n in 0..40 {
        let (status, answer) = call(&p, &format!("tc_{n}"), 512 * KIB).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["success"], true);
        assert!(
            store.answer_bytes() <= 4 * KIB * KIB,
            "after call {n}: {store:?}"
        );
    }
    // Seven answers of 512 KiB (and a bit) fit in 4 MiB: the newest are kept.
    assert!(store.answer_bytes() > 3 * KIB * KIB, "{store:?}");
    assert_eq!(store.evicted(), 33, "{store:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 40);
    // The newest repeat gets its answer without a run; the oldest was forgotten and runs
    // again (the documented cost of EvictOldest).
    let (_, again) = call(&p, "tc_39", 512 * KIB).await;
    assert_eq!(again["result"]["blob"].as_str().unwrap().len(), 512 * KIB);
    assert_eq!(runs.load(Ordering::SeqCst), 40);
    call(&p, "tc_0", 512 * KIB).await;
    assert_eq!(runs.load(Ordering::SeqCst), 41);
    assert!(store.answer_bytes() <= 4 * KIB * KIB);
}

#[tokio::test]
async fn refuse_keeps_what_it_has_and_refuses_new_calls_when_the_bytes_are_full() {
    let runs = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(
        MemoryStore::with_capacity(10_000)
            .max_bytes(100 * KIB)
            .when_full(WhenFull::Refuse),
    );
    let p = pillar_with(testing::pillar().call_store(Arc::clone(&store)), &runs);
    // Two answers of 40 KiB fit; the third does not: it ran, is recorded as done, and a
    // repeat gets an error saying its answer was not kept, without a second run.
    for id in ["tc_a", "tc_b", "tc_c"] {
        assert_eq!(call(&p, id, 40 * KIB).await.0, StatusCode::OK);
        assert!(store.answer_bytes() <= 100 * KIB, "{store:?}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let (status, repeat) = call(&p, "tc_c", 40 * KIB).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        repeat,
        json!({
            "call_id": "tc_c",
            "success": false,
            "error": "This call already ran; its answer was too large to record"
        })
    );
    let (_, kept) = call(&p, "tc_a", 40 * KIB).await;
    assert_eq!(kept["result"]["blob"].as_str().unwrap().len(), 40 * KIB);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(store.evicted(), 0);
    // Fill the bound to within a few bytes: new calls are then refused, retryably.
    let room = 100 * KIB - store.answer_bytes();
    let overhead = json!({"call_id": "tc_fill", "success": true, "result": {"blob": ""}})
        .to_string()
        .len();
    call(&p, "tc_fill", room - overhead - 60).await;
    assert!(store.answer_bytes() <= 100 * KIB, "{store:?}");
    assert!(100 * KIB - store.answer_bytes() < 151, "{store:?}");
    let before = runs.load(Ordering::SeqCst);
    let (status, refused) = call(&p, "tc_new", 10).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert_eq!(runs.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn an_answer_over_the_bound_is_not_kept_and_never_reruns() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = pillar_with(testing::pillar().record_max_bytes(16 * KIB), &runs);
    let (status, first) = call(&p, "tc_big", 64 * KIB).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["success"], true);
    let (_, repeat) = call(&p, "tc_big", 64 * KIB).await;
    assert_eq!(repeat["success"], false);
    assert_eq!(repeat["call_id"], "tc_big");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // A small answer is kept as usual.
    let (_, small) = call(&p, "tc_small", 10).await;
    assert_eq!(call(&p, "tc_small", 10).await.1, small);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn record_max_bytes_with_a_store_of_ones_own_is_refused() {
    let err = testing::pillar()
        .registered_tools(false)
        .record_max_bytes(KIB)
        .call_store(MemoryStore::default())
        .build()
        .unwrap_err();
    let Error::Config { name, reason } = &err else {
        panic!("expected a configuration error, got {err:?}");
    };
    assert_eq!(*name, "record_max_bytes");
    assert!(reason.contains("MemoryStore::max_bytes"), "{reason}");
    assert_eq!(
        pillar::Settings::default().record_max_bytes,
        DEFAULT_MAX_BYTES
    );
    assert_eq!(DEFAULT_MAX_BYTES, 64 * KIB * KIB);
}
