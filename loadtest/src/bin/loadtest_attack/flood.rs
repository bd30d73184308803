//! Scenario 5: a flood of requests without a valid signature (half with none, half
//! signed with another secret). Each is refused with 401; the server's log must stay
//! small: refusals are logged as a rate-limited summary, at most two lines per 10 s
//! window (the first refusal in full, and the counts of the window before). After the
//! window has passed, one more refusal makes the server log its counts: they must add up
//! to every request refused.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::protocol::sign;
use pillar::testing::tool_call_body;
use pillar_loadtest::WORK_TOOL;
use serde_json::json;

use crate::client::{Http1, Signer};
use crate::log::{accounted, ServerLog};
use crate::Outcome;

/// The server's refusal window (`pillar`'s rejections log).
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// The reason the server names for a bad or missing signature.
const REASON: &str = "invalid_signature";

/// What [`run`] leaves for [`account`]: where the flood's lines start in the log, how
/// many requests the server refused, and when the flood ended.
pub(crate) struct Flooded {
    log_from: u64,
    refused: u64,
    ended: Instant,
}

/// Answers to the flood, by kind.
#[derive(Default)]
struct Answers {
    sent: u64,
    unauthorized: u64,
    other: u64,
    lost: u64,
}

pub(crate) async fn run(
    addr: SocketAddr,
    log: &ServerLog,
    signer: &Signer,
    requests: usize,
    connections: usize,
) -> (Outcome, Flooded) {
    let mut out = Outcome::new(format!(
        "5. {requests} requests without a valid signature over {connections} connections"
    ));
    let log_from = log.len();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let next = Arc::clone(&next);
            let run_id = signer.run_id.clone();
            tokio::spawn(async move {
                let mut answers = Answers::default();
                let mut conn = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    answers.sent += 1;
                    let body = tool_call_body(WORK_TOOL, &format!("{run_id}-flood-{i}"), json!({}));
                    // Half carry no signature, half one made with another secret.
                    let signature = (i % 2 == 1).then(|| sign("plr_not_the_secret", &body));
                    if conn.is_none() {
                        conn = Http1::open(addr).await.ok();
                    }
                    let Some(open) = conn.as_mut() else {
                        answers.lost += 1;
                        continue;
                    };
                    match open.post(&body, signature).await {
                        Ok((401, _)) => answers.unauthorized += 1,
                        Ok(_) => answers.other += 1,
                        Err(_) => {
                            answers.lost += 1;
                            conn = None;
                        }
                    }
                }
                answers
            })
        })
        .collect();
    let mut answers = Answers::default();
    for task in tasks {
        if let Ok(a) = task.await {
            answers.sent += a.sent;
            answers.unauthorized += a.unauthorized;
            answers.other += a.other;
            answers.lost += a.lost;
        }
    }
    let elapsed = started.elapsed();
    let ended = Instant::now();
    // Let the last lines reach the file (the server writes each line as it logs it).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = log.since(log_from);
    let bytes = log.len().saturating_sub(log_from);
    let windows = (elapsed.as_secs_f64() / WINDOW.as_secs_f64()).ceil() as u64 + 1;
    let allowed = 2 * windows;
    out.figure(format!(
        "{} sent in {:.2} s ({:.0} req/s): {} answered 401, {} answered otherwise, {} lost",
        answers.sent,
        elapsed.as_secs_f64(),
        answers.sent as f64 / elapsed.as_secs_f64().max(1e-9),
        answers.unauthorized,
        answers.other,
        answers.lost
    ));
    out.figure(format!(
        "server log during the flood: {} lines, {bytes} bytes ({:.3} bytes per request)",
        lines.len(),
        bytes as f64 / (answers.sent.max(1)) as f64
    ));
    for line in lines.iter().take(6) {
        out.figure(format!("  | {line}"));
    }
    out.check(
        answers.unauthorized == requests as u64,
        format!(
            "every request is refused with 401: {} of {requests}",
            answers.unauthorized
        ),
    );
    out.check(
        lines.len() as u64 <= allowed,
        format!(
            "the log stays small: {} lines for {requests} refusals, at most 2 per 10 s window \
             ({windows} windows at most in {:.1} s: {allowed} lines)",
            lines.len(),
            elapsed.as_secs_f64()
        ),
    );
    let after = {
        let mut conn = Http1::open(addr).await;
        match conn.as_mut() {
            Ok(conn) => conn
                .call(signer, &format!("{}-after-flood", signer.run_id))
                .await
                .unwrap_or(false),
            Err(_) => false,
        }
    };
    out.check(
        after,
        "a signed call right after the flood succeeds".to_owned(),
    );
    out.summary = format!(
        "{}/{requests} got 401 in {:.1} s; the server logged {} lines, {bytes} bytes",
        answers.unauthorized,
        elapsed.as_secs_f64(),
        lines.len()
    );
    (
        out,
        Flooded {
            log_from,
            refused: answers.unauthorized,
            ended,
        },
    )
}

/// Once a window has passed since the last refusal, sends one more unsigned request: it
/// opens a new window, so the server logs it in full and the counts of the window before.
/// Every refusal of the flood must be in the log, in full or counted.
///
/// `quiet_since`: when this server last refused a request (or later: the end of the last
/// scenario that made it refuse).
pub(crate) async fn account(
    addr: SocketAddr,
    log: &ServerLog,
    flooded: &Flooded,
    quiet_since: Instant,
) -> Outcome {
    let mut out =
        Outcome::new("5b. the flood's refusals, as the server's summaries count them".to_owned());
    let quiet_since = quiet_since.max(flooded.ended);
    let wait = (WINDOW + Duration::from_millis(500)).saturating_sub(quiet_since.elapsed());
    if !wait.is_zero() {
        out.figure(format!(
            "waited {:.1} s for the refusal window to end",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
    }
    let body = tool_call_body(WORK_TOOL, "after-the-window", json!({}));
    let probe = match Http1::open(addr).await {
        Ok(mut conn) => conn.post(&body, None).await.map(|(status, _)| status).ok(),
        Err(_) => None,
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = log.since(flooded.log_from);
    let acc = accounted(&lines, REASON);
    let refusal_lines = lines
        .iter()
        .filter(|l| l.contains("pillar::rejections"))
        .count();
    let expected = flooded.refused + u64::from(probe == Some(401));
    out.figure(format!(
        "one more unsigned request: {}; the log since the flood began: {refusal_lines} \
         refusal lines (of {} lines in all: scenarios 1 and 2 ran meanwhile); {REASON}: {} \
         logged in full, {} counted in {} summary lines",
        probe.map_or("no answer".to_owned(), |s| format!("answered {s}")),
        lines.len(),
        acc.in_full,
        acc.summarised,
        acc.summary_lines
    ));
    for line in lines.iter().filter(|l| l.contains("more requests refused")) {
        out.figure(format!("  | {line}"));
    }
    out.check(
        probe == Some(401),
        "the request after the window is refused with 401".to_owned(),
    );
    out.check(
        acc.in_full + acc.summarised == expected,
        format!(
            "every refusal is accounted for in the log: {} in full + {} counted == {expected} refused",
            acc.in_full, acc.summarised
        ),
    );
    out.summary = format!(
        "{} in full + {} counted == {expected} refused ({refusal_lines} refusal lines since the flood began)",
        acc.in_full, acc.summarised
    );
    out
}
