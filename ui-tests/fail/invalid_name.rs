/// A name with a space.
#[pillar::tool(name = "search orders")]
async fn search_orders() {}

/// A name that starts with a digit.
#[pillar::tool(name = "2fa")]
async fn two_factor() {}

/// A function name that is not ASCII.
#[pillar::tool]
async fn café() {}

fn main() {}
