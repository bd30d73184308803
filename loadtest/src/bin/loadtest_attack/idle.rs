//! Scenario 3: idle connections, at and beyond the open-files limit and the connection
//! cap. Silent TCP connections (never a byte) first, then keep-alive ones (one
//! `GET /healthz`, answered, then nothing). Below the cap, new connections and `/healthz`
//! are answered; over it, a new connection is closed at once, not hung; every idle
//! connection is closed by the server after its idle timeout, and the server answers
//! again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::client::{healthz, spread, stats, status_of, Http1, Probe, Signer};
use crate::log::ServerLog;
use crate::Outcome;

/// A close within this long of the connection is "at once".
const AT_ONCE: Duration = Duration::from_secs(1);
/// How long a probe may wait before it counts as hung.
const PROBE_PATIENCE: Duration = Duration::from_secs(5);
/// How late after its idle timeout a connection may be closed on this busy machine.
const IDLE_MARGIN: Duration = Duration::from_secs(3);
/// How much earlier than the idle timeout a keep-alive connection may close, counted
/// from when its answer arrived (the server's idle time starts when it has answered).
const IDLE_SLACK: Duration = Duration::from_millis(300);

/// The server under attack in this scenario.
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
    pub(crate) log: ServerLog,
    /// Silent connections to open first.
    pub(crate) silent: usize,
    /// Connections open in all once the keep-alive ones are added (`silent` for none).
    pub(crate) total: usize,
}

/// What one idle connection saw.
struct Idle {
    opened: Instant,
    /// When the server's idle time started: the connection, or its answer.
    idle_since: Instant,
    /// The status of its one request's answer (keep-alive connections).
    answered: Option<u16>,
    closed: Option<Instant>,
}

impl Idle {
    fn closed_at_once(&self) -> bool {
        self.answered.is_none()
            && self
                .closed
                .is_some_and(|at| at.duration_since(self.opened) <= AT_ONCE)
    }
}

/// Reads until the server closes the connection (or `patience` passes); with `request`,
/// sends it first and notes the answer.
async fn watch(
    mut stream: TcpStream,
    opened: Instant,
    request: bool,
    patience: Duration,
    closed_count: Arc<AtomicUsize>,
) -> Idle {
    let mut idle = Idle {
        opened,
        idle_since: opened,
        answered: None,
        closed: None,
    };
    let deadline = tokio::time::Instant::from_std(opened + patience);
    if request
        && stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: pillar\r\n\r\n")
            .await
            .is_err()
    {
        idle.closed = Some(Instant::now());
        closed_count.fetch_add(1, Ordering::Relaxed);
        return idle;
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                idle.closed = Some(Instant::now());
                closed_count.fetch_add(1, Ordering::Relaxed);
                return idle;
            }
            Ok(Ok(n)) => {
                seen.extend_from_slice(&buf[..n]);
                if idle.answered.is_none() && seen.ends_with(b"}") {
                    idle.answered = status_of(&seen);
                    idle.idle_since = Instant::now();
                }
            }
            Err(_) => return idle,
        }
    }
}

/// Opens `count` connections one after the other (silent, or with one request each).
async fn open(
    addr: SocketAddr,
    count: usize,
    request: bool,
    patience: Duration,
    closed: &Arc<AtomicUsize>,
    tasks: &mut Vec<JoinHandle<Idle>>,
) -> usize {
    let mut failed = 0;
    for _ in 0..count {
        match tokio::time::timeout(PROBE_PATIENCE, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let opened = Instant::now();
                tasks.push(tokio::spawn(watch(
                    stream,
                    opened,
                    request,
                    patience,
                    Arc::clone(closed),
                )));
            }
            Ok(Err(_)) | Err(_) => failed += 1,
        }
    }
    failed
}

/// Whether a probe did what the server should do with `held` connections open under a
/// cap of `cap`: answer below the cap, close at once at it. Never hang.
fn probe_as_expected(probe: &Probe, held: usize, cap: usize) -> bool {
    if held >= cap {
        probe.closed_within(AT_ONCE)
    } else {
        probe.answered_200() && matches!(probe, Probe::Answered(_, after) if *after <= AT_ONCE)
    }
}

/// A `stats` figure in KiB, in MiB.
fn kib(value: &serde_json::Value) -> f64 {
    value.as_u64().unwrap_or(0) as f64 / 1024.0
}

