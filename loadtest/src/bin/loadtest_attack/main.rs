//! The attack side of the load test (issue 14): hostile clients against `loadtest-server`
//! (`Pillar::serve_on`, `serve()`'s accept loop) at the default limits, with 1,000 and
//! more of them, each scenario with its own checks and figures. See `loadtest/README.md`;
//! `loadtest/run.sh --attack` starts the servers and runs it.
//!
//! ```text
//! loadtest-attack --addr A --server-log LOG [--idle-addr B --idle-log LOG_B]
//!                 [--lowfiles-addr C --lowfiles-log LOG_C] [--budget-addr D]
//!                 [--only 1,2,3,4,5,6,7]
//! ```
//!
//! 1. 1,100 HTTP/1 requests sending headers (`Content-Length: 1000`) and never the body;
//!    signed calls with and without them; each held one gets 408 at the body timeout.
//! 2. HTTP/2: 6 connections x 200 streams whose body never comes; signed calls succeed.
//! 3. Idle connections on server B (idle timeout shortened; started with a soft
//!    open-files limit of 1,024 it must raise): 1,100 silent, then up to 5,000 with
//!    keep-alive ones, beyond the 4,096 cap; and on server C, whose hard open-files limit
//!    is 1,024: 1,100 silent, beyond its lowered cap.
//! 4. One client trickling a header byte every 2 s (run beside scenario 2).
//! 5. 50,000 requests without a valid signature: all 401, the log stays small (run
//!    first, so that server A's refusal log starts empty); at the end, the summaries
//!    must account for every refusal.
//! 6. Connections that never finish closing, on server B (issue 23): HTTP/2 clients that
//!    never acknowledge the closing `PING`, HTTP/2 clients keeping a zero window on an
//!    answer, HTTP/1 clients pipelining 1 MiB answers and never reading, 200 of each: each
//!    dropped within idle + close timeout + 1 s; signed calls answered meanwhile.
//! 7. The body budget, on server D (fresh, default limits; issue 23): 10 HTTP/2
//!    connections x 100 streams sending 1 MB and never finishing, 300 HTTP/1 requests
//!    announcing 1,000,000 bytes and sending 900,000: the server's RSS (sampled from
//!    `/proc`) against the bound; signed calls succeed within 3 retries.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pillar_loadtest::{secret_from_env, Args, BoxError};

mod budget;
mod client;
mod closing;
mod flood;
mod h2;
mod held;
mod idle;
mod log;
mod procfs;
mod trickle;

use client::{stats, Signer};
use log::ServerLog;

const HELP: &str = "\
loadtest-attack: hostile clients against loadtest-server at the default limits, each
scenario checked and measured (issues 14 and 23). See loadtest/README.md; loadtest/run.sh --attack
starts the servers and runs it.

  --addr ADDR              server A, default limits (required)
  --server-log PATH        server A's log (required: scenario 5 counts its lines)
  --idle-addr ADDR         server B for scenario 3a (a short idle timeout)
  --idle-log PATH          server B's log
  --lowfiles-addr ADDR     server C for scenario 3b (hard open-files limit 1024)
  --lowfiles-log PATH      server C's log
  --budget-addr ADDR       server D for scenario 7, fresh at the default limits
                           (default: server A)
  --only LIST              scenarios to run, e.g. 1,3 (default: all, 1 to 7)
  --held N                 scenario 1's requests holding their body (default 1100)
  --signed N               signed calls per measurement (default 2000)
  --signed-connections N   connections for them (default 8)
  --h2-connections N       scenario 2's HTTP/2 connections (default 6)
  --h2-streams N           streams on each (default 200)
  --idle-silent N          scenario 3's silent connections (default 1100)
  --idle-total N           scenario 3a's connections in all (default 5000)
  --trickle-ms N           scenario 4's interval between header bytes (default 2000)
  --flood N                scenario 5's requests (default 50000)
  --flood-connections N    connections for them (default 64)
  --hold N                 scenario 6's connections of each of the 3 kinds (default 200)
  --budget-h2-connections N  scenario 7's HTTP/2 connections (default 10)
  --budget-h2-streams N    streams on each (default 100)
  --budget-h1 N            scenario 7's HTTP/1 requests (default 300)

PILLAR_SECRET: the webhook secret (default: pillar::testing::TEST_SECRET).";

/// One scenario's figures and checks.
pub(crate) struct Outcome {
    name: String,
    figures: Vec<String>,
    checks: Vec<(bool, String)>,
    /// One line for the final table.
    summary: String,
    elapsed: Duration,
}

impl Outcome {
    pub(crate) fn new(name: String) -> Self {
        Self {
            name,
            figures: Vec::new(),
            checks: Vec::new(),
            summary: String::new(),
            elapsed: Duration::ZERO,
        }
    }

