const ZERO: u64 = 0;
const SIGNED: i32 = 1000;

/// A string.
#[pillar::tool(timeout_ms = "5000")]
async fn string() {}

/// A float.
#[pillar::tool(timeout_ms = 1.5)]
async fn float() {}

/// A constant of zero: refused when the program compiles.
#[pillar::tool(timeout_ms = ZERO)]
async fn zero_constant() {}

/// A constant of another type.
#[pillar::tool(timeout_ms = SIGNED)]
async fn signed_constant() {}

/// Too large.
#[pillar::tool(timeout_ms = 18446744073709551616)]
async fn too_large() {}

fn main() {}
