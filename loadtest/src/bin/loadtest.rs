//! The client side of the load test: signed `tool_call`s over a fixed set of HTTP/1.1
//! keep-alive connections to `loadtest-server`, then a duplicate-delivery storm, then the
//! server's own count of tool runs. Prints the figures; exits 1 when a check fails.
//!
//! ```text
//! loadtest --addr 127.0.0.1:PORT [--calls 100000] [--storm 50000] [--connections 64]
//!          [--quick] [--timeout-secs 30] [--max-secs 900]
//! ```
//!
//! 1. Distinct calls: `--calls` tool_calls, each with its own call_id, spread over the
//!    connections (one task per connection, each owning it; one request at a time on it).
//! 2. Duplicate storm: `--storm` more call_ids, each delivered twice at the same time on
//!    two different connections (the connections are paired), each delivery signed on its
//!    own at send time, as a retry would be. Both answers must be the same run's.
//! 3. `stats` (before and after): the server's count of `work` runs and distinct
//!    call_ids, which must be equal, with at most one run per call_id.
//!
//! Every request is signed when it is sent (`pillar::protocol::sign`). A request that
//! gets no complete answer (connection error, `--timeout-secs`) is lost, and its
//! connection is opened again; the number of connections opened is reported.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::Request;
use hyper_util::rt::TokioIo;
use pillar::protocol::sign;
use pillar::signature::SIGNATURE_HEADER;
use pillar::testing::tool_call_body;
use pillar_loadtest::{
    quantile_ms, secret_from_env, Args, BoxError, STATS_TOOL, WEBHOOK_PATH, WORK_TOOL,
};
use serde_json::{json, Value};

const HELP: &str = "\
loadtest: signed tool_calls to loadtest-server over a fixed set of keep-alive connections,
then a duplicate-delivery storm; checks the answers and the server's count of runs.
See loadtest/README.md; loadtest/run.sh builds and runs both sides.

  --addr ADDR          the server (required), e.g. 127.0.0.1:8787
  --calls N            distinct calls (default 100000)
  --storm N            calls delivered twice at once (default 50000)
  --connections N      HTTP/1.1 keep-alive connections, even (default 64)
  --quick              a smoke test: 2000 calls and a storm of 1000
  --timeout-secs N     a request without an answer after N s is lost (default 30)
  --max-secs N         stop sending after N s; calls not sent fail the run (default 900)
  --no-store-check     send even when the server's call store cannot hold every call
                       (to see what a full store answers: 503, and the checks fail)

PILLAR_SECRET: the webhook secret (default: pillar::testing::TEST_SECRET).";

/// Padding in each call's arguments, for a body of about 200 bytes.
const PAD: &str = "the quick brown fox jumps over the lazy dog, 0123456789";

/// What every task needs to send.
struct Plan {
    addr: SocketAddr,
    host: String,
    secret: String,
    run_id: String,
    timeout: Duration,
    deadline: Instant,
}

/// One HTTP/1.1 connection, owned by one task; opened again after an error.
struct Conn {
    sender: Option<SendRequest<Full<Bytes>>>,
    opened: u64,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Self, BoxError> {
        let mut conn = Self {
            sender: None,
            opened: 0,
        };
        conn.connect(addr).await?;
        Ok(conn)
    }

    async fn connect(&mut self, addr: SocketAddr) -> Result<(), BoxError> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection.
            let _ = connection.await;
        });
        self.sender = Some(sender);
        self.opened += 1;
        Ok(())
    }

    /// Signs `body` now and posts it; the status and body of the answer.
    async fn post(&mut self, plan: &Plan, body: &[u8]) -> Result<(u16, Bytes), BoxError> {
        let result = tokio::time::timeout(plan.timeout, self.post_inner(plan, body)).await;
        let result = match result {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {:?}", plan.timeout).into()),
        };
        if result.is_err() {
            // The connection's state is unknown (a request may be half-sent): a new one.
            self.sender = None;
        }
        result
    }

    async fn post_inner(&mut self, plan: &Plan, body: &[u8]) -> Result<(u16, Bytes), BoxError> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            self.connect(plan.addr).await?;
        }
        let Some(sender) = self.sender.as_mut() else {
            return Err("no connection".into());
        };
        sender.ready().await?;
        let request = Request::post(WEBHOOK_PATH)
            .header(HOST, &plan.host)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign(&plan.secret, body))
            .body(Full::new(Bytes::copy_from_slice(body)))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}

