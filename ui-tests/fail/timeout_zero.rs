/// Zero.
#[pillar::tool(timeout_ms = 0)]
async fn zero() {}

/// Negative.
#[pillar::tool(timeout_ms = -5)]
async fn negative() {}

fn main() {}
