/// Unknown channel.
#[pillar::tool(channels = ["web", "telegram"])]
async fn unknown() {}

/// Not a string.
#[pillar::tool(channels = [web])]
async fn bare() {}

/// Listed twice.
#[pillar::tool(channels = ["web", "web"])]
async fn twice() {}

fn main() {}