/// The figures of one phase (or one task of it).
#[derive(Default)]
struct Tally {
    sent: u64,
    answered: u64,
    /// By status class: index 1 = 1xx ... 5 = 5xx; 0 = anything else.
    classes: [u64; 6],
    /// Answered, but not `"success": true` with the call's own call_id and a run number.
    not_ok: u64,
    /// Latency of every answered request, in microseconds.
    latencies_us: Vec<u32>,
    /// A few examples of what went wrong.
    samples: Vec<String>,
    /// Storm: pairs whose two answers carry the same run and the same body.
    pairs_alike: u64,
    /// Storm: pairs whose two answers carry different run numbers (the tool ran twice).
    pairs_ran_twice: u64,
    /// Call ids answered with success: every one must have run exactly once.
    ok_call_ids: u64,
}

impl Tally {
    fn merge(&mut self, other: Self) {
        self.sent += other.sent;
        self.answered += other.answered;
        for (a, b) in self.classes.iter_mut().zip(other.classes) {
            *a += b;
        }
        self.not_ok += other.not_ok;
        self.latencies_us.extend(other.latencies_us);
        for sample in other.samples {
            self.note(sample);
        }
        self.pairs_alike += other.pairs_alike;
        self.pairs_ran_twice += other.pairs_ran_twice;
        self.ok_call_ids += other.ok_call_ids;
    }

    fn note(&mut self, sample: String) {
        if self.samples.len() < 5 {
            self.samples.push(sample);
        }
    }

    /// Sends one delivery of `call_id` and checks its answer: the run number if it is
    /// `"success": true` for this call_id.
    async fn deliver(
        &mut self,
        conn: &mut Conn,
        plan: &Plan,
        call_id: &str,
        body: &[u8],
    ) -> Option<(u64, Bytes)> {
        self.sent += 1;
        let started = Instant::now();
        let (status, answer) = match conn.post(plan, body).await {
            Ok(answer) => answer,
            Err(err) => {
                self.note(format!("{call_id}: lost: {err}"));
                return None;
            }
        };
        let elapsed = started.elapsed();
        self.answered += 1;
        self.latencies_us
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        let class = usize::from(status / 100);
        self.classes[if class < 6 { class } else { 0 }] += 1;
        let run = serde_json::from_slice::<Value>(&answer)
            .ok()
            .filter(|v| {
                v["success"] == json!(true)
                    && v["call_id"] == json!(call_id)
                    && v["result"]["call_id"] == json!(call_id)
            })
            .and_then(|v| v["result"]["run"].as_u64());
        match run {
            Some(run) if status == 200 => Some((run, answer)),
            _ => {
                self.not_ok += 1;
                let text = String::from_utf8_lossy(&answer);
                let text: String = text.chars().take(200).collect();
                self.note(format!("{call_id}: {status} {text}"));
                None
            }
        }
    }
}

/// Phase 1: one task per connection, taking the next call index until `calls`.
async fn distinct_calls(
    mut conn: Conn,
    plan: Arc<Plan>,
    next: Arc<AtomicUsize>,
    calls: usize,
) -> (Conn, Tally) {
    let mut tally = Tally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= calls || Instant::now() >= plan.deadline {
            break;
        }
        let call_id = format!("{}-c{i}", plan.run_id);
        let body = tool_call_body(WORK_TOOL, &call_id, json!({"n": i, "pad": PAD}));
        if tally
            .deliver(&mut conn, &plan, &call_id, &body)
            .await
            .is_some()
        {
            tally.ok_call_ids += 1;
        }
    }
    (conn, tally)
}

