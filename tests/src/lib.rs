//! The integration tests' shared harness: a server started with [`Pillar::serve_on`] on a
//! free loopback port, and the means to call and stop it; a writer that captures what a
//! log subscriber prints. The tests themselves live beside this file; the mock Pillar
//! Cloud they register with is [`pillar::testing::MockCloud`].

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pillar::protocol::WebhookClient;
use pillar::testing::TEST_SECRET;
use pillar::{Pillar, PillarBuilder, Tool};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A `serve_on` server on `127.0.0.1:0` and the means to stop it.
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), pillar::Error>>,
}

impl Server {
    /// Binds a free loopback port and serves `pillar` on it.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(pillar: Pillar) -> Self {
        #[allow(clippy::expect_used)]
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(pillar.serve_on(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// `http://<addr><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client signing with [`TEST_SECRET`], waiting at most 5 s for each answer.
    #[must_use]
    pub fn webhook(&self) -> WebhookClient {
        WebhookClient::new(self.url(""), TEST_SECRET).timeout(Duration::from_secs(5))
    }

    /// Triggers the graceful shutdown and waits for the server to return.
    ///
    /// # Errors
    /// What `serve_on` returned.
    ///
    /// # Panics
    /// When the server does not stop within 5 s, or its task panicked.
    pub async fn shutdown(mut self) -> Result<(), pillar::Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        #[allow(clippy::expect_used)]
        tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .expect("the server stops within 5 s")
            .expect("the server task does not panic")
    }
}

/// Collects everything a `tracing-subscriber` fmt subscriber writes: give it
/// `move || captured.clone()` as its writer, then read [`text`](Self::text).
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A fmt subscriber at `level`, without colours, writing here, set as the default of
    /// this thread until the guard is dropped (on a current-thread runtime, the server's
    /// tasks log through it too).
    #[must_use]
    pub fn install(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Everything written so far.
    #[must_use]
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A tool `refund` that counts its runs in `runs` and takes `delay_ms` to finish (0:
/// answers on its first poll); it answers `{"refunded": <order>, "run": <n>}`.
///
/// # Panics
/// Never: the tool is valid.
#[allow(clippy::unwrap_used)]
pub fn counting_tool(runs: &Arc<std::sync::atomic::AtomicUsize>, delay_ms: u64) -> Tool {
    let runs = Arc::clone(runs);
    Tool::builder("refund")
        .description("Refund an order")
        .handler(move |args: Value, _ctx| {
            let runs = Arc::clone(&runs);
            async move {
                if delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                }
                let n = runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                Ok::<_, String>(json!({"refunded": args["order"], "run": n}))
            }
        })
        .build()
        .unwrap()
}

/// `builder` with [`counting_tool`] as its one tool.
///
/// # Panics
/// When `builder` does not build.
#[allow(clippy::unwrap_used)]
pub fn pillar_with(
    builder: PillarBuilder,
    runs: &Arc<std::sync::atomic::AtomicUsize>,
    delay_ms: u64,
) -> Pillar {
    builder
        .registered_tools(false)
        .tool(counting_tool(runs, delay_ms))
        .build()
        .unwrap()
}
