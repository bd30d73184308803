const TIMEOUT: u64 = 1000;

/// A string.
#[pillar::tool(timeout_ms = "5000")]
async fn string() {}

/// A float.
#[pillar::tool(timeout_ms = 1.5)]
async fn float() {}

/// A constant (only literals are read).
#[pillar::tool(timeout_ms = TIMEOUT)]
async fn constant() {}

/// Too large.
#[pillar::tool(timeout_ms = 18446744073709551616)]
async fn too_large() {}

fn main() {}
