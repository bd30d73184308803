/// A tuple pattern.
#[pillar::tool]
async fn add((a, b): (i32, i32)) -> i32 {
    a + b
}

/// A wildcard.
#[pillar::tool]
async fn ignore(_: String) {}

/// A `ref` binding.
#[pillar::tool]
async fn by_ref(ref _name: String) {}

fn main() {}
