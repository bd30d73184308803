//! The server side of the load test: `Pillar::serve_on` with three tools.
//!
//! - `work` does a little work (hashes its arguments, awaits `--work-us`, 1 ms by
//!   default, like a fast database call, so a duplicate delivery finds the first one still
//!   running), counts its runs per `call_id`, and answers `{"call_id", "run", "digest"}`,
//!   where `run` is the number of this execution (1, 2, ...).
//! - `stats` answers `{"runs", "distinct", "max_per_call", "store_records",
//!   "store_capacity", "claims", "max_in_flight", "rss_kib", "hwm_kib", ...}`, where
//!   `claims` counts what the call store's claims found (`run`, `in_progress`: a
//!   duplicate found the first delivery running and waited, `done`: answered from the
//!   record, `conflict`, `error`), and `pid`, the server's process id (the attack test
//!   samples its memory and its open sockets in `/proc`).
//! - `big` answers a string of `{"bytes": N}` bytes (1 MiB by default, at most 4 MiB):
//!   answers that fill a client's receive buffer.
//!
//! ```text
//! loadtest-server [--addr 127.0.0.1:0] [--addr-file PATH] [--max-in-flight 1024]
//!                 [--store-capacity 400000] [--work-us 1000] [--no-idempotency]
//!                 [--header-timeout-ms N] [--body-timeout-ms N] [--idle-timeout-ms N]
//!                 [--close-timeout-ms N] [--max-connections N] [--body-budget BYTES]
//! ```
//!
//! `--addr` defaults to `PILLAR_ADDR`, else `127.0.0.1:0` (a free port); the address
//! bound is printed and, with `--addr-file`, written to that file once the server
//! listens. The secret is `PILLAR_SECRET` (default: the testing secret). The server's
//! limits are `ServerLimits::default()` but for the ones given. It logs as `serve()`
//! does (a `tracing` fmt subscriber on standard output, `RUST_LOG`, default `info`):
//! `loadtest-attack` counts those lines. Stops on SIGINT or SIGTERM, gracefully.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pillar::idempotency::{CallStore, Claim, MemoryStore, StoreError, StoreFuture};
use pillar::WebhookResponse;
use pillar::{Pillar, ServerLimits, Tool, ToolContext};
use pillar_loadtest::{secret_from_env, Args, BoxError, BIG_TOOL, STATS_TOOL, WORK_TOOL};
use serde_json::{json, Value};

/// What `big` answers when no size is asked, and the most it answers.
const BIG_DEFAULT: usize = 1 << 20;
const BIG_MAX: usize = 4 << 20;

/// Shards of the per-call_id run counts, so that 64 connections do not queue on one lock.
const SHARDS: usize = 64;

/// How many times each `work` call ran, per call_id.
struct Counts {
    shards: Vec<Mutex<HashMap<String, u32>>>,
    runs: AtomicU64,
}

impl Counts {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            runs: AtomicU64::new(0),
        }
    }

    /// Counts one run of `call_id`; returns the number of this run among all runs.
    fn record(&self, call_id: &str) -> Result<u64, String> {
        let shard = &self.shards[fnv(call_id.as_bytes()) as usize % SHARDS];
        {
            let mut map = shard
                .lock()
                .map_err(|_| "counts lock poisoned".to_owned())?;
            *map.entry(call_id.to_owned()).or_insert(0) += 1;
        }
        Ok(self.runs.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// `(runs, distinct call_ids, most runs of one call_id)`.
    fn summary(&self) -> Result<(u64, u64, u32), String> {
        let mut distinct = 0u64;
        let mut max = 0u32;
        for shard in &self.shards {
            let map = shard
                .lock()
                .map_err(|_| "counts lock poisoned".to_owned())?;
            distinct += map.len() as u64;
            max = max.max(map.values().copied().max().unwrap_or(0));
        }
        Ok((self.runs.load(Ordering::Relaxed), distinct, max))
    }
}

/// 64-bit FNV-1a.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The SDK's `MemoryStore`, shared with the `stats` tool so it can report its size, and
/// what its claims found.
#[derive(Clone)]
struct SharedStore {
    store: Arc<MemoryStore>,
    claims: Arc<ClaimCounts>,
}

/// What `claim` answered, by kind.
#[derive(Default)]
struct ClaimCounts {
    run: AtomicU64,
    in_progress: AtomicU64,
    done: AtomicU64,
    conflict: AtomicU64,
    error: AtomicU64,
}

impl ClaimCounts {
    fn count(&self, claim: &Result<Claim, StoreError>) {
        let counter = match claim {
            Ok(Claim::Run) => &self.run,
            Ok(Claim::InProgress) => &self.in_progress,
            Ok(Claim::Done(_)) => &self.done,
            Ok(Claim::Conflict) => &self.conflict,
            Ok(_) | Err(_) => &self.error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn to_json(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "run": get(&self.run),
            "in_progress": get(&self.in_progress),
            "done": get(&self.done),
            "conflict": get(&self.conflict),
            "error": get(&self.error),
        })
    }
}

impl fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.store.fmt(f)
    }
}