async fn signed_ok(addr: SocketAddr, signer: &Signer, label: &str) -> bool {
    match Http1::open(addr).await {
        Ok(mut conn) => conn
            .call(signer, &format!("{}-{label}", signer.run_id))
            .await
            .unwrap_or(false),
        Err(_) => false,
    }
}

pub(crate) async fn run(target: &Target, signer: &Signer) -> Outcome {
    let mut out = Outcome::new(format!(
        "3{}. {} idle connections{}: {}",
        if target.total > target.silent {
            "a"
        } else {
            "b"
        },
        target.total,
        if target.total > target.silent {
            format!(
                " ({} silent, then {} keep-alive)",
                target.silent,
                target.total - target.silent
            )
        } else {
            " (silent)".to_owned()
        },
        target.name
    ));
    let server = match stats(target.addr, signer).await {
        Ok(stats) => stats,
        Err(err) => {
            out.check(false, format!("the server's stats: {err}"));
            return out;
        }
    };
    let Some((cap, logged_files)) = target.log.connection_limits() else {
        out.check(
            false,
            format!(
                "the server logged its connection cap ({})",
                target.log.path().display()
            ),
        );
        return out;
    };
    let soft = server["open_files"]["soft"].as_u64().unwrap_or(0);
    let hard = server["open_files"]["hard"].as_u64().unwrap_or(0);
    let configured = server["limits"]["max_connections"].as_u64().unwrap_or(0);
    let idle = Duration::from_millis(server["limits"]["idle_timeout_ms"].as_u64().unwrap_or(0));
    out.figure(format!(
        "server: open files soft {soft} / hard {hard} (logged at start: {}), max_connections \
         {configured} configured, cap in force {cap}; idle timeout {} ms",
        logged_files.map_or("-".to_owned(), |f| f.to_string()),
        idle.as_millis()
    ));
    out.check(
        soft == hard,
        format!("the server raised its soft open-files limit to the hard one: {soft} == {hard}"),
    );
    out.check(
        (cap as u64) < soft && cap as u64 <= configured,
        format!("the cap fits the open-files limit and the configuration: {cap} < {soft}, {cap} <= {configured}"),
    );
    let log_from = target.log.len();
    // Let the stats connection close and free its place under the cap.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let patience = idle + IDLE_MARGIN + Duration::from_secs(10);
    let closed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(target.total);
    let started = Instant::now();
    let mut failed = open(
        target.addr,
        target.silent,
        false,
        patience,
        &closed,
        &mut tasks,
    )
    .await;
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = tasks.len() - closed.load(Ordering::Relaxed);
    let probe = healthz(target.addr, PROBE_PATIENCE).await;
    let signed = if held < cap {
        Some(signed_ok(target.addr, signer, "idle-1").await)
    } else {
        None
    };
    let rss_held = if held < cap {
        stats(target.addr, signer)
            .await
            .ok()
            .map(|v| kib(&v["rss_kib"]))
    } else {
        None
    };
    out.figure(format!(
        "{} silent connections opened in {:.2} s ({failed} failed); 0.5 s later {held} held \
         by the server; a new GET /healthz: {}{}{}",
        tasks.len(),
        opened_in.as_secs_f64(),
        probe.describe(),
        signed.map_or(String::new(), |ok| format!(
            "; a signed call: {}",
            if ok { "200 success" } else { "FAILED" }
        )),
        rss_held.map_or(String::new(), |mib| format!("; server RSS {mib:.1} MiB"))
    ));
    let expected = cap.min(tasks.len());
    out.check(
        held <= expected && held + 2 >= expected,
        format!(
            "{held} of {} held: the cap ({cap}) or all of them (one or two may still be closing)",
            tasks.len()
        ),
    );
    out.check(
        probe_as_expected(&probe, held, cap),
        format!(
            "with {held} held, a new connection {}: {}",
            if held >= cap {
                "is closed at once (within 1 s), not hung"
            } else {
                "gets /healthz 200 within 1 s"
            },
            probe.describe()
        ),
    );
    if let Some(ok) = signed {
        out.check(
            ok,
            format!("with {held} idle connections held, a signed call succeeds"),
        );
    }

    if target.total > target.silent {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let more = target.total - target.silent;
        let started = Instant::now();
        let failed_more = open(target.addr, more, true, patience, &closed, &mut tasks).await;
        failed += failed_more;
        let opened_in = started.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let held = tasks.len() - closed.load(Ordering::Relaxed);
        let probe = healthz(target.addr, PROBE_PATIENCE).await;
        out.figure(format!(
            "{more} keep-alive connections (one GET /healthz each, then nothing) opened in \
             {:.2} s ({failed_more} failed); 0.5 s later {held} of {} held; a new GET /healthz: {}",
            opened_in.as_secs_f64(),
            tasks.len(),
            probe.describe()
        ));
        let expected = cap.min(tasks.len());
        out.check(
            held <= expected && held + 2 >= expected,
            format!(
                "{held} of {} held: the cap ({cap}), the rest closed",
                tasks.len()
            ),
        );
        out.check(
            probe_as_expected(&probe, held, cap),
            format!(
                "with {held} held, a new connection {}: {}",
                if held >= cap {
                    "is closed at once (within 1 s), not hung"
                } else {
                    "gets /healthz 200 within 1 s"
                },
                probe.describe()
            ),
        );
    }

    out.check(
        failed == 0,
        format!("every connection was made (over the cap too: the kernel accepts, the server closes): {failed} failed"),
    );
    let mut idles = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(idle) = task.await {
            idles.push(idle);
        }
    }
    let at_once = idles.iter().filter(|i| i.closed_at_once()).count();
    let kept: Vec<&Idle> = idles.iter().filter(|i| !i.closed_at_once()).collect();
    let answered = kept.iter().filter(|i| i.answered == Some(200)).count();
    let still_open = kept.iter().filter(|i| i.closed.is_none()).count();
    let mut idle_for: Vec<Duration> = kept
        .iter()
        .filter_map(|i| i.closed.map(|at| at.duration_since(i.idle_since)))
        .collect();
    let on_time = idle_for
        .iter()
        .filter(|d| **d + IDLE_SLACK >= idle && **d <= idle + IDLE_MARGIN)
        .count();
    let mut at_once_after: Vec<Duration> = idles
        .iter()
        .filter(|i| i.closed_at_once())
        .filter_map(|i| i.closed.map(|at| at.duration_since(i.opened)))
        .collect();
    out.figure(format!(
        "closed at once (over the cap): {at_once}, after {}",
        spread(&mut at_once_after)
    ));
    out.figure(format!(
        "held then closed by the server: {} ({answered} after their answer), idle for {}; {still_open} never closed",
        kept.len() - still_open,
        spread(&mut idle_for)
    ));
    let over_cap = idles.len().saturating_sub(cap);
    out.check(
        at_once >= over_cap && at_once <= over_cap + 2,
        format!(
            "the connections over the cap, and only they, were closed at once, without an \
             answer: {at_once} for {over_cap} over the cap"
        ),
    );
    out.check(
        still_open == 0 && on_time == kept.len(),
        format!(
            "every held connection is closed after the idle timeout ({} ms, at most {} s late): {on_time} of {}",
            idle.as_millis(),
            IDLE_MARGIN.as_secs(),
            kept.len()
        ),
    );
    let probe = healthz(target.addr, PROBE_PATIENCE).await;
    let signed = signed_ok(target.addr, signer, "idle-after").await;
    let memory = stats(target.addr, signer)
        .await
        .ok()
        .map_or(String::new(), |v| {
            format!(
                "; server RSS {:.1} MiB, peak {:.1} MiB (before: {:.1} MiB)",
                kib(&v["rss_kib"]),
                kib(&v["hwm_kib"]),
                kib(&server["rss_kib"])
            )
        });
    out.figure(format!(
        "after: a new GET /healthz {}; a signed call: {}{memory}",
        probe.describe(),
        if signed { "200 success" } else { "FAILED" }
    ));
    out.check(
        probe.answered_200() && signed,
        "once the idle ones are closed, /healthz and signed calls are answered again".to_owned(),
    );
    let lines = target.log.since(log_from);
    let refusals = crate::log::accounted(&lines, "connection_limit");
    out.figure(format!(
        "server log meanwhile: {} lines ({} connection_limit refusal logged in full, {} counted in summaries so far)",
        lines.len(),
        refusals.in_full,
        refusals.summarised
    ));
    out.summary = format!(
        "cap {cap} (open files {soft}); held {}, {at_once} closed at once; idle ones closed after {}; healthz {}",
        kept.len(),
        spread(&mut idle_for),
        probe.describe()
    );
    out
}
