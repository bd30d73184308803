/// A typo.
#[pillar::tool(descripton = "Search orders")]
async fn typo() {}

/// A key that does not exist.
#[pillar::tool(colour = "blue")]
async fn unknown() {}

fn main() {}