impl CallStore for SharedStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            let claim = self.store.claim(key, fingerprint, claim_ttl).await;
            self.claims.count(&claim);
            claim
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        recorded: &'a WebhookResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        self.store.complete(key, fingerprint, recorded, ttl)
    }

    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.store.changed(key)
    }
}

/// `VmRSS` and `VmHWM` of this process in KiB (0 where /proc is not there).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const HELP: &str = "\
loadtest-server: pillar's serve_on with a `work` tool that counts its runs per call_id,
a `stats` tool that reports them and a `big` tool answering 1 MiB. See loadtest/README.md.

  --addr ADDR            listen address (default: PILLAR_ADDR, else 127.0.0.1:0)
  --addr-file PATH       write the address bound to PATH once listening
  --max-in-flight N      concurrency limit before 503 (default 1024, the SDK's default)
  --store-capacity N     records the in-memory call store holds (default 400000; the
                         SDK's default of 100000 is too small for a full run, whose
                         150000 distinct calls must all be remembered)
  --work-us N            how long `work` awaits, in microseconds (default 1000)
  --no-idempotency       turn at-most-once execution off: a negative control, under
                         which the client's duplicate storm must FAIL
  --header-timeout-ms N  ServerLimits::header_timeout (default 10000)
  --body-timeout-ms N    ServerLimits::body_timeout (default 10000)
  --idle-timeout-ms N    ServerLimits::idle_timeout (default 60000)
  --close-timeout-ms N   ServerLimits::close_timeout (default 5000)
  --max-connections N    ServerLimits::max_connections (default 4096)
  --body-budget BYTES    ServerLimits::body_budget (default 67108864, 64 MiB)

PILLAR_SECRET: the webhook secret (default: pillar::testing::TEST_SECRET). RUST_LOG: the
log filter (default info), as for pillar::serve().";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = Args::from_env();
    if args.wants_help() {
        println!("{HELP}");
        return Ok(());
    }
    let addr: SocketAddr = match args.value("--addr")? {
        Some(addr) => addr,
        None => std::env::var("PILLAR_ADDR")
            .ok()
            .filter(|a| !a.trim().is_empty())
            .map_or(Ok(SocketAddr::from(([127, 0, 0, 1], 0))), |a| {
                a.trim().parse()
            })?,
    };
    let addr_file: Option<String> = args.value("--addr-file")?;
    let max_in_flight: usize = args.value("--max-in-flight")?.unwrap_or(1024);
    let capacity: usize = args.value("--store-capacity")?.unwrap_or(400_000);
    let work_us: u64 = args.value("--work-us")?.unwrap_or(1000);
    let idempotency = !args.flag("--no-idempotency");
    let limits = limits_from(&mut args)?;
    args.finish()?;
    install_subscriber();

    let counts = Arc::new(Counts::new());
    let store = SharedStore {
        store: Arc::new(MemoryStore::with_capacity(capacity)),
        claims: Arc::default(),
    };

    let work = {
        let counts = Arc::clone(&counts);
        Tool::builder(WORK_TOOL)
            .description("Does a little work and counts its runs per call_id (load test)")
            .input_schema(json!({
                "type": "object",
                "properties": {"n": {"type": "integer"}, "pad": {"type": "string"}},
            }))
            .handler(move |args: Value, ctx: ToolContext| {
                let counts = Arc::clone(&counts);
                async move {
                    // A little CPU: hash the arguments a few times.
                    let text = args.to_string();
                    let digest = (0..8).fold(0u64, |acc, round| {
                        fnv(text.as_bytes()) ^ acc.rotate_left(round)
                    });
                    let run = counts.record(ctx.call_id())?;
                    if work_us > 0 {
                        tokio::time::sleep(Duration::from_micros(work_us)).await;
                    } else {
                        tokio::task::yield_now().await;
                    }
                    Ok::<_, String>(json!({
                        "call_id": ctx.call_id(),
                        "run": run,
                        "digest": format!("{digest:016x}"),
                    }))
                }
            })
            .build()?
    };
    let big = Tool::builder(BIG_TOOL)
        .description("Answers a string of `bytes` bytes, 1 MiB by default (load test)")
        .input_schema(json!({
            "type": "object",
            "properties": {"bytes": {"type": "integer"}},
        }))
        .handler(|args: Value, _ctx: ToolContext| async move {
            let bytes = args["bytes"]
                .as_u64()
                .map_or(BIG_DEFAULT, |n| usize::try_from(n).unwrap_or(BIG_MAX))
                .min(BIG_MAX);
            Ok::<_, String>(Value::String("x".repeat(bytes)))
        })
        .build()?;
    let body_limit = pillar::Settings::default().body_limit;
    let stats = {
        let counts = Arc::clone(&counts);
        let store = store.clone();
        Tool::builder(STATS_TOOL)
            .description("Reports how often `work` ran (load test)")
            .handler(move |_args: Value, _ctx: ToolContext| {
                let counts = Arc::clone(&counts);
                let store = store.clone();
                async move {
                    let (runs, distinct, max_per_call) = counts.summary()?;
                    let (rss_kib, hwm_kib) = memory_kib();
                    Ok::<_, String>(json!({
                        "runs": runs,
                        "distinct": distinct,
                        "max_per_call": max_per_call,
                        "store_records": store.store.len(),
                        "claims": store.claims.to_json(),
                        "idempotency": idempotency,
                        "store_capacity": capacity,
                        "max_in_flight": max_in_flight,
                        "work_us": work_us,
                        "rss_kib": rss_kib,
                        "hwm_kib": hwm_kib,
                        "open_files": open_files_json(),
                        "pid": std::process::id(),
                        "limits": {
                            "header_timeout_ms": limits.header_timeout.as_millis() as u64,
                            "body_timeout_ms": limits.body_timeout.as_millis() as u64,
                            "idle_timeout_ms": limits.idle_timeout.as_millis() as u64,
                            "close_timeout_ms": limits.close_timeout.as_millis() as u64,
                            "max_connections": limits.max_connections,
                            "body_budget": limits.body_budget,
                            "body_limit": body_limit,
                        },
                    }))
                }
            })
            .build()?
    };

    let pillar = Pillar::builder()
        .secret(secret_from_env())
        .registered_tools(false)
        .tool(work)
        .tool(stats)
        .tool(big)
        .auto_register(false)
        .max_in_flight(max_in_flight)
        .call_store(store)
        .idempotency(idempotency)
        .limits(limits)
        .build()?;

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    if let Some(path) = addr_file {
        // Written whole, then renamed, so a reader never sees half an address.
        let partial = format!("{path}.partial");
        std::fs::write(&partial, bound.to_string())?;
        std::fs::rename(&partial, &path)?;
    }
    println!(
        "loadtest-server listening on http://{bound} (max_in_flight {max_in_flight}, \
         store capacity {capacity}, idempotency {}, work {work_us} us, {} worker threads; \
         header timeout {} ms, body timeout {} ms, idle timeout {} ms, close timeout {} ms, \
         max connections {}, body budget {} bytes, pid {})",
        if idempotency { "on" } else { "OFF" },
        std::thread::available_parallelism().map_or(1, usize::from),
        limits.header_timeout.as_millis(),
        limits.body_timeout.as_millis(),
        limits.idle_timeout.as_millis(),
        limits.close_timeout.as_millis(),
        limits.max_connections,
        limits.body_budget,
        std::process::id(),
    );
    pillar.serve_on(listener, shutdown_signal()?).await?;
    let (runs, distinct, max_per_call) = counts.summary()?;
    println!(
        "loadtest-server stopped: {runs} runs of `{WORK_TOOL}` over {distinct} call_ids \
         (at most {max_per_call} per call_id)"
    );
    Ok(())
}

