//! The tool `refund` that counts its runs, in its two forms: counted when a run starts,
//! or when it finishes. Both answer `{"refunded": <order>, "run": <n>}` and take
//! `delay_ms` to finish (0: they answer on their first poll, with no timer).
//!
//! Which to use depends on what the test must see:
//! - [`counted_at_start`]: `n` counts the runs begun, this one included. A test can wait
//!   for `runs > 0` to know a run is under way (and stop Redis during it), and a run that
//!   never finishes (its answer lost, the call timed out) is still counted: "the tool did
//!   not run a second time" includes runs cut short.
//! - [`counted_at_finish`]: `n` counts the runs that finished, this one included. A run
//!   cut short is not counted, so `runs` says how many answers a tool produced.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pillar::{Pillar, PillarBuilder, Tool};
use serde_json::{json, Value};

/// When the tool counts a run.
#[derive(Clone, Copy)]
enum Count {
    AtStart,
    AtFinish,
}

/// `refund`, counting at `count`, with a timeout of `timeout_ms`.
#[allow(clippy::unwrap_used)]
fn refund(runs: &Arc<AtomicUsize>, delay_ms: u64, timeout_ms: u64, count: Count) -> Tool {
    let runs = Arc::clone(runs);
    Tool::builder("refund")
        .description("Refund an order")
        .timeout_ms(timeout_ms)
        .handler(move |args: Value, _ctx| {
            let runs = Arc::clone(&runs);
            async move {
                let mut n = 0;
                if let Count::AtStart = count {
                    n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                }
                if delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                }
                if let Count::AtFinish = count {
                    n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                }
                Ok::<_, String>(json!({"refunded": args["order"], "run": n}))
            }
        })
        .build()
        .unwrap()
}

/// `refund`, counting a run in `runs` as it starts (before its delay of `delay_ms`),
/// with the default timeout. See the [module](self) for which count to use.
#[must_use]
pub fn counted_at_start(runs: &Arc<AtomicUsize>, delay_ms: u64) -> Tool {
    counted_at_start_within(runs, delay_ms, pillar::DEFAULT_TIMEOUT_MS)
}

/// [`counted_at_start`] with a timeout of `timeout_ms` (which also sets how long the
/// record of calls holds a claim of its call: the timeout plus the claim margin).
#[must_use]
pub fn counted_at_start_within(runs: &Arc<AtomicUsize>, delay_ms: u64, timeout_ms: u64) -> Tool {
    refund(runs, delay_ms, timeout_ms, Count::AtStart)
}

/// `refund`, counting a run in `runs` as it finishes (after its delay of `delay_ms`),
/// with the default timeout. See the [module](self) for which count to use.
#[must_use]
pub fn counted_at_finish(runs: &Arc<AtomicUsize>, delay_ms: u64) -> Tool {
    refund(runs, delay_ms, pillar::DEFAULT_TIMEOUT_MS, Count::AtFinish)
}

/// `builder` with [`counted_at_finish`] as its one tool (no registered tools).
///
/// # Panics
/// When `builder` does not build.
#[allow(clippy::unwrap_used)]
pub fn pillar_with(builder: PillarBuilder, runs: &Arc<AtomicUsize>, delay_ms: u64) -> Pillar {
    builder
        .registered_tools(false)
        .tool(counted_at_finish(runs, delay_ms))
        .build()
        .unwrap()
}
