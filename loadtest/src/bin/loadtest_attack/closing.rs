//! Scenario 6: connections whose client will not let them close (issue 23). At the idle
//! timeout the server closes a connection gracefully, and hyper then waits for the
//! client; these clients never let that finish:
//!
//! - HTTP/2, raw frames: the preface and an empty `SETTINGS`, then never a byte (the
//!   closing `PING` is never acknowledged); everything the server sends is read;
//! - HTTP/2, hyper's client with a stream window of 0: one unsigned call, whose `401`
//!   headers arrive and whose body the zero window never lets through;
//! - HTTP/1, a 4 KiB receive buffer: eight signed calls to `big` (1 MiB answers each)
//!   pipelined, and nothing ever read.
//!
//! The server must drop each once it has had no request in progress for
//! `idle_timeout` + `close_timeout`: every one is gone within that + 1 s. Which
//! connections the server still holds is read from `/proc` (its sockets) every 100 ms,
//! on a thread of its own; so is when the server last wrote to each pipelining
//! connection (its socket's send queue last grew), from which its quiet time counts.
//! Signed calls are answered while they are open, while they are closing, and after.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo};
use pillar::protocol::sign;
use pillar::testing::tool_call_body;
use pillar_loadtest::{BIG_TOOL, WEBHOOK_PATH};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use crate::client::{signed_calls, spread, stats, Signer};
use crate::procfs::{mib, peak, rss_kib, server_sockets, Sampler};
use crate::Outcome;

/// The allowance of the issue: dropped within idle timeout + close timeout + this, once
/// the last connection was busy.
const MARGIN: Duration = Duration::from_secs(1);
/// How late after idle timeout + close timeout one connection may be dropped on this
/// busy machine (the server's one worker shares its CPU: its timers can fire late), as
/// scenario 3 allows for the idle timeout.
const MACHINE_MARGIN: Duration = Duration::from_secs(3);
/// How often the server's sockets are looked at.
const POLL: Duration = Duration::from_millis(100);
/// Requests each pipelining client writes at once.
const PIPELINED: usize = 8;
/// The pipelining clients' receive buffer.
const RCVBUF: u32 = 4096;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    NoPingAck,
    ZeroWindow,
    Pipelined,
}

impl Kind {
    const ALL: [Self; 3] = [Self::NoPingAck, Self::ZeroWindow, Self::Pipelined];

    fn describe(self) -> &'static str {
        match self {
            Self::NoPingAck => "HTTP/2 never acknowledging the closing PING",
            Self::ZeroWindow => "HTTP/2 with a zero window on a 401's body",
            Self::Pipelined => "HTTP/1 pipelining 8 x 1 MiB answers, never reading",
        }
    }

    /// From when the server counts the connection quiet.
    fn reference(self) -> &'static str {
        match self {
            Self::NoPingAck => "its opening",
            Self::ZeroWindow => "its 401's headers",
            Self::Pipelined => "its requests' writing",
        }
    }
}

/// One held connection: its kind, its local port (the server's peer port), and when the
/// client last made the server busy.
struct Held {
    kind: Kind,
    port: u16,
    since: Instant,
}

/// What the client keeps open until the end.
#[derive(Default)]
struct Kept {
    /// When the client saw each raw HTTP/2 and zero-window connection closed, by index
    /// in the held connections.
    closes: Vec<(usize, JoinHandle<Option<Instant>>)>,
    h2: Vec<(
        hyper::client::conn::http2::SendRequest<String>,
        hyper::Response<hyper::body::Incoming>,
    )>,
    pipelined: Vec<TcpStream>,
    errors: Vec<String>,
}

impl Kept {
    fn note(&mut self, err: String) {
        if self.errors.len() < 3 {
            self.errors.push(err);
        }
    }
}

/// An HTTP/2 frame: its header and payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(0).to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

type Opened = Result<(u16, Instant, Option<JoinHandle<Option<Instant>>>), String>;

async fn no_ping_ack(addr: SocketAddr, patience: Duration) -> Opened {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let port = stream.local_addr().map_err(|e| e.to_string())?.port();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(frame(4, 0, 0, &[])); // SETTINGS, empty; never an acknowledgement
    stream.write_all(&hello).await.map_err(|e| e.to_string())?;
    let since = Instant::now();
    // Reads (and drops) what the server sends until it closes.
    let closed = tokio::spawn(async move {
        let deadline = tokio::time::Instant::from_std(since + patience);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => return Some(Instant::now()),
                Ok(Ok(_)) => {}
                Err(_) => return None,
            }
        }
    });
    Ok((port, since, Some(closed)))
}

