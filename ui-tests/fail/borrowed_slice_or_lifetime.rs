use std::borrow::Cow;

/// A slice.
#[pillar::tool]
async fn sum(values: &[i64]) -> i64 {
    values.iter().sum()
}

/// A borrow inside an owned type.
#[pillar::tool]
async fn maybe(_name: Option<&str>) {}

/// A type with a lifetime.
#[pillar::tool]
async fn cow(_name: Cow<'_, str>) {}

/// A mutable reference.
#[pillar::tool]
async fn mutable(_counter: &mut u32) {}

fn main() {}