/// Phase 2: one task per pair of connections; each call goes out on both at once.
async fn storm_pairs(
    mut a: Conn,
    mut b: Conn,
    plan: Arc<Plan>,
    next: Arc<AtomicUsize>,
    calls: usize,
) -> (Conn, Conn, Tally) {
    let mut tally = Tally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= calls || Instant::now() >= plan.deadline {
            break;
        }
        let call_id = format!("{}-s{i}", plan.run_id);
        let body = tool_call_body(WORK_TOOL, &call_id, json!({"n": i, "pad": PAD}));
        let mut first = Tally::default();
        let mut second = Tally::default();
        // Both deliveries are written before either answer is awaited: the server sees
        // them at the same time, on two connections.
        let (x, y) = tokio::join!(
            first.deliver(&mut a, &plan, &call_id, &body),
            second.deliver(&mut b, &plan, &call_id, &body),
        );
        tally.merge(first);
        tally.merge(second);
        match (x, y) {
            (Some((run_x, body_x)), Some((run_y, body_y))) => {
                tally.ok_call_ids += 1;
                if run_x != run_y {
                    tally.pairs_ran_twice += 1;
                    tally.note(format!("{call_id}: ran twice (runs {run_x} and {run_y})"));
                } else if body_x == body_y {
                    tally.pairs_alike += 1;
                } else {
                    tally.note(format!("{call_id}: one run, two different answers"));
                }
            }
            (Some(_), None) | (None, Some(_)) => tally.ok_call_ids += 1,
            (None, None) => {}
        }
    }
    (a, b, tally)
}

/// The server's figures, from the `stats` tool.
struct Stats {
    raw: Value,
}

impl Stats {
    fn get(&self, name: &str) -> u64 {
        self.raw[name].as_u64().unwrap_or(0)
    }

    /// How many of the call store's claims found `kind` (`run`, `done`, ...).
    fn claims(&self, kind: &str) -> u64 {
        self.raw["claims"][kind].as_u64().unwrap_or(0)
    }
}

async fn stats(conn: &mut Conn, plan: &Plan) -> Result<Stats, BoxError> {
    // A call id of its own each time: a signed call is at most once per call id, and a
    // call without one at most once per identical body, so a repeated body would get the
    // first figures again. It takes one record (the store's figures count it).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let call_id = format!("stats-{}-{nanos}", std::process::id());
    let body = tool_call_body(STATS_TOOL, &call_id, json!({}));
    let (status, answer) = conn.post(plan, &body).await?;
    let value: Value = serde_json::from_slice(&answer)?;
    if status != 200 || value["success"] != json!(true) {
        return Err(format!(
            "`{STATS_TOOL}` answered {status} {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(Stats {
        raw: value["result"].clone(),
    })
}

fn row(name: &str, tally: &mut Tally, elapsed: Duration) -> String {
    tally.latencies_us.sort_unstable();
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        tally.answered as f64 / secs
    } else {
        0.0
    };
    let lat = &tally.latencies_us;
    format!(
        "{name:<22} {:>8} {:>8} {:>5} {:>8} {:>5} {:>5} {:>6} {:>8.2} {:>8.0} {:>7.2} {:>7.2} {:>7.1}",
        tally.sent,
        tally.answered,
        tally.sent - tally.answered,
        tally.classes[2],
        tally.classes[4],
        tally.classes[5],
        tally.not_ok,
        secs,
        rate,
        quantile_ms(lat, 0.50),
        quantile_ms(lat, 0.99),
        quantile_ms(lat, 1.0),
    )
}

fn header() -> String {
    format!(
        "{:<22} {:>8} {:>8} {:>5} {:>8} {:>5} {:>5} {:>6} {:>8} {:>8} {:>7} {:>7} {:>7}",
        "phase",
        "sent",
        "answered",
        "lost",
        "2xx",
        "4xx",
        "5xx",
        "not ok",
        "elapsed",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms"
    )
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match run().await {
        Ok(true) => Ok(()),
        Ok(false) => std::process::exit(1),
        Err(err) => {
            eprintln!("loadtest: {err}");
            std::process::exit(2)
        }
    }
}

