/// No channel at all.
#[pillar::tool(channels = [])]
async fn nowhere() {}

/// Not an array.
#[pillar::tool(channels = "web")]
async fn not_array() {}

fn main() {}