    pub(crate) fn figure(&mut self, line: String) {
        self.figures.push(line);
    }

    pub(crate) fn check(&mut self, ok: bool, text: String) {
        self.checks.push((ok, text));
    }

    fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(ok, _)| *ok)
    }

    fn print(&self) {
        println!("== {} ({:.1} s)", self.name, self.elapsed.as_secs_f64());
        for line in &self.figures {
            println!("   {line}");
        }
        for (ok, text) in &self.checks {
            println!("   [{}] {text}", if *ok { "PASS" } else { "FAIL" });
        }
        println!();
    }
}

/// Runs `scenario`, times it and prints it.
async fn timed(scenario: impl std::future::Future<Output = Outcome>) -> Outcome {
    let started = Instant::now();
    let mut outcome = scenario.await;
    outcome.elapsed = started.elapsed();
    outcome.print();
    outcome
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(err) => {
            eprintln!("loadtest-attack: {err}");
            std::process::exit(2)
        }
    }
}

async fn run() -> Result<bool, BoxError> {
    let mut args = Args::from_env();
    if args.wants_help() {
        println!("{HELP}");
        return Ok(true);
    }
    let addr: SocketAddr = args
        .value("--addr")?
        .ok_or("--addr is required (see --help)")?;
    let server_log: String = args
        .value("--server-log")?
        .ok_or("--server-log is required (see --help)")?;
    let idle_addr: Option<SocketAddr> = args.value("--idle-addr")?;
    let idle_log: Option<String> = args.value("--idle-log")?;
    let lowfiles_addr: Option<SocketAddr> = args.value("--lowfiles-addr")?;
    let lowfiles_log: Option<String> = args.value("--lowfiles-log")?;
    let only: Option<String> = args.value("--only")?;
    let held: usize = args.value("--held")?.unwrap_or(1100);
    let signed: usize = args.value("--signed")?.unwrap_or(2000);
    let signed_connections: usize = args.value("--signed-connections")?.unwrap_or(8);
    let h2_connections: usize = args.value("--h2-connections")?.unwrap_or(6);
    let h2_streams: usize = args.value("--h2-streams")?.unwrap_or(200);
    let idle_silent: usize = args.value("--idle-silent")?.unwrap_or(1100);
    let mut idle_total: usize = args.value("--idle-total")?.unwrap_or(5000);
    let trickle_ms: u64 = args.value("--trickle-ms")?.unwrap_or(2000);
    let flood_requests: usize = args.value("--flood")?.unwrap_or(50_000);
    let flood_connections: usize = args.value("--flood-connections")?.unwrap_or(64);
    let budget_addr: Option<SocketAddr> = args.value("--budget-addr")?;
    let hold: usize = args.value("--hold")?.unwrap_or(200);
    let budget_h2_connections: usize = args.value("--budget-h2-connections")?.unwrap_or(10);
    let budget_h2_streams: usize = args.value("--budget-h2-streams")?.unwrap_or(100);
    let budget_h1: usize = args.value("--budget-h1")?.unwrap_or(300);
    args.finish()?;
    let wanted = |n: char| only.as_ref().is_none_or(|list| list.contains(n));

    let started = Instant::now();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let signer = Signer {
        secret: secret_from_env(),
        run_id: format!("atk{stamp}-{}", std::process::id()),
    };
    let log = ServerLog::new(server_log);

    // This client holds up to `idle_total` connections at once, plus a few.
    let needed = idle_total as u64 + 256;
    let (soft, hard) = raise_open_files()?;
    println!(
        "pillar attack test: serve() on {addr} (server A), client pid {}",
        std::process::id()
    );
    println!("client open files: soft {soft}, hard {hard} (raised to the hard limit)");
    if soft < needed {
        let fits = usize::try_from(soft.saturating_sub(256)).unwrap_or(0);
        println!(
            "NOTE: the client's hard open-files limit ({hard}) does not allow {idle_total} \
             connections; scenario 3a opens {fits}"
        );
        idle_total = fits;
    }
    let server = stats(addr, &signer).await?;
    let limits = &server["limits"];
    let ms = |name: &str| Duration::from_millis(limits[name].as_u64().unwrap_or(0));
    let (header_timeout, body_timeout) = (ms("header_timeout_ms"), ms("body_timeout_ms"));
    println!(
        "server A: header timeout {} ms, body timeout {} ms, idle timeout {} ms, max \
         connections {}, max_in_flight {}, open files {}/{} (soft/hard), call store {} records",
        header_timeout.as_millis(),
        body_timeout.as_millis(),
        ms("idle_timeout_ms").as_millis(),
        limits["max_connections"],
        server["max_in_flight"],
        server["open_files"]["soft"],
        server["open_files"]["hard"],
        server["store_capacity"],
    );
    let defaults = pillar::ServerLimits::default();
    let at_defaults = header_timeout == defaults.header_timeout
        && body_timeout == defaults.body_timeout
        && ms("idle_timeout_ms") == defaults.idle_timeout
        && limits["max_connections"].as_u64() == Some(defaults.max_connections as u64);
    if !at_defaults {
        println!("NOTE: server A does not run at ServerLimits::default()");
    }
    println!();

    let mut outcomes = Vec::new();
    // The flood first, on a server that has refused nothing yet: its log lines are its
    // own.
    let flood_started = Instant::now();
    let flooded = if wanted('5') {
        let (outcome, flooded) =
            flood::run(addr, &log, &signer, flood_requests, flood_connections).await;
        let mut outcome = outcome;
        outcome.elapsed = flood_started.elapsed();
        outcome.print();
        outcomes.push(outcome);
        Some(flooded)
    } else {
        None
    };
    if wanted('1') {
        outcomes.push(
            timed(held::run(
                addr,
                &signer,
                held,
                signed,
                signed_connections,
                body_timeout,
            ))
            .await,
        );
    }
    if wanted('2') || wanted('4') {
        // The trickling client runs beside the HTTP/2 streams: both mostly wait.
        let trickler = wanted('4').then(|| {
            tokio::spawn(async move {
                let started = Instant::now();
                let mut outcome =
                    trickle::run(addr, Duration::from_millis(trickle_ms), header_timeout).await;
                outcome.elapsed = started.elapsed();
                outcome
            })
        });
        if wanted('2') {
            outcomes.push(
                timed(h2::run(
                    addr,
                    &signer,
                    h2_connections,
                    h2_streams,
                    signed,
                    signed_connections,
                    body_timeout,
                ))
                .await,
            );
        }
        if let Some(trickler) = trickler {
            let outcome = trickler.await?;
            outcome.print();
            outcomes.push(outcome);
        }
    }
    // Server A refuses nothing more until the flood's accounting (scenarios 3 and 6 run
    // on B and C, 7 on D when it is given).
    let mut a_quiet_since = Instant::now();
    if wanted('3') {
        let targets = [
            (
                idle_addr,
                idle_log,
                "server B, started with a soft open-files limit of 1,024",
                idle_total,
            ),
            (
                lowfiles_addr,
                lowfiles_log,
                "server C, hard open-files limit 1,024",
                idle_silent,
            ),
        ];
        for (target_addr, target_log, name, total) in targets {
            let (Some(target_addr), Some(target_log)) = (target_addr, target_log) else {
                println!("(scenario 3 on {name}: no address or log given, skipped)\n");
                continue;
            };
            let target = idle::Target {
                name: name.to_owned(),
                addr: target_addr,
                log: ServerLog::new(target_log),
                silent: idle_silent.min(total),
                total,
            };
            outcomes.push(timed(idle::run(&target, &signer)).await);
        }
    }
    if wanted('6') {
        match idle_addr {
            Some(target) => outcomes.push(
                timed(closing::run(
                    target,
                    &signer,
                    hold,
                    signed,
                    signed_connections,
                ))
                .await,
            ),
            None => println!("(scenario 6 on server B: no --idle-addr given, skipped)\n"),
        }
    }
    if wanted('7') {
        let target = budget_addr.unwrap_or(addr);
        outcomes.push(
            timed(budget::run(
                target,
                &signer,
                budget_h2_connections,
                budget_h2_streams,
                budget_h1,
            ))
            .await,
        );
        if target == addr {
            // Server A refused requests (503, 408): its refusal windows start again.
            a_quiet_since = Instant::now();
        }
    }
    if let Some(flooded) = flooded {
        outcomes.push(timed(flood::account(addr, &log, &flooded, a_quiet_since)).await);
    }

    println!("summary");
    let mut passed = true;
    for outcome in &outcomes {
        let ok = outcome.passed();
        passed &= ok;
        println!(
            "  [{}] {}: {}",
            if ok { "PASS" } else { "FAIL" },
            outcome.name,
            outcome.summary
        );
    }
    let failed: usize = outcomes
        .iter()
        .map(|o| o.checks.iter().filter(|(ok, _)| !ok).count())
        .sum();
    let total: usize = outcomes.iter().map(|o| o.checks.len()).sum();
    println!(
        "{} of {total} checks passed; wall time {:.1} s",
        total - failed,
        started.elapsed().as_secs_f64()
    );
    println!(
        "RESULT: {}",
        if passed && !outcomes.is_empty() {
            "PASS"
        } else {
            "FAIL"
        }
    );
    Ok(passed && !outcomes.is_empty())
}

/// Raises this process's soft open-files limit to the hard one: `(soft, hard)` after.
fn raise_open_files() -> Result<(u64, u64), BoxError> {
    rlimit::increase_nofile_limit(u64::MAX)?;
    Ok(rlimit::getrlimit(rlimit::Resource::NOFILE)?)
}
