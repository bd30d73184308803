/// Twice the same key.
#[pillar::tool(timeout_ms = 1000, name = "a", timeout_ms = 2000)]
async fn twice() {}

fn main() {}
