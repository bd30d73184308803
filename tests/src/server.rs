//! A server started with [`Pillar::serve_on`] on a free loopback port, and the means to
//! call and stop it.

use std::net::SocketAddr;
use std::time::Duration;

use pillar::protocol::WebhookClient;
use pillar::testing::TEST_SECRET;
use pillar::Pillar;
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
