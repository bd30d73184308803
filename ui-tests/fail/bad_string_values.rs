/// Not a string.
#[pillar::tool(description = 42)]
async fn number() {}

/// Empty.
#[pillar::tool(description = "  ")]
async fn empty() {}

/// Bare key.
#[pillar::tool(guidance)]
async fn bare() {}

/// Bad crate path.
#[pillar::tool(crate = 1 + 1)]
async fn bad_crate() {}

fn main() {}
