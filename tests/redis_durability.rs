//! What the at-most-once promise needs from Redis (SECURITY.md, "Redis: which
//! configuration keeps the promise"), shown on a real `redis-server` killed with SIGKILL
//! and restarted on the same port and data directory:
//!
//! - without persistence, the restarted server is empty: the claim is forgotten and the
//!   retry runs the tool a second time (the documented failure);
//! - with `appendonly yes` and `appendfsync always`, the claim and the answer survive: the
//!   retry gets the first answer and nothing runs twice.
//!
//! Each test starts its own `redis-server` (it is killed, so `PILLAR_TEST_REDIS_URL` is
//! not used). Without `redis-server` on the PATH each test prints `SKIPPED` and passes,
//! except under CI (`CI` set), where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::http::StatusCode;
use pillar::idempotency::{CallStore, Claim, RedisStore};
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Pillar, Tool};
use serde_json::{json, Value};

/// How the server keeps its data.
#[derive(Clone, Copy, Debug)]
enum Persistence {
    /// `--save "" --appendonly no`: nothing survives a restart.
    None,
    /// `--appendonly yes --appendfsync always`: every write is on disk before the reply.
    AofAlways,
}

/// A `redis-server` of this test, on a loopback port and a data directory of its own;
/// killed and its directory removed when dropped.
struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    persistence: Persistence,
}

impl Server {
    /// `None` (after saying so) when there is no `redis-server`.
    fn start(persistence: Persistence) -> Option<Server> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "pillar-redis-durability-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut server = Server {
                child: None,
                port,
                dir: dir.clone(),
                persistence,
            };
            match server.spawn() {
                Some(true) => return Some(server),
                Some(false) => continue, // the port was taken meanwhile
                None => {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "no redis-server on PATH under CI: .ci/run should have installed it"
                    );
                    println!("SKIPPED: no redis-server");
                    return None;
                }
            }
        }
        panic!("redis-server did not start on any of 5 ports");
    }

    /// Starts the process; `Some(true)` once it answers PING, `Some(false)` when it
    /// exited (port taken), `None` when there is no `redis-server`.
    fn spawn(&mut self) -> Option<bool> {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--loglevel", "warning", "--save", ""])
            .arg("--dir")
            .arg(&self.dir);
        match self.persistence {
            Persistence::None => command.args(["--appendonly", "no"]),
            Persistence::AofAlways => {
                command.args(["--appendonly", "yes", "--appendfsync", "always"])
            }
        };
        let spawned = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => self.child = Some(child),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("cannot start redis-server: {e}"),
        }
        // Generous: loading an append-only file on a busy machine.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if ping(self.port) {
                return Some(true);
            }
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().unwrap().is_some() {
                    self.child = None;
                    return Some(false);
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server on port {} did not answer PING", self.port);
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL (no shutdown, no save), as a crash or an OOM kill would, then the same
    /// command again: same port, same data directory.
    fn crash_and_restart(&mut self) {
        self.kill();
        assert_eq!(
            self.spawn(),
            Some(true),
            "redis-server did not restart on port {}",
            self.port
        );
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a Redis server answers `PING` on the port.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

fn store(server: &Server) -> RedisStore {
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

fn instance(server: &Server, runs: &Arc<AtomicUsize>) -> Pillar {
    let runs = Arc::clone(runs);
    let tool = Tool::builder("refund")
        .description("Refund an order")
        .handler(move |args: Value, _ctx| {
            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok::<_, String>(json!({"refunded": args["order"], "run": n})) }
        })
        .build()
        .unwrap();
    testing::pillar()
        .registered_tools(false)
        .tool(tool)
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
    let Some(mut server) = Server::start(Persistence::None) else {
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

    server.crash_and_restart();

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
    let Some(mut server) = Server::start(Persistence::AofAlways) else {
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

    server.crash_and_restart();

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
    let Some(mut server) = Server::start(Persistence::AofAlways) else {
        return;
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let tool = Tool::builder("refund")
        .description("Refund an order")
        .timeout_ms(2_000)
        .handler(move |args: Value, _ctx| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok::<_, String>(json!({"refunded": args["order"], "run": n}))
            }
        })
        .build()
        .unwrap();
    let p = testing::pillar()
        .registered_tools(false)
        .tool(tool)
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

    assert_eq!(server.spawn(), Some(true), "redis-server did not restart");
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
