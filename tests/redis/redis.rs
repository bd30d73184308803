//! The Redis call store against a real `redis-server`: atomic claims, two `Pillar`
//! instances sharing one Redis (a call delivered to both runs once), a crashed claimant,
//! an unreachable or hung Redis (503, nothing runs), Redis stopping mid-run, and a Redis
//! without `SET ... NX GET` (the claim falls back to its script).
//!
//! Uses `PILLAR_TEST_REDIS_URL` when set; otherwise each test starts its own
//! `redis-server` (the harness's `RedisServer`, killed when done). Without either, each
//! test prints `SKIPPED: no redis-server on PATH` and passes, except under CI (`CI` set),
//! where that is a failure: `.ci/run` installs the server. The tests that stop, pause or
//! restart Redis always start their own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::http::StatusCode;
use pillar::idempotency::{fingerprint, CallStore, Claim, RedisStore};
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::Pillar;
use pillar::WebhookResponse;
use pillar_integration_tests::{counted_at_start, counted_at_start_within, RedisServer};
use serde_json::{json, Value};

/// Where to reach Redis for one test.
struct Redis {
    url: String,
    /// Keeps this test's own server alive; `None` with `PILLAR_TEST_REDIS_URL`.
    server: Option<RedisServer>,
}

/// The Redis of `PILLAR_TEST_REDIS_URL`, or a server of this test's own; `None` (after
/// saying so) when there is neither.
fn redis() -> Option<Redis> {
    if let Some(url) = std::env::var("PILLAR_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Some(Redis { url, server: None });
    }
    own_redis()
}

/// A server of this test's own, to stop, pause and restart; `None` (after saying so) when
/// there is no `redis-server` (a failure under CI).
fn own_redis() -> Option<Redis> {
    let server = RedisServer::start()?;
    Some(Redis {
        url: server.url(),
        server: Some(server),
    })
}

/// Keys no other test (or run, on a shared Redis) uses.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("pillar-test:{}:{nanos}:{test}:", std::process::id())
}

/// An instance with `refund` counted as it starts (a test waits for `runs > 0` to stop
/// Redis while the tool runs), taking `delay_ms`, on `store`.
fn instance(store: RedisStore, runs: &Arc<AtomicUsize>, delay_ms: u64) -> Pillar {
    testing::pillar()
        .registered_tools(false)
        .tool(counted_at_start(runs, delay_ms))
        .call_store(store)
        .build()
        .unwrap()
}

async fn deliver(p: &Pillar, body: &[u8]) -> (StatusCode, Value, Option<u32>) {
    let response = p
        .handle(body, &protocol::signed_headers(TEST_SECRET, body))
        .await;
    let retry_after = response.retry_after();
    (response.status(), response.answer().to_value(), retry_after)
}

