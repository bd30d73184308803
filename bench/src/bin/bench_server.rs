//! The SDK's own server, `pillar::serve()`, with one small tool: what `bench/load.sh`
//! loads. The same tool and answer as the `baseline` binary.
//!
//! ```text
//! PILLAR_SECRET=plr_bench PILLAR_ADDR=127.0.0.1:9102 PILLAR_AUTO_REGISTER=false \
//!     target/release/bench-server
//! ```
//!
//! With `BENCH_IDEMPOTENCY=off` it serves the same through
//! `PillarBuilder::from_env()?.idempotency(false)`, to measure what the record of calls
//! (at-most-once execution per call id, on by default) costs; with
//! `BENCH_RECORD_CAPACITY=<n>`, with a record of `n` calls instead of the default 100,000
//! (a record small enough to stay in the CPU's caches).

use std::convert::Infallible;

use serde::Serialize;

/// The tool's result.
#[derive(Serialize)]
struct Customer {
    email: String,
    plan: &'static str,
}

/// Look up a customer by email.
#[pillar::tool]
async fn lookup_customer(
    /// Email of the customer
    email: String,
) -> Result<Customer, Infallible> {
    Ok(Customer { email, plan: "pro" })
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    if std::env::var("BENCH_IDEMPOTENCY").is_ok_and(|v| v == "off") {
        return pillar::PillarBuilder::from_env()?
            .idempotency(false)
            .build()?
            .serve()
            .await;
    }
    if let Some(capacity) = std::env::var("BENCH_RECORD_CAPACITY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return pillar::PillarBuilder::from_env()?
            .call_store(pillar::idempotency::MemoryStore::with_capacity(capacity))
            .build()?
            .serve()
            .await;
    }
    pillar::serve().await
}
