//! What the scenarios share: signed calls over a few HTTP/1.1 keep-alive connections
//! (the traffic that must keep being answered), the server's `stats`, a `/healthz` probe
//! on a raw connection, and the figures.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::Request;
use hyper_util::rt::TokioIo;
use pillar::protocol::sign;
use pillar::signature::SIGNATURE_HEADER;
use pillar::testing::tool_call_body;
use pillar_loadtest::{quantile_ms, BoxError, STATS_TOOL, WEBHOOK_PATH, WORK_TOOL};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a signed call may wait for its answer before it counts as lost.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The secret and a prefix that makes this run's call ids unique.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    pub(crate) secret: String,
    pub(crate) run_id: String,
}

/// One HTTP/1.1 keep-alive connection driven by hyper's client connection API.
pub(crate) struct Http1 {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Http1 {
    pub(crate) async fn open(addr: SocketAddr) -> Result<Self, BoxError> {
        let stream = tokio::time::timeout(CALL_TIMEOUT, TcpStream::connect(addr)).await??;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: addr.to_string(),
        })
    }

    /// Posts `body` to the webhook with the given signature header (none: unsigned);
    /// the status and the answer's body.
    pub(crate) async fn post(
        &mut self,
        body: &[u8],
        signature: Option<String>,
    ) -> Result<(u16, Bytes), BoxError> {
        let exchange = async {
            self.sender.ready().await?;
            let mut request = Request::post(WEBHOOK_PATH)
                .header(HOST, &self.host)
                .header(CONTENT_TYPE, "application/json");
            if let Some(signature) = signature {
                request = request.header(SIGNATURE_HEADER, signature);
            }
            let request = request.body(Full::new(Bytes::copy_from_slice(body)))?;
            let response = self.sender.send_request(request).await?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok::<_, BoxError>((status, bytes))
        };
        match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {CALL_TIMEOUT:?}").into()),
        }
    }

    /// A signed `work` call: `Ok(true)` when it is 200 `"success": true` for its call id.
    pub(crate) async fn call(&mut self, signer: &Signer, call_id: &str) -> Result<bool, BoxError> {
        let body = tool_call_body(WORK_TOOL, call_id, json!({"n": 1}));
        let (status, answer) = self.post(&body, Some(sign(&signer.secret, &body))).await?;
        let value: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        Ok(status == 200
            && value["success"] == json!(true)
            && value["result"]["call_id"] == json!(call_id))
    }
}