/// A real answer to record: what `handle` says about a tool it does not have (404).
async fn recorded(call_id: &str) -> WebhookResponse {
    let p = testing::pillar().registered_tools(false).build().unwrap();
    let body = testing::tool_call_body("nothing", call_id, json!({}));
    let response = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_atomic_and_records_are_shared() {
    let Some(redis) = redis() else { return };
    let prefix = prefix("claims");
    let a = RedisStore::open(&redis.url).unwrap().key_prefix(&prefix);
    let b = RedisStore::open(&redis.url).unwrap().key_prefix(&prefix);
    let ttl = Duration::from_secs(60);

    assert!(matches!(a.claim("k", 1, ttl).await.unwrap(), Claim::Run));
    assert!(matches!(
        b.claim("k", 1, ttl).await.unwrap(),
        Claim::InProgress
    ));
    assert!(matches!(
        a.claim("k", 2, ttl).await.unwrap(),
        Claim::Conflict
    ));
    let record = recorded("tc_k").await;
    a.complete("k", 1, &record, ttl).await.unwrap();
    match b.claim("k", 1, ttl).await.unwrap() {
        Claim::Done(done) => {
            assert_eq!(done.status(), record.status());
            assert_eq!(done.to_body(), record.to_body());
        }
        other => panic!("expected Done, got {other:?}"),
    }
    assert!(matches!(
        b.claim("k", 2, ttl).await.unwrap(),
        Claim::Conflict
    ));

    // Forty claims of one fresh key at once, over two connections: one wins.
    let (a, b) = (Arc::new(a), Arc::new(b));
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
            tokio::spawn(async move { store.claim("race", 7, ttl).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for handle in handles {
        match handle.await.unwrap() {
            Claim::Run => won += 1,
            Claim::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_run_a_call_once() {
    let Some(redis) = redis() else { return };
    let prefix = prefix("two");
    let runs = Arc::new(AtomicUsize::new(0));
    let open = || RedisStore::open(&redis.url).unwrap().key_prefix(&prefix);
    let one = instance(open(), &runs, 150);
    let two = instance(open(), &runs, 150);

    // The same call delivered to both at once.
    let body = testing::tool_call_body("refund", "tc_both", json!({"order": "o_1"}));
    let (first, second) = tokio::join!(deliver(&one, &body), deliver(&two, &body));
    assert_eq!(first.0, StatusCode::OK, "{first:?}");
    assert_eq!(first, second);
    assert_eq!(first.1["result"], json!({"refunded": "o_1", "run": 1}));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Twenty concurrent deliveries of another call, spread over both.
    let body = testing::tool_call_body("refund", "tc_storm", json!({"order": "o_2"}));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let p = if i % 2 == 0 { one.clone() } else { two.clone() };
            let body = body.clone();
            tokio::spawn(async move { deliver(&p, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, StatusCode::OK);
    assert_eq!(answers[0].1["result"], json!({"refunded": "o_2", "run": 2}));

    // A later repeat, and a different request under the same key.
    assert_eq!(deliver(&two, &body).await, answers[0]);
    let other = testing::tool_call_body("refund", "tc_storm", json!({"order": "o_3"}));
    assert_eq!(deliver(&one, &other).await.0, StatusCode::CONFLICT);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_claimants_claim_expires_and_the_next_delivery_runs() {
    let Some(redis) = redis() else { return };
    let prefix = prefix("crash");
    // A claimant that claims for 300 ms, then crashes: it never completes.
    let crashed = RedisStore::open(&redis.url).unwrap().key_prefix(&prefix);
    let input = r#"{"order":"o_c"}"#;
    let claim = crashed
        .claim(
            "tool_call:tc_crash",
            fingerprint("refund", input),
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert!(matches!(claim, Claim::Run));
    drop(crashed);

    let runs = Arc::new(AtomicUsize::new(0));
    let p = instance(
        RedisStore::open(&redis.url).unwrap().key_prefix(&prefix),
        &runs,
        0,
    );
    let body = testing::tool_call_body("refund", "tc_crash", serde_json::from_str(input).unwrap());
    let started = Instant::now();
    let (status, answer, _) = deliver(&p, &body).await;
    // The delivery waited for the claim (the fingerprints agree), then ran.
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], json!({"refunded": "o_c", "run": 1}));
    assert_eq!(deliver(&p, &body).await.1, answer);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    drop(redis);
}

/// `SET key value` on the Redis at a plain `redis://host:port/` URL, in raw RESP: what
/// another build of the SDK would have written. `None` for any other URL.
fn raw_set(url: &str, key: &str, value: &str) -> Option<()> {
    let address = url.strip_prefix("redis://")?.trim_end_matches('/');
    if address.contains(['@', '/', '?']) {
        return None;
    }
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut command = b"*3\r\n$3\r\nSET\r\n".to_vec();
    for part in [key, value] {
        command.extend_from_slice(format!("${}\r\n{part}\r\n", part.len()).as_bytes());
    }
    stream.write_all(&command).unwrap();
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n");
    Some(())
}

#[tokio::test]
async fn an_earlier_builds_record_is_a_conflict_and_nothing_runs() {
    let Some(redis) = redis() else { return };
    let prefix = prefix("earlier");
    let input = r#"{"order":"o_e"}"#;
    // Records in the format of builds before the XXH3 fingerprint (`D:` and `R:` tags),
    // holding the very fingerprint this build computes for the request: the worst case,
    // which must still not be taken for this request's record.
    let fp = fingerprint("refund", input);
    let old_answer = r#"{"call_id":"tc_old_d","success":true,"result":{"run":0}}"#;
    for (call_id, value) in [
        ("tc_old_d", format!("D:{fp:016x}:200:{old_answer}")),
        ("tc_old_r", format!("R:{fp:016x}:1a2b.3c4d.0")),
    ] {
        let key = format!("{prefix}tool_call:{call_id}");
        if raw_set(&redis.url, &key, &value).is_none() {
            println!("SKIPPED: PILLAR_TEST_REDIS_URL is not a plain redis://host:port/ URL");
            return;
        }
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let p = instance(
        RedisStore::open(&redis.url).unwrap().key_prefix(&prefix),
        &runs,
        0,
    );
    for call_id in ["tc_old_d", "tc_old_r"] {
        let body = testing::tool_call_body("refund", call_id, serde_json::from_str(input).unwrap());
        let (status, answer, _) = deliver(&p, &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{call_id}: {answer}");
        assert_ne!(answer["success"], json!(true), "{answer}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // A call of this build beside them runs and is recorded as usual.
    let body = testing::tool_call_body("refund", "tc_new", serde_json::from_str(input).unwrap());
    assert_eq!(deliver(&p, &body).await.0, StatusCode::OK);
    assert_eq!(deliver(&p, &body).await.0, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    drop(redis);
}

#[tokio::test]
async fn an_unreachable_or_hung_redis_refuses_with_503_and_runs_nothing() {
    // A closed port: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A "hung" Redis: the connection is accepted (by the kernel) but never answered.
    let hung = TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_port = hung.local_addr().unwrap().port();

    for url in [
        format!("redis://:hunter2@127.0.0.1:{closed}/"),
        format!("redis://127.0.0.1:{hung_port}/"),
    ] {
        let store = RedisStore::open(&url)
            .unwrap()
            .timeout(Duration::from_millis(300));
        let err = store.ping().await.unwrap_err().to_string();
        assert!(err.contains("127.0.0.1"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");

        let runs = Arc::new(AtomicUsize::new(0));
        let p = instance(store, &runs, 0);
        let body = testing::tool_call_body("refund", "tc_down", json!({"order": "o"}));
        let started = Instant::now();
        let (status, answer, retry_after) = deliver(&p, &body).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{url}: {answer}");
        assert_eq!(retry_after, Some(1));
        assert_eq!(answer["success"], false);
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }
    drop(hung);
}

// One thread, so that the log subscriber set for this thread sees every task.
#[tokio::test]
async fn redis_stopping_mid_run_refuses_then_recovers() {
    let Some(mut redis) = own_redis() else { return };
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::INFO);

    let runs = Arc::new(AtomicUsize::new(0));
    let store = RedisStore::open(&redis.url)
        .unwrap()
        .key_prefix(prefix("midrun"))
        .timeout(Duration::from_millis(500));
    let p = instance(store, &runs, 300);
    let body = testing::tool_call_body("refund", "tc_mid", json!({"order": "o_m"}));
    let running = tokio::spawn({
        let p = p.clone();
        let body = body.clone();
        async move { deliver(&p, &body).await }
    });
    // Once the tool runs, Redis goes away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while runs.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the tool never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let server = redis.server.as_mut().unwrap();
    server.kill();

    // The run finishes and its answer is sent; recording it failed, and says so.
    let (status, answer, _) = running.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], json!({"refunded": "o_m", "run": 1}));
    let logs = captured.text();
    assert!(logs.contains("the answer could not be recorded"), "{logs}");
    assert!(!logs.contains("panicked"), "{logs}");

    // While Redis is down: refused, retryable, not run.
    let next = testing::tool_call_body("refund", "tc_next", json!({"order": "o_n"}));
    let (status, _, retry_after) = deliver(&p, &next).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after, Some(1));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Redis comes back on the same port: deliveries work again (after at most a few
    // refusals while the store reconnects).
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        let (status, answer, _) = deliver(&p, &next).await;
        if status == StatusCode::OK {
            break answer;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
        assert!(Instant::now() < deadline, "no recovery after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(answer["result"], json!({"refunded": "o_n", "run": 2}));
    assert_eq!(deliver(&p, &next).await.1, answer);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// A Redis without `SET ... NX ... GET` (before 7.0, or a proxy that does not know the
/// option): the claim falls back to the script after the first `ERR`, and the record
/// still runs each call once, answers a repeat from the record and refuses a reused
/// call id. A proxy in front of the real server answers `-ERR syntax error` to any `SET`
/// with a `GET` option and forwards everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_fall_back_to_the_script_when_set_nx_get_is_refused() {
    let Some(redis) = redis() else { return };
    let upstream = redis
        .url
        .trim_start_matches("redis://")
        .trim_end_matches('/');
    let refused = Arc::new(AtomicUsize::new(0));
    let proxy = old_redis_proxy(upstream.to_owned(), Arc::clone(&refused)).await;
    let prefix = prefix("fallback");
    let runs = Arc::new(AtomicUsize::new(0));
    let store = RedisStore::open(&format!("redis://{proxy}/"))
        .unwrap()
        .key_prefix(&prefix);
    let p = instance(store, &runs, 0);

    let body = testing::tool_call_body("refund", "tc_old_redis", json!({"order": "o_1"}));
    let (status, answer, _) = deliver(&p, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"]["run"], 1, "{answer}");
    assert_eq!(
        refused.load(Ordering::SeqCst),
        1,
        "the first claim tried SET NX GET"
    );

    // A repeat: the recorded answer, not a second run.
    let (status, repeat, _) = deliver(&p, &body).await;
    assert_eq!(status, StatusCode::OK, "{repeat}");
    assert_eq!(repeat, answer);
    // The same call id for other input: refused, not run.
    let other = testing::tool_call_body("refund", "tc_old_redis", json!({"order": "o_2"}));
    let (status, conflict, _) = deliver(&p, &other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    // Another call runs once.
    let next = testing::tool_call_body("refund", "tc_old_redis_2", json!({"order": "o_3"}));
    let (status, second, _) = deliver(&p, &next).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // Once refused, the store claims with the script only.
    assert_eq!(refused.load(Ordering::SeqCst), 1);
}

/// A TCP proxy to the Redis at `upstream` that answers `-ERR syntax error` to every `SET`
/// with a `GET` option (counted in `refused`) and forwards the rest, one command at a
/// time (so replies stay in order). Gives the address it listens on.
async fn old_redis_proxy(upstream: String, refused: Arc<AtomicUsize>) -> std::net::SocketAddr {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    /// One RESP value, as its raw bytes; for a command, also its arguments.
    async fn read_value<R: tokio::io::AsyncBufRead + Unpin>(
        reader: &mut R,
        raw: &mut Vec<u8>,
        args: &mut Option<Vec<Vec<u8>>>,
    ) -> std::io::Result<()> {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line[1..line.len().saturating_sub(2)]).into_owned();
        match line[0] {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(()),
            b'$' | b'=' | b'!' => {
                let len: i64 = text.parse().unwrap();
                if len >= 0 {
                    let mut data = vec![0; usize::try_from(len).unwrap() + 2];
                    reader.read_exact(&mut data).await?;
                    if let Some(args) = args.as_mut() {
                        args.push(data[..data.len() - 2].to_vec());
                    }
                    raw.extend_from_slice(&data);
                }
                Ok(())
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n: i64 = text.parse().unwrap();
                let items = if matches!(line[0], b'%' | b'|') {
                    2 * n
                } else {
                    n
                };
                let mut nested = None;
                for _ in 0..items.max(0) {
                    let target = if args.is_some() {
                        &mut *args
                    } else {
                        &mut nested
                    };
                    Box::pin(read_value(reader, raw, target)).await?;
                }
                Ok(())
            }
            other => panic!("unexpected RESP type {:?}", other as char),
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let upstream = upstream.clone();
            let refused = Arc::clone(&refused);
            tokio::spawn(async move {
                let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                let (client_read, mut client_write) = client.into_split();
                let (server_read, mut server_write) = server.into_split();
                let (mut from_client, mut from_server) =
                    (BufReader::new(client_read), BufReader::new(server_read));
                loop {
                    let (mut command, mut args) = (Vec::new(), Some(Vec::new()));
                    if read_value(&mut from_client, &mut command, &mut args)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let args = args.unwrap_or_default();
                    let is = |arg: &Vec<u8>, word: &str| arg.eq_ignore_ascii_case(word.as_bytes());
                    if args.first().is_some_and(|name| is(name, "SET"))
                        && args.iter().skip(3).any(|arg| is(arg, "GET"))
                    {
                        refused.fetch_add(1, Ordering::SeqCst);
                        if client_write
                            .write_all(b"-ERR syntax error\r\n")
                            .await
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                    let mut reply = Vec::new();
                    if server_write.write_all(&command).await.is_err()
                        || read_value(&mut from_server, &mut reply, &mut None)
                            .await
                            .is_err()
                        || client_write.write_all(&reply).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    address
}

/// Delivers until the answer is not a 503 or `within` has passed.
async fn deliver_until_answered(
    p: &Pillar,
    body: &[u8],
    within: Duration,
) -> (StatusCode, Value, Option<u32>) {
    let deadline = Instant::now() + within;
    loop {
        let delivered = deliver(p, body).await;
        if delivered.0 != StatusCode::SERVICE_UNAVAILABLE || Instant::now() >= deadline {
            return delivered;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Redis pauses for longer than the store's timeout: a delivery's claim times out and is
/// answered 503, yet Redis sets the claim when it resumes. The refused delivery deletes
/// that claim as soon as Redis answers (compare-and-delete on its own token), so its
/// retry runs at once instead of waiting for the claim to expire (the tool's timeout plus
/// the claim margin: 4 s here; before, the retry waited all of it). A claim another
/// delivery holds on a key is never deleted by a refused delivery of that key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_timed_out_is_deleted_once_redis_answers_and_the_retry_runs_at_once() {
    let Some(redis) = own_redis() else { return };
    let server = redis.server.as_ref().unwrap();
    let prefix = prefix("timedout");
    let runs = Arc::new(AtomicUsize::new(0));
    let store = RedisStore::open(&redis.url)
        .unwrap()
        .key_prefix(&prefix)
        .timeout(Duration::from_millis(300));
    let p = testing::pillar()
        .registered_tools(false)
        .tool(counted_at_start_within(&runs, 0, 2_000))
        .call_store(store)
        .claim_margin(Duration::from_secs(2))
        .build()
        .unwrap();

    // Another delivery (another instance) holds the claim of `tc_held`.
    let held_input = r#"{"order":"o_h"}"#;
    let held_fp = fingerprint("refund", held_input);
    let holder = RedisStore::open(&redis.url).unwrap().key_prefix(&prefix);
    let claim = holder
        .claim("tool_call:tc_held", held_fp, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(matches!(claim, Claim::Run), "{claim:?}");

    // The instance's connection is made before Redis pauses.
    let warm = testing::tool_call_body("refund", "tc_warm", json!({"order": "o_w"}));
    assert_eq!(deliver(&p, &warm).await.0, StatusCode::OK);

    server.pause();
    let slow = testing::tool_call_body("refund", "tc_slow", json!({"order": "o_s"}));
    let held = testing::tool_call_body(
        "refund",
        "tc_held",
        serde_json::from_str(held_input).unwrap(),
    );
    let refused = deliver(&p, &slow).await;
    let refused_held = deliver(&p, &held).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.resume();
    assert_eq!(refused.0, StatusCode::SERVICE_UNAVAILABLE, "{refused:?}");
    assert_eq!(refused.2, Some(1), "{refused:?}");
    assert_eq!(
        refused_held.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "{refused_held:?}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The retry runs at once: the stale claim was deleted when Redis answered.
    let started = Instant::now();
    let (status, answer, _) = deliver_until_answered(&p, &slow, Duration::from_secs(10)).await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], json!({"refunded": "o_s", "run": 2}));
    assert!(
        waited < Duration::from_millis(1500),
        "the retry waited {waited:?}: the claim of the refused delivery was left behind"
    );
    assert_eq!(deliver(&p, &slow).await.1, answer);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // The other delivery's claim is still there: only a delivery's own claim is deleted.
    let claim = holder
        .claim("tool_call:tc_held", held_fp, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        matches!(claim, Claim::InProgress),
        "another delivery's claim was deleted: {claim:?}"
    );
    assert_eq!(
        deliver(&p, &held).await.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "a delivery of a call whose claim another delivery holds must wait, never run"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// Redis pauses while a call runs, for longer than the store's timeout: the answer is
/// sent, but recording it times out. The answer is kept and recorded again until the
/// claim expires; once Redis answers, a retry of the same call id gets the first answer
/// and the tool does not run a second time (before, the retry waited for the claim to
/// expire and ran the tool again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_redis_did_not_take_is_recorded_once_it_answers() {
    let Some(redis) = own_redis() else { return };
    let server = redis.server.as_ref().unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let store = RedisStore::open(&redis.url)
        .unwrap()
        .key_prefix(prefix("unrecorded"))
        .timeout(Duration::from_millis(300));
    let p = testing::pillar()
        .registered_tools(false)
        .tool(counted_at_start_within(&runs, 300, 2_000))
        .call_store(store)
        .claim_margin(Duration::from_secs(3))
        .build()
        .unwrap();
    let body = testing::tool_call_body("refund", "tc_paused", json!({"order": "o_p"}));
    let running = tokio::spawn({
        let p = p.clone();
        let body = body.clone();
        async move { deliver(&p, &body).await }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while runs.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the tool never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.pause();
    let (status, first, _) = running.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["result"], json!({"refunded": "o_p", "run": 1}));
    // A retry while Redis does not answer is refused, and runs nothing.
    assert_eq!(deliver(&p, &body).await.0, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.resume();

    let started = Instant::now();
    let (status, again, _) = deliver_until_answered(&p, &body, Duration::from_secs(10)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, first, "the retry did not get the first answer");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the tool ran a second time");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the retry waited {:?}",
        started.elapsed()
    );
}