async fn zero_window(addr: SocketAddr, patience: Duration, kept: &mut Kept) -> Opened {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let port = stream.local_addr().map_err(|e| e.to_string())?.port();
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(0)
        .adaptive_window(false)
        .handshake::<_, String>(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let closed = tokio::spawn(async move {
        tokio::time::timeout(patience, connection)
            .await
            .ok()
            .map(|_| Instant::now())
    });
    // Unsigned: answered 401 with a JSON body that the zero window never lets through.
    let request = hyper::Request::post(format!("http://{addr}{WEBHOOK_PATH}"))
        .header("content-type", "application/json")
        .body(r#"{"action":"tool_call"}"#.to_owned())
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(5), sender.send_request(request))
        .await
        .map_err(|_| "no answer within 5 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let since = Instant::now();
    if response.status() != 401 {
        kept.note(format!("a zero-window call answered {}", response.status()));
    }
    // The answer's body is kept, never read.
    kept.h2.push((sender, response));
    Ok((port, since, Some(closed)))
}

async fn pipelined(addr: SocketAddr, signer: &Signer, n: usize, kept: &mut Kept) -> Opened {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .set_recv_buffer_size(RCVBUF)
        .map_err(|e| e.to_string())?;
    let mut stream = socket.connect(addr).await.map_err(|e| e.to_string())?;
    let port = stream.local_addr().map_err(|e| e.to_string())?.port();
    let mut requests = Vec::new();
    for k in 0..PIPELINED {
        let call_id = format!("{}-s6-big-{n}-{k}", signer.run_id);
        let body = tool_call_body(BIG_TOOL, &call_id, json!({"bytes": 1 << 20}));
        let signature = sign(&signer.secret, &body);
        requests.extend_from_slice(
            format!(
                "POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: pillar\r\nContent-Type: application/json\r\n\
                 X-Pillar-Signature: {signature}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        requests.extend_from_slice(&body);
    }
    stream
        .write_all(&requests)
        .await
        .map_err(|e| e.to_string())?;
    let since = Instant::now();
    kept.pipelined.push(stream);
    Ok((port, since, None))
}

/// What the watching thread saw of one connection.
#[derive(Clone, Copy, Default)]
struct Watched {
    /// Whether the server was seen holding it.
    held: bool,
    /// When the server no longer had a socket for it.
    dropped: Option<Instant>,
    /// When its send queue on the server last grew: the server's last write.
    last_write: Option<Instant>,
    tx: u64,
}

/// What the watching thread saw: each connection, and the most held at once.
struct Watch {
    conns: Vec<Watched>,
    most: usize,
}

/// What the watching thread is told: a connection to watch (by its port, in the order
/// of the held connections), or when to give up.
enum Told {
    Port(u16),
    Until(Instant),
}

/// Polls the server's sockets every [`POLL`] on a thread of its own, from before the
/// first connection is opened (so that each one's writes are seen from the start) until
/// every connection it was told of is dropped, or the time it was told.
fn watch(
    pid: u32,
    server_port: u16,
    told: std::sync::mpsc::Receiver<Told>,
) -> std::thread::JoinHandle<Watch> {
    std::thread::spawn(move || {
        let mut seen = Watch {
            conns: Vec::new(),
            most: 0,
        };
        let mut ports = Vec::new();
        let mut until = None;
        // Bounded whatever it is told: at most 10 minutes.
        let latest = Instant::now() + Duration::from_secs(600);
        while Instant::now() < until.unwrap_or(latest).min(latest) {
            while let Ok(message) = told.try_recv() {
                match message {
                    Told::Port(port) => {
                        ports.push(port);
                        seen.conns.push(Watched::default());
                    }
                    Told::Until(at) => until = Some(at),
                }
            }
            let Some(sockets) = server_sockets(pid, server_port) else {
                break;
            };
            let now = Instant::now();
            let mut open = 0;
            for (conn, port) in seen.conns.iter_mut().zip(&ports) {
                if conn.dropped.is_some() {
                    continue;
                }
                match sockets.get(port) {
                    Some(&tx) => {
                        open += 1;
                        conn.held = true;
                        if tx > conn.tx {
                            conn.last_write = Some(now);
                        }
                        conn.tx = tx;
                    }
                    None if conn.held => conn.dropped = Some(now),
                    // Not accepted yet.
                    None => open += 1,
                }
            }
            seen.most = seen.most.max(open);
            if open == 0 && until.is_some() {
                break;
            }
            std::thread::sleep(POLL);
        }
        seen
    })
}

pub(crate) async fn run(
    addr: SocketAddr,
    signer: &Signer,
    per_kind: usize,
    calls: usize,
    connections: usize,
) -> Outcome {
    let mut out = Outcome::new(format!(
        "6. {} connections that never finish closing: {per_kind} each of {}, {}, {}",
        3 * per_kind,
        Kind::NoPingAck.describe(),
        Kind::ZeroWindow.describe(),
        Kind::Pipelined.describe()
    ));
    let server = match stats(addr, signer).await {
        Ok(stats) => stats,
        Err(err) => {
            out.check(false, format!("the server's stats: {err}"));
            return out;
        }
    };
    let limits = &server["limits"];
    let ms = |name: &str| Duration::from_millis(limits[name].as_u64().unwrap_or(0));
    let (idle, close) = (ms("idle_timeout_ms"), ms("close_timeout_ms"));
    let Some(pid) = server["pid"].as_u64().and_then(|p| u32::try_from(p).ok()) else {
        out.check(false, "the server reports its pid (stats)".to_owned());
        return out;
    };
    if server_sockets(pid, addr.port()).is_none() {
        out.check(
            false,
            format!("the server's sockets can be read in /proc/{pid}"),
        );
        return out;
    }
    let runs = |stats: &serde_json::Value| stats["claims"]["run"].as_u64().unwrap_or(0);
    let runs_before = runs(&server);
    let allowed = idle + close + MARGIN;
    let patience = allowed + Duration::from_secs(20);
    out.figure(format!(
        "server: idle timeout {} ms, close timeout {} ms (the SDK's default: {} ms), max \
         connections {}; a connection must be gone {:.1} s after it was last busy",
        idle.as_millis(),
        close.as_millis(),
        pillar::ServerLimits::default().close_timeout.as_millis(),
        limits["max_connections"],
        allowed.as_secs_f64()
    ));
    // Let the stats connection close.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kib(pid).unwrap_or(0);
    let sampler = Sampler::start(pid, POLL);
    let (tell, told) = std::sync::mpsc::channel();
    let watching = watch(pid, addr.port(), told);

    let mut kept = Kept::default();
    let mut held = Vec::with_capacity(3 * per_kind);
    let mut failed = [0usize; 3];
    let started = Instant::now();
    for (k, kind) in Kind::ALL.into_iter().enumerate() {
        for n in 0..per_kind {
            let opened = match kind {
                Kind::NoPingAck => no_ping_ack(addr, patience).await,
                Kind::ZeroWindow => zero_window(addr, patience, &mut kept).await,
                Kind::Pipelined => pipelined(addr, signer, n, &mut kept).await,
            };
            match opened {
                Ok((port, since, closed)) => {
                    if let Some(closed) = closed {
                        kept.closes.push((held.len(), closed));
                    }
                    let _ = tell.send(Told::Port(port));
                    held.push(Held { kind, port, since });
                }
                Err(err) => {
                    failed[k] += 1;
                    kept.note(err);
                }
            }
        }
    }
    let opened_in = started.elapsed();
    let last_opened = held.iter().map(|c| c.since).max().unwrap_or(started);
    let _ = tell.send(Told::Until(last_opened + patience));
    // Give the server time to make the answers, then count what it holds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held_after_open = server_sockets(pid, addr.port()).map_or(0, |sockets| {
        held.iter()
            .filter(|c| sockets.contains_key(&c.port))
            .count()
    });
    out.figure(format!(
        "opened {} of {} in {:.2} s ({} + {} + {} failed); 0.3 s later the server holds {held_after_open}",
        held.len(),
        3 * per_kind,
        opened_in.as_secs_f64(),
        failed[0],
        failed[1],
        failed[2]
    ));
    for err in &kept.errors {
        out.figure(format!("  e.g. {err}"));
    }
    let open = signed_calls(addr, signer, "s6-open", calls, connections).await;
    out.figure(format!("signed calls, while open:      {}", open.line()));

    // While every connection is closing: after the idle timeout of the last one.
    let first_opened = held.iter().map(|c| c.since).min().unwrap_or(started);
    let closing_at = (last_opened + idle + Duration::from_millis(500))
        .min(first_opened + idle + close.saturating_sub(Duration::from_millis(500)));
    if let Some(wait) = closing_at.checked_duration_since(Instant::now()) {
        tokio::time::sleep(wait).await;
    }
    let still = server_sockets(pid, addr.port()).map_or(0, |sockets| {
        held.iter()
            .filter(|c| sockets.contains_key(&c.port))
            .count()
    });
    let closing = signed_calls(addr, signer, "s6-closing", calls, connections).await;
    out.figure(format!(
        "signed calls, while closing:   {} ({still} of the connections still held when they began)",
        closing.line()
    ));
    let Ok(Ok(seen)) = tokio::task::spawn_blocking(move || watching.join()).await else {
        out.check(
            false,
            "the thread watching the server's sockets ended".to_owned(),
        );
        return out;
    };
    let rss = sampler.finish().await;
    let (peak_at, peak_kib) = peak(&rss);
    let mut client_closed = vec![None; held.len()];
    for (index, closed) in kept.closes.drain(..) {
        client_closed[index] = closed.await.ok().flatten();
    }
    let runs_after = stats(addr, signer).await.map_or(0, |v| runs(&v));
    // Signed calls and stats calls count a run each too.
    let big_runs = runs_after
        .saturating_sub(runs_before)
        .saturating_sub(open.ok + closing.ok + 1);

    // From when the server counts each connection quiet: its opening or its 401, and for
    // a pipelining one its last write (its last answer), if that came after the requests.
    let quiet_from = |i: usize| {
        let conn = &held[i];
        match (conn.kind, seen.conns[i].last_write) {
            (Kind::Pipelined, Some(write)) => conn.since.max(write),
            _ => conn.since,
        }
    };
    let last_quiet = (0..held.len()).map(quiet_from).max().unwrap_or(started);
    let mut late = 0;
    let mut very_late = 0;
    let mut overshoot = Duration::ZERO;
    for kind in Kind::ALL {
        let of_kind: Vec<usize> = (0..held.len()).filter(|&i| held[i].kind == kind).collect();
        let mut after: Vec<Duration> = of_kind
            .iter()
            .filter_map(|&i| {
                seen.conns[i]
                    .dropped
                    .map(|at| at.duration_since(quiet_from(i)))
            })
            .collect();
        let never = of_kind
            .iter()
            .filter(|&&i| seen.conns[i].dropped.is_none())
            .count();
        let over = of_kind
            .iter()
            .filter(|&&i| {
                seen.conns[i]
                    .dropped
                    .is_none_or(|at| at.duration_since(quiet_from(i)) > allowed)
            })
            .count();
        late += over;
        very_late += of_kind
            .iter()
            .filter(|&&i| {
                seen.conns[i].dropped.is_none_or(|at| {
                    at.duration_since(quiet_from(i)) > idle + close + MACHINE_MARGIN
                })
            })
            .count();
        overshoot = overshoot.max(
            after
                .iter()
                .map(|d| d.saturating_sub(idle + close))
                .max()
                .unwrap_or(Duration::ZERO),
        );
        let mut client_saw: Vec<Duration> = of_kind
            .iter()
            .filter_map(|&i| client_closed[i].map(|at| at.duration_since(held[i].since)))
            .collect();
        let mut writes: Vec<Duration> = of_kind
            .iter()
            .filter_map(|&i| {
                seen.conns[i]
                    .last_write
                    .map(|at| at.saturating_duration_since(held[i].since))
            })
            .collect();
        out.figure(format!(
            "{}: {} dropped by the server {} after {}; {over} held longer than {:.1} s, \
             {never} never dropped{}",
            kind.describe(),
            of_kind.len() - never,
            spread(&mut after),
            kind.reference(),
            allowed.as_secs_f64(),
            match kind {
                Kind::Pipelined => format!(
                    " (the server's last write came {} after the requests)",
                    spread(&mut writes)
                ),
                _ => format!("; closed as the client saw it {}", spread(&mut client_saw)),
            }
        ));
    }
    let held_at_deadline = (0..held.len())
        .filter(|&i| {
            seen.conns[i]
                .dropped
                .is_none_or(|at| at > last_quiet + allowed)
        })
        .count();
    let all_dropped = seen
        .conns
        .iter()
        .map(|c| c.dropped)
        .collect::<Option<Vec<_>>>();
    let gone = all_dropped.and_then(|d| d.into_iter().max());
    out.figure(format!(
        "pipelined answers of 1 MiB made: {big_runs} of {} requested (the rest wait behind \
         answers the client never reads)",
        per_kind * PIPELINED
    ));
    out.figure(format!(
        "all {} gone {}; at most {} held at once while watched; {held_at_deadline} still \
         held {:.1} s after the last was busy ({:.2} s after the first was opened)",
        held.len(),
        match gone {
            Some(at) => format!(
                "{:.2} s after the first was opened, {:.2} s after the last was busy",
                at.duration_since(started).as_secs_f64(),
                at.saturating_duration_since(last_quiet).as_secs_f64()
            ),
            None => "NOT ALL".to_owned(),
        },
        seen.most,
        allowed.as_secs_f64(),
        (last_quiet + allowed).duration_since(started).as_secs_f64()
    ));
    let rss_end = rss_kib(pid).unwrap_or(0);
    out.figure(format!(
        "server RSS {:.1} MiB before, peak {:.1} MiB ({:.1} s after the first was opened; \
         most of it the 1 MiB answers written to clients that do not read), {:.1} MiB once \
         all were dropped",
        mib(rss_before),
        mib(peak_kib),
        peak_at.as_secs_f64(),
        mib(rss_end)
    ));
    // The client lets go; then the server answers as before.
    drop(kept.h2);
    drop(kept.pipelined);
    let after = signed_calls(addr, signer, "s6-after", calls, connections).await;
    out.figure(format!("signed calls, after:           {}", after.line()));
    for sample in open
        .samples
        .iter()
        .chain(&closing.samples)
        .chain(&after.samples)
    {
        out.figure(format!("  failure: {sample}"));
    }

    out.check(
        held.len() == 3 * per_kind,
        format!("{} of {} connections opened", held.len(), 3 * per_kind),
    );
    let ever_held = seen.conns.iter().filter(|c| c.held).count();
    out.check(
        ever_held == held.len(),
        format!(
            "the server held every one (the attack is real): {ever_held} of {}",
            held.len()
        ),
    );
    out.check(
        held_at_deadline == 0,
        format!(
            "none is still held idle + close timeout + 1 s ({:.1} s) after the last was busy: \
             {held_at_deadline}",
            allowed.as_secs_f64()
        ),
    );
    out.check(
        very_late == 0,
        format!(
            "each is dropped idle + close timeout ({:.1} s) after it was last busy, at most {} s \
             late on this busy machine: {very_late} later; {late} were more than {} s late, the \
             latest {:.2} s after idle + close timeout",
            (idle + close).as_secs_f64(),
            MACHINE_MARGIN.as_secs(),
            MARGIN.as_secs(),
            overshoot.as_secs_f64()
        ),
    );
    out.check(
        open.all_ok() && closing.all_ok() && after.all_ok(),
        format!(
            "signed calls answered while open, while closing and after: {} + {} + {} of {} + {} + {}",
            open.ok, closing.ok, after.ok, open.sent, closing.sent, after.sent
        ),
    );
    out.summary = format!(
        "{} held, {held_at_deadline} still held {:.0} s after the last was busy ({late} more \
         than 1 s late after their own last request); all gone {}; \
         signed calls {}/{}, {}/{}, {}/{} (open, closing, after); RSS {:.1} -> peak {:.1} MiB",
        held.len(),
        allowed.as_secs_f64(),
        gone.map_or("never".to_owned(), |at| format!(
            "{:.2} s after the first opened",
            at.duration_since(started).as_secs_f64()
        )),
        open.ok,
        open.sent,
        closing.ok,
        closing.sent,
        after.ok,
        after.sent,
        mib(rss_before),
        mib(peak_kib)
    );
    out
}
