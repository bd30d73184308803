//! `serve()` as a process: a tool that blocks its worker thread is answered at its
//! timeout while other calls go on, and the log names it; SIGTERM ends the process
//! within the shutdown grace even when every worker is blocked; a panic that quotes the
//! secret is printed redacted. Each test runs this binary again as a child process (the
//! `child` test, with `PILLAR_CHILD_ROLE` set) serving with two worker threads; except
//! `serve::`, which serves in this process and signals it (what `serve()` sets for the
//! process would leak into the tests of any other binary).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pillar::protocol::WebhookClient;
use pillar::testing::TEST_SECRET;
use pillar::{Pillar, Tool};
use serde_json::{json, Value};

const ROLE: &str = "PILLAR_CHILD_ROLE";

/// The child's side: serves until signalled.
#[test]
fn child() {
    let Ok(role) = std::env::var(ROLE) else {
        return; // run as a plain test: nothing to do
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stuck_for = if role == "stuck" { 120_000 } else { 3_000 };
    let pillar = Pillar::builder()
        .secret(TEST_SECRET)
        .addr(([127, 0, 0, 1], 0).into())
        .auto_register(false)
        .limits(if role == "budget" {
            budget::limits()
        } else {
            pillar::ServerLimits::default()
        })
        .tool(
            Tool::builder("echo")
                .description("Echo")
                .timeout_ms(1_000)
                .handler(|args: Value, _| async move { Ok::<_, String>(args) })
                .build()
                .unwrap(),
        )
        .tool(
            Tool::builder("sleepy")
                .description("Blocks its thread")
                .timeout_ms(500)
                .handler(move |_: Value, _| async move {
                    std::thread::sleep(Duration::from_millis(stuck_for));
                    Ok::<_, String>(json!("woke"))
                })
                .build()
                .unwrap(),
        )
        .tool(
            Tool::builder("leaky_panic")
                .description("Panics quoting the secret")
                .timeout_ms(1_000)
                .handler(|_: Value, _| async move {
                    if TEST_SECRET.is_empty() {
                        return Ok::<_, String>(json!(null));
                    }
                    panic!("cannot reach upstream with key {TEST_SECRET}")
                })
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    runtime.block_on(pillar.serve()).unwrap();
}

mod budget;
#[cfg(unix)]
mod serve;

/// A child serving `role`, and the lines it prints.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    url: String,
}

impl Served {
    fn start(role: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child", "--nocapture", "--test-threads=1"])
            .env(ROLE, role)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (send, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = send.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let url = loop {
            let line = lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("the child did not say where it listens: {seen:?}"));
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                break rest.split_whitespace().next().unwrap().to_owned();
            }
            seen.push(line);
        };
        Self { child, lines, url }
    }

    fn client(&self) -> WebhookClient {
        WebhookClient::new(self.url.clone(), TEST_SECRET).timeout(Duration::from_secs(10))
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `within` for the child to exit; its exit code and everything printed.
    fn wait_exit(mut self, within: Duration) -> (Option<i32>, String, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                let printed: Vec<String> = self.lines.try_iter().collect();
                return (status.code(), printed.join("\n"), started.elapsed());
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                let printed: Vec<String> = self.lines.try_iter().collect();
                panic!(
                    "the child did not exit within {within:?}:\n{}",
                    printed.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[tokio::test]
async fn a_blocking_tool_is_answered_at_its_timeout_and_named() {
    let served = Served::start("sleepy");
    let client = served.client();
    let started = Instant::now();
    let blocked = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("sleepy", json!({})).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The other worker still answers.
    let (status, echo) = client.call_tool("echo", json!({"n": 1})).await.unwrap();
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["result"], json!({"n": 1}));
    let (status, answer) = blocked.await.unwrap().unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], false);
    assert_eq!(answer["error"], "Tool 'sleepy' timed out after 500 ms");
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "answered after {:?}, not at its timeout",
        started.elapsed()
    );
    // Past the watchdog's threshold, then stop the server.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    served.signal("TERM");
    let (code, printed, _) = served.wait_exit(Duration::from_secs(20));
    assert!(
        printed.contains("tool 'sleepy' has held a worker thread for"),
        "{printed}"
    );
    assert!(printed.contains("spawn_blocking"), "{printed}");
    assert_eq!(code, Some(0), "{printed}");
}

#[tokio::test]
async fn sigterm_ends_the_process_even_when_every_worker_is_blocked() {
    let served = Served::start("stuck");
    let client = served.client();
    // More blocked calls than worker threads.
    for _ in 0..4 {
        let client = client.clone();
        tokio::spawn(async move { client.call_tool("sleepy", json!({})).await });
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    served.signal("TERM");
    // The grace: the longest tool timeout (1 s) + 2 s; the hard deadline 1 s later.
    let (code, printed, took) = served.wait_exit(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("shutdown deadline"), "{printed}");
    assert!(
        took >= Duration::from_secs(3),
        "ended before the grace: {took:?}"
    );
}

#[tokio::test]
async fn a_panic_quoting_the_secret_is_printed_redacted() {
    let served = Served::start("panic");
    let (status, answer) = served
        .client()
        .call_tool("leaky_panic", json!({}))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(answer["success"], false);
    served.signal("TERM");
    let (code, printed, _) = served.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{printed}");
    assert!(printed.contains("panicked"), "{printed}");
    assert!(
        printed.contains("cannot reach upstream with key [redacted]"),
        "{printed}"
    );
    assert!(!printed.contains(TEST_SECRET), "{printed}");
}