/// Runs the test; `Ok(false)` when a check failed.
async fn run() -> Result<bool, BoxError> {
    let mut args = Args::from_env();
    if args.wants_help() {
        println!("{HELP}");
        return Ok(true);
    }
    let quick = args.flag("--quick");
    let addr: SocketAddr = args
        .value("--addr")?
        .ok_or("--addr is required (see --help)")?;
    let calls: usize = args
        .value("--calls")?
        .unwrap_or(if quick { 2_000 } else { 100_000 });
    let storm: usize = args
        .value("--storm")?
        .unwrap_or(if quick { 1_000 } else { 50_000 });
    let connections: usize = args.value("--connections")?.unwrap_or(64);
    let timeout: u64 = args.value("--timeout-secs")?.unwrap_or(30);
    let max_secs: u64 = args.value("--max-secs")?.unwrap_or(900);
    let store_check = !args.flag("--no-store-check");
    args.finish()?;
    if connections < 2 || !connections.is_multiple_of(2) {
        return Err("--connections must be even and at least 2 (the storm pairs them)".into());
    }

    let started = Instant::now();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let plan = Arc::new(Plan {
        addr,
        host: addr.to_string(),
        secret: secret_from_env(),
        run_id: format!("lt{stamp}-{}", std::process::id()),
        timeout: Duration::from_secs(timeout),
        deadline: started + Duration::from_secs(max_secs),
    });

    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(addr).await?);
    }
    let Some(first) = conns.first_mut() else {
        return Err("no connection".into());
    };
    let before = stats(first, &plan).await?;
    let max_in_flight = before.get("max_in_flight");
    let capacity = before.get("store_capacity");
    // Every call_id's answer must be kept for the whole run: a full store would forget
    // the oldest (the default) or refuse new calls, and the exactly-once checks would
    // then measure the store's size, not the SDK.
    let needed = before.get("store_records") + (calls + storm) as u64;
    if store_check && needed > capacity {
        return Err(format!(
            "the server's call store holds {capacity} records and has {} already; this run \
             needs {needed}: past that, the store forgets its oldest records (or refuses calls, with WhenFull::Refuse). Restart \
             loadtest-server with a larger --store-capacity, or send fewer calls \
             (--no-store-check sends them anyway).",
            before.get("store_records")
        )
        .into());
    }

    println!("pillar load test: serve() on {addr}, {connections} HTTP/1.1 keep-alive connections");
    println!(
        "server: max_in_flight {max_in_flight}, call store capacity {capacity}, work {} us \
         per run; client: {} worker thread(s)",
        before.get("work_us"),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "plan: {calls} distinct calls, then a storm of {storm} calls each sent twice at \
         once ({} requests in all)",
        calls + 2 * storm
    );
    println!();

    // Phase 1: distinct calls.
    let next = Arc::new(AtomicUsize::new(0));
    let phase = Instant::now();
    let tasks: Vec<_> = conns
        .drain(..)
        .map(|conn| {
            tokio::spawn(distinct_calls(
                conn,
                Arc::clone(&plan),
                Arc::clone(&next),
                calls,
            ))
        })
        .collect();
    let mut distinct = Tally::default();
    for task in tasks {
        let (conn, tally) = task.await?;
        conns.push(conn);
        distinct.merge(tally);
    }
    let distinct_elapsed = phase.elapsed();

    // Phase 2: the duplicate storm, on the same connections, paired.
    let next = Arc::new(AtomicUsize::new(0));
    let phase = Instant::now();
    let mut tasks = Vec::new();
    while let (Some(a), Some(b)) = (conns.pop(), conns.pop()) {
        tasks.push(tokio::spawn(storm_pairs(
            a,
            b,
            Arc::clone(&plan),
            Arc::clone(&next),
            storm,
        )));
    }
    let mut dup = Tally::default();
    for task in tasks {
        let (a, b, tally) = task.await?;
        conns.push(a);
        conns.push(b);
        dup.merge(tally);
    }
    let storm_elapsed = phase.elapsed();

    let Some(first) = conns.first_mut() else {
        return Err("no connection".into());
    };
    let after = stats(first, &plan).await?;
    let opened: u64 = conns.iter().map(|c| c.opened).sum();

    // The figures.
    let total_elapsed = distinct_elapsed + storm_elapsed;
    let mut total = Tally::default();
    println!("{}", header());
    println!("{}", row("distinct calls", &mut distinct, distinct_elapsed));
    println!("{}", row("duplicate storm (x2)", &mut dup, storm_elapsed));
    let mut samples = distinct.samples.clone();
    samples.extend(dup.samples.iter().cloned());
    let expected_ids = distinct.ok_call_ids + dup.ok_call_ids;
    let (pairs_alike, pairs_ran_twice) = (dup.pairs_alike, dup.pairs_ran_twice);
    total.merge(std::mem::take(&mut distinct));
    total.merge(std::mem::take(&mut dup));
    total.samples = samples;
    println!("{}", row("total", &mut total, total_elapsed));
    println!();

    let runs = after.get("runs").saturating_sub(before.get("runs"));
    let ids = after.get("distinct").saturating_sub(before.get("distinct"));
    let max_per_call = after.get("max_per_call");
    let planned = (calls + 2 * storm) as u64;
    let lost = total.sent - total.answered;
    let not_sent = planned - total.sent;
    println!(
        "tool runs (server)        {runs} runs over {ids} distinct call_ids, at most \
         {max_per_call} per call_id"
    );
    println!(
        "duplicates answered from the record   {pairs_alike} of {storm} pairs (one run, \
         both answers identical); pairs that ran twice: {pairs_ran_twice}"
    );
    let claims = |kind: &str| after.claims(kind).saturating_sub(before.claims(kind));
    println!(
        "call store claims         run {}, done {} (answered from the record), in_progress \
         {} (a duplicate found the first delivery running and waited), conflict {}, error {}",
        claims("run"),
        claims("done"),
        claims("in_progress"),
        claims("conflict"),
        claims("error"),
    );
    if after.raw["idempotency"] == json!(false) {
        println!(
            "NOTE: the server runs with idempotency OFF (--no-idempotency): a negative control"
        );
    }
    println!(
        "connections opened        {opened} for {connections} ({} reopened after an error)",
        opened.saturating_sub(connections as u64)
    );
    println!(
        "server memory             RSS {:.1} MiB, peak {:.1} MiB; call store {} of {} records",
        after.get("rss_kib") as f64 / 1024.0,
        after.get("hwm_kib") as f64 / 1024.0,
        after.get("store_records"),
        after.get("store_capacity"),
    );
    println!(
        "wall time                 {:.2} s (with connecting and stats)",
        started.elapsed().as_secs_f64()
    );
    if !total.samples.is_empty() {
        println!("examples of failures:");
        for sample in &total.samples {
            println!("  {sample}");
        }
    }
    println!();

    let below_limit = (connections as u64) < max_in_flight;
    let checks = [
        (
            format!("every request sent: {} of {planned}", total.sent),
            not_sent == 0,
        ),
        (
            format!(
                "every call answered: lost {lost} of {} (answered {})",
                total.sent, total.answered
            ),
            lost == 0,
        ),
        (
            format!(
                "zero 5xx below the concurrency limit ({connections} connections, \
                 max_in_flight {max_in_flight}): {} 5xx",
                total.classes[5]
            ),
            !below_limit || total.classes[5] == 0,
        ),
        (
            format!(
                "every answer 200 \"success\": true for its own call_id: {} not",
                total.not_ok
            ),
            total.not_ok == 0,
        ),
        (
            format!("runs == distinct call_ids: {runs} == {ids}"),
            runs == ids,
        ),
        (
            format!(
                "every call_id answered is on the server's record, and every one sent was \
                 answered: {ids} == {expected_ids} == {}",
                calls + storm
            ),
            ids == expected_ids && expected_ids == (calls + storm) as u64,
        ),
        (
            format!("max runs per call_id == 1: {max_per_call}"),
            max_per_call == 1,
        ),
        (
            format!(
                "storm: both deliveries answered by one run, identically: {pairs_alike} of \
                 {storm}"
            ),
            pairs_alike == storm as u64 && pairs_ran_twice == 0,
        ),
        (
            format!("{connections} connections, kept alive: {opened} opened"),
            opened == connections as u64,
        ),
    ];
    println!("checks");
    let mut passed = true;
    for (text, ok) in &checks {
        println!("  [{}] {text}", if *ok { "PASS" } else { "FAIL" });
        passed &= *ok;
    }
    println!("RESULT: {}", if passed { "PASS" } else { "FAIL" });
    Ok(passed)
}