/// `ServerLimits::default()`, but for the limits given on the command line.
fn limits_from(args: &mut Args) -> Result<ServerLimits, BoxError> {
    let mut limits = ServerLimits::default();
    if let Some(ms) = args.value::<u64>("--header-timeout-ms")? {
        limits = limits.header_timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = args.value::<u64>("--body-timeout-ms")? {
        limits = limits.body_timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = args.value::<u64>("--idle-timeout-ms")? {
        limits = limits.idle_timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = args.value::<u64>("--close-timeout-ms")? {
        limits = limits.close_timeout(Duration::from_millis(ms));
    }
    if let Some(max) = args.value::<usize>("--max-connections")? {
        limits = limits.max_connections(max);
    }
    if let Some(bytes) = args.value::<usize>("--body-budget")? {
        limits = limits.body_budget(bytes);
    }
    Ok(limits)
}

/// The subscriber `pillar::serve()` installs when the program has none (`serve_on`, which
/// this server calls to bind its own port, installs none): fmt on standard output,
/// filtered by `RUST_LOG` (default `info`); no colours, since the output goes to a file.
fn install_subscriber() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .and_then(|d| tracing_subscriber::EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .try_init();
}

/// The open-files limits of this process now (after `serve_on` raised the soft one):
/// `{"soft", "hard"}`, or `null` where they cannot be read.
fn open_files_json() -> Value {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, hard)) => json!({"soft": soft, "hard": hard}),
        Err(_) => Value::Null,
    }
}

/// Completes on SIGINT or SIGTERM; the handlers are installed now.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, BoxError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