/// The server's figures from its `stats` tool (`rss_kib`, `limits`, `open_files`, ...).
pub(crate) async fn stats(addr: SocketAddr, signer: &Signer) -> Result<Value, BoxError> {
    let mut conn = Http1::open(addr).await?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let call_id = format!("{}-stats-{nanos}", signer.run_id);
    let body = tool_call_body(STATS_TOOL, &call_id, json!({}));
    let (status, answer) = conn.post(&body, Some(sign(&signer.secret, &body))).await?;
    let value: Value = serde_json::from_slice(&answer)?;
    if status != 200 || value["success"] != json!(true) {
        return Err(format!(
            "`{STATS_TOOL}` answered {status} {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(value["result"].clone())
}

/// The figures of a batch of signed calls.
#[derive(Default)]
pub(crate) struct Signed {
    pub(crate) sent: u64,
    /// 200 `"success": true` for their own call id.
    pub(crate) ok: u64,
    /// Answered otherwise.
    pub(crate) not_ok: u64,
    /// No answer (connection error, or none within [`CALL_TIMEOUT`]).
    pub(crate) lost: u64,
    pub(crate) elapsed: Duration,
    /// Latency of each answered call, in microseconds.
    latencies_us: Vec<u32>,
    /// A few examples of what went wrong.
    pub(crate) samples: Vec<String>,
}

impl Signed {
    pub(crate) fn all_ok(&self) -> bool {
        self.sent > 0 && self.ok == self.sent
    }

    pub(crate) fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    pub(crate) fn p99_ms(&self) -> f64 {
        quantile_ms(&self.latencies_us, 0.99)
    }

    /// One line: `2000 sent, 2000 ok, 0 not ok, 0 lost in 0.31 s: 6451 req/s, p50 ...`.
    pub(crate) fn line(&self) -> String {
        format!(
            "{} sent, {} ok, {} not ok, {} lost in {:.2} s: {:.0} req/s, p50 {:.2} ms, \
             p99 {:.2} ms, max {:.2} ms",
            self.sent,
            self.ok,
            self.not_ok,
            self.lost,
            self.elapsed.as_secs_f64(),
            self.rate(),
            quantile_ms(&self.latencies_us, 0.50),
            quantile_ms(&self.latencies_us, 0.99),
            quantile_ms(&self.latencies_us, 1.0),
        )
    }

    fn merge(&mut self, other: Self) {
        self.sent += other.sent;
        self.ok += other.ok;
        self.not_ok += other.not_ok;
        self.lost += other.lost;
        self.latencies_us.extend(other.latencies_us);
        for sample in other.samples {
            self.note(sample);
        }
    }

    fn note(&mut self, sample: String) {
        if self.samples.len() < 3 {
            self.samples.push(sample);
        }
    }
}

/// `calls` signed `work` calls over `connections` new keep-alive connections, one
/// request at a time on each.
pub(crate) async fn signed_calls(
    addr: SocketAddr,
    signer: &Signer,
    label: &str,
    calls: usize,
    connections: usize,
) -> Signed {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let next = Arc::clone(&next);
            let signer = signer.clone();
            let label = label.to_owned();
            tokio::spawn(async move {
                let mut tally = Signed::default();
                let mut conn = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        break;
                    }
                    tally.sent += 1;
                    let call_id = format!("{}-{label}-{i}", signer.run_id);
                    let at = Instant::now();
                    if conn.is_none() {
                        match Http1::open(addr).await {
                            Ok(opened) => conn = Some(opened),
                            Err(err) => {
                                tally.lost += 1;
                                tally.note(format!("{call_id}: cannot connect: {err}"));
                                continue;
                            }
                        }
                    }
                    let Some(open) = conn.as_mut() else { continue };
                    match open.call(&signer, &call_id).await {
                        Ok(ok) => {
                            tally
                                .latencies_us
                                .push(u32::try_from(at.elapsed().as_micros()).unwrap_or(u32::MAX));
                            if ok {
                                tally.ok += 1;
                            } else {
                                tally.not_ok += 1;
                                tally.note(format!("{call_id}: not a success"));
                            }
                        }
                        Err(err) => {
                            tally.lost += 1;
                            tally.note(format!("{call_id}: {err}"));
                            conn = None;
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut total = Signed::default();
    for task in tasks {
        match task.await {
            Ok(tally) => total.merge(tally),
            Err(err) => total.note(format!("a client task failed: {err}")),
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

/// What became of a `GET /healthz` on a new connection.
#[derive(Debug)]
pub(crate) enum Probe {
    /// Answered with this status after this long.
    Answered(u16, Duration),
    /// Closed by the server without an answer after this long (refused at the cap).
    Closed(Duration),
    /// Neither within the patience given: the server hangs.
    Hung(Duration),
    /// The connection could not even be made within the patience.
    NoConnect(String),
}

impl Probe {
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Answered(status, after) => {
                format!(
                    "answered {status} in {:.1} ms",
                    after.as_secs_f64() * 1000.0
                )
            }
            Self::Closed(after) => format!(
                "closed without an answer after {:.1} ms",
                after.as_secs_f64() * 1000.0
            ),
            Self::Hung(after) => format!("no answer and not closed after {after:?}: hung"),
            Self::NoConnect(err) => format!("could not connect: {err}"),
        }
    }

    pub(crate) fn answered_200(&self) -> bool {
        matches!(self, Self::Answered(200, _))
    }

    /// Closed without an answer within `at_once`.
    pub(crate) fn closed_within(&self, at_once: Duration) -> bool {
        matches!(self, Self::Closed(after) if *after <= at_once)
    }
}

/// `GET /healthz` on a new raw connection (`Connection: close`), waiting at most
/// `patience` for the answer or the close.
pub(crate) async fn healthz(addr: SocketAddr, patience: Duration) -> Probe {
    let started = Instant::now();
    let mut stream = match tokio::time::timeout(patience, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => return Probe::NoConnect(err.to_string()),
        Err(_) => return Probe::NoConnect(format!("no connection within {patience:?}")),
    };
    let request = b"GET /healthz HTTP/1.1\r\nHost: pillar\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return Probe::Closed(started.elapsed());
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::from_std(started + patience);
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return Probe::Hung(started.elapsed()),
        }
    }
    match status_of(&seen) {
        Some(status) => Probe::Answered(status, started.elapsed()),
        None => Probe::Closed(started.elapsed()),
    }
}

/// The status of an HTTP/1.1 answer's first line, if `bytes` start with one.
pub(crate) fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Quantiles of durations, in seconds: `min p50 max`.
pub(crate) fn spread(durations: &mut [Duration]) -> String {
    durations.sort_unstable();
    let at = |q: f64| {
        if durations.is_empty() {
            return 0.0;
        }
        let rank = ((durations.len() as f64) * q).ceil() as usize;
        durations[rank.clamp(1, durations.len()) - 1].as_secs_f64()
    };
    format!(
        "min {:.2} s, p50 {:.2} s, max {:.2} s",
        durations.first().map_or(0.0, Duration::as_secs_f64),
        at(0.5),
        at(1.0)
    )
}
